"""Starting a run (docs/SPEC.md §2.2): the decision and the insert as one conflict-checked transaction.

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

Stale-run takeover: with a ``stale_run_timeout`` (the process's own, else the config's), a
latest run that is ``running`` but has shown no heartbeat for that long no longer refuses the
start. The same MERGE that inserts the new run closes that run as ``abandoned`` (its end time is
the takeover time), and only while its heartbeat is still the one this start saw: a run that
wrote meanwhile keeps running and the start is refused. Of many starters exactly one inserts the
next run id, so exactly one takes over.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from pyspark.sql import functions as F

from pt_spark import platform
from pt_spark.errors import ConcurrentUpdateError, InvalidInput, ProcessDependencyError, ProcessRunRefused
from pt_spark.statuses import RunStatus
from pt_spark.store.ids import new_id
from pt_spark.store.lookup import probe_rows
from pt_spark.store.reads import system_ids
from pt_spark.store.schema import bucket_of
from pt_spark.store.store import Store
from pt_spark.store.writes import (
    append_rows,
    from_source,
    int_literals,
    merge_rows,
    merge_update,
    process_total_from_runs,
    side_by_side,
    with_new_ids,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)
RUNNING, COMPLETED, FAILED = RunStatus.RUNNING.value, RunStatus.COMPLETED.value, RunStatus.FAILED.value
ON_HOLD, ABANDONED = RunStatus.ON_HOLD.value, RunStatus.ABANDONED.value
HEARTBEAT = "last_heartbeat_date_time"
PROCESS_ERROR = "Process Error"
_BLOCKING_PARENT = (RUNNING, FAILED, ON_HOLD)
_BLOCKING_SELF = (RUNNING, ON_HOLD)
_DECIDING = (RUNNING, COMPLETED, FAILED, ON_HOLD, ABANDONED)
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

    Each ``recent`` run has ``process_tracking_id``, ``process_run_id``, ``process_status_name``
    and ``last_seen`` (its heartbeat, else its start time).
    """

    process: dict[str, Any] | None
    recent: list[dict[str, Any]]
    parent_statuses: list[str]
    name_taken: bool
    actor_id: int | None


@dataclass(frozen=True)
class Decision:
    """What a start may do: the new run's status, and the stale run it takes over (if any)."""

    status: str
    abandoned: dict[str, Any] | None = None


@dataclass(frozen=True)
class StartedRun:
    """The run row this caller inserted, its status, and the run it took over (if any)."""

    row: dict[str, Any]
    status: str
    abandoned: dict[str, Any] | None = None


_PROCESS_FIELDS = ("process_type_id", "process_tool_id", "schedule_frequency_id", "process_registration_hash")
#: Process settings a start reads with the process row (not part of its registration).
_PROCESS_SETTINGS = ("stale_run_timeout_seconds",)


def _status_names(store: Store) -> dict[int, str]:
    """Return ``{process_status_id: name}`` of the statuses a start decides on (remembered ids)."""
    ids = system_ids(store, "process_status_lkup", list(_DECIDING))
    return {status_id: name for name, status_id in ids.items()}


def _row(
    kind: Any,
    id_column: Any = None,
    run_id: Any = None,
    status: Any = None,
    text: Any = None,
    seen: Any = None,
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
        (F.lit(None) if seen is None else seen).cast("timestamp").alias("seen"),
    ]


def _last_seen() -> Any:
    return F.coalesce(F.col(HEARTBEAT), F.col("process_run_start_date_time"))


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
    return probe_rows({str(index): frame for index, frame in enumerate(frames)})


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
    about_runs = [
        latest.select(
            *_row(
                F.col("kind"),
                "process_tracking_id",
                run_id="process_run_id",
                status="process_status_id",
                seen=_last_seen(),
            )
        )
    ]
    if run_name is not None:
        clash = runs.where(F.col("process_run_name") == F.lit(run_name)).limit(1)
        about_runs.append(clash.select(*_row("name")))
    registration = F.to_json(F.struct(*_PROCESS_FIELDS, *_PROCESS_SETTINGS))
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
    columns = _row(
        "recent",
        "process_tracking_id",
        run_id="process_run_id",
        status="process_status_id",
        seen=_last_seen(),
    )
    return _collect([earlier.select(*columns)])


def _state_from_rows(rows: list[dict[str, Any]], names: dict[int, str]) -> StartState:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    process = None
    if by_kind.get("process"):
        found = by_kind["process"][0]
        process = {"process_id": found["id"], **json.loads(found["text"])}
        process.update({name: process.get(name) for name in (*_PROCESS_FIELDS, *_PROCESS_SETTINGS)})

    def name(row: dict[str, Any]) -> str:
        return names.get(int(row["status"]), OTHER_STATUS)

    recent = sorted(by_kind.get("recent", []), key=lambda r: -r["run_id"])
    return StartState(
        process=process,
        recent=[
            {
                "process_tracking_id": r["id"],
                "process_run_id": r["run_id"],
                "process_status_name": name(r),
                "last_seen": r["seen"],
            }
            for r in recent
        ],
        parent_statuses=[name(r) for r in by_kind.get("parent", [])],
        name_taken=bool(by_kind.get("name")),
        actor_id=by_kind["actor"][0]["id"] if by_kind.get("actor") else None,
    )


def stale_timeout(state: StartState, default: int | None) -> int | None:
    """Return the stale-run timeout in seconds that applies: the process's own, else ``default``."""
    own = None if state.process is None else state.process.get("stale_run_timeout_seconds")
    return default if own is None else int(own)


def _is_stale(run: dict[str, Any], timeout: int | None) -> bool:
    seen = run.get("last_seen")
    return timeout is not None and seen is not None and datetime.now() - seen > timedelta(seconds=timeout)


def decide(
    state: StartState,
    process_name: str,
    max_failures: int,
    run_name: str | None,
    default_timeout: int | None = None,
) -> Decision:
    """Return what the new run may do (its status, a stale run to take over), or raise why not."""
    if any(status in _BLOCKING_PARENT for status in state.parent_statuses):
        raise ProcessDependencyError("Processes that this process is dependent on are running or failed.")
    latest = state.recent[0] if state.recent else None
    status = latest["process_status_name"] if latest else None
    abandoned = None
    if latest is not None and status == RUNNING and _is_stale(latest, stale_timeout(state, default_timeout)):
        abandoned = latest
    elif status in _BLOCKING_SELF:
        raise ProcessRunRefused(f"The process {process_name} is currently {status}.", process_name)
    if state.name_taken:
        raise InvalidInput(f"process_run_name: a run named {run_name!r} already exists")
    failures = [r for r in state.recent[:max_failures] if r["process_status_name"] == FAILED]
    return Decision(ON_HOLD if len(failures) >= max_failures else RUNNING, abandoned)


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


def _takeover_guard(store: Store, running_id: int) -> Callable[[str], str]:
    """Return a MERGE source guard that drops every source row once the stale run wrote again.

    The source row of the run taken over carries the heartbeat this start saw. If the run has
    shown a newer one (every write to a run refreshes it) or is no longer running, the run is
    alive after all: the MERGE writes nothing and the start decides again on fresh data.
    """
    target = store.qualified("process_tracking")
    running = int_literals([running_id])

    def guard(view: str) -> str:
        return (  # identifiers and a library integer only: the values are in the source view
            f"NOT EXISTS (SELECT 1 FROM {target} AS live JOIN {view} AS seen "  # noqa: S608
            "ON live.bucket = seen.bucket AND live.process_id = seen.process_id "
            "AND live.process_run_id = seen.process_run_id "
            "WHERE live.is_latest_run AND NOT seen.is_latest_run AND seen.process_status_id IS NOT NULL "
            f"AND (live.process_status_id <> {running} OR "
            f"coalesce(live.{HEARTBEAT}, live.process_run_start_date_time) > seen.{HEARTBEAT}))"
        )

    return guard


def _both(*guards: Callable[[str], str] | None) -> Callable[[str], str] | None:
    kept = [guard for guard in guards if guard is not None]
    if not kept:
        return None
    return lambda view: " AND ".join(f"({guard(view)})" for guard in kept)


def _merge_new_run(
    store: Store,
    new_row: dict[str, Any],
    previous_run_id: int | None,
    abandoned: dict[str, Any] | None,
    status_ids: dict[str, int],
    guard: Callable[[str], str] | None = None,
    source: Callable[[str], str] | None = None,
) -> bool:
    """Demote the previous latest run and insert ``new_row``, in one MERGE; True if it inserted.

    With ``abandoned``, the previous run is also closed as ``abandoned`` (see the module
    docstring). A key ``(process_id, process_run_id)`` taken by then inserts nothing (its writer
    already demoted the previous run); a run name taken by then drops both rows, and so does a
    ``guard`` that finds its condition false when the statement runs. ``source`` builds the
    MERGE source from the rows' view (see ``writes.merge_rows``).
    """
    named = new_row["process_run_name"] is not None
    rows = [new_row]
    if previous_run_id is not None:
        previous: dict[str, Any] = {
            "process_id": new_row["process_id"],
            "process_run_id": previous_run_id,
            "is_latest_run": False,
        }
        if abandoned is not None:
            previous["process_status_id"] = status_ids[ABANDONED]
            previous["process_run_end_date_time"] = new_row["process_run_start_date_time"]
            previous[HEARTBEAT] = abandoned["last_seen"]
        rows.append(previous)
    end = "process_run_end_date_time"
    written = merge_rows(
        store,
        "process_tracking",
        rows,
        on="t.process_id = s.process_id AND t.process_run_id = s.process_run_id",
        update_when="NOT s.is_latest_run AND t.is_latest_run",
        assignments={
            "is_latest_run": "false",
            "process_status_id": "coalesce(s.process_status_id, t.process_status_id)",
            end: f"coalesce(s.{end}, t.{end})",
        },
        insert_when="s.is_latest_run",
        prune=() if named else ("process_id",),
        guard=_both(
            _name_guard(store) if named else None,
            _takeover_guard(store, status_ids[RUNNING]) if abandoned is not None else None,
            guard,
        ),
        narrow=not named,
        source=source,
    )
    return written.inserted == 1


def _close_abandoned(
    store: Store, abandoned: dict[str, Any], new_row: dict[str, Any], process_name: str
) -> None:
    """Finish a takeover: a ``Process Error`` on the run taken over, and the process total repaired.

    The error says when the run was last seen and which run took over. The dead job may have
    died between a run's count and its process total, so the total is set again to the sum of
    the runs' counts. Both are idempotent follow-ups on other tables than the takeover itself.
    """
    seen = abandoned["last_seen"]
    description = (
        f"abandoned: no heartbeat since {seen:%Y-%m-%d %H:%M:%S}; "
        f"run {new_row['process_run_id']} (process_tracking_id {new_row['process_tracking_id']}) took over"
    )
    error_type = system_ids(store, "error_type_lkup", [PROCESS_ERROR])[PROCESS_ERROR]
    error = {
        "error_type_id": error_type,
        "process_tracking_id": abandoned["process_tracking_id"],
        "error_description": description,
        "error_occurrence_date_time": new_row["process_run_start_date_time"],
    }
    process = {"process_id": new_row["process_id"], "process_name": process_name}
    side_by_side(
        lambda: append_rows(store, "error_tracking", with_new_ids("error_tracking", [error])),
        lambda: merge_update(
            store,
            "process",
            [process],
            on=["process_id"],
            assignments=from_source("total_record_count"),
            source=process_total_from_runs(store, new_row["process_id"]),
        ),
    )
    log.warning("process run %s: %s", abandoned["process_tracking_id"], description)


def _platform_ids(store: Store) -> dict[str, str]:
    """Return the platform run ids for this store's runs (``pt_spark.platform``), read once."""
    if store.platform_ids is None:
        store.platform_ids = platform.detect(store.spark)
    return store.platform_ids


def _new_row(
    store: Store, process_id: int, status_id: int, run_id: int, actor_id: int | None, run_name: str | None
) -> dict[str, Any]:
    """Return a new run's ``process_tracking`` row, its id made here (before the write).

    Only the platform run ids that are known are in it: off Databricks and EMR the row names no
    ``platform_*`` column, so a store not yet upgraded to them still takes local runs.
    """
    now = datetime.now()
    return {
        "process_tracking_id": new_id(),
        "process_id": process_id,
        "process_status_id": status_id,
        "process_run_id": run_id,
        "process_run_start_date_time": now,
        "process_run_end_date_time": None,
        "process_run_record_count": 0,
        "process_run_insert_count": 0,
        "process_run_update_count": 0,
        "process_run_actor_id": actor_id,
        "is_latest_run": True,
        "process_run_name": run_name,
        "process_run_uuid": str(uuid.uuid4()),
        HEARTBEAT: now,
        **_platform_ids(store),
    }


def _is_own(state: StartState, new_row: dict[str, Any]) -> bool:
    """Whether the latest run in ``state`` is ``new_row`` (a statement whose reply was lost won)."""
    return bool(state.recent) and state.recent[0]["process_tracking_id"] == new_row["process_tracking_id"]


def start_run(
    store: Store,
    process_id: int,
    process_name: str,
    actor_id: int | None,
    run_name: str | None,
    max_failures: int,
    state: StartState,
    default_timeout: int | None = None,
) -> StartedRun:
    """Decide and insert a new run of ``process_id`` (see the module docstring).

    ``state`` is the caller's fresh read; later attempts (after losing a race) read again. A
    statement re-run after an unknown outcome may find this caller's own row already there:
    the fresh read recognises it by its id, and the start has won.
    """
    status_ids = system_ids(store, "process_status_lkup", [RUNNING, ON_HOLD, ABANDONED])
    for _ in range(store.config.retry_attempts):
        decision = decide(state, process_name, max_failures, run_name, default_timeout)
        previous = state.recent[0]["process_run_id"] if state.recent else None
        run_id = (previous or 0) + 1
        new_row = _new_row(store, process_id, status_ids[decision.status], run_id, actor_id, run_name)
        won = _merge_new_run(store, new_row, previous, decision.abandoned, status_ids)
        if not won:
            state = read_start_state(store, process_name, run_name, None, max(max_failures, 1))
            won = _is_own(state, new_row)
        if won:
            if decision.abandoned is not None:
                _close_abandoned(store, decision.abandoned, new_row, process_name)
            return StartedRun(new_row, decision.status, decision.abandoned)
    raise ConcurrentUpdateError(f"Could not start a run of {process_name!r}: other runs kept starting first.")


# --- the start after a run this session started ---------------------------------------------------


@dataclass(frozen=True)
class KnownStart:
    """What a session remembers of the last run it started of a process (see ``start_after``).

    Attributes:
        process_id: The process.
        process_run_id: The run this session started.
        fingerprint: The registration the process had then (``registration.fingerprint``).
        actor_name: The actor that started it (None for none).
        actor_id: That actor's id.
    """

    process_id: int
    process_run_id: int
    fingerprint: str
    actor_name: str | None
    actor_id: int | None


#: Latest-run statuses after which the next run may not simply start ``running``: they refuse it,
#: or (a failure) may begin a streak that puts it on hold.
_NOT_PLAIN = (RUNNING, ON_HOLD, FAILED)


def _after_known(store: Store, known: KnownStart) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """Return the MERGE source and guard that keep the new run only if ``known`` is still current.

    The source takes the new run's rows only beside the run ``known`` started, read when the
    statement runs: still the latest run, with a status after which the next run simply starts
    ``running``. Reading that row in the source (a filter on the small partition of latest runs,
    in the MERGE's own scan) costs no Spark job of its own, where a subquery costs one per pass.
    The guard drops the rows when the process has a dependency (then parents' runs decide).
    A registration changed by another caller, or an actor made anew, goes with a run that
    caller started, so it too fails the latest-run test; this session's own changes are seen
    before the MERGE (``known`` is only used when the arguments match).
    """
    runs, parents = store.qualified("process_tracking"), store.qualified("process_dependency")
    process_id = int_literals([known.process_id])
    bucket, run_id = int_literals([bucket_of(known.process_id)]), int_literals([known.process_run_id])
    not_plain = int_literals(system_ids(store, "process_status_lkup", list(_NOT_PLAIN)).values())
    latest = (  # identifiers and library integers only
        f"latest.bucket = {bucket} AND latest.is_latest_run AND latest.process_id = {process_id} "
        f"AND latest.process_run_id = {run_id} AND latest.process_status_id NOT IN ({not_plain})"
    )

    def source(view: str) -> str:
        return f"(SELECT v.* FROM {view} AS v JOIN {runs} AS latest ON {latest})"  # noqa: S608

    def guard(_view: str) -> str:
        return f"NOT EXISTS (SELECT 1 FROM {parents} WHERE child_process_id = {process_id})"  # noqa: S608

    return source, guard


def start_after(store: Store, known: KnownStart) -> tuple[StartedRun, bool]:
    """Start the next run after the one ``known`` describes, in one MERGE and with no read.

    The steady state of a process started again and again in one session (a notebook, a
    long-lived driver): its last run completed and nothing about it changed. The MERGE inserts
    run ``known.process_run_id + 1`` as ``running`` only if that run is still the latest one
    when the statement runs (``_after_known``), and its own count of inserted rows tells
    whether it did: a start of the same process by another writer, a failed, running or held
    run, or a dependency all make it insert nothing, and the caller starts the long way.

    Returns:
        The run this start tried to insert, and whether the MERGE inserted it. Nothing else is
        written. A statement re-run after a lost reply finds its own row and inserts nothing:
        ``recognise`` tells that case from a refusal, once the caller has read the state. Any
        error of the MERGE (a table removed or from an older store, a lost connection) is
        logged and also returns False: the long way reads the store first, and reports what is
        wrong with it in its own words (``StoreNotReady`` naming setup, ``StoreAccessError``).
    """
    status_ids = system_ids(store, "process_status_lkup", [RUNNING, ON_HOLD, ABANDONED])
    run_id = known.process_run_id + 1
    new_row = _new_row(store, known.process_id, status_ids[RUNNING], run_id, known.actor_id, None)
    try:
        source, guard = _after_known(store, known)
        won = _merge_new_run(store, new_row, known.process_run_id, None, status_ids, guard, source)
    except Exception as error:  # any: the long way checks the store and reports what it finds
        first_line = (str(error).splitlines() or [type(error).__name__])[0][:300]
        log.info("one-MERGE start failed (%s); starting the long way", first_line)
        won = False
    return StartedRun(new_row, RUNNING), won


def recognise(state: StartState, attempted: StartedRun | None) -> StartedRun | None:
    """Return ``attempted`` if ``state`` shows it inserted after all (its statement's reply was lost)."""
    return attempted if attempted is not None and _is_own(state, attempted.row) else None


__all__ = [
    "ABANDONED",
    "COMPLETED",
    "Decision",
    "HEARTBEAT",
    "FAILED",
    "KnownStart",
    "ON_HOLD",
    "RUNNING",
    "StartState",
    "StartedRun",
    "decide",
    "read_start_state",
    "recognise",
    "stale_timeout",
    "start_after",
    "start_run",
]
