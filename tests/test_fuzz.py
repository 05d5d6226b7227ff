"""Fuzzed input over every public call (issue 16, item 7), with Hypothesis.

The property of every refused call: only a ``ProcessTrackerError`` escapes (never a TypeError,
ValueError, OverflowError, pydantic, Py4J or Spark error), its message names the argument, and
the store is untouched: the set of files in every table's ``_delta_log`` folder is the same
before and after (a cheap check without Spark). Accepted inputs succeed and read back from the
Delta tables as given.

Most refused inputs fail in pure Python before any Spark call, so they are cheap and get many
examples; accepted inputs write to Delta (about a second each), so they get few. The number of
inputs tried per call is written to ``benchmarks/results/fuzz.json`` (and printed) at the end.

Run alone, with one Spark JVM: ``.venv/bin/python -m pytest -p no:xdist tests/test_fuzz.py``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import table
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pt_spark import (
    ExtractTracker,
    InvalidInput,
    NotFound,
    ProcessTracker,
    ProcessTrackerError,
    TrackerConfig,
    admin,
    maintain,
    setup,
)
from pt_spark.extracts.paths import normalize_path
from pt_spark.lineage.events import parse_parent, parse_transport
from pt_spark.store.defaults import LOCATION_TYPE_BY_SCHEME
from pt_spark.validation import EARLIEST_TIMESTAMP

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks" / "results" / "fuzz.json"
BIGINT_MAX = 2**63 - 1
#: Refused inputs: cheap, many examples. Accepted inputs: one Delta write each, few examples.
MANY, SOME, FEW = 150, 8, 3
TRIED: Counter[str] = Counter()
_STARTED = time.monotonic()


def fuzz(examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings of this module: no deadline (Spark), module fixtures allowed."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture(scope="module", autouse=True)
def _report_inputs_tried() -> Iterator[None]:
    """Write how many inputs each call was given (the README quotes these figures)."""
    yield
    report = {
        "inputs_tried": dict(sorted(TRIED.items())),
        "total": sum(TRIED.values()),
        "calls": len(TRIED),
        "seconds": round(time.monotonic() - _STARTED, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nfuzz: {report['total']} inputs over {report['calls']} calls in {report['seconds']} s")


# --- the property -------------------------------------------------------------------------------


def log_files(config: TrackerConfig) -> frozenset[str]:
    """Every file under every table's ``_delta_log`` folder (new commits, checksums, checkpoints)."""
    assert config.location is not None
    root = Path(config.location)
    return frozenset(str(path.relative_to(root)) for path in root.glob("*/_delta_log/**/*"))


def attempt(call_name: str, config: TrackerConfig, call: Callable[[], Any], *arguments: str) -> Any:
    """Run ``call``; return its result, or the ``ProcessTrackerError`` it raised after checking it.

    A refusal must name one of ``arguments`` (a ``NotFound`` may name the value it did not find
    instead) and must leave every ``_delta_log`` folder as it was. Any other exception fails the
    test as it is, so Hypothesis shrinks the input that let it escape.
    """
    TRIED[call_name] += 1
    before = log_files(config)
    try:
        return call()
    except ProcessTrackerError as error:
        message = str(error)
        assert isinstance(error, NotFound) or any(name in message for name in arguments), (
            f"{type(error).__name__} does not name {arguments}: {message}"
        )
        assert log_files(config) == before, f"a refused call wrote: {sorted(log_files(config) - before)}"
        return error


def refused(call_name: str, config: TrackerConfig, call: Callable[[], Any], *arguments: str) -> Exception:
    """``attempt`` that must refuse."""
    outcome = attempt(call_name, config, call, *arguments)
    assert isinstance(outcome, ProcessTrackerError), f"accepted: {outcome!r}"
    return outcome


def accepted(call_name: str, config: TrackerConfig, call: Callable[[], Any], *arguments: str) -> Any:
    """``attempt`` that must succeed."""
    outcome = attempt(call_name, config, call, *arguments)
    assert not isinstance(outcome, ProcessTrackerError), f"refused: {outcome!r}"
    return outcome


# --- strategies ---------------------------------------------------------------------------------

#: Characters a stored name may hold: any encodable character but the C0/DEL controls.
_NAME_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
#: Characters that must be refused inside a name.
_CONTROLS = st.sampled_from([chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)])
_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_WHITESPACE = st.text(
    st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2003\u2028\u3000"), max_size=8
)
_LETTERS = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)

good_names = st.text(_NAME_CHARACTERS, min_size=1, max_size=40).filter(lambda s: s.strip() != "")
bad_names = st.one_of(
    _WHITESPACE,  # empty and whitespace-only (unicode spaces too)
    st.builds(lambda a, c, b: a + c + b, _LETTERS, _CONTROLS, _LETTERS),  # a control inside
    st.builds(lambda a, s, b: a + s + b, _LETTERS, _SURROGATES, st.text(_NAME_CHARACTERS, max_size=3)),
    st.builds(lambda ch, n: ch * n, st.characters(categories=("L", "S")), st.integers(751, 10_000)),
)
_OBJECTS = st.builds(object)
not_strings = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.binary(max_size=6),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.tuples(st.text(max_size=4)),
    _OBJECTS,
    st.decimals(allow_nan=True),
)
#: Wrong where a string, list, tuple or set of names is expected (None is fine there: empty).
not_name_lists = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.binary(max_size=6),
    st.dictionaries(st.text(max_size=4), st.integers(), min_size=1, max_size=2),
    st.lists(st.one_of(st.integers(), st.none(), st.binary(max_size=3)), min_size=1, max_size=3),
    st.lists(bad_names, min_size=1, max_size=2),
    _OBJECTS,
)
bad_counts = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=BIGINT_MAX + 1),
    st.floats(),
    st.booleans(),
    st.integers(0, 10**6).map(str),  # numpy-ish strings: "12"
    st.none(),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.decimals(allow_nan=True),
)
good_counts = st.integers(0, BIGINT_MAX)
bad_ids = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=BIGINT_MAX + 1),
    st.floats(),
    st.booleans(),
    st.integers(1, 10**6).map(str),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    _OBJECTS,
)

_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
naive_datetimes = st.datetimes(min_value=EARLIEST_TIMESTAMP, max_value=datetime(9999, 12, 31, 23, 59, 59))
#: Aware times whose instant lies inside Spark's range (0001-01-01 .. 9999-12-31 UTC).
aware_datetimes = st.builds(
    lambda moment, offset: moment.replace(tzinfo=timezone.utc).astimezone(offset),
    st.datetimes(min_value=EARLIEST_TIMESTAMP, max_value=datetime(9999, 12, 30)),
    _OFFSETS,
)
#: Aware times that name no instant Spark can hold (before year 1 or after 9999 in UTC).
out_of_range_aware = st.one_of(
    st.builds(
        lambda m, o: datetime(1, 1, 1, 0, m % 60, tzinfo=timezone(timedelta(minutes=o))),
        st.integers(0, 59),
        st.integers(61, 23 * 60 + 59),
    ),
    st.builds(
        lambda m, o: datetime(9999, 12, 31, 23, m % 60, tzinfo=timezone(timedelta(minutes=-o))),
        st.integers(0, 59),
        st.integers(61, 23 * 60 + 59),
    ),
)
_dates = st.dates(min_value=EARLIEST_TIMESTAMP.date())
#: Times PySpark would read back shifted through the Julian calendar (or not at all).
pre_gregorian = st.one_of(
    st.datetimes(max_value=EARLIEST_TIMESTAMP - timedelta(microseconds=1)),
    st.dates(max_value=EARLIEST_TIMESTAMP.date() - timedelta(days=1)),
)
good_dates = st.one_of(
    naive_datetimes,
    aware_datetimes,
    _dates,
    naive_datetimes.map(datetime.isoformat),
    aware_datetimes.map(lambda d: d.isoformat(sep=" ")),
    _dates.map(date.isoformat),
)


def _not_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return True
    return False


bad_dates = st.one_of(
    st.text(max_size=30).filter(_not_iso),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.binary(max_size=8),
    st.lists(st.dates(), max_size=2),
    st.builds(lambda d: d.isoformat() + "\x00", st.dates()),
    st.timedeltas(),
    out_of_range_aware,
    out_of_range_aware.map(datetime.isoformat),
    pre_gregorian,
    pre_gregorian.map(lambda d: d.isoformat()),
    _OBJECTS,
)


def _valid_name(value: Any) -> bool:
    """The documented name rule, re-stated: a string, not blank, at most 750 characters once
    stripped, no C0/DEL control but tab/newline/carriage return, encodable as UTF-8."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 750:
        return False
    if any((ord(c) < 0x20 and c not in "\t\n\r") or c == "\x7f" for c in value.strip()):
        return False
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def _valid_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= BIGINT_MAX


def stored_time(value: Any) -> datetime:
    """What a collected TimestampType column gives back for ``value`` (local wall time, naive)."""
    moment = value
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
    elif not isinstance(value, datetime):
        moment = datetime(value.year, value.month, value.day)
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment


def suffixed(name: str) -> str:
    """A fuzzed name made unique (so runs of one name never refuse each other), as stored."""
    return f"{name.strip()} {uuid.uuid4().hex[:8]}"


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(spark: SparkSession, config: TrackerConfig) -> ProcessTracker:
    """The one run the method fuzzing works on."""
    return ProcessTracker(
        spark=spark,
        process_name="fuzzed",
        process_type="Extract",
        sources="Fuzzer",
        dataset_types="Fuzzed",
        config=config,
    )


@pytest.fixture(scope="module")
def extract(run: ProcessTracker) -> ExtractTracker:
    return ExtractTracker(run, filename="fuzz.csv", location_path="s3://fuzz/drop/")


def run_row(spark: SparkSession, config: TrackerConfig, run: ProcessTracker) -> Any:
    rows = table(spark, config, "process_tracking").where(
        F.col("process_tracking_id") == run.process_tracking_id
    )
    return rows.join(table(spark, config, "process_status_lkup"), "process_status_id").first()


# --- ProcessTracker(...) ------------------------------------------------------------------------

_NAME_ARGUMENTS = ("process_name", "process_type", "actor_name", "tool_name", "schedule_frequency")
_LIST_ARGUMENTS = ("sources", "targets", "dataset_types")


@fuzz(MANY)
@given(
    argument=st.sampled_from((*_NAME_ARGUMENTS, "process_run_name", *_LIST_ARGUMENTS)),
    value=st.one_of(bad_names, not_strings),
)
def test_tracker_refuses_bad_names(spark, config, argument, value):
    if (
        argument in _LIST_ARGUMENTS
        and isinstance(value, (list, tuple))
        and all(isinstance(v, str) for v in value)
    ):
        value = [*value, 7]  # a list of strings is a valid list of names
    arguments = {"process_name": "fuzz refused", argument: value}
    refused(
        "ProcessTracker()",
        config,
        lambda: ProcessTracker(spark=spark, config=config, **arguments),
        argument,
    )


@fuzz(MANY)
@given(
    argument=st.sampled_from(
        ("source_objects", "target_objects", "source_object_attributes", "target_object_attributes")
    ),
    value=st.one_of(
        not_name_lists,
        st.dictionaries(bad_names, st.lists(good_names, max_size=1), min_size=1, max_size=1),
        st.dictionaries(good_names, st.one_of(not_name_lists, st.text(max_size=3)), min_size=1, max_size=1),
        st.dictionaries(good_names, st.lists(bad_names, min_size=1, max_size=1), min_size=1, max_size=1),
    ),
)
def test_tracker_refuses_bad_object_shapes(spark, config, argument, value):
    if argument.endswith("_attributes") and isinstance(value, dict):  # one level deeper
        value = {"src": value}
    refused(
        "ProcessTracker()",
        config,
        lambda: ProcessTracker(spark=spark, config=config, process_name="fuzz refused", **{argument: value}),
        argument,
    )


@fuzz(SOME)
@given(
    argument=st.sampled_from(("process_tracking_id", "config", "config_location", "spark")),
    value=st.one_of(bad_ids, not_strings, st.text(max_size=10)),
)
def test_tracker_refuses_bad_ids_configs_and_sessions(spark, config, tmp_path, argument, value):
    if argument == "config_location" and isinstance(value, str):
        value = str(tmp_path / "missing" / value)  # no config file there
    if argument == "spark" and value is None:
        value = 0
    arguments = {"spark": spark, "config": config, "process_name": "fuzz refused", argument: value}
    refused("ProcessTracker()", config, lambda: ProcessTracker(**arguments), argument)


@fuzz(3)
@given(
    name=good_names,
    process_type=good_names,
    sources=st.lists(good_names, min_size=1, max_size=2),
    dataset_types=st.one_of(good_names, st.sets(good_names, min_size=1, max_size=2)),
)
@example(
    name="  Ünïcødé  名前 🚀 \t tab ", process_type="\u13deoad", sources=["\u0455ource"], dataset_types="㐀"
)
def test_tracker_accepts_and_round_trips_unicode_names(
    spark, config, name, process_type, sources, dataset_types
):
    process_name = suffixed(name)
    run = accepted(
        "ProcessTracker()",
        config,
        lambda: ProcessTracker(
            spark=spark,
            config=config,
            process_name=f"  {process_name}\n",
            process_type=process_type,
            sources=sources,
            dataset_types=dataset_types,
        ),
        "process_name",
    )
    assert run.process.process_name == process_name
    stored = table(spark, config, "process").where(F.col("process_id") == run.process.process_id).first()
    assert stored.process_name == process_name
    assert run.process_type.process_type_name == process_type.strip()
    assert sorted(s.source_name for s in run.sources) == sorted({s.strip() for s in sources})
    wanted_types = {dataset_types} if isinstance(dataset_types, str) else dataset_types
    assert {d.dataset_type for d in run.dataset_types} == {t.strip() for t in wanted_types}


# --- run changes --------------------------------------------------------------------------------


@fuzz(MANY)
@given(status=st.one_of(bad_names, not_strings, st.none()), end_date=st.one_of(st.none(), bad_dates))
def test_change_run_status_refuses(config, run, status, end_date):
    if status is None and end_date is None:
        end_date = "garbage"
    refused(
        "change_run_status",
        config,
        lambda: run.change_run_status(status if status is not None else "running", end_date),
        "new_status" if status is not None else "end_date",
    )


@fuzz(FEW)
@given(status=st.one_of(good_names, st.sampled_from(["completed", "failed"])), end_date=good_dates)
def test_change_run_status_accepts_and_round_trips(spark, config, run, status, end_date):
    if status not in ("completed", "failed"):
        status = suffixed(status)
    accepted(
        "change_run_status", config, lambda: run.change_run_status(f" {status} ", end_date), "new_status"
    )
    row = run_row(spark, config, run)
    assert row.process_status_name == status == run.status
    if status in ("completed", "failed"):
        assert row.process_run_end_date_time == stored_time(end_date)


@fuzz(MANY)
@given(
    argument=st.sampled_from(("error_type_name", "error_description", "fail_run", "end_date")),
    value=st.one_of(bad_names, not_strings, bad_dates, st.none()),
)
def test_raise_run_error_refuses(config, run, argument, value):
    arguments: dict[str, Any] = {
        "error_type_name": "Data Error",
        "error_description": "fuzz",
        "fail_run": False,
    }
    if argument == "error_description" and isinstance(value, str) and value.strip() and "\x00" not in value:
        value += "\ud800"  # any other text is stored verbatim; a lone surrogate cannot be
    if argument == "fail_run" and isinstance(value, bool):
        value = "yes"
    if value is None and argument != "error_type_name":
        value = 1.5
    arguments[argument] = value
    refused("raise_run_error", config, lambda: run.raise_run_error(**arguments), argument)


@fuzz(SOME)
@given(error_type=good_names)
def test_raise_run_error_refuses_an_unknown_error_type(config, run, error_type):
    error = refused(
        "raise_run_error", config, lambda: run.raise_run_error(suffixed(error_type)), "error_type"
    )
    assert isinstance(error, NotFound)


@fuzz(FEW)
@given(
    description=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=300)
    .filter(lambda s: s.strip() != "")
    .map(lambda s: s + uuid.uuid4().hex[:6]),
    end_date=st.one_of(st.none(), good_dates),
)
@example(description="Traceback:\r\n\t\"quoted\" 'x' \\ naïve — 名前 🚀 " * 400, end_date=date(1582, 10, 15))
def test_raise_run_error_stores_the_description_verbatim(spark, config, run, description, end_date):
    accepted(
        "raise_run_error", config, lambda: run.raise_run_error("Data Error", description, end_date=end_date)
    )
    errors = table(spark, config, "error_tracking").where(
        (F.col("process_tracking_id") == run.process_tracking_id)
        & (F.col("error_description") == description)
    )
    rows = errors.collect()
    assert [row.error_description for row in rows] == [description]
    if end_date is not None:
        assert rows[0].error_occurrence_date_time == stored_time(end_date)


def _parsed(value: Any) -> datetime | None:
    """The timestamp an accepted date input stands for; raises ValueError for a refused one."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    elif not isinstance(value, datetime):
        raise ValueError("not a date")
    wall = value
    if value.tzinfo is not None:
        try:
            wall = value.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise ValueError("no instant Spark can hold") from None
    if wall < EARLIEST_TIMESTAMP:
        raise ValueError("before the Gregorian calendar")
    return value


def _dates_refused(low: Any, high: Any) -> bool:
    try:
        low_ts, high_ts = _parsed(low), _parsed(high)
    except ValueError:
        return True
    if low_ts is None or high_ts is None:
        return False
    return (low_ts.tzinfo is None) != (high_ts.tzinfo is None) or low_ts > high_ts


@fuzz(MANY)
@given(low=st.one_of(st.none(), bad_dates, good_dates), high=st.one_of(st.none(), bad_dates, good_dates))
def test_set_low_high_dates_refuses(config, run, low, high):
    """Bad dates, a naive/aware mix or low later than high (an accepted pair is spoiled first)."""
    if not _dates_refused(low, high):
        high = "31/12/2020"
    names = ("low_date", "high_date")
    refused(
        "set_process_run_low_high_dates",
        config,
        lambda: run.set_process_run_low_high_dates(low, high),
        *names,
    )


def _aware(value: Any) -> bool:
    moment = _parsed(value)
    return moment is not None and moment.tzinfo is not None


@fuzz(FEW)
@given(low=good_dates, high=good_dates)
@example(low=EARLIEST_TIMESTAMP, high=datetime(9999, 12, 31, 23, 59, 59, 999999))
def test_set_low_high_dates_widens_and_round_trips(spark, config, run, low, high):
    if _aware(low) != _aware(high):
        low = stored_time(low)
        high = stored_time(high)
    if stored_time(low) > stored_time(high):
        low, high = high, low
    before = run_row(spark, config, run)
    accepted(
        "set_process_run_low_high_dates",
        config,
        lambda: run.set_process_run_low_high_dates(low, high),
        "low_date",
    )
    after = run_row(spark, config, run)
    lows = [t for t in (before.process_run_low_date_time, stored_time(low)) if t is not None]
    highs = [t for t in (before.process_run_high_date_time, stored_time(high)) if t is not None]
    assert after.process_run_low_date_time == min(lows)
    assert after.process_run_high_date_time == max(highs)


@fuzz(MANY)
@given(
    num_records=st.one_of(bad_counts, good_counts),
    processing_type=st.one_of(st.none(), st.text(max_size=8), not_strings),
)
def test_set_record_count_refuses(config, run, num_records, processing_type):
    if isinstance(processing_type, str) and processing_type.strip().lower() in ("insert", "update"):
        processing_type += "x"
    if processing_type is None and isinstance(num_records, int) and not isinstance(num_records, bool):
        num_records = -1 - num_records if 0 <= num_records <= BIGINT_MAX else num_records
    refused(
        "set_process_run_record_count",
        config,
        lambda: run.set_process_run_record_count(num_records, processing_type),
        "num_records" if processing_type is None else "processing_type",
        "num_records",
    )


@fuzz(4)
@given(num_records=good_counts, processing_type=st.sampled_from([None, "insert", " UPDATE ", "Insert"]))
@example(num_records=BIGINT_MAX, processing_type="insert")
@example(num_records=0, processing_type=None)
def test_set_record_count_round_trips(spark, config, run, num_records, processing_type):
    accepted(
        "set_process_run_record_count",
        config,
        lambda: run.set_process_run_record_count(num_records, processing_type),
        "num_records",
    )
    row = run_row(spark, config, run)
    assert row.process_run_record_count == num_records
    if processing_type is not None:
        column = f"process_run_{processing_type.strip().lower()}_count"
        assert row[column] == num_records
    assert run.process.total_record_count == num_records  # the module run is its process's only run


# --- finders ------------------------------------------------------------------------------------


@fuzz(MANY)
@given(
    finder=st.sampled_from(
        ("find_process_contacts", "find_process_source_attributes", "find_process_target_attributes")
    ),
    process_id=bad_ids,
)
def test_process_finders_refuse_bad_ids(config, run, finder, process_id):
    refused(finder, config, lambda: getattr(run, finder)(process_id), "process_id")


@fuzz(MANY)
@given(
    finder=st.sampled_from(("find_process_filters", "find_process_by_schedule_frequency")),
    value=st.one_of(bad_names, not_strings, st.integers(max_value=0), st.integers(min_value=BIGINT_MAX + 1)),
)
def test_name_finders_refuse_bad_names(config, run, finder, value):
    if finder == "find_process_filters" and isinstance(value, int) and not isinstance(value, bool):
        if 0 < value <= BIGINT_MAX:
            value = -value
    argument = "process" if finder == "find_process_filters" else "frequency"
    refused(finder, config, lambda: getattr(run, finder)(value), argument)


@fuzz(MANY)
@given(
    finder=st.sampled_from(
        ("find_extracts_by_filename", "find_extracts_by_location", "find_extracts_by_process")
    ),
    bad=st.one_of(bad_names, not_strings),
    where=st.sampled_from(("name", "status")),
)
def test_extract_finders_refuse_bad_names(config, run, finder, bad, where):
    if bad is None:
        bad = 3
    first = {
        "find_extracts_by_filename": "filename",
        "find_extracts_by_location": "location_name",
        "find_extracts_by_process": "extract_process_name",
    }[finder]
    call = getattr(run, finder)
    if where == "name":
        refused(finder, config, lambda: call(**{first: bad}), first)
    else:
        refused(finder, config, lambda: call(**{first: "fuzzed", "status": bad}), "status")


@fuzz(SOME)
@given(status=good_names, name=good_names)
def test_extract_finders_refuse_unknown_statuses_by_name(config, run, status, name):
    status = suffixed(status)
    refused(
        "find_extracts_by_filename", config, lambda: run.find_extracts_by_filename(name, status), "status"
    )


@fuzz(FEW)
@given(text=good_names)
@example(text="_%*?[")
def test_extract_finders_accept_any_name(config, run, text):
    found = accepted("find_extracts_by_filename", config, lambda: run.find_extracts_by_filename(text))
    assert found.count() >= 0
    found = accepted("find_extracts_by_location", config, lambda: run.find_extracts_by_location(text))
    assert found.count() == 0


# --- extracts -----------------------------------------------------------------------------------

_EXTRACT_NAMES = (
    "filename",
    "location_path",
    "location",
    "location_name",
    "status",
    "compression_type",
    "filetype",
)
bad_sizes = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=BIGINT_MAX + 1),
    st.floats(),
    st.booleans(),
    st.text(max_size=10).filter(lambda s: not s.strip().isdigit()),
    st.integers(10**19, 10**30).map(str),
    st.builds(lambda n, u: f"{n}{u}", st.integers(8 * 1024**0, 10**9), st.sampled_from(["PB", "PiB"])),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=1),
)


def _valid_size(value: Any) -> bool:
    from pt_spark.extracts.locations import parse_file_size

    try:
        parse_file_size(value)
    except ProcessTrackerError:
        return False
    return True


@fuzz(MANY)
@given(argument=st.sampled_from((*_EXTRACT_NAMES, "file_size", "extract_id")), value=st.data())
def test_extract_tracker_refuses(config, run, argument, value):
    if argument == "file_size":
        bad = value.draw(bad_sizes.filter(lambda v: not _valid_size(v)))
    elif argument == "extract_id":
        bad = value.draw(bad_ids)
    else:
        bad = value.draw(st.one_of(bad_names, not_strings))
    arguments: dict[str, Any] = {"filename": "fuzz.csv", "location_path": "s3://fuzz/drop/"}
    if argument == "location":
        del arguments["location_path"]
    if argument == "extract_id":
        arguments = {}
    arguments[argument] = bad
    if argument == "location" and hasattr(bad, "location_path"):
        return
    refused("ExtractTracker()", config, lambda: ExtractTracker(run, **arguments), argument)


@fuzz(SOME)
@given(process_run=st.one_of(not_strings, st.text(max_size=5), st.none()))
def test_extract_tracker_refuses_what_is_not_a_run(config, process_run):
    refused(
        "ExtractTracker()",
        config,
        lambda: ExtractTracker(process_run, filename="a.csv", location_path="/x"),
        "process_run",
    )


@fuzz(FEW)
@given(
    filename=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/\\"),
        min_size=1,
        max_size=30,
    ).filter(lambda s: s.strip() not in ("", ".", "..")),
    extension=st.sampled_from(["csv", "json.gz", "parquet", "txt", "dat"]),
    folder=good_names.filter(lambda s: "/" not in s and "\\" not in s),
    size=st.one_of(st.none(), st.integers(0, BIGINT_MAX), st.sampled_from(["1KB", "2.5MB", " 10 gib ", "0"])),
)
@example(filename="名前 with spaces", extension="csv", folder="ƒolder [1]", size="1.5KB")
def test_extract_tracker_accepts_and_round_trips(spark, config, run, filename, extension, folder, size):
    name = f"{filename.strip()}-{uuid.uuid4().hex[:6]}.{extension}"
    path = f"s3://fuzz-bucket/{folder.strip()}/"
    tracked = accepted(
        "ExtractTracker()",
        config,
        lambda: ExtractTracker(run, filename=name, location_path=path, file_size=size),
    )
    row = table(spark, config, "extract_tracking").where(F.col("extract_id") == tracked.extract_id).first()
    assert row.extract_filename == name == tracked.filename
    from pt_spark.extracts.locations import parse_file_size

    assert row.extract_filesize == parse_file_size(size)
    location = (
        table(spark, config, "location_lkup").where(F.col("location_id") == row.extract_location_id).first()
    )
    assert location.location_path == normalize_path(path)  # one spelling per folder (issue 22.4)


@fuzz(MANY)
@given(
    method=st.sampled_from(
        ("change_extract_status", "add_dependency", "set_extract_low_high_dates", "set_extract_record_count")
    ),
    value=st.data(),
)
def test_extract_methods_refuse(config, extract, method, value):
    if method == "change_extract_status":
        bad = value.draw(st.one_of(bad_names, not_strings))
        bad = 0 if bad is None else bad
        call, names = (lambda: extract.change_extract_status(bad)), ("new_status",)
    elif method == "add_dependency":
        kind = value.draw(st.one_of(st.sampled_from(["parent", "child"]), bad_names, not_strings))
        other = value.draw(st.one_of(not_strings, st.just(extract)))
        call, names = (lambda: extract.add_dependency(kind, other)), ("dependency_type", "dependency")
    elif method == "set_extract_low_high_dates":
        audit = value.draw(st.one_of(st.sampled_from(["load", "write"]), st.text(max_size=6), not_strings))
        low = value.draw(st.one_of(st.none(), bad_dates, good_dates))
        if not isinstance(audit, str) or audit.strip().lower() in ("load", "write"):
            low = value.draw(bad_dates)
        call, names = (
            (lambda: extract.set_extract_low_high_dates(low, None, audit)),
            ("low_date", "audit_type"),
        )
    else:
        number = value.draw(st.one_of(bad_counts, good_counts))
        audit = value.draw(st.one_of(st.sampled_from(["load", "write"]), st.text(max_size=6), not_strings))
        if isinstance(audit, str) and audit.strip().lower() in ("load", "write"):
            number = value.draw(bad_counts)
        call, names = (lambda: extract.set_extract_record_count(number, audit)), ("num_records", "audit_type")
    refused(method, config, call, *names)


@fuzz(SOME)
@given(status=good_names)
def test_extract_status_names_the_argument_when_unknown(config, run, extract, status):
    status = suffixed(status)
    refused("change_extract_status", config, lambda: extract.change_extract_status(status), "new_status")
    refused(
        "bulk_change_extract_status",
        config,
        lambda: run.bulk_change_extract_status([extract], status),
        "extract_status",
    )


@fuzz(MANY)
@given(
    extracts=st.one_of(
        st.integers(),
        st.text(max_size=5),
        st.binary(max_size=3),
        st.dictionaries(st.integers(), st.integers(), max_size=2),
        st.lists(bad_ids, min_size=1, max_size=3),
        _OBJECTS,
        st.none(),
    ),
    status=st.one_of(st.just("ready"), bad_names, not_strings),
)
def test_bulk_change_extract_status_refuses(config, run, extracts, status):
    names = ("extracts", "extract_status")
    refused(
        "bulk_change_extract_status", config, lambda: run.bulk_change_extract_status(extracts, status), *names
    )


@fuzz(SOME)
@given(
    location_path=st.one_of(
        bad_names,
        not_strings,
        st.builds(
            lambda s, rest: f"{s}://{rest}",
            st.from_regex(r"[a-z][a-z0-9+.-]{1,8}", fullmatch=True).filter(
                lambda s: s not in LOCATION_TYPE_BY_SCHEME
            ),
            _LETTERS,
        ),
    ),
    location_name=st.one_of(st.none(), bad_names, not_strings),
)
def test_register_by_location_refuses(config, run, location_path, location_name):
    refused(
        "register_extracts_by_location",
        config,
        lambda: run.register_extracts_by_location(location_path, location_name),
        "location_path",
        "location_name",
    )


@fuzz(SOME)
@given(
    segment=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/\\"),
        min_size=1,
        max_size=20,
    ).filter(lambda s: s.strip() != "")
)
@example(segment="a:b")
@example(segment="100%")
@example(segment="#frag?q")
def test_register_by_location_refuses_a_missing_folder(config, run, tmp_path_factory, segment):
    folder = tmp_path_factory.getbasetemp() / "never made" / segment
    error = refused(
        "register_extracts_by_location",
        config,
        lambda: run.register_extracts_by_location(str(folder)),
        "location_path",
    )
    assert isinstance(error, NotFound) or "location_path" in str(error)


# --- admin --------------------------------------------------------------------------------------

_LOOKUP_TOPICS = (
    "actor",
    "cluster",
    "contact",
    "error type",
    "extract status",
    "process status",
    "process type",
    "source",
    "tool",
)


@fuzz(MANY)
@given(
    action=st.sampled_from(("create", "update", "delete")),
    topic=st.one_of(st.sampled_from(_LOOKUP_TOPICS), st.text(max_size=12), not_strings),
    name=st.one_of(bad_names, not_strings),
)
def test_admin_refuses_bad_topics_and_names(spark, config, action, topic, name):
    if name is None:
        name = 5
    call = getattr(admin, action)
    if action == "update":
        refused(
            "admin.update",
            config,
            lambda: call(spark, topic, name, "new", config=config),
            "topic",
            "initial_name",
        )
    else:
        refused(f"admin.{action}", config, lambda: call(spark, topic, name, config=config), "topic", "name")


@fuzz(MANY)
@given(
    option=st.sampled_from(
        ("email", "max_memory", "max_processing", "memory_unit", "processing_unit", "value", "bogus")
    ),
    value=st.one_of(bad_names, not_strings, bad_counts),
)
def test_admin_refuses_bad_option_values(spark, config, option, value):
    topic, name, options = (
        {"email": "contact", "value": "process filter"}.get(option, "cluster"),
        "fuzz refused",
        {},
    )
    if value is None:
        value = object()  # an option given as None is left out
    if topic == "process filter":
        name = None
        options = dict(process="fuzzed", source="Fuzzer", source_object="o", attribute="a", filter_type="eq")
        if isinstance(value, str):
            value += "\ud800"  # any other string is a filter value
        elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            value = float("nan")
    elif option in ("email", "memory_unit", "processing_unit") and _valid_name(value):
        value += "\x00"
    elif option in ("max_memory", "max_processing") and _valid_count(value):
        value = -1 - value
    call = lambda: admin.create(spark, topic, name, config=config, **options, **{option: value})  # noqa: E731
    refused("admin.create", config, call, option)


@fuzz(FEW)
@given(name=good_names, email=good_names, memory=good_counts)
@example(name="Ånn Lée 名前 🚀", email="ann+tag@exämple.com", memory=BIGINT_MAX)
def test_admin_create_round_trips(spark, config, name, email, memory):
    contact, cluster = suffixed(name), suffixed(name)
    assert accepted(
        "admin.create",
        config,
        lambda: admin.create(spark, "contact", f" {contact} ", config=config, email=email),
    )
    row = table(spark, config, "contact_lkup").where(F.col("contact_name") == contact).first()
    assert row.contact_email == email.strip()
    assert accepted(
        "admin.create",
        config,
        lambda: admin.create(spark, "cluster", cluster, config=config, max_memory=memory, memory_unit=" GB "),
    )
    row = table(spark, config, "cluster_tracking_lkup").where(F.col("cluster_name") == cluster).first()
    assert (row.cluster_max_memory, row.cluster_max_memory_unit) == (memory, "GB")


@fuzz(SOME)
@given(name=good_names)
def test_admin_refuses_unknown_rows(spark, config, name):
    missing = suffixed(name)
    refused("admin.delete", config, lambda: admin.delete(spark, "contact", missing, config=config), "contact")
    refused(
        "admin.release_hold",
        config,
        lambda: admin.release_hold(spark, missing, config=config),
        "process_name",
    )


@fuzz(MANY)
@given(
    call=st.sampled_from(("release_hold", "latest_runs")),
    process_name=st.one_of(bad_names, not_strings, st.just("fuzzed")),
    limit=st.one_of(bad_ids, st.integers(1, 100)),
)
def test_run_admin_refuses(spark, config, call, process_name, limit):
    if call == "release_hold":
        if process_name in (None, "fuzzed"):
            process_name = 0
        refused(
            "admin.release_hold",
            config,
            lambda: admin.release_hold(spark, process_name, config=config),
            "process_name",
        )
        return
    if (
        isinstance(limit, int)
        and not isinstance(limit, bool)
        and 0 < limit <= BIGINT_MAX
        and process_name in (None, "fuzzed")
    ):
        limit = 0
    refused(
        "admin.latest_runs",
        config,
        lambda: admin.latest_runs(spark, process_name, limit, config=config),
        "process_name",
        "limit",
    )


@fuzz(FEW)
@given(limit=st.integers(1, 10_000))
@example(limit=10_000)
def test_latest_runs_accepts_any_positive_limit(spark, config, run, limit):
    runs = accepted(
        "admin.latest_runs", config, lambda: admin.latest_runs(spark, "fuzzed", limit, config=config), "limit"
    )
    assert runs.count() == 1


# --- TrackerConfig, setup, maintain -------------------------------------------------------------

_CONFIG_KEYS = (
    "catalog",
    "schema",
    "location",
    "max_concurrent_failures",
    "log_level",
    "retry_attempts",
    "stale_run_timeout",
    "lineage_transport",
    "lineage_namespace",
    "lineage_parent",
)


@fuzz(MANY * 2)
@given(
    key=st.one_of(st.sampled_from(_CONFIG_KEYS), st.text(max_size=10)),
    value=st.one_of(not_strings, st.text(max_size=20), st.none(), bad_names, bad_counts),
)
def test_tracker_config_accepts_or_names_the_key(key, value):
    TRIED["TrackerConfig()"] += 1
    try:
        made = TrackerConfig(**{key: value})
    except ProcessTrackerError as error:
        shown = "schema" if key == "schema_name" else key
        assert shown in str(error), str(error)
        return
    if key in ("max_concurrent_failures", "retry_attempts"):
        assert isinstance(getattr(made, key), int) and 1 <= getattr(made, key) < 2**31
    if key == "stale_run_timeout":
        assert made.stale_run_timeout is None or 1 <= made.stale_run_timeout < 2**31
    if key == "location" and made.location is not None:
        assert "\x00" not in made.location
        made.location.encode("utf-8")
    if key.startswith("lineage_") and getattr(made, key) is not None:  # kept: a usable, printable text
        kept = getattr(made, key)
        assert isinstance(kept, str) and kept.strip() and "\x00" not in kept
        kept.encode("utf-8")
        if key == "lineage_transport":
            assert parse_transport(kept)["type"]
        if key == "lineage_parent":
            assert uuid.UUID(parse_parent(kept).run_id)


@fuzz(SOME)
@given(
    argument=st.sampled_from(("spark", "config", "config_location")),
    value=st.one_of(not_strings, st.text(max_size=8)),
)
def test_setup_refuses_without_writing(spark, config, tmp_path, argument, value):
    if argument == "config_location" and isinstance(value, str):
        value = str(tmp_path / "missing" / value)
    arguments = {"spark": spark, "config": config, argument: value}
    refused("setup", config, lambda: setup(**arguments), argument)


@fuzz(MANY)
@given(
    argument=st.sampled_from(("vacuum_retention_hours", "tables", "config_location", "spark")),
    value=st.one_of(
        not_strings,
        st.floats(max_value=167.9),
        st.integers(max_value=167),
        st.integers(min_value=2**1024),
        st.text(max_size=10),
        st.lists(
            st.one_of(st.text(max_size=6), st.integers(), st.lists(st.integers(), max_size=1)),
            min_size=1,
            max_size=3,
        ),
    ),
)
def test_maintain_refuses_without_writing(spark, config, tmp_path, argument, value):
    if (
        argument == "vacuum_retention_hours"
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        if value == value and value >= 168 and value != float("inf") and value < 2**1024:
            value = -value
    if argument == "tables" and isinstance(value, (list, tuple, dict, bytes)):
        value = [*value, "nope"] if not isinstance(value, dict) else {**value, "nope": 1}
    if argument == "tables" and isinstance(value, str):
        value += " nope"
    if argument == "config_location" and isinstance(value, str):
        value = str(tmp_path / "missing" / value)
    arguments = {"spark": spark, "config": config, "tables": ["process"], argument: value}
    refused("maintain", config, lambda: maintain(**arguments), argument)


def test_maintain_accepts_no_tables(spark, config):
    assert accepted("maintain", config, lambda: maintain(spark, config=config, tables=[])) == {}


# --- accepted edge cases of the extract batch calls ----------------------------------------------


def test_bulk_change_of_no_extracts_writes_nothing(config, run):
    before = log_files(config)
    accepted("bulk_change_extract_status", config, lambda: run.bulk_change_extract_status([], "ready"))
    assert log_files(config) == before


@fuzz(4)
@given(
    folder=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/\\\\:"),
        min_size=1,
        max_size=20,
    ).filter(lambda s: s.strip() not in ("", ".", "..") and not s.startswith((".", "_"))),
    files=st.sets(
        st.text(st.characters(categories=("L", "N")), min_size=1, max_size=12), min_size=1, max_size=3
    ),
)
@example(folder="ƒolder [1] {a,b} *?", files={"名前", "naïve"})
def test_register_by_location_round_trips_unicode_names(spark, config, run, tmp_path_factory, folder, files):
    root = tmp_path_factory.mktemp("drop") / folder
    root.mkdir()
    names = sorted(f"{name}.csv" for name in files)
    for name in names:
        (root / name).write_text("x\n", encoding="utf-8")
    location_name = suffixed("fuzz drop")
    new = accepted(
        "register_extracts_by_location",
        config,
        lambda: run.register_extracts_by_location(str(root), location_name=location_name),
        "location_path",
    )
    assert new == len(names)
    found = run.find_extracts_by_location(location_name=location_name).collect()
    assert sorted(row.extract_filename for row in found) == names
    assert {row.location_path for row in found} == {str(root)}


# --- defects found here whose fix belongs to files being reworked (reported, not fixed) ---------


def test_setup_refuses_an_overwrite_that_is_not_a_bool(spark, config):
    """``overwrite="no"`` was true, and would have wiped the store."""
    before = log_files(config)
    for flag in ("no", 1, None):
        with pytest.raises(InvalidInput, match="overwrite"):
            setup(spark, overwrite=flag, config=config)
    assert log_files(config) == before


def test_latest_runs_refuses_a_limit_beyond_what_it_can_sort(spark, config, run):
    """A limit beyond a Java int escaped as a Py4JError; near it, the top-K sort exhausted the heap."""
    for limit in (100_001, 2**31, 2**63 - 1):
        with pytest.raises(InvalidInput, match="limit"):
            admin.latest_runs(spark, "fuzzed", limit, config=config)


def test_a_process_total_beyond_bigint_is_refused_and_writes_nothing(spark, config):
    """Two runs of one process whose counts add up past the BIGINT maximum."""
    first = ProcessTracker(spark=spark, process_name="fuzz total", process_type="Load", config=config)
    first.set_process_run_record_count(BIGINT_MAX)
    first.change_run_status("completed")
    second = ProcessTracker(spark=spark, process_name="fuzz total", config=config)
    refused(
        "set_process_run_record_count", config, lambda: second.set_process_run_record_count(1), "num_records"
    )
