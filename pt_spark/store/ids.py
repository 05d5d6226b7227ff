"""Row ids made by the library: BIGINT, unique, never reused, roughly time-ordered.

An id is ``milliseconds since 2020-01-01 UTC`` in the high 41 bits and a 22-bit sequence in the
low bits. The sequence starts at a random value in each Python process and steps by one per id,
so one process never repeats an id (the clock is never allowed to run backwards), and two
processes collide only when they make an id in the same millisecond with the same 22-bit
sequence value (about one chance in four million per pair of such ids). Ids are known before
the write that stores them, so no write has to read back what Delta assigned, and no table
needs a global counter (Delta's IDENTITY columns turn every concurrent insert into a conflict).

Ids made before store v3 (1, 2, 3, ... from IDENTITY columns) stay as they are; new ids are far
larger, so old and new never meet.

Example:
    >>> first, second = new_ids(2)
    >>> 0 < first < 2**63 and first != second
    True
"""

from __future__ import annotations

import secrets
import threading
import time

_EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
_SEQUENCE_BITS = 22
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1


class _IdMaker:
    """Makes ids for one Python process; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = secrets.randbelow(1 << _SEQUENCE_BITS)
        self._used_this_ms = 0
        self._last_ms = 0

    def take(self, count: int) -> list[int]:
        with self._lock:
            return [self._next() for _ in range(count)]

    def _next(self) -> int:
        now = max(_now_ms(), self._last_ms)
        self._used_this_ms = self._used_this_ms + 1 if now == self._last_ms else 0
        if self._used_this_ms > _SEQUENCE_MASK:  # every sequence value used in this millisecond
            while now <= self._last_ms:
                now = _now_ms()
            self._used_this_ms = 0
        self._last_ms = now
        self._sequence = (self._sequence + 1) & _SEQUENCE_MASK
        return (now << _SEQUENCE_BITS) | self._sequence


def _now_ms() -> int:
    return int(time.time() * 1000) - _EPOCH_MS


_MAKER = _IdMaker()


def new_ids(count: int) -> list[int]:
    """Return ``count`` new ids."""
    return _MAKER.take(count)


def new_id() -> int:
    """Return one new id."""
    return _MAKER.take(1)[0]


__all__ = ["new_id", "new_ids"]
