"""Read-only finders over the process side of the store; each returns a lazy DataFrame.

Finders never write, cache or change anything. Each DataFrame is pinned to the versions of the
tables it reads at the call (``Store.pinned``, one short ``DESCRIBE HISTORY`` per table): later
changes to the store do not change what it returns. Call the finder again for the current rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from pyspark.sql import functions as F

from pt_spark.entities import Entity
from pt_spark.errors import NotFound
from pt_spark.validation import clean_name, positive_id

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from pt_spark.store.store import Store


def _for_process(tables: Mapping[str, DataFrame], table: str, process_id: int) -> DataFrame:
    return tables[table].where(F.col("process_id") == F.lit(process_id))


def process_links(store: Store, process_id: int) -> dict[str, list[Entity]]:
    """Return the process's sources, targets, source objects and dataset types as entities."""
    links = ("process_source", "process_target", "process_source_object", "process_dataset_type")
    frames = {table: store.read(table) for table in links}  # collected at once: no need to pin
    sources = store.read("source_lkup")
    found = {
        "sources": _for_process(frames, "process_source", process_id).join(sources, "source_id"),
        "targets": _for_process(frames, "process_target", process_id)
        .withColumnRenamed("target_source_id", "source_id")
        .join(sources, "source_id"),
        "source_objects": _for_process(frames, "process_source_object", process_id).join(
            store.read("source_object_lkup"), "source_object_id"
        ),
        "dataset_types": _for_process(frames, "process_dataset_type", process_id).join(
            store.read("dataset_type_lkup"), "dataset_type_id"
        ),
    }
    tables = {
        "sources": "source_lkup",
        "targets": "source_lkup",
        "source_objects": "source_object_lkup",
        "dataset_types": "dataset_type_lkup",
    }
    result: dict[str, list[Entity]] = {}
    for kind, frame in found.items():
        rows = frame.drop("process_id").orderBy(frame.columns[0]).collect()
        result[kind] = [Entity(tables[kind], row.asDict()) for row in rows]
    return result


def find_process_contacts(store: Store, process_id: int) -> DataFrame:
    """Return ``contact_name, contact_email, contact_type``: source contacts first, then process.

    Raises:
        InvalidInput: ``process_id`` is not a positive whole number.
    """
    process_id = positive_id(process_id, "process_id")
    tables = store.pinned("process_source", "source_contact", "contact_lkup", "process_contact")
    contacts = tables["contact_lkup"]
    source_contacts = (
        _for_process(tables, "process_source", process_id)
        .join(tables["source_contact"], "source_id")
        .join(contacts, "contact_id")
        .select(
            "contact_name", "contact_email", F.lit("source").alias("contact_type"), F.lit(0).alias("rank")
        )
    )
    process_contacts = (
        _for_process(tables, "process_contact", process_id)
        .join(contacts, "contact_id")
        .select(
            "contact_name", "contact_email", F.lit("process").alias("contact_type"), F.lit(1).alias("rank")
        )
    )
    return (
        source_contacts.unionByName(process_contacts).distinct().orderBy("rank", "contact_name").drop("rank")
    )


#: The tables that name an attribute: attribute, its object, its source.
_ATTRIBUTE_TABLES = ("source_object_attribute_lkup", "source_object_lkup", "source_lkup")
_ATTRIBUTE_LINKS = {
    "source": ("process_source_object_attribute", "source_object_attribute_id"),
    "target": ("process_target_object_attribute", "target_object_attribute_id"),
}


def find_process_attributes(store: Store, process_id: int, side: str) -> DataFrame:
    """Return the process's ``side`` ('source' or 'target') attributes, ordered by name.

    Raises:
        InvalidInput: ``process_id`` is not a positive whole number.
    """
    process_id = positive_id(process_id, "process_id")
    link_table, link_column = _ATTRIBUTE_LINKS[side]
    tables = store.pinned(link_table, *_ATTRIBUTE_TABLES, "source_type_lkup")
    rows = (
        _for_process(tables, link_table, process_id)
        .withColumnRenamed(link_column, "source_object_attribute_id")
        .join(tables["source_object_attribute_lkup"], "source_object_attribute_id")
        .join(tables["source_object_lkup"], "source_object_id")
        .join(tables["source_lkup"], "source_id")
        .join(tables["source_type_lkup"], "source_type_id")
    )
    names = [f"{side}_name", f"{side}_object_name", f"{side}_object_attribute_name"]
    return rows.select(
        F.col("source_name").alias(names[0]),
        F.col("source_type_name").alias(f"{side}_type"),
        F.col("source_object_name").alias(names[1]),
        F.col("source_object_attribute_name").alias(names[2]),
        "is_key",
        "is_filter",
        "is_partition",
    ).orderBy(*names)


def _process_id(store: Store, process: Any) -> int:
    if isinstance(process, int) and not isinstance(process, bool):
        return positive_id(process, "process")
    name = clean_name(process, "process")
    rows = store.read("process").where(F.col("process_name") == F.lit(name)).select("process_id").collect()
    if not rows:
        raise NotFound(f"Process {name!r} not found.")
    return int(rows[0][0])


def find_process_filters(store: Store, process: Any) -> DataFrame:
    """Return the process's filters with their source, object and attribute names."""
    process_id = _process_id(store, process)
    tables = store.pinned("process_filter", *_ATTRIBUTE_TABLES, "filter_type_lkup")
    return (
        _for_process(tables, "process_filter", process_id)
        .join(tables["source_object_attribute_lkup"], "source_object_attribute_id")
        .join(tables["source_object_lkup"], "source_object_id")
        .join(tables["source_lkup"], "source_id")
        .join(tables["filter_type_lkup"], "filter_type_id")
        .select(
            "source_name",
            "source_object_name",
            "source_object_attribute_name",
            "filter_type_code",
            "filter_value_numeric",
            "filter_value_string",
        )
        .orderBy("source_name", "source_object_name", "source_object_attribute_name", "filter_type_code")
    )


def find_process_by_schedule_frequency(store: Store, frequency: Any) -> DataFrame:
    """Return the processes scheduled at ``frequency`` (e.g. 'daily'), by name."""
    name = clean_name(frequency, "frequency")
    tables = store.pinned("schedule_frequency_lkup", "process")
    frequencies = tables["schedule_frequency_lkup"].where(F.col("schedule_frequency_name") == F.lit(name))
    return tables["process"].join(frequencies, "schedule_frequency_id").orderBy("process_name")


__all__ = [
    "find_process_attributes",
    "find_process_by_schedule_frequency",
    "find_process_contacts",
    "find_process_filters",
    "process_links",
]
