"""``pt_spark.report`` and ``pt-spark report`` on a real Delta store with a history of known shape.

The page's figures are read back from their JSON in the page; the browser lane
(``test_report_browser.py``) checks that Chromium draws them.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

import pt_spark
from pt_spark import InvalidInput, NotFound
from pt_spark.cli import main
from tests.reports.history import EXTRACT, HTML_NAME, IDLE, LOAD, History, write_history

_FIGURE = re.compile(r'<script type="application/json" data-figure="fig-([a-z]+)">(.*?)</script>', re.S)
_PLOTLY_JS = "plotly.js v"


def figures(page: str) -> dict[str, dict[str, Any]]:
    """The page's figures by key (durations, records, failures, watermarks, extracts)."""
    return {key: json.loads(text) for key, text in _FIGURE.findall(page)}


def traces(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {trace.get("name", ""): trace for trace in figure["data"]}


def day(days_ago: int) -> str:
    return (datetime.now() - timedelta(days=days_ago)).date().isoformat()


def cli(config, *args: str):
    store = ["--schema", config.schema_name, "--location", str(config.location)]
    return CliRunner().invoke(main, ["report", *args, *store])


@pytest.fixture(scope="module")
def history(spark, config) -> History:
    return write_history(spark, config)


@pytest.fixture(scope="module")
def full_page(spark, config, history, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert pt_spark.report(spark, out, config=config) == out
    return out.read_text(encoding="utf-8")


# Runs first, before the module's history exists: the store holds only its default rows.
def test_an_empty_store_gives_a_page_that_says_so(spark, config, tmp_path):
    out = tmp_path / "empty.html"
    pt_spark.report(spark, str(out), config=config)
    page = out.read_text(encoding="utf-8")

    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "No runs recorded in this store." in page
    assert figures(page) == {} and _PLOTLY_JS not in page  # nothing to draw: no 4.8 MB of JS


def test_the_page_holds_each_figure_and_plotly_js_once(full_page):
    assert set(figures(full_page)) == {"durations", "records", "failures", "watermarks", "extracts"}
    assert full_page.count(_PLOTLY_JS) == 1
    assert "cdn." not in full_page.split("<style>")[0] and 'src="http' not in full_page


def test_run_durations(full_page):
    figure = figures(full_page)["durations"]
    by_name = traces(figure)

    assert figure["layout"]["yaxis"]["title"]["text"] == "duration (minutes)"  # the longest is 30 min
    assert by_name[EXTRACT]["y"] == [10, 5, 1, 20]  # oldest first
    assert by_name[LOAD]["y"] == [30, 2, 3, 1]  # the held run has no end, so no duration
    assert by_name[LOAD]["marker"]["symbol"] == ["circle", "x", "x", "x"]
    assert [point[0] for point in by_name[EXTRACT]["customdata"]] == [1, 2, 3, 4]


def test_record_counts_over_time(full_page):
    by_name = traces(figures(full_page)["records"])

    assert dict(zip(by_name[EXTRACT]["x"], by_name[EXTRACT]["y"], strict=True)) == {
        day(40): 1000, day(12): 2000, day(5): 0, day(2): 4000,
    }  # fmt: skip
    assert sum(by_name[LOAD]["y"]) == 1500


def test_failures_and_holds(full_page):
    by_name = traces(figures(full_page)["failures"])

    assert set(by_name) == {"failed", "on hold"}
    assert dict(zip(by_name["failed"]["x"], by_name["failed"]["y"], strict=True)) == {
        day(5): 2, day(4): 1, day(3): 1,
    }  # fmt: skip
    assert dict(zip(by_name["on hold"]["x"], by_name["on hold"]["y"], strict=True)) == {day(2): 1}


def test_the_watermark_timeline_shows_each_runs_low_and_high_dates(full_page):
    figure = figures(full_page)["watermarks"]
    by_name = traces(figure)

    assert by_name[EXTRACT]["x"][:3] == ["2024-03-01T00:00:00", "2024-03-31T00:00:00", None]  # newest first
    dates = ["2024-01-01", "2024-01-31", "2024-02-01", "2024-02-29", "2024-03-01", "2024-03-31"]
    assert sorted(x for x in by_name[EXTRACT]["x"] if x) == [f"{d}T00:00:00" for d in dates]
    assert by_name[LOAD]["x"] == ["2024-01-01T00:00:00", "2024-02-29T00:00:00", None]
    assert figure["layout"]["yaxis"]["categoryarray"][-1] == f"{EXTRACT} #4"  # the newest run on top


def test_extract_status_counts(full_page):
    [bars] = figures(full_page)["extracts"]["data"]

    assert dict(zip(bars["x"], bars["y"], strict=True)) == {
        "ready": 2,
        "loaded": 3,
        "archived": 1,
        "error": 1,
    }
    assert bars["x"] == ["ready", "loaded", "archived", "error"]  # the lifecycle's order


def test_the_summary_table_counts_runs_by_status(full_page):
    rows = re.findall(r"<tr>(.*?)</tr>", full_page.split('class="summary"')[1].split("</table>")[0])
    cells = {re.findall(r"<td>(.*?)</td>", row)[0]: re.findall(r"<td>(.*?)</td>", row) for row in rows[1:]}

    # process, runs, running, completed, failed, on hold, abandoned, records, mean duration, latest
    assert cells[EXTRACT][1:8] == ["4", "0", "3", "1", "0", "0", "7,000"]
    assert cells[LOAD][1:8] == ["5", "0", "1", "3", "1", "0", "1,500"]
    assert cells[EXTRACT][8] == f"{(600 + 300 + 60 + 1200) / 4:,.1f} s"
    assert cells[LOAD][9].startswith("on hold (")
    assert IDLE not in cells  # no runs, no row


def test_names_are_shown_as_written_and_never_run_as_html(full_page):
    assert HTML_NAME not in full_page  # neither raw in the page ...
    assert "Report &lt;/script&gt;&lt;b&gt;x&lt;/b&gt; &amp; &#x27;co&#x27;" in full_page  # ... but escaped
    assert "Report &lt;/script&gt;&lt;b&gt;x&lt;/b&gt; &amp; 'co'" in traces(figures(full_page)["durations"])


def test_days_keeps_only_recent_runs_and_extracts(spark, config, history, tmp_path):
    out = pt_spark.report(spark, tmp_path / "recent.html", days=30, config=config)
    page = out.read_text(encoding="utf-8")
    shown = figures(page)

    assert traces(shown["durations"])[EXTRACT]["y"] == [5, 1, 20]  # the 40-day-old run is out
    assert day(40) not in traces(shown["records"])[EXTRACT]["x"]
    [bars] = shown["extracts"]["data"]
    assert dict(zip(bars["x"], bars["y"], strict=True)) == {"ready": 2, "loaded": 3, "error": 1}
    assert "in the last 30 days" in page


def test_one_process(spark, config, history, tmp_path):
    page = pt_spark.report(spark, tmp_path / "load.html", process=f"  {LOAD} ", config=config).read_text()
    shown = figures(page)

    assert set(traces(shown["durations"])) == {LOAD}
    [bars] = shown["extracts"]["data"]
    assert dict(zip(bars["x"], bars["y"], strict=True)) == {"loaded": 3, "error": 1}  # linked to its runs
    assert f"process {LOAD}" in page


def test_a_process_without_runs_gives_a_page_that_says_so(spark, config, history, tmp_path):
    page = pt_spark.report(spark, tmp_path / "idle.html", process=IDLE, config=config).read_text()

    assert html.escape(f"No runs recorded for process {IDLE!r}.") in page
    assert figures(page) == {} and page.rstrip().endswith("</html>")


@pytest.mark.parametrize("days", [0, -3, True, 1.5, "7", 100_001])
def test_days_must_be_a_positive_whole_number(spark, config, tmp_path, days):
    out = tmp_path / "bad.html"
    with pytest.raises(InvalidInput, match="days"):
        pt_spark.report(spark, out, days=days, config=config)
    assert not out.exists()


def test_an_unknown_process_is_not_found_and_writes_nothing(spark, config, history, tmp_path):
    out = tmp_path / "unknown.html"
    with pytest.raises(NotFound, match="No Such Process"):
        pt_spark.report(spark, out, process="No Such Process", config=config)
    assert list(tmp_path.iterdir()) == []  # not even a temporary file


@pytest.mark.parametrize("out", ["missing_folder/report.html", "."])
def test_out_must_be_a_file_in_an_existing_folder(spark, config, tmp_path, out):
    with pytest.raises(InvalidInput, match="out"):
        pt_spark.report(spark, tmp_path / out, config=config)
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_report_and_prints_its_path(config, history, tmp_path):
    out = tmp_path / "cli.html"
    result = cli(config, "--out", str(out), "--process", EXTRACT, "--days", "30")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Report written to {out}"
    assert set(traces(figures(out.read_text())["durations"])) == {EXTRACT}


def test_cli_errors(config, history, tmp_path):
    out = tmp_path / "cli.html"
    unknown = cli(config, "--out", str(out), "--process", "No Such Process")
    assert unknown.exit_code == 1 and "Error: Process 'No Such Process' not found" in unknown.stderr
    bad_days = cli(config, "--out", str(out), "--days", "0")
    assert bad_days.exit_code == 2 and "--days" in bad_days.stderr
    assert cli(config, "--out", str(out), "--days", "soon").exit_code == 2
    assert cli(config).exit_code == 2  # --out is required
    assert not out.exists()


def test_report_is_exported():
    assert "report" in pt_spark.__all__ and pt_spark.report.__module__ == "pt_spark.reports"


def test_report_explains_itself():
    result = CliRunner().invoke(main, ["report", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--process", "--days", "--schema", "--location", "--config"):
        assert option in result.stdout
    assert "report" in CliRunner().invoke(main, ["--help"]).stdout
