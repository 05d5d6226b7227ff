"""The start rules (docs/SPEC.md §2.2) as pure logic: ``runs.start.decide`` on a given state, no Spark."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from pt_spark import InvalidInput, ProcessDependencyError, ProcessRunRefused
from pt_spark.runs.start import ON_HOLD, RUNNING, StartState, decide


def _run(status: str, seen_seconds_ago: float = 0.0, run_id: int = 1) -> dict[str, Any]:
    return {
        "process_tracking_id": 100 + run_id,
        "process_run_id": run_id,
        "process_status_name": status,
        "last_seen": datetime.now() - timedelta(seconds=seen_seconds_ago),
    }


def _state(
    *recent: dict[str, Any],
    parents: tuple[str, ...] = (),
    name_taken: bool = False,
    own_timeout: int | None = None,
) -> StartState:
    process = {"process_id": 7, "stale_run_timeout_seconds": own_timeout}
    return StartState(process, list(recent), list(parents), name_taken, None)


def test_a_new_process_starts_running():
    decision = decide(StartState(None, [], [], False, None), "new", 1, None)
    assert (decision.status, decision.abandoned) == (RUNNING, None)


@pytest.mark.parametrize("latest", ["completed", "abandoned", "waiting for approval"])
def test_after_a_finished_or_custom_status_the_next_run_starts_running(latest):
    assert decide(_state(_run(latest)), "p", 1, None).status == RUNNING


@pytest.mark.parametrize("latest", ["running", "on hold"])
def test_a_running_or_held_latest_run_refuses_the_start(latest):
    with pytest.raises(ProcessRunRefused, match=f"currently {latest}"):
        decide(_state(_run(latest)), "p", 1, None)


@pytest.mark.parametrize("parent", ["running", "failed", "on hold"])
def test_a_parent_running_failed_or_held_blocks_the_start(parent):
    with pytest.raises(ProcessDependencyError):
        decide(_state(_run("completed"), parents=("completed", parent)), "p", 1, None)


def test_completed_parents_do_not_block():
    assert decide(_state(parents=("completed", "completed")), "p", 1, None).status == RUNNING


def test_a_taken_run_name_is_refused():
    with pytest.raises(InvalidInput, match="process_run_name"):
        decide(_state(name_taken=True), "p", 1, "nightly")


@pytest.mark.parametrize(
    ("statuses", "window", "expected"),
    [
        (["failed"], 1, ON_HOLD),  # one failure with a window of one: hold
        (["failed"], 2, RUNNING),  # one failure of two allowed
        (["failed", "failed"], 2, ON_HOLD),
        (["failed", "completed", "failed"], 2, RUNNING),  # the streak is broken
        (["completed", "failed", "failed"], 2, RUNNING),  # only the latest runs count
    ],
)
def test_a_streak_of_failures_puts_the_new_run_on_hold(statuses, window, expected):
    runs = [_run(status, run_id=len(statuses) - index) for index, status in enumerate(statuses)]
    assert decide(_state(*runs), "p", window, None).status == expected


def test_a_running_run_without_a_recent_heartbeat_is_taken_over():
    stale = _run("running", seen_seconds_ago=120)
    decision = decide(_state(stale), "p", 1, None, default_timeout=60)
    assert (decision.status, decision.abandoned) == (RUNNING, stale)


def test_a_running_run_with_a_recent_heartbeat_still_refuses():
    with pytest.raises(ProcessRunRefused):
        decide(_state(_run("running", seen_seconds_ago=30)), "p", 1, None, default_timeout=60)


def test_without_a_timeout_a_silent_run_is_never_stale():
    with pytest.raises(ProcessRunRefused):
        decide(_state(_run("running", seen_seconds_ago=10**6)), "p", 1, None)


def test_the_process_own_timeout_wins_over_the_default():
    stale_for_own = _run("running", seen_seconds_ago=20)
    assert decide(_state(stale_for_own, own_timeout=10), "p", 1, None, default_timeout=3600).abandoned
    with pytest.raises(ProcessRunRefused):
        fresh_for_own = _state(_run("running", seen_seconds_ago=20), own_timeout=3600)
        decide(fresh_for_own, "p", 1, None, default_timeout=10)
