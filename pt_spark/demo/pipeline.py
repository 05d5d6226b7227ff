"""The demo pipeline: an extract process and a load process, tracked end to end (``make demo``).

Run it with ``python -m pt_spark.demo.pipeline``. On the embedded default (a local Delta-enabled Spark
session, the tracking store in ``./pt_spark_store``) it:

1. **extracts**: generates a season of baseball batting game logs (30 teams, 390 players, tens of
   thousands of rows), writes them with Spark as CSV extract files into
   ``./demo_data/<run stamp>/`` and registers them as ``ready`` extracts with their write
   low/high dates and record counts. One of the files is deliberately malformed.
2. **loads**: a process that depends on the extract process finds the ready extracts, moves them
   to ``loading`` in one batch, validates and appends them to a Delta table
   (``./demo_data/warehouse/batting_game_logs``), records the run's data dates and record count,
   marks the good extracts ``loaded`` and the malformed one ``error`` (with a ``Data Error`` that
   does not fail the run), and completes. A second start of the load while it runs is refused.
3. **reports**: a summary queried with SQL from the tracking tables, and the run report of the
   whole store (``pt_spark.report``) in ``./demo_data/report.html``, whose path it prints.

Running it again adds new runs; lookups (processes, sources, statuses, ...) are never duplicated.
Tests call ``run_pipeline`` on a temporary store.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pyspark.sql import Column
from pyspark.sql import functions as F

from pt_spark import admin
from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.errors import ProcessRunFailed, ProcessRunRefused, ProcessTrackerError
from pt_spark.reports import report
from pt_spark.runs.tracker import ProcessTracker
from pt_spark.store import setup

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, GroupedData, Row, SparkSession

EXTRACT_PROCESS = "Lahman Batting Extract"
LOAD_PROCESS = "Lahman Batting Load"
SOURCE = "Lahman Baseball Dataset"
TARGET = "Baseball Warehouse"
DATASET_TYPES = ("Baseball", "Batting Game Logs")
ACTOR = "pt_spark demo"
TOOL = "Spark"
TARGET_TABLE = "batting_game_logs"
SEASON = 2024
#: The months each extract file holds, by game month; the October (postseason) file is malformed.
FILE_MONTHS = {4: "04-05", 5: "04-05", 6: "06-07", 7: "06-07", 8: "08-09", 9: "08-09", 10: "10"}
MALFORMED_MONTH = 10
REQUIRED = ("game_date", "team_id", "player_id", "at_bats", "hits", "home_runs", "rbi", "walks")
CSV_SCHEMA = (
    "game_date DATE, team_id STRING, team_name STRING, league STRING, player_id STRING, "
    "player_name STRING, position STRING, at_bats INT, hits INT, home_runs INT, rbi INT, walks INT, "
    "_corrupt_record STRING"
)
TEAMS = (
    ("ARI", "Arizona Diamondbacks", "NL"), ("ATL", "Atlanta Braves", "NL"),
    ("BAL", "Baltimore Orioles", "AL"), ("BOS", "Boston Red Sox", "AL"),
    ("CHA", "Chicago White Sox", "AL"), ("CHN", "Chicago Cubs", "NL"),
    ("CIN", "Cincinnati Reds", "NL"), ("CLE", "Cleveland Guardians", "AL"),
    ("COL", "Colorado Rockies", "NL"), ("DET", "Detroit Tigers", "AL"),
    ("HOU", "Houston Astros", "AL"), ("KCA", "Kansas City Royals", "AL"),
    ("LAA", "Los Angeles Angels", "AL"), ("LAN", "Los Angeles Dodgers", "NL"),
    ("MIA", "Miami Marlins", "NL"), ("MIL", "Milwaukee Brewers", "NL"),
    ("MIN", "Minnesota Twins", "AL"), ("NYA", "New York Yankees", "AL"),
    ("NYN", "New York Mets", "NL"), ("OAK", "Oakland Athletics", "AL"),
    ("PHI", "Philadelphia Phillies", "NL"), ("PIT", "Pittsburgh Pirates", "NL"),
    ("SDN", "San Diego Padres", "NL"), ("SEA", "Seattle Mariners", "AL"),
    ("SFN", "San Francisco Giants", "NL"), ("SLN", "St. Louis Cardinals", "NL"),
    ("TBA", "Tampa Bay Rays", "AL"), ("TEX", "Texas Rangers", "AL"),
    ("TOR", "Toronto Blue Jays", "AL"), ("WAS", "Washington Nationals", "NL"),
)  # fmt: skip
BATTERS_PER_TEAM = 13
POSITIONS = ("C", "1B", "2B", "3B", "SS", "LF", "CF", "RF", "DH", "C", "IF", "OF", "UT")
FIRST_NAMES = ("Alex", "Ben", "Carlos", "Dan", "Eli", "Felix", "Gabe", "Hank", "Ivan", "Jose", "Kyle")
LAST_NAMES = ("Adams", "Baker", "Cruz", "Diaz", "Evans", "Flores", "Garcia", "Hill", "Ito", "Jones", "King")
SEASON_DAYS = 203  # April 1 to October 20
POSTSEASON_TEAMS = 8

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Ignore a progress message (the default of ``run_pipeline``)."""


@dataclass(frozen=True)
class FileAudit:
    """What one extract file holds: rows, malformed rows and the game-date range of good rows."""

    rows: int
    bad_rows: int
    low: date | None
    high: date | None


# --- the data ------------------------------------------------------------------------------------


def file_name(month: int) -> str:
    """Return the name of the extract file that holds the games of ``month``."""
    return f"batting_{SEASON}_{FILE_MONTHS[month]}.csv"


def _pick(options: Sequence[str], index: Column) -> Column:
    return F.element_at(
        F.array(*[F.lit(option) for option in options]), (index % len(options) + 1).cast("int")
    )


def _stat(player: Column, day: Column, salt: int, modulo: int) -> Column:
    return F.pmod(F.hash(player, day, F.lit(salt)), F.lit(modulo))


def players(spark: SparkSession) -> DataFrame:
    """Return the 390 batters of the 30 teams: ids, names, positions and team columns."""
    teams = spark.createDataFrame(
        [(index, *team) for index, team in enumerate(TEAMS)],
        "team_idx INT, team_id STRING, team_name STRING, league STRING",
    )
    idx = F.col("id")
    first, last = (
        _pick(FIRST_NAMES, F.pmod(F.hash(idx, F.lit(1)), F.lit(97))),
        _pick(LAST_NAMES, F.pmod(F.hash(idx, F.lit(2)), F.lit(89))),
    )
    batters = spark.range(len(TEAMS) * BATTERS_PER_TEAM).select(
        idx.cast("int").alias("player_idx"),
        (idx / BATTERS_PER_TEAM).cast("int").alias("team_idx"),
        F.format_string(
            "%s%s%03d", F.lower(F.substring(last, 1, 5)), F.lower(F.substring(first, 1, 2)), idx
        ).alias("player_id"),
        F.concat_ws(" ", first, last).alias("player_name"),
        _pick(POSITIONS, idx % BATTERS_PER_TEAM).alias("position"),
    )
    return batters.join(teams, "team_idx")


def game_logs(spark: SparkSession) -> DataFrame:
    """Return one batting line per player and game of the season, with the extract file it goes to."""
    days = spark.range(SEASON_DAYS).select(
        F.col("id").cast("int").alias("day"),
        F.date_add(F.lit(date(SEASON, 4, 1)), F.col("id").cast("int")).alias("game_date"),
    )
    plays = (F.pmod(F.col("day") + F.col("team_idx"), F.lit(8)) != 0) & (
        (F.month("game_date") < MALFORMED_MONTH) | (F.col("team_idx") < POSTSEASON_TEAMS)
    )
    lines = players(spark).crossJoin(days).where(plays)
    player, day = F.col("player_idx"), F.col("day")
    at_bats = (_stat(player, day, 1, 4) + 2).cast("int")
    hits = F.least(at_bats, F.floor(at_bats * _stat(player, day, 2, 100) / 250)).cast("int")
    home_runs = F.when((hits > 0) & (_stat(player, day, 3, 100) < 12), 1).otherwise(0)
    files = F.create_map(*[F.lit(x) for month in FILE_MONTHS for x in (month, file_name(month))])
    return lines.select(
        "game_date", "team_id", "team_name", "league", "player_id", "player_name", "position",
        at_bats.alias("at_bats"), hits.alias("hits"), home_runs.alias("home_runs"),
        (home_runs + F.when(hits > 0, _stat(player, day, 4, 3)).otherwise(0)).cast("int").alias("rbi"),
        (_stat(player, day, 5, 100) < 9).cast("int").alias("walks"),
        files[F.month("game_date")].alias("file_name"),
    )  # fmt: skip


def _as_written(logs: DataFrame) -> DataFrame:
    """Return the logs as CSV text; the malformed file gets US dates and 'N/A' in some numbers."""
    malformed = F.col("file_name") == F.lit(file_name(MALFORMED_MONTH))
    text = {column: F.col(column).cast("string") for column in logs.columns}
    us_date = F.date_format("game_date", "MM/dd/yyyy")
    text["game_date"] = F.when(malformed, us_date).otherwise(text["game_date"])
    missing = malformed & (F.pmod(F.hash("player_id", "game_date"), F.lit(4)) == 0)
    text["at_bats"] = F.when(missing, F.lit("N/A")).otherwise(text["at_bats"])
    return logs.select(*[column.alias(name) for name, column in text.items()])


def write_extract_files(logs: DataFrame, folder: Path) -> dict[str, FileAudit]:
    """Write one CSV file per extract into ``folder`` with Spark; return what each file holds.

    Spark writes a folder of part files per partition; each file's single part is moved to
    ``folder/<file name>`` so the extracts are plain files, as a vendor would deliver them.
    """
    audits = file_audits(logs.groupBy("file_name"), F.lit(0))
    staging = folder / "_staging"
    _as_written(logs).repartition("file_name").write.partitionBy("file_name").option("header", True).csv(
        str(staging)
    )
    for name in audits:
        (part,) = (staging / f"file_name={name}").glob("part-*.csv")
        part.rename(folder / name)
    shutil.rmtree(staging)
    return audits


def date_range(audits: Iterable[FileAudit]) -> tuple[date | None, date | None]:
    """Return the lowest low and the highest high date of ``audits`` (None when there are none)."""
    lows = [audit.low for audit in audits if audit.low is not None]
    highs = [audit.high for audit in audits if audit.high is not None]
    return (min(lows) if lows else None, max(highs) if highs else None)


def file_audits(groups: GroupedData, bad: Column) -> dict[str, FileAudit]:
    """Return ``{file: FileAudit}`` from grouped logs (``bad``: 1 for a malformed row), one job."""
    good_date = F.when(bad == 0, F.col("game_date"))
    rows = groups.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(bad).alias("bad_rows"),
        F.min(good_date).alias("low"),
        F.max(good_date).alias("high"),
    ).collect()
    return {
        row[0]: FileAudit(int(row["rows"]), int(row["bad_rows"] or 0), row["low"], row["high"])
        for row in rows
    }


# --- the extract process -------------------------------------------------------------------------


def start(spark: SparkSession, config: TrackerConfig, process_name: str, process_type: str) -> ProcessTracker:
    """Start a run of one of the demo's processes (registering it and its lookups on first use)."""
    return ProcessTracker(
        spark=spark,
        process_name=process_name,
        process_type=process_type,
        actor_name=ACTOR,
        tool_name=TOOL,
        sources=SOURCE,
        targets=TARGET if process_type == "Load" else None,
        dataset_types=list(DATASET_TYPES),
        schedule_frequency="daily",
        config=config,
    )


@contextmanager
def failing_on_error(run: ProcessTracker) -> Iterator[ProcessTracker]:
    """Record any exception as a ``Process Error`` that fails the run, then let it propagate."""
    try:
        yield run
    except BaseException as error:
        try:
            run.raise_run_error("Process Error", f"{type(error).__name__}: {error}"[:700], fail_run=True)
        except ProcessRunFailed as failed:
            raise failed from error
        except Exception as unrecorded:  # the store is unreachable too: report the first error
            raise error from unrecorded
        raise


def register_extracts(run: ProcessTracker, folder: Path, audits: Mapping[str, FileAudit]) -> list[int]:
    """Register every file of ``folder`` as a ``ready`` extract with its size, write dates and count.

    One batch call: one MERGE per table, whatever the number of files.
    """
    rows = [
        {
            "filename": name,
            "file_size": (folder / name).stat().st_size,
            "write_low_date": audit.low,
            "write_high_date": audit.high,
            "write_record_count": audit.rows,
        }
        for name, audit in sorted(audits.items())
    ]
    return run.register_extracts(rows, location_path=str(folder), status="ready")


def run_extract(spark: SparkSession, config: TrackerConfig, folder: Path, say: Progress) -> ProcessTracker:
    """Run the extract process: write the files, register them, complete."""
    run = start(spark, config, EXTRACT_PROCESS, "Extract")
    say(f"extract: run {run.process_run_id} of '{EXTRACT_PROCESS}' started")
    with failing_on_error(run):
        folder.mkdir(parents=True)
        audits = write_extract_files(game_logs(spark), folder)
        rows = sum(audit.rows for audit in audits.values())
        say(f"extract: wrote {len(audits)} CSV files, {rows:,} rows, to {folder}")
        registered = register_extracts(run, folder, audits)
        say(f"extract: registered {len(registered)} extracts as 'ready' with write dates and counts")
        low, high = date_range(audits.values())
        # The run's dates and count go with its completion: the same two MERGEs, no extra commit.
        run.change_run_status("completed", low_date=low, high_date=high, num_records=rows)
    say(f"extract: run {run.process_run_id} completed")
    return run


# --- the load process ----------------------------------------------------------------------------


def read_extracts(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Read extract files with the expected schema, flag malformed rows (``bad``), tag each row's file."""
    rows = (
        spark.read.schema(CSV_SCHEMA)
        .option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt_record")
        .csv(list(paths))
    )
    bad = F.col("_corrupt_record").isNotNull()
    for column in REQUIRED:
        bad = bad | F.col(column).isNull()
    return rows.withColumn("bad", bad.cast("int")).withColumn("source_file", F.col("_metadata.file_path"))


def local_path(uri: str) -> str:
    """Return the local path of a ``file:`` URI as Spark reports it (``file:/x%20y`` -> ``/x y``)."""
    return unquote(urlparse(uri).path)


def audit_extracts(spark: SparkSession, paths: Sequence[str]) -> dict[str, FileAudit]:
    """Return ``{path: FileAudit}`` of the extract files that exist (one Spark job)."""
    present = [path for path in paths if Path(path).is_file()]
    if not present:
        return {}
    audits = file_audits(read_extracts(spark, present).groupBy("source_file"), F.col("bad"))
    return {local_path(uri): audit for uri, audit in audits.items()}


def reject(run: ProcessTracker, extract: Row, audit: FileAudit | None, say: Progress) -> None:
    """Record why an extract is not loaded: a ``Data Error`` (malformed rows) or a ``File Error``."""
    name = extract["extract_filename"]
    if audit is None:
        error_type, why = "File Error", f"{name}: file not found at {extract['full_filename']}"
    else:
        error_type, why = "Data Error", f"{name}: {audit.bad_rows:,} of {audit.rows:,} rows malformed"
    run.raise_run_error(error_type, f"{why}; extract not loaded")
    say(f"load: {why} -> '{error_type}' recorded, extract marked 'error' (the run goes on)")


def append_to_target(spark: SparkSession, paths: Sequence[str], target: Path, run: ProcessTracker) -> None:
    """Append the rows of the good extract files to the Delta target table, with their lineage."""
    if not paths:
        return
    rows = read_extracts(spark, paths).where(F.col("bad") == 0)
    columns = [column for column in rows.columns if column not in ("_corrupt_record", "bad")]
    lineage = F.lit(run.process_tracking_id).cast("long").alias("load_process_tracking_id")
    rows.select(*columns, lineage).write.format("delta").mode("append").save(str(target))


def load_batch(
    spark: SparkSession, run: ProcessTracker, extracts: Sequence[Row], target: Path, say: Progress
) -> dict[str, list[int]]:
    """Validate the batch, load the good files, record errors, dates and counts; return ids by outcome."""
    audits = audit_extracts(spark, [row["full_filename"] for row in extracts])
    outcome: dict[str, list[int]] = {"loaded": [], "error": []}
    good: list[FileAudit] = []
    for extract in extracts:
        audit = audits.get(extract["full_filename"])
        if audit is None or audit.bad_rows:
            reject(run, extract, audit, say)
            outcome["error"].append(int(extract["extract_id"]))
        else:
            good.append(audit)
            outcome["loaded"].append(int(extract["extract_id"]))
    paths = [row["full_filename"] for row in extracts if int(row["extract_id"]) in outcome["loaded"]]
    append_to_target(spark, paths, target, run)
    rows = sum(audit.rows for audit in good)
    say(f"load: {len(paths)} files, {rows:,} rows appended to the Delta table {target}")
    run.set_process_run_low_high_dates(*date_range(good))
    run.set_process_run_record_count(rows, processing_type="insert")
    for status, ids in outcome.items():
        if ids:
            run.bulk_change_extract_status(ids, status)
    return outcome


def second_start_refused(spark: SparkSession, config: TrackerConfig) -> str | None:
    """Try to start the load again while it runs; return the refusal message (None if it started)."""
    try:
        extra = start(spark, config, LOAD_PROCESS, "Load")
    except ProcessRunRefused as refused:
        return str(refused)
    extra.change_run_status("completed")
    return None


def run_load(
    spark: SparkSession, config: TrackerConfig, target: Path, say: Progress
) -> tuple[ProcessTracker, str | None]:
    """Run the load process; return the run and the refusal message of its second start."""
    run = start(spark, config, LOAD_PROCESS, "Load")
    say(f"load: run {run.process_run_id} of '{LOAD_PROCESS}' started")
    with failing_on_error(run):
        created = admin.create(
            spark, "process dependency", parent=EXTRACT_PROCESS, child=LOAD_PROCESS, config=config
        )
        say(f"load: depends on '{EXTRACT_PROCESS}' ({'declared now' if created else 'already declared'})")
        refused = second_start_refused(spark, config)
        say(
            f"load: a second start was refused: {refused}"
            if refused
            else "load: a second start was NOT refused"
        )
        found = run.find_extracts_by_process(EXTRACT_PROCESS).select(
            "extract_id", "extract_filename", "full_filename"
        )
        extracts = found.collect()
        if extracts:  # nothing to move when an earlier load already took every ready extract
            run.bulk_change_extract_status([row["extract_id"] for row in extracts], "loading")
        say(f"load: {len(extracts)} ready extracts of '{EXTRACT_PROCESS}' moved to 'loading'")
        outcome = load_batch(spark, run, extracts, target, say)
        say(f"load: {len(outcome['loaded'])} extracts 'loaded', {len(outcome['error'])} 'error'")
        run.change_run_status("completed")
    say(f"load: run {run.process_run_id} completed")
    return run, refused


# --- the summary, from the tracking tables -------------------------------------------------------

# Only the validated schema identifier and run ids (ints this module read back) go into the text.
RUNS_SQL = """
SELECT p.process_name, t.process_run_id, t.process_tracking_id, s.process_status_name,
       t.process_run_record_count, t.process_run_low_date_time, t.process_run_high_date_time,
       COUNT(e.error_tracking_id) AS error_count
FROM {pt}.process_tracking AS t
JOIN {pt}.process AS p ON p.process_id = t.process_id
JOIN {pt}.process_status_lkup AS s ON s.process_status_id = t.process_status_id
LEFT JOIN {pt}.error_tracking AS e ON e.process_tracking_id = t.process_tracking_id
WHERE t.process_tracking_id IN ({runs})
GROUP BY ALL
ORDER BY t.process_tracking_id
"""
EXTRACTS_SQL = """
SELECT s.extract_status_name, COUNT(*) AS extracts, SUM(x.extract_write_record_count) AS rows_written
FROM {pt}.extract_tracking AS x
JOIN {pt}.extract_status_lkup AS s ON s.extract_status_id = x.extract_status_id
WHERE x.extract_id IN (
  SELECT extract_tracking_id FROM {pt}.extract_process_tracking WHERE process_tracking_id IN ({runs}))
GROUP BY s.extract_status_name
ORDER BY s.extract_status_name
"""
ERRORS_SQL = """
SELECT p.process_name, t.process_run_id, y.error_type_name, e.error_description
FROM {pt}.error_tracking AS e
JOIN {pt}.error_type_lkup AS y ON y.error_type_id = e.error_type_id
JOIN {pt}.process_tracking AS t ON t.process_tracking_id = e.process_tracking_id
JOIN {pt}.process AS p ON p.process_id = t.process_id
WHERE e.process_tracking_id IN ({runs})
ORDER BY e.error_occurrence_date_time
"""


def query(
    spark: SparkSession, config: TrackerConfig, sql: str, run_ids: Iterable[int]
) -> list[dict[str, Any]]:
    """Run one of the summary queries over the tracking tables for the given runs."""
    text = sql.format(pt=config.namespace, runs=", ".join(str(int(run_id)) for run_id in run_ids))
    return [row.asDict() for row in spark.sql(text).collect()]


def summarize(spark: SparkSession, config: TrackerConfig, runs: Sequence[ProcessTracker]) -> dict[str, Any]:
    """Return the runs, their extracts by status and their errors, as the tracking tables hold them."""
    ids = [run.process_tracking_id for run in runs]
    by_id = {row["process_tracking_id"]: row for row in query(spark, config, RUNS_SQL, ids)}
    extracts = query(spark, config, EXTRACTS_SQL, ids)
    errors = query(spark, config, ERRORS_SQL, ids)
    return {
        "runs": [by_id[run_id] for run_id in ids],
        "extract_statuses": extracts,
        "extracts": {row["extract_status_name"]: int(row["extracts"]) for row in extracts},
        "errors": errors,
        "error_count": len(errors),
    }


def run_pipeline(
    spark: SparkSession, config: TrackerConfig, data_dir: Path | str, progress: Progress = _quiet
) -> dict[str, Any]:
    """Run the extract process, then the load process, and summarize them from the tracking tables.

    The store of ``config`` must be set up (``setup(spark, config=config)``). The extract files go
    to a new ``<data_dir>/<run stamp>/`` folder, the loaded rows to the Delta table
    ``<data_dir>/warehouse/batting_game_logs``.

    Args:
        spark: The SparkSession (local or a cluster's).
        config: Where the tracking store lives.
        data_dir: Folder for the extract files and the target table (created if missing).
        progress: Called with a short line after each step (``main`` prints them).

    Returns:
        ``extract_run`` / ``load_run`` (``process_tracking_id``, ``process_run_id``, ``status``),
        ``runs`` (both runs as the SQL summary reads them), ``extracts`` (``{status: count}`` of
        this demo's extracts), ``extract_statuses``, ``errors``, ``error_count``, ``refused``
        (whether the second start of the load was refused), ``refused_message``, ``extract_dir``,
        ``target_table``, ``store`` and ``report`` (the run report of the whole store,
        ``<data_dir>/report.html``).

    Example:
        >>> summary = run_pipeline(spark, config, "/tmp/demo_data")  # doctest: +SKIP
        >>> summary["extracts"]  # doctest: +SKIP
        {'error': 1, 'loaded': 3}
    """
    root = Path(data_dir).resolve()
    folder = new_run_folder(root)
    extract = run_extract(spark, config, folder, progress)
    load, refused = run_load(spark, config, root / "warehouse" / TARGET_TABLE, progress)
    summary = summarize(spark, config, [extract, load])
    page = report(spark, root / "report.html", config=config)
    progress(f"report: the run report of the store is {page}")
    for key, run in (("extract_run", extract), ("load_run", load)):
        row = next(r for r in summary["runs"] if r["process_tracking_id"] == run.process_tracking_id)
        summary[key] = {
            "process_tracking_id": run.process_tracking_id,
            "process_run_id": run.process_run_id,
            "status": row["process_status_name"],
        }
    summary.update(
        refused=refused is not None,
        refused_message=refused,
        extract_dir=str(folder),
        target_table=str(root / "warehouse" / TARGET_TABLE),
        store=config.location or config.namespace,
        report=str(page),
    )
    return summary


def new_run_folder(root: Path) -> Path:
    """Return a new, not yet existing ``<root>/<run stamp>`` folder path (not created)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, attempt = root / stamp, 1
    while folder.exists():
        attempt += 1
        folder = root / f"{stamp}-{attempt}"
    return folder


# --- main ----------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d")
            if value.time() == datetime.min.time()
            else value.isoformat(" ", "seconds")
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str]) -> list[str]:
    """Return ``rows`` as aligned text lines under the headers ``columns`` (``{key: header}``)."""
    cells = [[_cell(row[key]) for key in columns] for row in rows]
    headers = list(columns.values())
    widths = [max([len(header)] + [len(line[i]) for line in cells]) for i, header in enumerate(headers)]
    lines = [headers, ["-" * width for width in widths], *cells]
    return [
        "  " + "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


RUN_COLUMNS = {
    "process_name": "process",
    "process_run_id": "run",
    "process_status_name": "status",
    "process_run_record_count": "records",
    "process_run_low_date_time": "low date",
    "process_run_high_date_time": "high date",
    "error_count": "errors",
}
EXTRACT_COLUMNS = {
    "extract_status_name": "extract status",
    "extracts": "extracts",
    "rows_written": "rows written",
}
ERROR_COLUMNS = {
    "process_name": "process",
    "process_run_id": "run",
    "error_type_name": "error",
    "error_description": "description",
}


def print_summary(summary: Mapping[str, Any]) -> None:
    """Print the run summary: runs, extracts by status, errors, the refused start and the locations."""
    print("\nRuns (SQL over process_tracking + process + process_status_lkup + error_tracking):")
    print("\n".join(format_table(summary["runs"], RUN_COLUMNS)))
    print("\nExtracts of these runs, by status:")
    print("\n".join(format_table(summary["extract_statuses"], EXTRACT_COLUMNS)))
    print(f"\nErrors recorded ({summary['error_count']}):")
    print("\n".join(format_table(summary["errors"], ERROR_COLUMNS)))
    print(f"\nSecond start of the load refused: {'yes' if summary['refused'] else 'NO'}")
    print(f"Tracking store:  {summary['store']}")
    print(f"Extract files:   {summary['extract_dir']}")
    print(f"Target table:    {summary['target_table']} (Delta)")
    print(f"Run report:      {summary['report']} (open it in a browser)")


def _printer(started: float) -> Progress:
    def say(message: str) -> None:
        print(f"[{time.monotonic() - started:4.0f}s] {message}", flush=True)

    return say


def prepare_store(spark: SparkSession, config: TrackerConfig) -> None:
    """Create the tracking store, or re-open (and if needed upgrade) the one an earlier demo left."""
    setup(spark, config=config)


def main() -> None:
    """Run the demo on the embedded default: local Spark, the store in ``./pt_spark_store``."""
    from pt_spark.session import local_spark

    started = time.monotonic()
    say = _printer(started)
    say("starting a local Delta-enabled Spark session")
    spark = local_spark("pt_spark demo")
    try:
        config = resolve_config(spark)
        prepare_store(spark, config)
        say(f"tracking store ready: {config.location or config.namespace} (schema {config.schema_name})")
        summary = run_pipeline(spark, config, Path("demo_data"), say)
        print_summary(summary)
    except ProcessTrackerError as error:
        print(f"\nThe demo stopped: {type(error).__name__}: {error}")
        print("If an earlier demo was interrupted, `make clean` starts again with a fresh store.")
        raise SystemExit(1) from error
    finally:
        spark.stop()
    print(
        f"\nDone in {time.monotonic() - started:.0f}s. Run it again: each run adds new runs to the same store"
    )
