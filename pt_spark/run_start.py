"""Starting a run (SPEC §2.2): the decision and the insert as one conflict-checked transaction.

1. Dependencies: a parent whose latest run is running, failed or on hold blocks the start.
2. A latest run of this process that is running or on hold refuses the start.
3. ``max_concurrent_failures`` failed runs in a row: the new run is written ``on hold``.
4. Otherwise the new run is written ``running``.

The new run's natural key is ``(process_id, process_run_id = previous + 1)``, and its
``process_tracking_id`` is made before the write. One MERGE demotes the previous latest run and
inserts the new one only if that key is still free; the MERGE's own count of inserted rows tells
whether this caller's row won, so nothing is read back. A caller that decided on a stale view,
or lost a race, finds someone else's row there, decides again on fresh data, and is refused.
Delta's own conflict detection makes the MERGE of a racing writer in the same write bucket retry.
A run name (unique across processes) is checked again inside the MERGE, which writes nothing
once another run has the name; such a start reads the whole table, so it conflicts with (and
retries after) any start that committed meanwhile, whatever its bucket.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial, reduce
from typing import TYPE_CHECKING, Any

from pyspark.sql import functions as F

from pt_spark.errors import ConcurrentUpdateError, InvalidInput, ProcessDependencyError, ProcessRunRefused
from pt_spark.store.ids import new_id
from pt_spark.store.reads import system_ids
from pt_spark.store.store import Store
from pt_spark.store.writes import merge_rows, side_by_side

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import DataFrame

RUNNING, COMPLETED, FAILED, ON_HOLD = "running", "completed", "failed", "on hold"
_BLOCKING_PARENT = (RUNNING, FAILED, ON_HOLD)
_BLOCKING_SELF = (RUNNING, ON_HOLD)
_DECIDING = (RUNNING, COMPLETED, FAILED, ON_HOLD)
#: The name a start gives any other (custom) status: it neither blocks a start nor counts as failed.
OTHER_STATUS = "other"


@dataclass(frozen=True)
class StartState:
    """What starting a run reads (see ``read_start_state``).

    Attributes:
        process: The ``process`` row (None if the process is new).
        recent: The latest run of the process, and when it failed the runs before it, newest first.
        parent_statuses: Status of each parent process's latest run.
        name_taken: Whether another run already has the requested run name.
        actor_id: Id of the requested actor, if it exists.
    """

    process: dict[str, Any] | None
    recent: list[dict[str, Any]]
    parent_statuses: list[str]
    name_taken: bool
    actor_id: int | None


@dataclass(frozen=True)
class StartedRun:
    """The run row this caller inserted, and its status."""

    row: dict[str, Any]
    status: str


_PROCESS_FIELDS = ("process_type_id", "process_tool_id", "schedule_frequency_id", "process_registration_hash")


def _status_names(store: Store) -> dict[int, str]:
    """Return ``{process_status_id: name}`` of the statuses a start decides on (remembered ids)."""
    ids = system_ids(store, "process_status_lkup", list(_DECIDING))
    return {status_id: name for name, status_id in ids.items()}


def _row(
    kind: Any, id_column: Any = None, run_id: Any = None, status: Any = None, text: Any = None
) -> list[Any]:
    def typed(value: Any, spark_type: str) -> Any:
        return (F.lit(None) if value is None else F.col(value) if isinstance(value, str) else value).cast(
            spark_type
        )

    return [
        (F.lit(kind) if isinstance(kind, str) else kind).alias("kind"),
        typed(id_column, "long").alias("id"),
        typed(run_id, "long").alias("run_id"),
        typed(status, "string").alias("status"),
        typed(text, "string").alias("text"),
    ]


def read_start_state(
    store: Store, process_name: str, run_name: str | None, actor_name: str | None, window: int
) -> StartState:
    """Read the process, its recent runs, its parents' latest runs, name clash and actor.

    Run statuses are read as ids and named from the remembered system status ids, so no lookup
    table is joined. Once a start has seen the process, its id is remembered and the runs are
    read by that literal id; the same read fetches the process row, and a remembered id it
    contradicts (the process was deleted and re-created) is dropped and the state read again.
    """
    known = store.process_ids.get(process_name)
    state = _read_state(store, process_name, known, run_name, actor_name, window)
    found = None if state.process is None else int(state.process["process_id"])
    if found is None:
        store.process_ids.pop(process_name, None)
    else:
        store.process_ids[process_name] = found
    if known is not None and found != known:
        state = _read_state(store, process_name, None, run_name, actor_name, window)
    return state


def _collect(frames: list[DataFrame]) -> list[dict[str, Any]]:
    return [row.asDict() for row in reduce(lambda a, b: a.unionByName(b), frames).collect()]


def _read_state(
    store: Store,
    process_name: str,
    process_id: int | None,
    run_name: str | None,
    actor_name: str | None,
    window: int,
) -> StartState:
    """Read the start rules' inputs in two side-by-side queries, and earlier runs only if needed.

    One query reads the ``process`` row and the actor; the other reads, in one scan of the latest
    runs partition of ``process_tracking``, the latest run of the process and of each parent (and
    the run name clash). Earlier runs are read only when the latest run failed, the one case
    where a streak of failures can put the new run on hold.
    """
    process = store.read("process").where(F.col("process_name") == F.lit(process_name))
    runs = store.read("process_tracking")
    dependencies = store.read("process_dependency")
    if process_id is None:
        own = process.select("process_id")
        parents = dependencies.join(
            process.select(F.col("process_id").alias("child_process_id")), "child_process_id"
        )
    else:
        own = store.spark.range(1).select(F.lit(process_id).cast("long").alias("process_id"))
        parents = dependencies.where(F.col("child_process_id") == F.lit(process_id))
    wanted = own.select("process_id", F.lit("recent").alias("kind")).unionByName(
        parents.select(F.col("parent_process_id").alias("process_id"), F.lit("parent").alias("kind"))
    )
    latest = runs.where(F.col("is_latest_run")).join(wanted, "process_id")
    about_runs = [latest.select(*_row(F.col("kind"), run_id="process_run_id", status="process_status_id"))]
    if run_name is not None:
        clash = runs.where(F.col("process_run_name") == F.lit(run_name)).limit(1)
        about_runs.append(clash.select(*_row("name")))
    registration = F.to_json(F.struct(*_PROCESS_FIELDS))
    about_process = [process.select(*_row("process", "process_id", text=registration))]
    if actor_name is not None:
        actor = store.read("actor_lkup").where(F.col("actor_name") == F.lit(actor_name))
        about_process.append(actor.select(*_row("actor", "actor_id")))
    process_rows, run_rows = side_by_side(partial(_collect, about_process), partial(_collect, about_runs))
    names = _status_names(store)
    state = _state_from_rows(process_rows + run_rows, names)
    if window > 1 and state.recent and state.recent[0]["process_status_name"] == FAILED:
        assert state.process is not None
        latest_run_id = state.recent[0]["process_run_id"]
        earlier = _earlier_runs(store, int(state.process["process_id"]), latest_run_id, window)
        state = replace(state, recent=state.recent[:1] + _state_from_rows(earlier, names).recent)
    return state


def _earlier_runs(store: Store, process_id: int, latest_run_id: int, window: int) -> list[dict[str, Any]]:
    """Read the ``window - 1`` runs before the latest one (newest first)."""
    earlier = (
        store.read("process_tracking")
        .where((F.col("process_id") == F.lit(process_id)) & (F.col("process_run_id") < F.lit(latest_run_id)))
        .orderBy(F.col("process_run_id").desc())
        .limit(window - 1)
    )
    return _collect([earlier.select(*_row("recent", run_id="process_run_id", status="process_status_id"))])


def _state_from_rows(rows: list[dict[str, Any]], names: dict[int, str]) -> StartState:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    process = None
    if by_kind.get("process"):
        found = by_kind["process"][0]
        process = {"process_id": found["id"], **json.loads(found["text"])}
        process.update({name: process.get(name) for name in _PROCESS_FIELDS})

    def name(row: dict[str, Any]) -> str:
        return names.get(int(row["status"]), OTHER_STATUS)

    recent = sorted(by_kind.get("recent", []), key=lambda r: -r["run_id"])
    return StartState(
        process=process,
        recent=[{"process_run_id": r["run_id"], "process_status_name": name(r)} for r in recent],
        parent_statuses=[name(r) for r in by_kind.get("parent", [])],
        name_taken=bool(by_kind.get("name")),
        actor_id=by_kind["actor"][0]["id"] if by_kind.get("actor") else None,
    )


def decide(state: StartState, process_name: str, max_failures: int, run_name: str | None) -> str:
    """Return the status of the new run, or raise why it may not start."""
    if any(status in _BLOCKING_PARENT for status in state.parent_statuses):
        raise ProcessDependencyError("Processes that this process is dependent on are running or failed.")
    latest = state.recent[0]["process_status_name"] if state.recent else None
    if latest in _BLOCKING_SELF:
        raise ProcessRunRefused(f"The process {process_name} is currently {latest}.", process_name)
    if state.name_taken:
        raise InvalidInput(f"process_run_name: a run named {run_name!r} already exists")
    failures = [r for r in state.recent[:max_failures] if r["process_status_name"] == FAILED]
    return ON_HOLD if len(failures) >= max_failures else RUNNING


def _name_guard(store: Store) -> Callable[[str], str]:
    """Return a MERGE source guard that drops every source row once the new run's name is in use.

    The run name is unique across all processes, so the read before the MERGE cannot settle it
    for two processes starting at once. The guard is part of the statement: it reads
    ``process_tracking`` when the MERGE runs, and such a MERGE reads the whole table (no bucket
    predicate), so a writer that commits the name while it runs conflicts with it and the retried
    statement sees the name. An emptied MERGE commits nothing.
    """
    target = store.qualified("process_tracking")

    def guard(view: str) -> str:
        return (  # identifiers only: the name itself is in the source view
            f"NOT EXISTS (SELECT 1 FROM {target} AS taken JOIN {view} AS wanted "  # noqa: S608
            "ON taken.process_run_name = wanted.process_run_name)"
        )

    return guard


def _merge_new_run(store: Store, new_row: dict[str, Any], previous_run_id: int | None) -> bool:
    """Demote the previous latest run and insert ``new_row``, in one MERGE; True if it inserted.

    A key ``(process_id, process_run_id)`` taken by then inserts nothing (its writer already
    demoted the previous run); a run name taken by then drops both rows.
    """
    named = new_row["process_run_name"] is not None
    rows = [new_row]
    if previous_run_id is not None:
        rows.append(
            {"process_id": new_row["process_id"], "process_run_id": previous_run_id, "is_latest_run": False}
        )
    written = merge_rows(
        store,
        "process_tracking",
        rows,
        on="t.process_id = s.process_id AND t.process_run_id = s.process_run_id",
        update_when="NOT s.is_latest_run AND t.is_latest_run",
        assignments={"is_latest_run": "false"},
        insert_when="s.is_latest_run",
        prune=() if named else ("process_id",),
        guard=_name_guard(store) if named else None,
        narrow=not named,
    )
    return written.inserted == 1


def start_run(
    store: Store,
    process_id: int,
    process_name: str,
    actor_id: int | None,
    run_name: str | None,
    max_failures: int,
    state: StartState,
) -> StartedRun:
    """Decide and insert a new run of ``process_id`` (see the module docstring).

    ``state`` is the caller's fresh read; later attempts (after losing a race) read again.
    """
    status_ids = system_ids(store, "process_status_lkup", [RUNNING, ON_HOLD])
    for _ in range(store.config.retry_attempts):
        status = decide(state, process_name, max_failures, run_name)
        previous = state.recent[0]["process_run_id"] if state.recent else None
        run_id = (previous or 0) + 1
        new_row: dict[str, Any] = {
            "process_tracking_id": new_id(),
            "process_id": process_id,
            "process_status_id": status_ids[status],
            "process_run_id": run_id,
            "process_run_start_date_time": datetime.now(),
            "process_run_record_count": 0,
            "process_run_insert_count": 0,
            "process_run_update_count": 0,
            "process_run_actor_id": actor_id,
            "is_latest_run": True,
            "process_run_name": run_name,
            "process_run_uuid": str(uuid.uuid4()),
        }
        if _merge_new_run(store, new_row, previous):
            return StartedRun(new_row, status)
        state = read_start_state(store, process_name, run_name, None, max(max_failures, 1))
    raise ConcurrentUpdateError(f"Could not start a run of {process_name!r}: other runs kept starting first.")


__all__ = [
    "COMPLETED",
    "FAILED",
    "ON_HOLD",
    "RUNNING",
    "StartState",
    "StartedRun",
    "decide",
    "read_start_state",
    "start_run",
]
