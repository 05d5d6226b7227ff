"""``pt-spark``: set up a store, manage lookups and links, release holds, list and close runs.

Built with click. Each command opens the local Delta-enabled session (or reuses the active one),
resolves the store from the options given (``--schema``, ``--catalog``, ``--location``,
``--config``; unset options leave environment and config-file values alone), and calls
``pt_spark.admin``. Exit codes: 0 success, 1 an error (a one-line message on stderr, never a
traceback: a pt_spark error as ``Error: ...``, any other as ``pt-spark: error: ...``), 2 a usage
error such as an unknown topic.
"""

from __future__ import annotations

import functools
import logging
import sys
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any, Callable, Sequence

import click

from pt_spark._version import __version__
from pt_spark.admin.topics import PROCESS_RUN, all_options, describe, find_topic, normalize_topic, topic_names
from pt_spark.errors import ConfigError, InvalidInput, ProcessTrackerError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from pt_spark.config import TrackerConfig

log = logging.getLogger(__name__)
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
_RUN_COLUMNS = (
    ("PROCESS", "process_name"),
    ("RUN", "process_run_id"),
    ("TRACKING ID", "process_tracking_id"),
    ("STATUS", "process_status_name"),
    ("START", "process_run_start_date_time"),
    ("END", "process_run_end_date_time"),
    ("DURATION", "duration_seconds"),
    ("RECORDS", "process_run_record_count"),
    ("LOW DATE", "process_run_low_date_time"),
    ("HIGH DATE", "process_run_high_date_time"),
    ("ERRORS", "error_count"),
)
_NUMERIC_COLUMNS = frozenset(
    (
        "process_run_id",
        "process_tracking_id",
        "duration_seconds",
        "process_run_record_count",
        "error_count",
        "seconds_since_heartbeat",
    )
)


class _ForeignError(click.ClickException):
    """An error that is not pt_spark's own (Spark, Py4J, the OS): one line on stderr, exit code 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print ``pt-spark: error: <message>`` on stderr."""
        stream = file if file is not None else sys.stderr
        stream.write(f"pt-spark: error: {self.message}\n")


def first_line(error: BaseException) -> str:
    r"""Return the first non-blank line of an error's message (a Py4J error: of the Java exception).

    Example:
        >>> first_line(ValueError("bad value\n\tat somewhere"))
        'bad value'
    """
    text = str(error)
    java = getattr(error, "java_exception", None)  # py4j's Py4JJavaError: "An error occurred ..."
    if java is not None:
        try:
            text = str(java.toString())
        except Exception:  # the JVM is gone: keep py4j's own message
            log.debug("cannot read the Java exception", exc_info=True)
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line or type(error).__name__


class _Group(click.Group):
    """The ``pt-spark`` group: every error becomes a one-line message and exit code 1.

    A pt_spark error shows its message as click does (``Error: ...``); any other error (a Spark
    ``AnalysisException``, a Py4J error, ...) shows ``pt-spark: error: <first line>``; its whole
    traceback is logged at DEBUG on the ``pt_spark.cli`` logger.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProcessTrackerError as error:
            raise click.ClickException(str(error)) from error
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            log.debug("pt-spark failed", exc_info=True)
            raise _ForeignError(first_line(error)) from error


@click.group(cls=_Group, context_settings=_CONTEXT)
@click.version_option(__version__, prog_name="pt-spark")
def main() -> None:
    """Administer a pt_spark tracking store (ProcessTracker on Spark + Delta Lake).

    \b
    pt-spark setup                                   create the tables and default rows
    pt-spark create -t contact -n Ann --email a@x.io add a lookup row
    pt-spark create -t "process dependency" --parent A --child B
    pt-spark update -t "process run" -n "My Load"    release a process that is on hold
    pt-spark runs --process "My Load"                the latest runs, newest first
    pt-spark runs --stale --older-than 30m           running runs whose job seems gone
    pt-spark fail-run --id 123456789                 close such a run as failed
    pt-spark maintain                                compact the tables (OPTIMIZE + VACUUM)
    pt-spark report --out report.html --days 30      an HTML page of the runs (plotly)

    Every command takes --schema, --catalog, --location and --config to pick the store;
    options left out come from PT_SPARK_* variables, the config file or the packaged default.
    --remote sc://host:port runs the command on a Spark Connect server instead of a local session.
    Exit codes: 0 done, 1 pt_spark error (message on stderr), 2 usage error.
    """  # noqa: D301


def _store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the store-selection options to ``command``."""
    options = (
        click.option("--schema", help="Schema (database) of the tracking tables [default: process_tracker]."),
        click.option("--catalog", help="Unity Catalog catalog that holds the schema."),
        click.option("--location", help="Root folder or URI of the Delta tables (external tables)."),
        click.option(
            "--config",
            "config_location",
            type=click.Path(exists=True),
            help="A process_tracker_config.ini file, or the folder holding it.",
        ),
        click.option(
            "--remote",
            metavar="URL",
            help="Spark Connect server to run on, e.g. sc://host:15002 [default: a local session].",
        ),
    )
    return functools.reduce(lambda wrapped, option: option(wrapped), reversed(options), command)


def _session_and_config(store: dict[str, Any]) -> tuple[SparkSession, TrackerConfig]:
    """Return the session and the store configuration built from the options given."""
    from pt_spark.config import TrackerConfig, resolve_config
    from pt_spark.session import local_spark

    config_location = store.pop("config_location", None)
    remote = store.pop("remote", None)
    given = {key: value for key, value in store.items() if value is not None}
    try:
        explicit = TrackerConfig(**given) if given else None
    except ConfigError as error:
        raise click.BadParameter(error.detail, param_hint=f"--{error.key}") from error
    spark = remote_spark(remote) if remote is not None else local_spark()
    return spark, resolve_config(spark, explicit, config_location)


def remote_spark(url: str) -> SparkSession:
    """Return a Spark Connect session on ``url`` (``--remote``); no local JVM is started."""
    if not url.startswith("sc://"):
        raise click.BadParameter(
            f"expected a Spark Connect URL such as sc://host:15002, got {url!r}", param_hint="--remote"
        )
    from pyspark.sql import SparkSession

    from pt_spark.session import quiet_query_context_loggers

    quiet_query_context_loggers()  # an error the command handles prints no JSON stack trace
    return SparkSession.builder.remote(url).getOrCreate()


def _topic_callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Validate ``--topic`` (usage error, exit code 2, listing the topics)."""
    name = normalize_topic(value)
    if name == PROCESS_RUN and ctx.command.name == "update":
        return name
    try:
        return find_topic(name).name
    except InvalidInput:
        topics = ", ".join(topic_names(with_process_run=ctx.command.name == "update"))
        raise click.BadParameter(f"unknown topic {value!r}. Topics: {topics}.") from None


def _cli_value(text: str | None) -> Any:
    """Return ``--value`` as a number when it reads as one, else as the string given."""
    if text is None:
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


def _topic_options(
    *names: Callable[..., Any], process_run: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``--topic``, the ``names`` options and one option per topic option (``pt_spark.admin.topics``)."""
    kinds = {"whole": click.IntRange(min=0), "text": str, "value": str}
    options = [
        click.option(
            "--topic",
            "-t",
            required=True,
            callback=_topic_callback,
            help="What to change, case-insensitive: " + ", ".join(topic_names(process_run)) + ".",
        ),
        *names,
    ]
    for option, (kind, help_text, topics) in sorted(all_options().items()):
        flag = "--" + option.replace("_", "-")
        text = f"{help_text} [{', '.join(topics)}]"
        if option == "value":
            text += " Numbers are stored as numbers."
        options.append(click.option(flag, option, type=kinds[kind], help=text))
    return lambda command: functools.reduce(
        lambda wrapped, option: option(wrapped), reversed(options), command
    )


def _options(values: dict[str, Any]) -> dict[str, Any]:
    options = {key: value for key, value in values.items() if value is not None}
    if "value" in options:
        options["value"] = _cli_value(options["value"])
    return options


@main.command(short_help="Create the tracking tables and default rows.")
@click.option(
    "--overwrite", is_flag=True, help="Drop and re-create every table: ALL tracking history is lost."
)
@_store_options
def setup(overwrite: bool, **store: Any) -> None:
    """Create every tracking table and the default rows (safe to run again)."""
    from pt_spark.store import setup as setup_store

    spark, config = _session_and_config(store)
    setup_store(spark, overwrite=overwrite, config=config)
    click.echo(f"Tracking store ready at {config.location or config.namespace}.")


@main.command(short_help="Compact the tracking tables (OPTIMIZE) and VACUUM old files.")
@click.option(
    "--retention-hours",
    type=float,
    default=168.0,
    show_default=True,
    help="VACUUM keeps files removed less than this many hours ago (at least 168).",
)
@click.option("--no-vacuum", is_flag=True, help="Only compact; remove no files.")
@_store_options
def maintain(retention_hours: float, no_vacuum: bool, **store: Any) -> None:
    """Compact every tracking table so reads stay fast after many call-by-call commits.

    Safe while trackers write. Run it from a nightly job, or after a large backfill.
    """
    from pt_spark.store.maintenance import maintain as maintain_store

    spark, config = _session_and_config(store)
    report = maintain_store(
        spark, config=config, vacuum_retention_hours=None if no_vacuum else retention_hours
    )
    compacted = {name: r for name, r in report.items() if r["files_before"] != r["files_after"]}
    for name, result in sorted(compacted.items()):
        click.echo(f"{name}: {result['files_before']} -> {result['files_after']} files")
    click.echo(f"Maintained {len(report)} tables ({len(compacted)} compacted).")


_STORE_KEYS = ("schema", "catalog", "location", "config_location", "remote")


def _split(values: dict[str, Any]) -> tuple[SparkSession, TrackerConfig, dict[str, Any]]:
    """Return the session, the store configuration and the topic options of a command."""
    spark, config = _session_and_config({key: values.pop(key) for key in _STORE_KEYS})
    return spark, config, _options(values)


@main.command(short_help="Create a lookup row or a link between rows.")
@_topic_options(
    click.option("--name", "-n", help="Name of the new row (lookup topics; link topics take none).")
)
@_store_options
def create(topic: str, name: str | None, **values: Any) -> None:
    """Create a lookup row (--name) or a link between rows (e.g. --process and --contact).

    Creating a row that already exists changes nothing (exit code 0); use update to change it.

    \b
    pt-spark create -t contact -n Ann --email ann@x.io
    pt-spark create -t "process contact" --process "My Load" --contact Ann
    pt-spark create -t "process filter" --process "My Load" --source db --source-object teams
                    --attribute year --filter-type gte --value 2020
    """  # noqa: D301
    from pt_spark import admin

    spark, config, options = _split(values)
    created = admin.create(spark, topic, name, config=config, **options)
    what = describe(find_topic(topic), name, options)
    click.echo(f"Created {what}." if created else f"{what} already exists; nothing changed.")


@main.command(short_help="Rename or change a row, or release a process on hold.")
@_topic_options(
    click.option("--initial-name", "-i", help="Current name of the row to change."),
    click.option("--name", "-n", help="New name; with --topic 'process run', the process to release."),
    process_run=True,
)
@_store_options
def update(topic: str, initial_name: str | None, name: str | None, **values: Any) -> None:
    """Rename a row and/or change its options; or release a process on hold.

    \b
    pt-spark update -t contact -i Ann -n "Ann Lee" --email ann@x.io
    pt-spark update -t "process dependency" --parent A --child B --dependency-type Soft
    pt-spark update -t "process run" -n "My Load"   (its 'on hold' run becomes 'completed')
    """  # noqa: D301
    from pt_spark import admin

    spark, config, options = _split(values)
    if topic == PROCESS_RUN:
        if options:
            raise click.UsageError("--topic 'process run' takes only --name (the process to release)")
        process = name if name is not None else initial_name
        run_id = admin.release_hold(spark, process, config=config)
        click.echo(f"Released process {process!r}: run {run_id} is now completed.")
        return
    admin.update(spark, topic, initial_name, name, config=config, **options)
    renamed = f" (now {name!r})" if name is not None and name != initial_name else ""
    click.echo(f"Updated {describe(find_topic(topic), initial_name, options)}{renamed}.")


@main.command(short_help="Delete a lookup row or a link.")
@_topic_options(click.option("--name", "-n", help="Name of the row to delete (lookup topics)."))
@_store_options
def delete(topic: str, name: str | None, **values: Any) -> None:
    """Delete a lookup row (--name) or a link (the options that name it).

    Default rows (e.g. process status 'running') and rows still in use are refused.
    """
    from pt_spark import admin

    spark, config, options = _split(values)
    admin.delete(spark, topic, name, config=config, **options)
    click.echo(f"Deleted {describe(find_topic(topic), name, options)}.")


def _cell(value: Any, column: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if column in ("duration_seconds", "seconds_since_heartbeat"):
        hours, rest = divmod(int(value), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> str:
    """Return ``rows`` as an aligned text table (numbers right-aligned)."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


_STALE_COLUMNS = (
    ("PROCESS", "process_name"),
    ("RUN", "process_run_id"),
    ("TRACKING ID", "process_tracking_id"),
    ("START", "process_run_start_date_time"),
    ("LAST HEARTBEAT", "last_heartbeat_date_time"),
    ("SILENT FOR", "seconds_since_heartbeat"),
)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Return seconds from ``90``, ``90s``, ``30m``, ``2h`` or ``1d``; raise ``click.BadParameter``."""
    value = text.strip().lower()
    unit = _DURATION_UNITS.get(value[-1:], None)
    number = value[:-1] if unit is not None else value
    try:
        seconds = float(number) * (unit or 1)
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected a duration like 90s, 30m, 2h or 1d") from None
    if not seconds > 0:
        raise click.BadParameter(f"{text!r}: expected a duration above zero")
    return seconds


def _show(found: Sequence[Any], columns: Sequence[tuple[str, str]]) -> None:
    numeric = [key in _NUMERIC_COLUMNS for _, key in columns]
    rows = [[_cell(row[key], key) for _, key in columns] for row in found]
    click.echo(format_table([header for header, _ in columns], rows, numeric))


@main.command(short_help="List the latest runs, newest first (--stale: runs that stopped beating).")
@click.option("--process", "-p", "process_name", help="Only this process's runs.")
@click.option(
    "--limit", "-l", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs."
)
@click.option("--stale", is_flag=True, help="Only running runs whose heartbeat is old (see --older-than).")
@click.option(
    "--older-than",
    help="With --stale: silent for longer than this (90s, 30m, 2h, 1d) [default: each process's "
    "stale-run timeout, else the config's stale_run_timeout, else 30m].",
)
@_store_options
def runs(process_name: str | None, limit: int, stale: bool, older_than: str | None, **store: Any) -> None:
    """List the latest runs, newest first (read-only).

    Shows process, run id, tracking id (for ProcessTracker(process_tracking_id=...)), status,
    start, end, duration (h:mm:ss), record count, low/high data dates and error count. With
    --stale, lists the running runs whose job seems gone (close one with `pt-spark fail-run`).
    """
    from pt_spark import admin

    if older_than is not None and not stale:
        raise click.UsageError("--older-than goes with --stale")
    seconds = None if older_than is None else parse_duration(older_than)
    spark, config = _session_and_config(store)
    if stale:
        frame = admin.stale_runs(spark, seconds, config=config)
        if process_name is not None:
            frame = frame.where(frame.process_name == process_name)
        found = frame.limit(limit).collect()
        if not found:
            click.echo("No stale runs.")
            return
        _show(found, _STALE_COLUMNS)
        return
    found = admin.latest_runs(spark, process_name, limit, config=config).collect()
    if not found:
        click.echo("No runs recorded" + (f" for process {process_name!r}." if process_name else "."))
        return
    _show(found, _RUN_COLUMNS)


@main.command("fail-run", short_help="Close a running or held run as failed, by hand.")
@click.option("--id", "process_tracking_id", type=int, required=True, help="The run's tracking id.")
@click.option("--reason", help="Why (stored as the run's Process Error).")
@_store_options
def fail_run(process_tracking_id: int, reason: str | None, **store: Any) -> None:
    """Fail a run whose job is gone (find them with `pt-spark runs --stale`)."""
    from pt_spark import admin

    spark, config = _session_and_config(store)
    run_id = admin.fail_run(spark, process_tracking_id, reason, config=config)
    click.echo(f"Failed process run {process_tracking_id} (run {run_id}).")


@main.command("stale-timeout", short_help="Set or clear a process's own stale-run timeout.")
@click.option("--process", "-p", "process_name", required=True, help="The process.")
@click.option("--after", help="Silent for this long (90s, 30m, 2h, 1d) means abandoned.")
@click.option("--clear", is_flag=True, help="Use the config's stale_run_timeout again.")
@_store_options
def stale_timeout(process_name: str, after: str | None, clear: bool, **store: Any) -> None:
    """Let the next start of a process take over a run silent for --after (or --clear it)."""
    from pt_spark import admin

    if (after is None) == (not clear):
        raise click.UsageError("give exactly one of --after and --clear")
    seconds = None if clear else parse_duration(str(after))
    spark, config = _session_and_config(store)
    admin.set_stale_run_timeout(spark, process_name, seconds, config=config)
    click.echo(
        f"Process {process_name!r}: " + ("stale-run timeout cleared." if clear else f"stale after {after}.")
    )


@main.command("report", short_help="Write an HTML report of the runs: durations, counts, failures, dates.")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="The HTML file to write (its folder must exist; an existing file is replaced).",
)
@click.option("--process", "-p", "process_name", help="Only this process's runs and extracts.")
@click.option("--days", "-d", type=int, help="Only runs started (extracts registered) in the last N days.")
@_store_options
def report_command(out: str, process_name: str | None, days: int | None, **store: Any) -> None:
    """Write one self-contained HTML page about the runs (read-only; opens with no network).

    It shows a summary per process, run durations, record counts over time, failed, held and
    abandoned runs, each run's low/high data dates and the extracts by status.

    \b
    pt-spark report --out report.html
    pt-spark report --out load.html --process "My Load" --days 30
    """  # noqa: D301
    from pt_spark.reports import check_days, check_out, report

    try:
        check_days(days)
    except InvalidInput as error:
        raise click.BadParameter(str(error), param_hint="--days") from error
    try:
        check_out(out)
    except InvalidInput as error:
        raise click.BadParameter(str(error), param_hint="--out") from error
    spark, config = _session_and_config(store)
    path = report(spark, out, process=process_name, days=days, config=config)
    click.echo(f"Report written to {path}")


__all__ = ["first_line", "format_table", "main", "parse_duration"]
