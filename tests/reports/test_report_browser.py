"""The run report in headless Chromium (``make test-report``): it draws every figure, offline, cleanly.

Debian's chromium, driven by playwright (``tests/reports/browser.py``). The page is opened from
disk with every non-``file:`` request blocked, so a page that needed the network would show it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pt_spark
from tests.reports.browser import PageView, view
from tests.reports.history import HTML_NAME, IDLE, write_history

pytestmark = pytest.mark.browser


def assert_clean(seen: PageView) -> None:
    assert seen.console_errors == []
    assert seen.page_errors == []
    assert seen.blocked == []  # it asked for nothing from the network


@pytest.fixture(scope="module")
def pages(spark, config, tmp_path_factory) -> dict[str, Path]:
    """The report of the empty store, then (after the history is written) the full report."""
    folder = tmp_path_factory.mktemp("browser")
    empty = pt_spark.report(spark, folder / "empty.html", config=config)
    write_history(spark, config)
    return {
        "empty": empty,
        "full": pt_spark.report(spark, folder / "full.html", config=config),
        "idle": pt_spark.report(spark, folder / "idle.html", process=IDLE, config=config),
    }


def test_every_figure_is_drawn_without_console_errors(pages, tmp_path):
    seen = view(pages["full"], tmp_path / "full.png")

    assert_clean(seen)
    assert seen.figures == seen.plots == 5
    assert seen.svgs >= 2 * seen.plots  # plotly draws each plot in its main SVG layers
    assert seen.traces >= 10
    assert seen.pixel_spread > 20  # not a blank page
    assert (tmp_path / "full.png").stat().st_size > 50_000
    assert seen.scripts == seen.figures + 2  # plotly.js once, the figures' JSON, the drawing
    assert seen.injected == 0 and HTML_NAME in seen.text  # the HTML name shows as written


@pytest.mark.parametrize("name", ["empty", "idle"])
def test_pages_without_runs_open_cleanly_and_say_so(pages, name, tmp_path):
    seen = view(pages[name])

    assert_clean(seen)
    assert seen.plots == seen.figures == 0
    assert "No runs recorded" in seen.text
    assert seen.pixel_spread > 0  # the heading and the notes are drawn
