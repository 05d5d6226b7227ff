"""Delta write-conflict handling, in one place.

Delta reports a lost optimistic-concurrency race with one of several sibling exception classes
(they share no useful base class). A conflict means nothing was committed, so the safe reaction is
to run the *whole* statement again, re-reading whatever it depends on. Which errors are
conflicts or lost replies is decided in ``store.faults``.

A lost reply is different: the connection to the driver or the Connect server broke while the
statement ran, so it may have committed. Such a statement is re-run only in its idempotent form
(``after_unknown``): every store write carries library-made ids or natural keys, and that form
inserts only what is still missing and sets values rather than adding to them, so running it
again after a commit changes nothing.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable, TypeVar

from pt_spark.errors import ConcurrentUpdateError
from pt_spark.store.faults import DELTA_CONFLICTS, is_conflict, is_unknown_outcome

log = logging.getLogger(__name__)
T = TypeVar("T")

_BASE_DELAY_SECONDS = 0.1
_MAX_BACKOFF_SECONDS = 2.0
#: The longest a lost attempt's own duration makes the next wait.
_MAX_PATIENCE_SECONDS = 30.0
_retried = 0
_retried_lock = threading.Lock()


def conflicts_retried() -> int:
    """Return how many Delta conflicts this Python process has retried so far."""
    return _retried


def _count_retry() -> None:
    global _retried
    with _retried_lock:
        _retried += 1


def retry_delay(attempt: int, took: float) -> float:
    """Return the seconds to wait after losing attempt ``attempt``, which ran ``took`` seconds.

    The wait is the longer of an exponential backoff (0.1 s doubling, at most 2 s) and the lost
    attempt's own duration (at most 30 s), with jitter of ±50 %. A writer loses because a neighbour
    in the same partition committed while its statement ran. When statements are slow (a busy
    cluster), that neighbour is usually in the middle of a sequence of writes; waiting about one
    statement's time lets it get through them without each one costing this writer an attempt.

    Examples:
        >>> 0.05 <= retry_delay(1, 0.0) <= 0.15, 10.0 <= retry_delay(3, 20.0) <= 30.0
        (True, True)
    """
    backoff = min(_MAX_BACKOFF_SECONDS, _BASE_DELAY_SECONDS * 2 ** (attempt - 1))
    patience = min(_MAX_PATIENCE_SECONDS, max(took, 0.0))
    return max(backoff, patience) * (0.5 + random.random())


def with_conflict_retry(
    action: Callable[[], T],
    attempts: int = 6,
    what: str = "write",
    after_unknown: Callable[[], T] | None = None,
) -> T:
    """Run ``action``; on a Delta conflict wait (``retry_delay``) and run it again.

    Args:
        action: The whole statement to run, including any reads it depends on.
        attempts: How many times to try in all.
        what: A short description for logs and the final error.
        after_unknown: The statement's idempotent form, run instead of ``action`` once a reply
            was lost (see the module docstring); None: a lost reply is raised.

    Raises:
        ConcurrentUpdateError: every attempt hit a conflict.
    """
    current = action
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            return current()
        except Exception as error:  # re-raised unless it is a conflict or a lost reply we can redo
            unknown = after_unknown is not None and is_unknown_outcome(error)
            if not unknown and not is_conflict(error):
                raise
            if attempt == attempts:
                msg = f"{what}: gave up after {attempts} attempts on concurrent Delta updates"
                raise ConcurrentUpdateError(msg) from error
            delay = retry_delay(attempt, time.monotonic() - started)
            if unknown:
                assert after_unknown is not None
                current = after_unknown
                log.warning(
                    "%s: the reply was lost (%s), so it may have committed; re-running it in its "
                    "idempotent form in %.2fs (attempt %s/%s)",
                    what,
                    type(error).__name__,
                    delay,
                    attempt + 1,
                    attempts,
                )
            else:
                _count_retry()
                log.warning(
                    "%s: a concurrent writer changed the table first (%s); retrying the whole "
                    "statement in %.2fs (attempt %s/%s)",
                    what,
                    type(error).__name__,
                    delay,
                    attempt + 1,
                    attempts,
                )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = [
    "DELTA_CONFLICTS",
    "conflicts_retried",
    "is_conflict",
    "is_unknown_outcome",
    "retry_delay",
    "with_conflict_retry",
]
