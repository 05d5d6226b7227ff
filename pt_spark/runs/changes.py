"""State changes of a started run: status, errors, data low/high dates, record counts.

Each change is at most one MERGE per table it changes; a change of several tables runs its MERGEs
side by side (separate tables never conflict). Inputs are validated before any write. Every
MERGE that writes the run row also refreshes its heartbeat (``last_heartbeat_date_time``), so a
busy run never looks stale and no call gains a commit for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from pt_spark.errors import InvalidInput, NotFound, ProcessRunFailed
from pt_spark.runs.start import COMPLETED, FAILED, HEARTBEAT, RUNNING
from pt_spark.store.reads import lookup_id, system_ids
from pt_spark.store.store import Store
from pt_spark.store.writes import (
    TOTAL_FROM_RUNS,
    Written,
    append_rows,
    count_fits_total,
    from_source,
    in_parallel,
    int_literals,
    merge_update,
    process_from_runs,
    process_total_from_runs,
    side_by_side,
    with_new_ids,
)
from pt_spark.validation import MAX_BIGINT, choice, clean_name, count, low_high, optional_text, to_timestamp

Run = dict[str, Any]
_LAST_RUN_COLUMN = {COMPLETED: "last_completed_run_date_time", FAILED: "last_failed_run_date_time"}
_PROCESSING_COUNT_COLUMN = {"insert": "process_run_insert_count", "update": "process_run_update_count"}
DEFAULT_ERROR_DESCRIPTION = "Unspecified error."


def _run_key(run: Run) -> dict[str, Any]:
    """Return what identifies the run's row (its process id also names its write bucket)."""
    return {"process_tracking_id": run["process_tracking_id"], "process_id": run["process_id"]}


def _process_key(run: Run) -> dict[str, Any]:
    """Return what identifies the run's process row (its name also names its write bucket)."""
    return {"process_id": run["process_id"], "process_name": run["process_name"]}


def _update_run(
    store: Store,
    run: Run,
    values: dict[str, Any],
    source: Callable[[str], str] | None = None,
    widen: dict[str, Any] | None = None,
) -> tuple[Written, Run]:
    """Write ``values`` (and the heartbeat) to the run's row in one MERGE; return it and the new run.

    ``widen`` holds data dates that only ever widen the run's: ``least`` of the lows, ``greatest``
    of the highs (None leaves that side alone). ``source``: see ``merge_update``. The new run is
    ``run`` with ``values`` (``run`` itself when a ``source`` kept the MERGE from updating).
    """
    values = {**values, HEARTBEAT: datetime.now()}
    widened = widen or {}
    assignments = {**from_source(*values), **_widening(widened)}
    row = {**_run_key(run), **values, **widened}
    written = merge_update(
        store, "process_tracking", [row], on=["process_tracking_id"], assignments=assignments, source=source
    )
    changed = source is None or bool(written.updated)
    return written, ({**run, **values} if changed else run)


_LOW, _HIGH = "process_run_low_date_time", "process_run_high_date_time"


def _dates(low_date: Any, high_date: Any) -> dict[str, Any]:
    """Return the validated dates to widen the run's by (empty when both are None)."""
    low, high = low_high(low_date, high_date)
    return {} if low is None and high is None else {_LOW: low, _HIGH: high}


def _widening(dates: dict[str, Any]) -> dict[str, str]:
    combine = {_LOW: "least", _HIGH: "greatest"}
    return {column: f"{combine[column]}(t.{column}, s.{column})" for column in dates}


def _counts(num_records: Any, processing_type: Any) -> dict[str, Any]:
    """Return the validated count columns to write (empty when ``num_records`` is None)."""
    if num_records is None:
        if processing_type is not None:
            raise InvalidInput("processing_type: give num_records with it")
        return {}
    new_count = count(num_records, "num_records")
    values = {"process_run_record_count": new_count}
    if processing_type is not None:
        kind = choice(processing_type, "processing_type", _PROCESSING_COUNT_COLUMN)
        values[_PROCESSING_COUNT_COLUMN[kind]] = new_count
    return values


def _update_run_count(
    store: Store, run: Run, counts: dict[str, Any], values: dict[str, Any], widen: dict[str, Any]
) -> Run:
    """Write the run's count with ``values``, only if its process's total stays a BIGINT."""
    fits = count_fits_total(store, run["process_id"], run["process_tracking_id"])
    written, new_run = _update_run(store, run, {**values, **counts}, source=fits, widen=widen)
    if not written.updated:
        raise InvalidInput(
            f"num_records {counts['process_run_record_count']} would take the total record count of "
            f"process {run['process_name']!r} (the sum of its runs' counts) past the BIGINT maximum "
            f"{MAX_BIGINT}"
        )
    return new_run


def _update_process(store: Store, run: Run, values: dict[str, Any]) -> object:
    row = {**_process_key(run), **values}
    return merge_update(store, "process", [row], on=["process_id"], assignments=from_source(*values))


def _last_run_times(
    store: Store,
    run: Run,
    statuses: tuple[str, ...],
    values: dict[str, Any] | None = None,
    with_total: bool = False,
) -> object:
    """Set the process's last completed/failed times from its runs' end times (and ``values``), one MERGE.

    ``with_total`` sets the process total from the runs' counts in the same MERGE.
    """
    ids = system_ids(store, "process_status_lkup", list(statuses))
    aggregates = {
        _LAST_RUN_COLUMN[status]: (
            f"max(CASE WHEN process_status_id = {int_literals([ids[status]])} "
            "THEN process_run_end_date_time END)"
        )
        for status in statuses
    }
    if with_total:
        aggregates.update(TOTAL_FROM_RUNS)
    extra = values or {}
    return merge_update(
        store,
        "process",
        [{**_process_key(run), **extra}],
        on=["process_id"],
        assignments=from_source(*aggregates, *extra),
        source=process_from_runs(store, run["process_id"], aggregates),
    )


def _set_process_total(store: Store, run: Run) -> None:
    """Set the process total to the sum of its runs' counts, now (one MERGE)."""
    merge_update(
        store,
        "process",
        [_process_key(run)],
        on=["process_id"],
        assignments=from_source("total_record_count"),
        source=process_total_from_runs(store, run["process_id"]),
    )


def change_status(
    store: Store,
    run: Run,
    new_status: Any,
    end_date: Any = None,
    low_date: Any = None,
    high_date: Any = None,
    num_records: Any = None,
    processing_type: Any = None,
) -> tuple[str, Run]:
    """Set the run's status (creating a custom status on first use); return its name and the new run.

    The run's last data dates (widening its own) and its record count may come with the status:
    they are written in the same MERGE as the status, and the process total in the same MERGE as
    its last-run times, so a closing call costs what the status change alone costs. Every value
    is checked before any write; a count that would take the process total past the BIGINT
    maximum writes nothing (the run stays as it was).

    ``completed`` and ``failed`` write the run first and then the process's last-run times,
    derived from its runs: if the run's write fails nothing changed, and if the process's write
    fails, the next completion or failure of the process sets the times exactly.
    """
    status = clean_name(new_status, "new_status")
    end = to_timestamp(end_date, "end_date")
    dates, counts = _dates(low_date, high_date), _counts(num_records, processing_type)
    status_id = lookup_id(store, "process_status_lkup", status, create=True)
    values: dict[str, Any] = {"process_status_id": status_id}
    if status in _LAST_RUN_COLUMN:
        values["process_run_end_date_time"] = end or datetime.now()
    if counts:
        new_run = _update_run_count(store, run, counts, values, dates)
    else:
        new_run = _update_run(store, run, values, widen=dates)[1]
    if status in _LAST_RUN_COLUMN:
        _last_run_times(store, run, (COMPLETED, FAILED), with_total=bool(counts))
    elif counts:
        _set_process_total(store, run)
    return status, new_run


def record_error(
    store: Store, run: Run, error_type_name: Any, description: Any, fail_run: Any, end_date: Any
) -> tuple[ProcessRunFailed | None, Run]:
    """Insert an ``error_tracking`` row; with ``fail_run`` fail the run.

    Returns:
        The exception to raise (None without ``fail_run``), and the run as it is now.
    """
    error_type = clean_name(error_type_name, "error_type_name")
    text = optional_text(description, "error_description") or DEFAULT_ERROR_DESCRIPTION
    if not isinstance(fail_run, bool):
        raise InvalidInput(f"fail_run: expected True or False (got {fail_run!r})")
    occurred = to_timestamp(end_date, "end_date") or datetime.now()
    error_type_id = lookup_id(store, "error_type_lkup", error_type, create=False)
    if error_type_id is None:
        raise NotFound(
            f"{error_type!r} is not a known error type; add it with admin.create(spark, 'error type', ...)."
        )
    error_row = {
        "error_type_id": error_type_id,
        "process_tracking_id": run["process_tracking_id"],
        "error_description": text,
        "error_occurrence_date_time": occurred,
    }
    writes: list[Callable[[], object]] = [
        lambda: append_rows(store, "error_tracking", with_new_ids("error_tracking", [error_row]))
    ]
    if not fail_run:
        writes.append(lambda: _update_process(store, run, {"last_errored_run_date_time": occurred}))
        in_parallel(writes)
        return None, run
    failed_id = lookup_id(store, "process_status_lkup", FAILED, create=False)
    failed = {"process_status_id": failed_id, "process_run_end_date_time": occurred}
    # The facts first, side by side: the error and the run; then the process's summary.
    _, (_, new_run) = side_by_side(writes[0], lambda: _update_run(store, run, failed))
    _last_run_times(store, run, (FAILED,), {"last_errored_run_date_time": occurred})
    return ProcessRunFailed(f"Process run {run['process_tracking_id']} failed: {error_type}: {text}"), new_run


def widen_dates(store: Store, run: Run, low_date: Any, high_date: Any) -> Run:
    """Widen the run's low/high dates in one MERGE (None leaves that side alone); return the new run."""
    dates = _dates(low_date, high_date)
    return _update_run(store, run, {}, widen=dates)[1] if dates else run


def set_record_count(store: Store, run: Run, num_records: Any, processing_type: Any) -> Run:
    """Replace the run's count, then set the process total to the sum of its runs' counts.

    Returns the new run.

    The total is recomputed from the runs inside its MERGE (not grown by a difference read
    before), so concurrent setters on one run, a retried statement or a call cut short between
    the two writes never leave it wrong: the next count change of the process repairs it.
    """
    counts = _counts(count(num_records, "num_records"), processing_type)
    new_run = _update_run_count(store, run, counts, {}, {})
    _set_process_total(store, run)
    return new_run


def heartbeat(store: Store, run: Run) -> bool:
    """Refresh the run's heartbeat while it is running, in one MERGE; False if it no longer runs.

    A run another start has taken over (``abandoned``) or closed by hand is left alone.
    """
    running = system_ids(store, "process_status_lkup", [RUNNING])[RUNNING]
    written = merge_update(
        store,
        "process_tracking",
        [{**_run_key(run), HEARTBEAT: datetime.now()}],
        on=["process_tracking_id"],
        assignments=from_source(HEARTBEAT),
        when=f"t.process_status_id = {int_literals([running])}",
    )
    return written.updated == 1


__all__ = ["change_status", "heartbeat", "record_error", "set_record_count", "widen_dates"]
