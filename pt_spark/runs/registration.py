"""Registering a process and everything it names, with get-or-create on natural keys.

Registration runs in stages, each one batched look-up (one Spark job) plus one MERGE per table that
lacks rows: names -> process and sources -> objects -> attributes -> links. When everything
already exists (the steady state of a scheduled job) it only reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pt_spark.errors import NotFound
from pt_spark.store.reads import create_missing, ensure_rows
from pt_spark.store.schema import link_tables_keyed_by
from pt_spark.store.store import Store
from pt_spark.store.writes import from_source, merge_update, side_by_side

DEFAULT_SOURCE_TYPE = "Undefined"
DEFAULT_FREQUENCY = "unscheduled"
#: Link tables whose key names the process (a process this caller created has none of them yet).
_KEYED_BY_PROCESS = link_tables_keyed_by("process_id")


@dataclass(frozen=True)
class Side:
    """The sources (or targets) of a process at the finest grain given."""

    names: list[str] = field(default_factory=list)
    objects: dict[str, list[str]] = field(default_factory=dict)
    attributes: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def from_arguments(
        cls, names: list[str], objects: dict[str, list[str]], attributes: dict[str, dict[str, list[str]]]
    ) -> Side:
        """Apply the grain precedence: attributes > objects > names (the coarser is ignored)."""
        if attributes:
            objects = {source: list(by_object) for source, by_object in attributes.items()}
            return cls(list(attributes), objects, attributes)
        if objects:
            return cls(list(objects), objects, {})
        return cls(names, {}, {})


@dataclass(frozen=True)
class ProcessRequest:
    """Validated registration arguments of ``ProcessTracker``."""

    process_name: str
    process_type: str | None
    actor_name: str | None
    tool_name: str | None
    schedule_frequency: str | None
    dataset_types: list[str]
    sources: Side
    targets: Side


@dataclass(frozen=True)
class Registration:
    """The ids a new run needs from its registration: the process and the run's actor."""

    process_id: int
    actor_id: int | None


def fingerprint(request: ProcessRequest) -> str:
    """Return a stable hash of what registration writes (everything but the per-run actor)."""
    described = asdict(request)
    described.pop("actor_name")
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode("utf-8")).hexdigest()


def is_registered(request: ProcessRequest, process: dict[str, Any] | None, has_runs: bool) -> bool:
    """Return True when ``process`` was last registered with exactly these arguments.

    A new process's row carries its fingerprint from the insert, before its links exist; only a run
    (written after every link) proves that registration finished, so a process without runs is
    registered again (every step is get-or-create).
    """
    return (
        has_runs and process is not None and process.get("process_registration_hash") == fingerprint(request)
    )


def _name_rows(column: str, names: list[str]) -> list[dict[str, Any]]:
    return [{column: name} for name in names]


def _lookup_ids(store: Store, request: ProcessRequest, existing: dict[str, Any] | None) -> dict[str, Any]:
    frequency = request.schedule_frequency or (None if existing else DEFAULT_FREQUENCY)
    wanted = {
        "process_type_lkup": _name_rows(
            "process_type_name", [request.process_type] if request.process_type else []
        ),
        "actor_lkup": _name_rows("actor_name", [request.actor_name] if request.actor_name else []),
        "tool_lkup": _name_rows("tool_name", [request.tool_name] if request.tool_name else []),
        "schedule_frequency_lkup": _name_rows("schedule_frequency_name", [frequency] if frequency else []),
        "dataset_type_lkup": _name_rows("dataset_type", request.dataset_types),
        "source_type_lkup": _name_rows("source_type_name", [DEFAULT_SOURCE_TYPE]),
    }
    found = ensure_rows(store, wanted)

    def one(table: str, name: str | None) -> int | None:
        return None if name is None else int(found[table][(name,)])

    return {
        "process_type_id": one("process_type_lkup", request.process_type),
        "actor_id": one("actor_lkup", request.actor_name),
        "process_tool_id": one("tool_lkup", request.tool_name),
        "schedule_frequency_id": one("schedule_frequency_lkup", frequency),
        "dataset_type_ids": [int(found["dataset_type_lkup"][(name,)]) for name in request.dataset_types],
        "source_type_id": one("source_type_lkup", DEFAULT_SOURCE_TYPE),
    }


_PROCESS_COLUMNS = ("process_type_id", "process_tool_id", "schedule_frequency_id")


def _ensure_process(
    store: Store, request: ProcessRequest, ids: dict[str, Any], existing: dict[str, Any] | None
) -> tuple[int, bool]:
    """Create a new process (with its fingerprint, in one commit).

    Returns:
        The process id, and whether this caller created it (False when it existed, or when a
        racing start created it first).
    """
    if existing is not None:
        return int(existing["process_id"]), False
    wanted = {column: ids[column] for column in _PROCESS_COLUMNS if ids[column] is not None}
    row = {
        "process_name": request.process_name,
        "total_record_count": 0,
        "process_registration_hash": fingerprint(request),
        **wanted,
    }
    created = create_missing(store, "process", [row])
    key = (request.process_name,)
    return int(created.ids[key]), key in created.won


def _ensure_sources(store: Store, request: ProcessRequest, source_type_id: int) -> dict[str, int]:
    names = list(dict.fromkeys(request.sources.names + request.targets.names))
    rows = [{"source_name": name, "source_type_id": source_type_id} for name in names]
    found = ensure_rows(store, {"source_lkup": rows})["source_lkup"]
    return {name: int(found[(name,)]) for name in names}


def _ensure_objects(
    store: Store, request: ProcessRequest, source_ids: dict[str, int]
) -> dict[tuple[str, str], int]:
    pairs = [
        (source, obj)
        for side in (request.sources, request.targets)
        for source, objects in side.objects.items()
        for obj in objects
    ]
    pairs = list(dict.fromkeys(pairs))
    rows = [{"source_id": source_ids[s], "source_object_name": o} for s, o in pairs]
    found = ensure_rows(store, {"source_object_lkup": rows})["source_object_lkup"]
    return {(s, o): int(found[(source_ids[s], o)]) for s, o in pairs}


def _ensure_attributes(
    store: Store, request: ProcessRequest, object_ids: dict[tuple[str, str], int]
) -> dict[tuple[str, str, str], int]:
    triples = [
        (source, obj, attribute)
        for side in (request.sources, request.targets)
        for source, by_object in side.attributes.items()
        for obj, attributes in by_object.items()
        for attribute in attributes
    ]
    triples = list(dict.fromkeys(triples))
    flags = {"is_key": False, "is_filter": False, "is_partition": False, "is_pii": False}
    rows = [
        {"source_object_id": object_ids[(s, o)], "source_object_attribute_name": a, **flags}
        for s, o, a in triples
    ]
    found = ensure_rows(store, {"source_object_attribute_lkup": rows})["source_object_attribute_lkup"]
    return {(s, o, a): int(found[(object_ids[(s, o)], a)]) for s, o, a in triples}


def _side_ids(
    side: Side, sources: dict[str, int], objects: dict[Any, int], attributes: dict[Any, int]
) -> tuple[list[int], list[int], list[int]]:
    source_ids = [sources[name] for name in side.names]
    object_ids = [objects[(s, o)] for s, objs in side.objects.items() for o in objs]
    attribute_ids = [
        attributes[(s, o, a)]
        for s, by_object in side.attributes.items()
        for o, attrs in by_object.items()
        for a in attrs
    ]
    return source_ids, object_ids, attribute_ids


def _link_rows(process_id: int, ids: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    def pairs(
        table: str, left: str, left_ids: list[int], right: str, right_ids: list[int]
    ) -> tuple[str, list[dict[str, Any]]]:
        return table, [{left: a, right: b} for a in left_ids for b in right_ids]

    source_objects = ids["source_objects"] + ids["target_objects"]
    links = dict(
        [
            pairs("process_source", "source_id", ids["sources"], "process_id", [process_id]),
            pairs("process_target", "target_source_id", ids["targets"], "process_id", [process_id]),
            pairs(
                "process_source_object", "process_id", [process_id], "source_object_id", ids["source_objects"]
            ),
            pairs(
                "process_target_object", "process_id", [process_id], "target_object_id", ids["target_objects"]
            ),
            pairs(
                "process_source_object_attribute",
                "process_id",
                [process_id],
                "source_object_attribute_id",
                ids["source_attributes"],
            ),
            pairs(
                "process_target_object_attribute",
                "process_id",
                [process_id],
                "target_object_attribute_id",
                ids["target_attributes"],
            ),
            pairs(
                "process_dataset_type", "process_id", [process_id], "dataset_type_id", ids["dataset_types"]
            ),
            pairs(
                "source_dataset_type",
                "source_id",
                list(dict.fromkeys(ids["sources"] + ids["targets"])),
                "dataset_type_id",
                ids["dataset_types"],
            ),
            pairs(
                "source_object_dataset_type",
                "source_object_id",
                list(dict.fromkeys(source_objects)),
                "dataset_type_id",
                ids["dataset_types"],
            ),
        ]
    )
    return {table: rows for table, rows in links.items() if rows}


def _update_process(
    store: Store, request: ProcessRequest, ids: dict[str, Any], existing: dict[str, Any] | None
) -> None:
    """Write an existing process's changed type/tool/frequency and its new fingerprint: one commit.

    It runs last, once every lookup and link the fingerprint vouches for exists.
    """
    if existing is None:
        return
    wanted = {column: ids[column] for column in _PROCESS_COLUMNS if ids[column] is not None}
    changed: dict[str, Any] = {column: value for column, value in wanted.items() if existing[column] != value}
    hashed = fingerprint(request)
    if existing.get("process_registration_hash") != hashed:
        changed["process_registration_hash"] = hashed
    if changed:
        row = {"process_id": existing["process_id"], "process_name": request.process_name, **changed}
        merge_update(store, "process", [row], on=["process_id"], assignments=from_source(*changed))


def register_process(store: Store, request: ProcessRequest, existing: dict[str, Any] | None) -> Registration:
    """Get-or-create the process and every lookup and link it names; return their ids."""
    if existing is None and request.process_type is None:
        raise NotFound(f"Process {request.process_name!r} not found; give process_type to register it.")
    ids = _lookup_ids(store, request, existing)

    def sources_objects_attributes() -> tuple[dict[str, int], dict[Any, int], dict[Any, int]]:
        sources = _ensure_sources(store, request, ids["source_type_id"])
        objects = _ensure_objects(store, request, sources)
        return sources, objects, _ensure_attributes(store, request, objects)

    # The process row and the source chain are different tables: written side by side.
    (process_id, created), (sources, objects, attributes) = side_by_side(
        lambda: _ensure_process(store, request, ids, existing), sources_objects_attributes
    )
    src, src_objects, src_attributes = _side_ids(request.sources, sources, objects, attributes)
    tgt, tgt_objects, tgt_attributes = _side_ids(request.targets, sources, objects, attributes)
    link_ids = {
        "sources": src,
        "targets": tgt,
        "source_objects": src_objects,
        "target_objects": tgt_objects,
        "source_attributes": src_attributes,
        "target_attributes": tgt_attributes,
        "dataset_types": ids["dataset_type_ids"],
    }
    links = _link_rows(process_id, link_ids)
    ensure_rows(store, links, new=[table for table in links if created and table in _KEYED_BY_PROCESS])
    _update_process(store, request, ids, existing)
    return Registration(process_id=process_id, actor_id=ids["actor_id"])


__all__ = [
    "ProcessRequest",
    "Registration",
    "Side",
    "fingerprint",
    "is_registered",
    "register_process",
]
