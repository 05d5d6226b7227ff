"""Input checks at the API boundary: wrong types and shapes fail here, before anything is written.

Every checker takes the argument's name so the ``InvalidInput`` message names it.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

from pt_spark.errors import InvalidInput
from pt_spark.store.schema import BIGINT_MAX

MAX_NAME_LENGTH = 750
#: Longest free text (an error description, e.g. a whole Spark stack trace) stored verbatim.
MAX_TEXT_LENGTH = 1_000_000
#: Largest value of a BIGINT column (ids, counts): Delta/Spark ``LongType``.
MAX_BIGINT = BIGINT_MAX
_YEAR_SECONDS = 366 * 24 * 3600
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Earliest timestamp kept exactly: PySpark reads older ones through the Julian calendar, shifted
#: by days (``0001-01-01`` comes back as year 0 and cannot even be collected).
EARLIEST_TIMESTAMP = datetime(1582, 10, 15)


def _fail(argument: str, problem: str, value: Any) -> InvalidInput:
    return InvalidInput(f"{argument}: {problem} (got {value!r})")


def encodable(value: str, argument: str) -> str:
    """Return ``value`` if it can be sent to Spark as UTF-8 (it holds no lone surrogate code point).

    Raises:
        InvalidInput: the text holds a surrogate code point, which Py4J cannot encode.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(argument, "is not valid unicode text (it holds a lone surrogate)", value[:40]) from None
    return value


def clean_name(value: Any, argument: str) -> str:
    """Return a non-empty name with surrounding whitespace stripped, stored verbatim otherwise."""
    if not isinstance(value, str):
        raise _fail(argument, f"expected a string, not {type(value).__name__}", value)
    name = value.strip()
    if not name:
        raise _fail(argument, "must not be empty", value)
    if len(name) > MAX_NAME_LENGTH:
        raise _fail(argument, f"longer than {MAX_NAME_LENGTH} characters", name[:40] + "...")
    if _CONTROL.search(name):
        raise _fail(argument, "contains control characters", value)
    return encodable(name, argument)


def optional_text(value: Any, argument: str) -> str | None:
    """Return free text verbatim (newlines, tabs, indentation kept), or None when ``value`` is None.

    Raises:
        InvalidInput: not a string, blank, longer than ``MAX_TEXT_LENGTH`` or holding a NUL character.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(argument, f"expected a string, not {type(value).__name__}", value)
    if not value.strip():
        raise _fail(argument, "must not be empty", value)
    if len(value) > MAX_TEXT_LENGTH:
        raise _fail(argument, f"longer than {MAX_TEXT_LENGTH:,} characters", value[:40] + "...")
    if "\x00" in value:
        raise _fail(argument, "contains a NUL character", value[:40])
    return encodable(value, argument)


def optional_name(value: Any, argument: str) -> str | None:
    """Return ``clean_name(value)``, or None when ``value`` is None."""
    return None if value is None else clean_name(value, argument)


def name_list(value: Any, argument: str) -> list[str]:
    """Return a de-duplicated list of names from a string, list, tuple or set (None: empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [clean_name(value, argument)]
    if isinstance(value, (set, frozenset)):
        items: Iterable[Any] = sorted(value, key=str)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise _fail(argument, "expected a string, list, tuple or set of strings", value)
    return list(dict.fromkeys(clean_name(item, argument) for item in items))


def objects_dict(value: Any, argument: str) -> dict[str, list[str]]:
    """Return ``{source name: [object names]}`` from a ``dict[str, list[str]]`` (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(argument, "expected a dict of {name: [object names]}", value)
    result: dict[str, list[str]] = {}
    for key, objects in value.items():
        if isinstance(objects, str) or not isinstance(objects, (list, tuple, set, frozenset)):
            raise _fail(argument, f"the value for {key!r} must be a list of names", objects)
        result[clean_name(key, argument)] = name_list(objects, argument)
    return result


def attributes_dict(value: Any, argument: str) -> dict[str, dict[str, list[str]]]:
    """Return ``{source: {object: [attributes]}}`` from the nested dict shape (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(argument, "expected a dict of {name: {object: [attribute names]}}", value)
    result: dict[str, dict[str, list[str]]] = {}
    for key, objects in value.items():
        if not isinstance(objects, Mapping):
            raise _fail(
                argument, f"the value for {key!r} must be a dict of {{object: [attributes]}}", objects
            )
        result[clean_name(key, argument)] = objects_dict(objects, argument)
    return result


def _in_spark_range(value: datetime, argument: str, given: Any) -> datetime:
    """Return ``value`` if Spark stores and reads it back unchanged: 1582-10-15 to 9999 (UTC)."""
    wall = value
    if value.tzinfo is not None:
        try:
            wall = value.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise _fail(argument, "is outside years 1 to 9999 in UTC", given) from None
    if wall < EARLIEST_TIMESTAMP:
        raise _fail(
            argument, f"is before {EARLIEST_TIMESTAMP:%Y-%m-%d}, which Spark cannot keep exactly", given
        )
    return value


def to_timestamp(value: Any, argument: str) -> datetime | None:
    """Return a ``datetime`` from a datetime, a date or an ISO-8601 string (None stays None).

    Raises:
        InvalidInput: another type, a string that is not ISO-8601, a time before 1582-10-15
            (Spark would read it back days off) or a timezone-aware time whose instant falls
            after year 9999 in UTC.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _in_spark_range(value, argument, value)
    if isinstance(value, date):
        return _in_spark_range(datetime(value.year, value.month, value.day), argument, value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _fail(argument, "not an ISO-8601 date or timestamp", value) from None
        return _in_spark_range(parsed, argument, value)
    raise _fail(argument, "expected a datetime, date or ISO string", value)


def low_high(
    low: Any, high: Any, low_argument: str = "low_date", high_argument: str = "high_date"
) -> tuple[datetime | None, datetime | None]:
    """Return the two timestamps, refusing ``low > high`` and naive/aware mixes."""
    low_ts, high_ts = to_timestamp(low, low_argument), to_timestamp(high, high_argument)
    if low_ts is not None and high_ts is not None:
        if (low_ts.tzinfo is None) != (high_ts.tzinfo is None):
            raise _fail(low_argument, "mixes a timezone-aware and a naive timestamp", (low, high))
        if low_ts > high_ts:
            raise InvalidInput(f"{low_argument} {low_ts} is later than {high_argument} {high_ts}")
    return low_ts, high_ts


def _bigint(value: Any, argument: str, what: str) -> int:
    """Return ``value`` if it is an ``int`` (not a bool) that fits a BIGINT column."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(argument, f"expected {what}", value)
    if value > MAX_BIGINT:
        raise _fail(argument, f"larger than the BIGINT maximum {MAX_BIGINT}", value)
    return value


def count(value: Any, argument: str) -> int:
    """Return a non-negative integer count up to ``MAX_BIGINT`` (bools and floats are refused)."""
    number = _bigint(value, argument, "a whole number")
    if number < 0:
        raise _fail(argument, "must not be negative", value)
    return number


def positive_id(value: Any, argument: str) -> int:
    """Return a positive integer id up to ``MAX_BIGINT`` (bools, floats and strings are refused)."""
    number = _bigint(value, argument, "a positive whole-number id")
    if number <= 0:
        raise _fail(argument, "expected a positive whole-number id", value)
    return number


def choice(value: Any, argument: str, allowed: Iterable[str]) -> str:
    """Return ``value`` (case-insensitive) if it is one of ``allowed``."""
    options = tuple(allowed)
    if isinstance(value, str) and value.strip().lower() in options:
        return value.strip().lower()
    raise _fail(argument, f"expected one of {', '.join(options)}", value)


def positive_seconds(value: Any, argument: str) -> float:
    """Return a duration in seconds: a positive, finite number of at most a year (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(argument, "expected a number of seconds", value)
    if not math.isfinite(value) or value <= 0 or value > _YEAR_SECONDS:
        raise _fail(argument, f"expected a number of seconds above 0 and at most {_YEAR_SECONDS}", value)
    return float(value)


__all__ = [
    "attributes_dict",
    "choice",
    "clean_name",
    "count",
    "encodable",
    "low_high",
    "name_list",
    "objects_dict",
    "optional_name",
    "optional_text",
    "positive_id",
    "positive_seconds",
    "to_timestamp",
]
