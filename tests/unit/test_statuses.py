"""The status enums and the run context: declared once, equal to the names the tables hold (no Spark)."""

from __future__ import annotations

import dataclasses

import pytest

from pt_spark.runs.context import Lineage, RunContext
from pt_spark.runs.start import ABANDONED, COMPLETED, FAILED, ON_HOLD, RUNNING
from pt_spark.statuses import ExtractStatus, RunStatus
from pt_spark.store.defaults import DEFAULT_ROWS


def test_setup_seeds_exactly_the_enum_statuses_in_their_order():
    assert [row["process_status_name"] for row in DEFAULT_ROWS["process_status_lkup"]] == list(
        RunStatus.names()
    )
    assert [row["extract_status_name"] for row in DEFAULT_ROWS["extract_status_lkup"]] == list(
        ExtractStatus.names()
    )
    assert RunStatus.names() == ("running", "completed", "failed", "on hold", "abandoned")


def test_a_status_member_is_its_stored_name():
    assert RunStatus.ON_HOLD == "on hold" and hash(RunStatus.ON_HOLD) == hash("on hold")
    assert f"{ExtractStatus.LOADING}" == str(ExtractStatus.LOADING) == "loading"
    assert {"loading": 1}[ExtractStatus.LOADING] == 1
    assert RunStatus("failed") is RunStatus.FAILED


def test_the_start_rules_use_the_enum_names():
    assert (RUNNING, COMPLETED, FAILED, ON_HOLD, ABANDONED) == RunStatus.names()
    assert all(type(name) is str for name in (RUNNING, COMPLETED, FAILED, ON_HOLD, ABANDONED))


def test_the_run_context_is_frozen_and_reads_its_lineage_on_demand():
    calls = []

    def lineage() -> Lineage:
        calls.append(1)
        return Lineage((1,), (2, 3), ())

    context = RunContext(store=None, process_id=7, process_tracking_id=70, lineage=lineage)  # type: ignore[arg-type]
    assert not calls
    assert context.lineage().source_ids == (2, 3) and calls == [1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.process_id = 8  # type: ignore[misc]
