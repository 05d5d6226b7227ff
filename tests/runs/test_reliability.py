"""Crashed and stuck runs in one process: heartbeats, stale-run takeover, runs that close themselves,
finding and failing stale runs, and statements re-run after a lost reply (no double counts).

The multi-process crash tests (SIGKILL) are in ``test_crash.py``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from helpers import commits_since, table, table_versions
from pyspark.sql import functions as F

from pt_spark import (
    ExtractTracker,
    InvalidInput,
    NotFound,
    ProcessRunFailed,
    ProcessRunRefused,
    ProcessTracker,
    admin,
)
from pt_spark.cli import main, parse_duration
from pt_spark.store import writes

HOUR_AGO = timedelta(hours=1)


def _with_timeout(config, seconds):
    return config.model_copy(update={"stale_run_timeout": seconds})


def _start(spark, config, name, **kwargs):
    return ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config, **kwargs)


def _run_row(spark, config, tracking_id):
    rows = table(spark, config, "process_tracking").where(F.col("process_tracking_id") == tracking_id)
    statuses = table(spark, config, "process_status_lkup")
    return rows.join(statuses, "process_status_id").first()


def _errors(spark, config, tracking_id):
    errors = table(spark, config, "error_tracking").where(F.col("process_tracking_id") == tracking_id)
    types = table(spark, config, "error_type_lkup")
    return [(r.error_type_name, r.error_description) for r in errors.join(types, "error_type_id").collect()]


def _silence(spark, config, tracking_id, ago=HOUR_AGO):
    """Make a run look like its job died ``ago``: its heartbeat (and start) moved into the past."""
    then = datetime.now() - ago
    spark.sql(
        f"UPDATE {config.table('process_tracking')} SET last_heartbeat_date_time = "
        f"TIMESTAMP '{then:%Y-%m-%d %H:%M:%S}', process_run_start_date_time = "
        f"TIMESTAMP '{then:%Y-%m-%d %H:%M:%S}' WHERE process_tracking_id = {int(tracking_id)}"
    )
    return then


# --- heartbeats ---------------------------------------------------------------------------------


def test_a_start_records_a_heartbeat_and_each_run_write_refreshes_it_in_its_own_commit(spark, config, unique):
    run = _start(spark, config, unique("beat"))
    started = _run_row(spark, config, run.process_tracking_id)
    assert started.last_heartbeat_date_time == started.process_run_start_date_time

    seen = started.last_heartbeat_date_time
    calls = {
        "dates": lambda: run.set_process_run_low_high_dates(datetime(2020, 1, 1), datetime(2020, 1, 2)),
        "count": lambda: run.set_process_run_record_count(5),
        "status": lambda: run.change_run_status("validating"),
    }
    expected = {"dates": {"process_tracking": 1}, "count": {"process_tracking": 1, "process": 1}}
    expected["status"] = {"process_tracking": 1, "process_status_lkup": 1}  # a new custom status
    for name, call in calls.items():
        before = table_versions(config)
        call()
        assert commits_since(before, config) == expected[name], name  # no commit gained for it
        now = _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time
        assert now > seen, name
        seen = now


def test_heartbeat_on_demand_refreshes_a_running_run_only(spark, config, unique):
    run = _start(spark, config, unique("beat"))
    before = _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time
    assert run.heartbeat() is True
    after = _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time
    assert after > before
    run.change_run_status("completed")
    ended = _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time
    assert run.heartbeat() is False
    assert _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time == ended


def test_a_background_heartbeat_beats_while_running_and_stops_when_the_run_ends(spark, config, unique):
    run = _start(spark, config, unique("bg"), heartbeat_seconds=1)
    beating = run._heartbeat
    assert beating is not None and beating.alive
    first = _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time
    deadline = time.monotonic() + 120
    while _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time == first:
        assert time.monotonic() < deadline, "the background heartbeat never beat"
        time.sleep(0.5)
    run.change_run_status("completed")
    assert not beating.alive and run._heartbeat is None
    ended = _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time
    time.sleep(2.5)
    assert _run_row(spark, config, run.process_tracking_id).last_heartbeat_date_time == ended


@pytest.mark.parametrize("value", [0, -1, "5", True, float("nan"), 10**9])
def test_heartbeat_seconds_is_checked_before_anything_is_written(spark, config, unique, value):
    before = table_versions(config)
    with pytest.raises(InvalidInput, match="heartbeat_seconds"):
        _start(spark, config, unique("bad"), heartbeat_seconds=value)
    assert table_versions(config) == before


# --- stale-run takeover -------------------------------------------------------------------------


def test_a_start_takes_over_a_run_silent_for_longer_than_the_timeout(spark, config, unique):
    stale = _with_timeout(config, 600)
    name = unique("takeover")
    dead = _start(spark, stale, name)
    silent_since = _silence(spark, config, dead.process_tracking_id)

    before = table_versions(config)
    new = _start(spark, stale, name)
    assert new.status == "running" and new.process_run_id == dead.process_run_id + 1
    # Closing the old run and inserting the new one is one commit of process_tracking; the error
    # note and the repaired process total follow.
    assert commits_since(before, config) == {"process_tracking": 1, "error_tracking": 1, "process": 1}
    old = _run_row(spark, config, dead.process_tracking_id)
    assert old.process_status_name == "abandoned" and not old.is_latest_run
    assert (
        old.process_run_end_date_time
        == _run_row(spark, config, new.process_tracking_id).process_run_start_date_time
    )
    [(kind, text)] = _errors(spark, config, dead.process_tracking_id)
    assert kind == "Process Error"
    assert text.startswith(f"abandoned: no heartbeat since {silent_since:%Y-%m-%d %H:%M:%S}")
    assert f"run {new.process_run_id}" in text


def test_a_run_that_beats_is_not_taken_over(spark, config, unique):
    stale = _with_timeout(config, 600)
    name = unique("alive")
    live = _start(spark, stale, name)
    _silence(spark, config, live.process_tracking_id)
    live.heartbeat()  # the job is alive after all
    with pytest.raises(ProcessRunRefused, match="currently running"):
        _start(spark, stale, name)
    assert _run_row(spark, config, live.process_tracking_id).process_status_name == "running"


def test_without_a_timeout_a_silent_run_still_refuses_the_start(spark, config, unique):
    name = unique("no-timeout")
    dead = _start(spark, config, name)
    _silence(spark, config, dead.process_tracking_id)
    with pytest.raises(ProcessRunRefused):
        _start(spark, config, name)


def test_a_process_timeout_set_through_admin_overrides_the_config(spark, config, unique):
    name = unique("own-timeout")
    dead = _start(spark, config, name)
    _silence(spark, config, dead.process_tracking_id)
    admin.set_stale_run_timeout(spark, name, 900, config=config)
    assert (
        table(spark, config, "process").where(F.col("process_name") == name).first().stale_run_timeout_seconds
        == 900
    )
    taker = _start(spark, config, name)  # the config has no timeout; the process has
    assert _run_row(spark, config, dead.process_tracking_id).process_status_name == "abandoned"

    assert taker.heartbeat() is True
    _silence(spark, config, taker.process_tracking_id)
    admin.set_stale_run_timeout(spark, name, None, config=config)
    with pytest.raises(ProcessRunRefused):
        _start(spark, config, name)
    with pytest.raises(NotFound):
        admin.set_stale_run_timeout(spark, unique("nobody"), 60, config=config)
    with pytest.raises(InvalidInput, match="seconds"):
        admin.set_stale_run_timeout(spark, name, -5, config=config)


def test_the_job_of_a_run_taken_over_stops_beating_it(spark, config, unique):
    stale = _with_timeout(config, 600)
    name = unique("zombie")
    zombie = _start(spark, stale, name)
    _silence(spark, config, zombie.process_tracking_id)
    _start(spark, stale, name)
    assert zombie.heartbeat() is False
    assert _run_row(spark, config, zombie.process_tracking_id).process_status_name == "abandoned"


# --- runs that close themselves -----------------------------------------------------------------


def test_a_with_block_that_succeeds_completes_the_run(spark, config, unique):
    with _start(spark, config, unique("ok")) as run:
        run.set_process_run_record_count(3)
    row = _run_row(spark, config, run.process_tracking_id)
    assert row.process_status_name == "completed" and row.process_run_end_date_time is not None


def test_a_with_block_that_raises_fails_the_run_with_the_exception_and_re_raises(spark, config, unique):
    with pytest.raises(ZeroDivisionError), _start(spark, config, unique("boom")) as run:
        1 / 0  # noqa: B018
    row = _run_row(spark, config, run.process_tracking_id)
    assert row.process_status_name == "failed" and row.process_run_end_date_time is not None
    assert _errors(spark, config, run.process_tracking_id) == [
        ("Process Error", "ZeroDivisionError: division by zero")
    ]
    assert run.status == "failed"


def test_a_with_block_leaves_a_run_it_already_ended_alone(spark, config, unique):
    with pytest.raises(ProcessRunFailed), _start(spark, config, unique("failed")) as run:
        run.raise_run_error("Data Error", "bad rows", fail_run=True)
    assert _errors(spark, config, run.process_tracking_id) == [("Data Error", "bad rows")]
    with _start(spark, config, unique("custom")) as other:
        other.change_run_status("failed")
    assert _run_row(spark, config, other.process_tracking_id).process_status_name == "failed"


# --- finding and failing stale runs -------------------------------------------------------------


def test_stale_runs_lists_running_runs_silent_for_longer_than_asked(spark, config, unique):
    dead, fresh = _start(spark, config, unique("dead")), _start(spark, config, unique("fresh"))
    _silence(spark, config, dead.process_tracking_id)
    found = {
        r.process_tracking_id: r for r in admin.stale_runs(spark, older_than=1800, config=config).collect()
    }
    assert dead.process_tracking_id in found and fresh.process_tracking_id not in found
    assert 3500 < found[dead.process_tracking_id].seconds_since_heartbeat < 4000
    later = admin.stale_runs(spark, older_than=7200, config=config).collect()
    assert dead.process_tracking_id not in {r.process_tracking_id for r in later}


def test_fail_run_closes_a_run_by_hand_once(spark, config, unique):
    run = _start(spark, config, unique("by-hand"))
    assert (
        admin.fail_run(spark, run.process_tracking_id, reason="driver lost", config=config)
        == run.process_run_id
    )
    row = _run_row(spark, config, run.process_tracking_id)
    assert row.process_status_name == "failed" and row.process_run_end_date_time is not None
    assert _errors(spark, config, run.process_tracking_id) == [("Process Error", "driver lost")]
    before = table_versions(config)
    with pytest.raises(InvalidInput, match="already ended"):
        admin.fail_run(spark, run.process_tracking_id, config=config)
    with pytest.raises(NotFound):
        admin.fail_run(spark, 987654321, config=config)
    assert table_versions(config) == before


def _cli(config, *args):
    store = ["--schema", config.schema_name, "--location", str(config.location)]
    return CliRunner().invoke(main, [*args, *store])


def test_the_cli_lists_stale_runs_and_fails_one(spark, config, unique):
    name = unique("cli-stale")
    dead = _start(spark, config, name)
    _silence(spark, config, dead.process_tracking_id)
    listed = _cli(config, "runs", "--stale", "--older-than", "30m", "--process", name)
    assert listed.exit_code == 0, listed.output
    header, _, line = listed.stdout.splitlines()
    assert "LAST HEARTBEAT" in header and "SILENT FOR" in header
    assert line.split()[:3] == [name, str(dead.process_run_id), str(dead.process_tracking_id)]
    assert (
        _cli(config, "runs", "--stale", "--older-than", "2h", "--process", name).stdout.strip()
        == "No stale runs."
    )
    failed = _cli(config, "fail-run", "--id", str(dead.process_tracking_id), "--reason", "lost cluster")
    assert failed.exit_code == 0, failed.output
    assert _run_row(spark, config, dead.process_tracking_id).process_status_name == "failed"
    assert _cli(config, "fail-run", "--id", str(dead.process_tracking_id)).exit_code == 1
    assert _cli(config, "runs", "--older-than", "30m").exit_code == 2  # --older-than needs --stale
    timeout = _cli(config, "stale-timeout", "--process", name, "--after", "45m")
    assert timeout.exit_code == 0, timeout.output
    assert (
        table(spark, config, "process").where(F.col("process_name") == name).first().stale_run_timeout_seconds
        == 2700
    )


def test_durations_read_as_seconds():
    assert [parse_duration(text) for text in ("90", "90s", "30m", "2h", "1d")] == [90, 90, 1800, 7200, 86400]
    for bad in ("", "m", "soon", "-5m", "0"):
        with pytest.raises(Exception, match="duration"):
            parse_duration(bad)


# --- a lost reply after the commit --------------------------------------------------------------


@pytest.fixture
def lose_replies(monkeypatch):
    """Make the next statements whose SQL starts with one of the given words commit, then lose
    their reply (a ``ConnectionError``, as a dropped driver or Connect connection raises)."""
    real = writes._execute
    lost: list[str] = []

    def arm(*prefixes: str, times: int = 1) -> list[str]:
        remaining = {"n": times}

        def execute(store, sql):
            result = real(store, sql)  # the statement really runs and commits
            if remaining["n"] > 0 and sql.startswith(prefixes):
                remaining["n"] -= 1
                lost.append(sql.split()[0])
                raise ConnectionError("connection reset by peer (injected after the commit)")
            return result

        monkeypatch.setattr(writes, "_execute", execute)
        return lost

    return arm


def test_an_error_whose_append_reply_was_lost_is_recorded_once(spark, config, unique, lose_replies):
    run = _start(spark, config, unique("lost-error"))
    lost = lose_replies("INSERT")
    run.raise_run_error("Data Error", "row 7 is bad")
    assert lost == ["INSERT"]
    assert _errors(spark, config, run.process_tracking_id) == [("Data Error", "row 7 is bad")]


def test_a_start_whose_reply_was_lost_starts_one_run_and_knows_it(spark, config, unique, lose_replies):
    name = unique("lost-start")
    _start(spark, config, name).change_run_status("completed")
    lost = lose_replies("MERGE INTO " + config.table("process_tracking"))
    run = _start(spark, config, name)
    assert lost == ["MERGE"] and run.status == "running"
    runs = table(spark, config, "process_tracking").join(
        table(spark, config, "process").where(F.col("process_name") == name), "process_id"
    )
    assert sorted(r.process_run_id for r in runs.collect()) == [1, 2]
    assert runs.where("is_latest_run").first().process_tracking_id == run.process_tracking_id


def test_counts_and_extracts_whose_replies_were_lost_are_not_counted_twice(
    spark, config, unique, lose_replies
):
    run = _start(spark, config, unique("lost-count"))
    run.set_process_run_record_count(40)
    lost = lose_replies("MERGE", "INSERT", times=6)
    run.set_process_run_record_count(100)
    run.set_process_run_low_high_dates(datetime(2021, 1, 1), datetime(2021, 1, 31))
    extract = ExtractTracker(run, unique("lost") + ".csv", location_path="/lost/replies")
    assert len(lost) == 6
    assert (
        table(spark, config, "process")
        .where(F.col("process_id") == run._process_id)
        .first()
        .total_record_count
        == 100
    )
    assert _run_row(spark, config, run.process_tracking_id).process_run_record_count == 100
    extracts = table(spark, config, "extract_tracking").where(F.col("extract_id") == extract.extract_id)
    links = table(spark, config, "extract_process_tracking").where(
        F.col("extract_tracking_id") == extract.extract_id
    )
    assert extracts.count() == 1 and links.count() == 1


def test_only_lost_replies_count_as_unknown_outcomes():
    from pt_spark.store.retry import is_conflict, is_unknown_outcome

    assert is_unknown_outcome(ConnectionResetError("reset")) and not is_conflict(ConnectionError("x"))
    assert not is_unknown_outcome(ValueError("Connection reset"))


# --- a write refused half-way through a two-table change ------------------------------------------


@pytest.fixture
def refuse_writes(monkeypatch):
    """Make statements that start with the given text fail before running (the file system refuses)."""
    real = writes._execute

    def arm(prefix: str) -> None:
        def execute(store, sql):
            if sql.startswith(prefix):
                raise RuntimeError("java.nio.file.AccessDeniedException: the file system refused the write")
            return real(store, sql)

        monkeypatch.setattr(writes, "_execute", execute)

    return arm


def _process_row(spark, config, run):
    return table(spark, config, "process").where(F.col("process_id") == run._process_id).first()


def test_a_completion_whose_run_write_is_refused_changes_nothing(
    spark, config, unique, refuse_writes, monkeypatch
):
    from pt_spark import StoreAccessError

    run = _start(spark, config, unique("refused"))
    refuse_writes("MERGE INTO " + config.table("process_tracking"))
    before = table_versions(config)
    with pytest.raises(StoreAccessError, match="cannot be written"):
        run.change_run_status("completed")
    assert commits_since(before, config) == {}
    monkeypatch.undo()
    assert _process_row(spark, config, run).last_completed_run_date_time is None
    assert _run_row(spark, config, run.process_tracking_id).process_status_name == "running"


def test_a_completion_whose_process_write_is_refused_is_repaired_by_the_next_one(
    spark, config, unique, refuse_writes, monkeypatch
):
    from pt_spark import StoreAccessError

    name = unique("half")
    first = _start(spark, config, name)
    refuse_writes("MERGE INTO " + config.table("process"))
    with pytest.raises(StoreAccessError):
        first.change_run_status("completed")
    monkeypatch.undo()
    ended = _run_row(spark, config, first.process_tracking_id).process_run_end_date_time
    assert _process_row(spark, config, first).last_completed_run_date_time is None  # behind, for now
    second = _start(spark, config, name)
    second.change_run_status("failed")
    process = _process_row(spark, config, first)
    assert process.last_completed_run_date_time == ended  # derived from the runs: exact again
    assert (
        process.last_failed_run_date_time
        == _run_row(spark, config, second.process_tracking_id).process_run_end_date_time
    )


def test_a_count_whose_total_write_is_refused_is_repaired_by_the_next_count(
    spark, config, unique, refuse_writes, monkeypatch
):
    from pt_spark import StoreAccessError

    run = _start(spark, config, unique("half-count"))
    run.set_process_run_record_count(2000)
    refuse_writes("MERGE INTO " + config.table("process"))
    with pytest.raises(StoreAccessError):
        run.set_process_run_record_count(3000)
    monkeypatch.undo()
    assert _process_row(spark, config, run).total_record_count == 2000  # behind, for now
    run.set_process_run_record_count(3000)
    assert _process_row(spark, config, run).total_record_count == 3000
