"""The administration topics, declared as data (docs/SPEC.md §5).

Each ``Topic`` says which table a topic edits and how its options map onto columns:

* a *lookup* topic (``contact``, ``cluster``, ...) is a row named by ``name``; its options set
  plain columns (``Field``) or point at other rows by name (``Ref``, e.g. a source's type);
* a *link* topic (``process contact``, ``process filter``, ...) has no name: the rows its ``Ref``
  options name make up its natural key.

``pt_spark.admin`` interprets these declarations and ``pt_spark.cli`` builds its options from
them, so adding a topic is one entry in ``TOPICS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping

from pyspark.sql import functions as F

from pt_spark.errors import InvalidInput
from pt_spark.store.lookup import probe
from pt_spark.store.schema import spec
from pt_spark.validation import clean_name, count, encodable

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from pt_spark.store.store import Store

#: label -> (path of (table, option), {option: name}): rows to look up by name (``resolve``).
Wanted = dict[str, tuple[tuple[tuple[str, str], ...], dict[str, str]]]
#: The pseudo-topic of ``update`` that releases a process's hold (docs/SPEC.md §5).
PROCESS_RUN = "process run"
_NUMERIC_LIMIT = Decimal(10) ** 28  # filter_value_numeric is DECIMAL(38, 10)


def _text(column: str) -> Callable[[Any, str], dict[str, Any]]:
    return lambda value, option: {column: clean_name(value, option)}


def _whole(column: str) -> Callable[[Any, str], dict[str, Any]]:
    return lambda value, option: {column: count(value, option)}


def filter_value(value: Any, option: str = "value") -> dict[str, Any]:
    """Return the ``process_filter`` value columns: numbers go numeric, strings go string.

    Raises:
        InvalidInput: a bool, a non-finite or out-of-range number, a string with a lone
            surrogate, or another type.
    """
    if isinstance(value, str):
        return {"filter_value_string": encodable(value, option), "filter_value_numeric": None}
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidInput(f"{option}: expected a number or a string (got {value!r})")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:  # pragma: no cover - Decimal(int/Decimal) does not fail
        raise InvalidInput(f"{option}: not a number (got {value!r})") from None
    if not number.is_finite() or abs(number) >= _NUMERIC_LIMIT:
        raise InvalidInput(f"{option}: expected a finite number below 10^28 (got {value!r})")
    return {"filter_value_numeric": number, "filter_value_string": None}


@dataclass(frozen=True)
class Field:
    """An option that sets plain column values.

    Attributes:
        option: Option name (``email``).
        convert: ``(value, option) -> {column: value}``; raises ``InvalidInput``.
        kind: ``text``, ``whole`` (non-negative integer) or ``value`` (number or string).
        help: One-line description for the CLI.
    """

    option: str
    convert: Callable[[Any, str], dict[str, Any]]
    kind: str
    help: str


@dataclass(frozen=True)
class Ref:
    """Options that name another row; the row's id is written to ``column``.

    Attributes:
        column: Id column of the topic's table (``parent_process_id``).
        path: ``(table, option)`` pairs from the outermost row in: ``source_object_lkup`` is
            found by its name *within* the ``source_lkup`` row found before it.
        default: Name used on create when the option is not given.
        help: One-line description for the CLI (of the last option of the path).
    """

    column: str
    path: tuple[tuple[str, str], ...]
    default: str | None = None
    help: str = ""

    @property
    def options(self) -> tuple[str, ...]:
        """Return the options that name the referenced row."""
        return tuple(option for _, option in self.path)


@dataclass(frozen=True)
class Topic:
    """One administration topic.

    Attributes:
        name: Topic name as users type it (lower case).
        table: Table the topic edits.
        name_column: Column holding the row's name; None for link topics.
        fields: Plain-value options.
        refs: Options that reference other rows.
        required: Options (beyond the key references) that ``create`` needs.
        used_by: ``(table, column)`` pairs that hold this topic's id; a row still used there
            cannot be deleted.
        acyclic: ``(parent column, child column)`` of a link that must not form a cycle.
    """

    name: str
    table: str
    name_column: str | None = None
    fields: tuple[Field, ...] = ()
    refs: tuple[Ref, ...] = ()
    required: tuple[str, ...] = ()
    used_by: tuple[tuple[str, str], ...] = ()
    acyclic: tuple[str, str] | None = None

    @property
    def is_link(self) -> bool:
        """Return True when rows are identified by their references, not by a name."""
        return self.name_column is None

    @property
    def key_refs(self) -> tuple[Ref, ...]:
        """Return the references that are part of the table's natural key."""
        return tuple(ref for ref in self.refs if ref.column in spec(self.table).key)

    @property
    def value_refs(self) -> tuple[Ref, ...]:
        """Return the references that are plain (updatable) values."""
        return tuple(ref for ref in self.refs if ref.column not in spec(self.table).key)

    def options(self, action: str) -> tuple[str, ...]:
        """Return the options ``action`` (create, update, delete) accepts."""
        key = tuple(option for ref in self.key_refs for option in ref.options)
        if action == "delete":
            return key
        values = tuple(option for ref in self.value_refs for option in ref.options)
        return key + values + tuple(field.option for field in self.fields)


def _lookup(name: str, table: str, *used_by: tuple[str, str], **extra: Any) -> Topic:
    return Topic(name, table, spec(table).key[-1], used_by=used_by, **extra)


def _process(column: str, option: str, help_text: str) -> Ref:
    return Ref(column, (("process", option),), help=help_text)


_SOURCE = Ref("source_id", (("source_lkup", "source"),), help="Source name.")
_CONTACT = Ref("contact_id", (("contact_lkup", "contact"),), help="Contact name.")
_ATTRIBUTE = Ref(
    "source_object_attribute_id",
    (
        ("source_lkup", "source"),
        ("source_object_lkup", "source_object"),
        ("source_object_attribute_lkup", "attribute"),
    ),
    help="Attribute name, within --source-object of --source.",
)

TOPICS: Mapping[str, Topic] = MappingProxyType(
    {
        topic.name: topic
        for topic in (
            _lookup("actor", "actor_lkup", ("process_tracking", "process_run_actor_id")),
            _lookup(
                "cluster",
                "cluster_tracking_lkup",
                ("cluster_process", "cluster_id"),
                fields=(
                    Field("max_memory", _whole("cluster_max_memory"), "whole", "Cluster memory size."),
                    Field(
                        "memory_unit", _text("cluster_max_memory_unit"), "text", "Unit of --max-memory (GB)."
                    ),
                    Field(
                        "max_processing",
                        _whole("cluster_max_processing"),
                        "whole",
                        "Cluster processing size.",
                    ),
                    Field(
                        "processing_unit",
                        _text("cluster_max_processing_unit"),
                        "text",
                        "Unit of --max-processing (DBU, vCPU).",
                    ),
                ),
            ),
            Topic(
                "cluster process",
                "cluster_process",
                refs=(
                    Ref("cluster_id", (("cluster_tracking_lkup", "cluster"),), help="Cluster name."),
                    _process("process_id", "child", "Child process name."),
                ),
            ),
            _lookup(
                "contact",
                "contact_lkup",
                ("process_contact", "contact_id"),
                ("source_contact", "contact_id"),
                fields=(Field("email", _text("contact_email"), "text", "Contact e-mail address."),),
            ),
            _lookup("error type", "error_type_lkup", ("error_tracking", "error_type_id")),
            _lookup(
                "extract status",
                "extract_status_lkup",
                ("extract_tracking", "extract_status_id"),
                ("extract_process_tracking", "extract_process_status_id"),
            ),
            Topic(
                "process dependency",
                "process_dependency",
                refs=(
                    _process("parent_process_id", "parent", "Parent process name."),
                    _process("child_process_id", "child", "Child process name."),
                    Ref(
                        "dependency_type_id",
                        (("dependency_type_lkup", "dependency_type"),),
                        default="Hard",
                        help="Dependency type (Hard, Soft, Undefined); default Hard.",
                    ),
                ),
                acyclic=("parent_process_id", "child_process_id"),
            ),
            _lookup("process status", "process_status_lkup", ("process_tracking", "process_status_id")),
            _lookup("process type", "process_type_lkup", ("process", "process_type_id")),
            _lookup(
                "source",
                "source_lkup",
                ("source_object_lkup", "source_id"),
                ("process_source", "source_id"),
                ("process_target", "target_source_id"),
                ("source_contact", "source_id"),
                ("source_dataset_type", "source_id"),
                ("source_location", "source_id"),
                ("extract_source", "source_id"),
                refs=(
                    Ref(
                        "source_type_id",
                        (("source_type_lkup", "source_type"),),
                        default="Undefined",
                        help="Source type (Undefined, Database, Internal, External); default Undefined.",
                    ),
                ),
            ),
            _lookup("tool", "tool_lkup", ("process", "process_tool_id")),
            Topic(
                "process contact",
                "process_contact",
                refs=(_process("process_id", "process", "Process name."), _CONTACT),
            ),
            Topic("source contact", "source_contact", refs=(_SOURCE, _CONTACT)),
            Topic(
                "process filter",
                "process_filter",
                refs=(
                    _process("process_id", "process", "Process name."),
                    _ATTRIBUTE,
                    Ref(
                        "filter_type_id",
                        (("filter_type_lkup", "filter_type"),),
                        help="Filter type code (eq, lt, in, ...).",
                    ),
                ),
                fields=(Field("value", filter_value, "value", "Filter value: a number or a string."),),
                required=("value",),
            ),
        )
    }
)

#: Human names of the tables a reference can point at, for messages.
LABELS: Mapping[str, str] = MappingProxyType(
    {
        "process": "process",
        "cluster_tracking_lkup": "cluster",
        "contact_lkup": "contact",
        "source_lkup": "source",
        "source_object_lkup": "source object",
        "source_object_attribute_lkup": "attribute",
        "filter_type_lkup": "filter type",
        "dependency_type_lkup": "dependency type",
        "source_type_lkup": "source type",
    }
)


def _chain(store: Store, path: tuple[tuple[str, str], ...], names: Mapping[str, str]) -> DataFrame:
    """Return the ``id`` of the row at the end of ``path``, each step named within the last."""
    frame: DataFrame | None = None
    for table, option in path:
        table_spec = spec(table)
        rows = store.read(table).where(F.col(table_spec.key[-1]) == F.lit(names[option]))
        if frame is None:
            frame = rows.select(F.col(str(table_spec.id_column)).alias("id"))
        else:
            step = rows.select(
                F.col(table_spec.key[0]).alias("parent"), F.col(str(table_spec.id_column)).alias("next")
            )
            frame = frame.join(step, F.col("id") == F.col("parent")).select(F.col("next").alias("id"))
    assert frame is not None
    return frame.select(F.col("id").cast("long").alias("id"))


def resolve(store: Store, wanted: Wanted) -> dict[str, int]:
    """Return ``{label: id}`` of the wanted rows that exist, in one Spark job."""
    if not wanted:
        return {}
    frames = {label: _chain(store, path, names) for label, (path, names) in wanted.items()}
    return {label: int(rows[0]["id"]) for label, rows in probe(frames).items() if rows}


def normalize_topic(topic: Any) -> str:
    """Return the canonical spelling of ``topic``: lower case, single spaces, trimmed."""
    if not isinstance(topic, str):
        raise InvalidInput(f"topic: expected a string (got {topic!r})")
    return " ".join(topic.split()).lower()


def topic_names(with_process_run: bool = False) -> tuple[str, ...]:
    """Return every topic name, sorted (plus ``process run`` when asked)."""
    names = sorted(TOPICS) + ([PROCESS_RUN] if with_process_run else [])
    return tuple(sorted(names))


def find_topic(topic: Any) -> Topic:
    """Return the ``Topic`` called ``topic`` (case-insensitive, surrounding spaces ignored).

    Raises:
        InvalidInput: unknown topic; the message lists the topics.
    """
    name = normalize_topic(topic)
    if name not in TOPICS:
        raise InvalidInput(f"Unknown topic {topic!r}. Topics: {', '.join(topic_names(True))}.")
    return TOPICS[name]


def all_options() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Return ``{option: (kind, help, topics using it)}`` over every topic (for the CLI)."""
    found: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for topic in TOPICS.values():
        entries = [(f.option, f.kind, f.help) for f in topic.fields]
        for ref in topic.refs:
            entries += [
                (option, "text", LABELS[table].capitalize() + " name.") for table, option in ref.path[:-1]
            ]
            entries.append((ref.options[-1], "text", ref.help))
        for option, kind, help_text in entries:
            _, _, topics = found.get(option, (kind, help_text, ()))
            found[option] = (kind, help_text, (*topics, topic.name))
    return found


def describe(topic: Topic, name: str | None, options: Mapping[str, Any]) -> str:
    """Return a short human description of a row, for messages: ``contact 'Ann'``."""
    if not topic.is_link:
        return f"{topic.name} {name!r}"
    shown = ", ".join(
        f"{option}={options[option]!r}" for option in topic.options("delete") if option in options
    )
    return f"{topic.name} ({shown})"


__all__ = [
    "LABELS",
    "PROCESS_RUN",
    "TOPICS",
    "Field",
    "Ref",
    "Topic",
    "all_options",
    "describe",
    "filter_value",
    "find_topic",
    "normalize_topic",
    "resolve",
    "topic_names",
    "Wanted",
]
