"""Measuring instruments: a timer, Delta table versions and the commits a call made.

Commits are read from each table's ``_delta_log`` folder (the same information as ``DESCRIBE
HISTORY``, without a Spark job): the versions a call added, and the operation of each, so that an
automatic compaction Delta ran after the call's own write is reported apart from the write.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

#: Operations Delta records for a compaction (auto compaction commits as OPTIMIZE with auto=true).
COMPACTION_OPERATIONS = ("OPTIMIZE",)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``action``; return (seconds, its result)."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def cpu_timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run ``action``; return (wall seconds, CPU seconds of Python + the Spark JVM, its result)."""
    cpu = CPU.now()
    seconds, result = timed(action)
    return seconds, CPU.now() - cpu, result


def median(samples: Iterable[float]) -> float | None:
    """Return the median of ``samples`` (None when empty)."""
    values = list(samples)
    return statistics.median(values) if values else None


@dataclass
class Samples:
    """Timings of one measured thing (wall and CPU seconds per repetition), and any error it raised."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        """Median wall seconds (None when nothing succeeded)."""
        return median(self.seconds)

    def add(self, seconds: float, cpu: float) -> None:
        """Record one repetition."""
        self.seconds.append(seconds)
        self.cpu.append(cpu)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "median_s": self.median,
            "median_cpu_s": median(self.cpu),
            "samples_s": [round(s, 4) for s in self.seconds],
            "samples_cpu_s": [round(s, 4) for s in self.cpu],
            "errors": self.errors,
        }


class CpuClock:
    """CPU seconds used by this Python process and by the local Spark JVM (driver and executors).

    On a shared machine wall time swings with the other processes' load; CPU time spent on a call
    barely does, so it is reported next to every wall-time figure as a load-independent check.
    Linux only (``/proc``); elsewhere only the Python side is counted.
    """

    def __init__(self) -> None:
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._jvm: int | None = None

    def _find_jvm(self) -> int | None:
        children: dict[int, list[int]] = {}
        names: dict[int, str] = {}
        for entry in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = entry.read_text()
            except OSError:
                continue
            pid = int(entry.parent.name)
            name = text[text.index("(") + 1 : text.rindex(")")]
            parent = int(text[text.rindex(")") + 2 :].split()[1])
            children.setdefault(parent, []).append(pid)
            names[pid] = name
        pending = list(children.get(os.getpid(), []))
        while pending:
            pid = pending.pop()
            if names.get(pid) == "java":
                return pid
            pending.extend(children.get(pid, []))
        return None

    def _jvm_seconds(self) -> float:
        if self._jvm is None:
            self._jvm = self._find_jvm()
        if self._jvm is None:
            return 0.0
        try:
            text = Path(f"/proc/{self._jvm}/stat").read_text()
        except OSError:
            return 0.0
        fields = text[text.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / self._ticks

    def now(self) -> float:
        """Total CPU seconds so far (Python process + Spark JVM)."""
        mine = os.times()
        return mine.user + mine.system + self._jvm_seconds()


CPU = CpuClock()


def last_job_id(spark: Any) -> int:
    """Return the id of the latest Spark job of the local session (-1 when unknown).

    Job ids grow by one per job, so the difference before/after a call is the number of Spark jobs
    it ran (the benchmark may use ``sparkContext``; the library never does).
    """
    try:
        ids = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    except Exception:  # e.g. Spark Connect: no job counts, the rest still works
        return -1
    return max(ids) if ids else -1


def _log_dir(location: str, table: str) -> Path:
    return Path(location) / table / "_delta_log"


def latest_version(location: str, table: str) -> int:
    """Return the latest committed version of the table stored under ``location/table``."""
    versions = [int(p.stem) for p in _log_dir(location, table).glob("*.json") if p.stem.isdigit()]
    return max(versions) if versions else -1


def versions(location: str, tables: Iterable[str]) -> dict[str, int]:
    """Return ``{table: latest version}``."""
    return {table: latest_version(location, table) for table in tables}


def operation(location: str, table: str, version: int) -> str:
    """Return the operation recorded in a commit (``MERGE``, ``OPTIMIZE``, ``WRITE`` ...)."""
    path = _log_dir(location, table) / f"{version:020d}.json"
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                action = json.loads(line)
                if "commitInfo" in action:
                    return str(action["commitInfo"].get("operation", "?"))
    except OSError:
        return "?"
    return "?"


@dataclass(frozen=True)
class Commits:
    """What one call committed: writes per table and automatic compactions per table."""

    writes: dict[str, int]
    compactions: dict[str, int]

    @property
    def tables(self) -> list[str]:
        """Tables the call wrote (compactions aside)."""
        return sorted(self.writes)


def commits_between(location: str, before: dict[str, int], after: dict[str, int]) -> Commits:
    """Classify the commits made between two ``versions`` snapshots."""
    writes: dict[str, int] = {}
    compactions: dict[str, int] = {}
    for table, latest in after.items():
        for version in range(before.get(table, -1) + 1, latest + 1):
            bucket = compactions if operation(location, table, version) in COMPACTION_OPERATIONS else writes
            bucket[table] = bucket.get(table, 0) + 1
    return Commits(writes, compactions)


def data_files(location: str, table: str) -> int:
    """Return the number of data files in the table's latest snapshot.

    Replays the JSON commits (Delta keeps them for 30 days, so a benchmark's store has them all):
    every ``add`` not followed by a ``remove`` of the same path is a live file.
    """
    return len(_live_files_by_replay(_log_dir(location, table)))


def files_per_partition(location: str, table: str) -> dict[str, int]:
    """Return the live data files of each partition (``"bucket=3/is_latest_run=true"``; ``""``)."""
    counts: dict[str, int] = {}
    for partition in _live_files_by_replay(_log_dir(location, table)).values():
        counts[partition] = counts.get(partition, 0) + 1
    return counts


def _live_files_by_replay(log: Path) -> dict[str, str]:
    """Return ``{path: partition}`` for the live data files of the log folder ``log``."""
    live: dict[str, str] = {}
    for path in sorted(log.glob("*.json"), key=lambda p: int(p.stem) if p.stem.isdigit() else -1):
        if not path.stem.isdigit():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                action = json.loads(line)
                if "add" in action:
                    values = action["add"].get("partitionValues") or {}
                    live[action["add"]["path"]] = "/".join(f"{k}={v}" for k, v in sorted(values.items()))
                elif "remove" in action:
                    live.pop(action["remove"]["path"], None)
    return live


__all__ = [
    "COMPACTION_OPERATIONS",
    "CPU",
    "CpuClock",
    "Commits",
    "Samples",
    "commits_between",
    "cpu_timed",
    "data_files",
    "files_per_partition",
    "last_job_id",
    "latest_version",
    "median",
    "operation",
    "timed",
    "versions",
]
