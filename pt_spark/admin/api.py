"""Administration of lookups, links and held processes (docs/SPEC.md §5): the Python side of ``pt-spark``.

Every function checks its whole input first (topic, name, options) and looks up every referenced
row in one Spark job before it writes, so a bad call writes nothing. A change is one Delta
commit. The topics themselves are declared in ``pt_spark.admin.topics``.

Example:
    >>> from pt_spark import admin  # doctest: +SKIP
    >>> admin.create(spark, "contact", "Ann", email="ann@example.com")
    >>> admin.create(spark, "process contact", process="Teams Load", contact="Ann")
    >>> admin.update(spark, "contact", "Ann", "Ann Lee")
    >>> admin.release_hold(spark, "Teams Load")
    >>> admin.stale_runs(spark, older_than=1800).show()
    >>> admin.fail_run(spark, 123456789, reason="driver lost")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any, Mapping

from pyspark.sql import functions as F

from pt_spark.admin.runs import (
    fail_run,
    latest_runs,
    release_hold,
    set_stale_run_timeout,
    stale_runs,
    store_from,
)
from pt_spark.admin.topics import (
    LABELS,
    PROCESS_RUN,
    Ref,
    Topic,
    Wanted,
    describe,
    find_topic,
    normalize_topic,
    resolve,
)
from pt_spark.config import TrackerConfig
from pt_spark.errors import InvalidInput, NotFound, ProtectedRowError
from pt_spark.graphs import closes_cycle
from pt_spark.store.defaults import is_system_row
from pt_spark.store.reads import create_missing, find_keys, key_of
from pt_spark.store.schema import spec
from pt_spark.store.store import Store
from pt_spark.store.writes import delete_rows, from_source, merge_update
from pt_spark.validation import clean_name, optional_name

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_SELF, _NEW = "<self>", "<new>"


@dataclass
class _Request:
    """A validated call: the topic, the row's name (lookups) and the cleaned options."""

    topic: Topic
    name: str | None
    names: dict[str, str] = field(default_factory=dict)  # reference options -> names
    columns: dict[str, Any] = field(default_factory=dict)  # plain column values
    shown: dict[str, Any] = field(default_factory=dict)  # options as given, for messages

    def describe(self) -> str:
        return describe(self.topic, self.name, self.shown)


def _request(topic: Topic, action: str, name: Any, argument: str, options: Mapping[str, Any]) -> _Request:
    """Check name and options of ``action`` on ``topic`` without touching Spark."""
    given = {option: value for option, value in options.items() if value is not None}
    allowed = topic.options(action)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        accepted = ", ".join(f"{option}=" for option in allowed) or "no options"
        raise InvalidInput(
            f"{action} {topic.name}: unknown option(s) {', '.join(unknown)}; it takes {accepted}"
        )
    if topic.is_link and name is not None:
        identified = ", ".join(f"{option}=" for option in topic.options("delete"))
        raise InvalidInput(
            f"{topic.name} has no name ({argument}={name!r}); it is identified by {identified}"
        )
    needed = [option for ref in topic.key_refs for option in ref.options]
    needed += list(topic.required) if action == "create" else []
    missing = [option for option in needed if option not in given]
    if missing:
        raise InvalidInput(f"{action} {topic.name}: missing option(s) {', '.join(f'{o}=' for o in missing)}")
    request = _Request(topic, None if topic.is_link else clean_name(name, argument), shown=given)
    ref_options = {option for ref in topic.refs for option in ref.options}
    for option, value in given.items():
        if option in ref_options:
            request.names[option] = clean_name(value, option)
    for topic_field in topic.fields:
        if topic_field.option in given:
            request.columns.update(topic_field.convert(given[topic_field.option], topic_field.option))
    return request


def _ref_lookups(request: _Request, refs: tuple[Ref, ...], defaults: bool) -> Wanted:
    """Return the look-ups for the references named in the request (or defaulted)."""
    wanted: Wanted = {}
    for ref in refs:
        names = {option: request.names[option] for option in ref.options if option in request.names}
        if len(names) < len(ref.options) and defaults and ref.default is not None:
            names = {ref.options[0]: ref.default}
        if len(names) == len(ref.options):
            wanted[ref.column] = (ref.path, names)
    return wanted


def _resolve_refs(store: Store, wanted: Wanted) -> dict[str, int]:
    """Resolve ``wanted``; raise one ``NotFound`` naming every missing reference (not ``<self>``)."""
    found = resolve(store, wanted)
    missing = [
        " of ".join(f"{LABELS[table]} {names[option]!r}" for table, option in reversed(path))
        for label, (path, names) in wanted.items()
        if label not in found and label not in (_SELF, _NEW)
    ]
    if missing:
        raise NotFound(" and ".join(missing) + " not found")
    return found


def _self_lookup(request: _Request, name: str, label: str = _SELF) -> Wanted:
    table = request.topic.table
    return {label: (((table, "name"),), {"name": name})} if not request.topic.is_link else {}


def _link_key(store: Store, request: _Request, found: Mapping[str, int]) -> dict[str, int] | None:
    """Return the key columns of the link row named by the request, or None if it is absent."""
    row = {ref.column: found[ref.column] for ref in request.topic.key_refs}
    present = find_keys(store, {request.topic.table: [key_of(request.topic.table, row)]})
    return row if present[request.topic.table] else None


def _locate(store: Store, request: _Request, found: Mapping[str, int]) -> dict[str, int]:
    """Return the columns that identify the request's row, or raise ``NotFound``."""
    if request.topic.is_link:
        row = _link_key(store, request, found)
    else:
        id_column = spec(request.topic.table).id_column
        row = {str(id_column): found[_SELF]} if _SELF in found else None
    if row is None:
        raise NotFound(f"{request.describe()} not found")
    return row


def _check_acyclic(store: Store, topic: Topic, row: Mapping[str, Any], request: _Request) -> None:
    """Refuse a link from a row to itself, or one that closes a cycle."""
    assert topic.acyclic is not None
    parent_column, child_column = topic.acyclic
    parent, child = row[parent_column], row[child_column]
    if parent == child:
        raise InvalidInput(f"{request.describe()}: a process cannot depend on itself")
    edges = [
        (edge[0], edge[1]) for edge in store.read(topic.table).select(parent_column, child_column).collect()
    ]
    if closes_cycle(edges, parent, child):
        raise InvalidInput(f"{request.describe()} would create a dependency cycle")


def _check_unused(store: Store, request: _Request, row_id: int) -> None:
    """Refuse to delete a lookup row that other rows still reference."""
    if not request.topic.used_by:
        return
    frames = [
        store.read(table)
        .where(F.col(column) == F.lit(row_id))
        .select(F.lit(f"{table}.{column}").alias("used"))
        .limit(1)
        for table, column in request.topic.used_by
    ]
    used = sorted({row["used"] for row in reduce(lambda a, b: a.unionByName(b), frames).collect()})
    if used:
        raise InvalidInput(
            f"{request.describe()} is still used by {', '.join(used)}; remove those rows first"
        )


def create(
    spark: SparkSession | None,
    topic: str,
    name: str | None = None,
    config: TrackerConfig | None = None,
    **options: Any,
) -> bool:
    """Create a lookup row (``name``) or a link row (named by ``options``).

    Args:
        spark: The SparkSession (None: the active one).
        topic: One of ``pt_spark.admin.topics.TOPICS`` (case-insensitive).
        name: The row's name; None for link topics (``process contact``, ...).
        config: Which store; resolved as in docs/SPEC.md §7 when None.
        **options: Topic options, e.g. ``email=`` (contact), ``parent=``/``child=`` (process
            dependency); options set to None are ignored.

    Returns:
        True if the row was created, False if it already existed (then nothing is written, even
        when other option values were given: use ``update`` to change an existing row).

    Raises:
        InvalidInput: unknown topic or option, bad value, a dependency on itself or a cycle.
        NotFound: a referenced process, source, contact, cluster, attribute, ... does not exist.
    """
    request = _request(find_topic(topic), "create", name, "name", options)
    store = store_from(spark, config)
    topic_ = request.topic
    wanted = _ref_lookups(request, topic_.refs, defaults=True)
    if request.name is not None:
        wanted.update(_self_lookup(request, request.name))
    found = _resolve_refs(store, wanted)
    row: dict[str, Any] = {ref.column: found[ref.column] for ref in topic_.refs if ref.column in found}
    row.update(request.columns)
    if topic_.is_link:
        exists = _link_key(store, request, found) is not None
    else:
        row[str(topic_.name_column)] = request.name
        exists = _SELF in found
    if exists:
        log.info("%s already exists; nothing written", request.describe())
        return False
    if topic_.acyclic:
        _check_acyclic(store, topic_, row, request)
    created = create_missing(store, topic_.table, [row])
    if not created.won and spec(topic_.table).id_column is not None:
        log.info("%s was created by a concurrent call; nothing written", request.describe())
        return False
    log.info("created %s", request.describe())
    return True


def update(
    spark: SparkSession | None,
    topic: str,
    initial_name: str | None,
    name: str | None,
    config: TrackerConfig | None = None,
    **options: Any,
) -> None:
    """Rename a lookup row and/or change its option values; change a link row's values.

    Topic ``process run`` releases the hold of the process called ``name`` (or
    ``initial_name``), as ``release_hold`` does.

    Args:
        spark: The SparkSession (None: the active one).
        topic: The topic (case-insensitive).
        initial_name: Current name of the row (None for link topics).
        name: New name (None or the same name: keep it).
        config: Which store; resolved as in docs/SPEC.md §7 when None.
        **options: New option values; for link topics also the options that identify the row.

    Raises:
        InvalidInput: unknown topic or option, nothing to change, or the new name is taken.
        NotFound: the row or a referenced row does not exist.
        ProtectedRowError: renaming a default (system) row.
    """
    if isinstance(topic, str) and normalize_topic(topic) == PROCESS_RUN:
        if any(value is not None for value in options.values()):
            raise InvalidInput(f"update {PROCESS_RUN} takes only the process name (got {sorted(options)})")
        release_hold(spark, name if name is not None else initial_name, config=config)
        return
    request = _request(find_topic(topic), "update", initial_name, "initial_name", options)
    topic_ = request.topic
    new_name = None if topic_.is_link else optional_name(name, "name")
    if topic_.is_link and name is not None:
        raise InvalidInput(f"{topic_.name} has no name to change (name={name!r})")
    rename = new_name is not None and new_name != request.name
    if rename and is_system_row(topic_.table, request.name):
        raise ProtectedRowError(f"{request.describe()} is a default row of pt_spark and cannot be renamed")
    values = _ref_lookups(request, topic_.value_refs, defaults=False)
    if not (rename or request.columns or values):
        raise InvalidInput(
            f"update {request.describe()}: nothing to update (give a new name or option values)"
        )
    store = store_from(spark, config)
    wanted = {**_ref_lookups(request, topic_.key_refs, defaults=False), **values}
    if request.name is not None:
        wanted.update(_self_lookup(request, request.name))
    if rename:
        wanted.update(_self_lookup(request, str(new_name), _NEW))
    found = _resolve_refs(store, wanted)
    if _NEW in found:
        raise InvalidInput(f"cannot rename {request.describe()}: {topic_.name} {new_name!r} already exists")
    on = _locate(store, request, found)
    changes = {column: found[column] for column in values} | request.columns
    if rename:
        changes[str(topic_.name_column)] = new_name
    merge_update(store, topic_.table, [{**on, **changes}], on=list(on), assignments=from_source(*changes))
    log.info("updated %s: %s", request.describe(), sorted(changes))


def delete(
    spark: SparkSession | None,
    topic: str,
    name: str | None = None,
    config: TrackerConfig | None = None,
    **options: Any,
) -> None:
    """Delete a lookup row (by ``name``) or a link row (by the options that identify it).

    Args:
        spark: The SparkSession (None: the active one).
        topic: The topic (case-insensitive).
        name: The row's name; None for link topics.
        config: Which store; resolved as in docs/SPEC.md §7 when None.
        **options: For link topics, the rows it links (``process=``, ``contact=``, ...).

    Raises:
        InvalidInput: unknown topic or option, or the row is still used by other rows.
        NotFound: the row or a referenced row does not exist.
        ProtectedRowError: the row is a default (system) row.
    """
    request = _request(find_topic(topic), "delete", name, "name", options)
    topic_ = request.topic
    if request.name is not None and is_system_row(topic_.table, request.name):
        raise ProtectedRowError(f"{request.describe()} is a default row of pt_spark and cannot be deleted")
    store = store_from(spark, config)
    wanted = _ref_lookups(request, topic_.key_refs, defaults=False)
    if request.name is not None:
        wanted.update(_self_lookup(request, request.name))
    on = _locate(store, request, _resolve_refs(store, wanted))
    if not topic_.is_link:
        _check_unused(store, request, next(iter(on.values())))
    delete_rows(store, topic_.table, [on], on=list(on))
    log.info("deleted %s", request.describe())


__all__ = [
    "create",
    "delete",
    "fail_run",
    "latest_runs",
    "release_hold",
    "set_stale_run_timeout",
    "stale_runs",
    "update",
]
