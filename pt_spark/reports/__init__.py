"""The run report: one self-contained HTML page about a store's runs (``pt_spark.report``).

``data`` reads small aggregates of the tracking tables in Spark; ``html`` draws them with plotly
into one page that embeds plotly.js once, so it opens offline. The page needs plotly
(``pip install 'pt-spark[report]'``; the ``spark`` extra brings it); it is imported only when a
report is written, so ``import pt_spark`` works without it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.errors import InvalidInput, ProcessTrackerError, SessionError
from pt_spark.reports.data import check_days, read_report_data
from pt_spark.store.store import store_for
from pt_spark.validation import optional_name

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def check_out(out: Any) -> Path:
    """Return ``out`` as an absolute path whose folder exists, or raise ``InvalidInput``."""
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
        raise InvalidInput(f"out: expected a file path, not {out!r}")
    path = Path(out).expanduser().absolute()
    if path.is_dir():
        raise InvalidInput(f"out: {str(path)!r} is a folder; give a file name such as report.html")
    if not path.parent.is_dir():
        raise InvalidInput(f"out: the folder {str(path.parent)!r} does not exist")
    return path


def _render() -> Any:
    try:
        from pt_spark.reports.html import render
    except ImportError as error:
        raise ProcessTrackerError(
            f"The run report needs plotly ({error}); install it with: pip install 'pt-spark[report]'"
        ) from error
    return render


def report(
    spark: SparkSession | None,
    out: str | os.PathLike[str],
    process: str | None = None,
    days: int | None = None,
    config: TrackerConfig | None = None,
    config_location: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the run report of a tracking store as one self-contained HTML page.

    The page shows a summary per process, the run durations, the record counts over time, the
    failed, held and abandoned runs, each run's low/high data dates (the watermark timeline) and
    the extracts by status. It embeds plotly.js, so it opens with no network. An empty store, or
    a process without runs, gives a page that says so. Read-only on the store; the file is
    written whole (a temporary file renamed into place) or not at all.

    Args:
        spark: The SparkSession (None: the active one).
        out: The HTML file to write (its folder must exist; an existing file is replaced).
        process: Only this process's runs and extracts (None: every process).
        days: Only runs started, and extracts registered, in the last ``days`` days (None: all).
        config: Which store; resolved as in docs/SPEC.md §7 when None.
        config_location: A ``process_tracker_config.ini`` file or its folder (docs/SPEC.md §7).

    Returns:
        The absolute path of the written page.

    Raises:
        InvalidInput: ``out``'s folder does not exist or ``out`` is a folder, ``days`` is not a
            positive whole number, or ``process`` is not a valid name.
        NotFound: ``process`` is given and no such process exists (no file is written).
        StoreNotReady: the store does not exist yet.

    Example:
        >>> pt_spark.report(spark, "report.html", process="Teams Load", days=30)  # doctest: +SKIP
        PosixPath('/home/me/report.html')
    """
    path = check_out(out)
    name = optional_name(process, "process")
    window = check_days(days)
    render = _render()
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            raise SessionError("No active SparkSession: pass spark= (e.g. pt_spark.session.local_spark()).")
    store = store_for(spark, resolve_config(spark, config, config_location))
    page = render(read_report_data(store, name, window))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(page)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("wrote the run report to %s", path)
    return path


__all__ = ["check_days", "check_out", "report"]
