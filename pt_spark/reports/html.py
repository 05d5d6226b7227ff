"""The run report's figures (plotly) and its one self-contained HTML page.

Each figure is stored in the page as JSON (``<script type="application/json" data-figure=...>``)
and drawn by plotly.js, which the page embeds once, so it opens with no network. Names from the
store are escaped for the page and for plotly (whose labels accept a few HTML tags), so a process
called ``<b>x</b>`` shows as written.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from pt_spark._version import __version__
from pt_spark.reports.data import MAX_RUNS, DayCount, ReportData, RunPoint
from pt_spark.statuses import ExtractStatus, RunStatus

#: The run statuses the failures figure counts.
TROUBLE = (RunStatus.FAILED.value, RunStatus.ON_HOLD.value, RunStatus.ABANDONED.value)
#: The most runs the watermark timeline shows (the newest with a low or high date).
MAX_TIMELINE_RUNS = 150
_SYMBOLS = {
    RunStatus.COMPLETED.value: "circle",
    RunStatus.FAILED.value: "x",
    RunStatus.ON_HOLD.value: "square",
}
_STATUS_COLOURS = {
    RunStatus.FAILED.value: "#d62728",
    RunStatus.ON_HOLD.value: "#ff7f0e",
    RunStatus.ABANDONED.value: "#7f7f7f",
}
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
    "height": 380,
    "legend": {"orientation": "h", "y": -0.2},
}


@dataclass(frozen=True)
class Section:
    """One part of the page: a heading, a line about it, and a figure or a note that there is none."""

    key: str
    title: str
    about: str
    figure: go.Figure | None
    empty: str


def label(text: str) -> str:
    """Return ``text`` escaped for plotly labels, which read ``<b>``, ``<br>`` and entities.

    Example:
        >>> label("<b>Load</b> & co")
        '&lt;b&gt;Load&lt;/b&gt; &amp; co'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: Each process keeps one colour in every figure (by its place among the report's processes).
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff")


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat(" ", "minutes")


def colours(data: ReportData) -> dict[str, str]:
    """Return each process's colour, the same in every figure."""
    names = sorted({count.process_name for count in data.daily} | {run.process_name for run in data.runs})
    return {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}


def _day_axis(days: Iterable[date]) -> dict[str, Any]:
    """Return a date x axis that ticks whole days when the span is short (else plotly's choice)."""
    known = sorted(days)
    axis: dict[str, Any] = {"type": "date"}
    if known and (known[-1] - known[0]).days <= 31:
        axis.update(dtick=86_400_000, tickformat="%b %d")
    return axis


def _duration_unit(seconds: Iterable[int]) -> tuple[str, float]:
    longest = max(seconds, default=0)
    if longest >= 2 * 3600:
        return "hours", 3600.0
    if longest >= 120:
        return "minutes", 60.0
    return "seconds", 1.0


def _by_process(runs: Iterable[RunPoint]) -> dict[str, list[RunPoint]]:
    grouped: dict[str, list[RunPoint]] = defaultdict(list)
    for run in runs:
        grouped[run.process_name].append(run)
    return dict(sorted(grouped.items()))


def durations_figure(runs: Sequence[RunPoint], colour: dict[str, str]) -> go.Figure | None:
    """Return each finished run's duration against its start, one trace per process."""
    timed = [run for run in reversed(runs) if run.duration_seconds is not None and run.start is not None]
    if not timed:
        return None
    unit, per = _duration_unit(run.duration_seconds or 0 for run in timed)
    figure = go.Figure(
        layout={**_LAYOUT, "yaxis": {"title": {"text": f"duration ({unit})"}, "rangemode": "tozero"}}
    )
    for name, group in _by_process(timed).items():
        figure.add_trace(
            go.Scatter(
                name=label(name),
                x=[_iso(run.start) for run in group],
                y=[round((run.duration_seconds or 0) / per, 3) for run in group],
                customdata=[[run.process_run_id, label(run.status)] for run in group],
                mode="lines+markers",
                marker={
                    "symbol": [_SYMBOLS.get(run.status, "diamond") for run in group],
                    "size": 9,
                    "color": colour.get(name),
                },
                line={"color": colour.get(name)},
                hovertemplate="run %{customdata[0]} (%{customdata[1]})<br>%{x}<br>%{y} " + unit,
            )
        )
    return figure


def records_figure(daily: Sequence[DayCount], colour: dict[str, str]) -> go.Figure | None:
    """Return the records the runs of each day counted, stacked by process."""
    totals: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for count in daily:
        if count.day is not None:
            totals[count.process_name][count.day] += count.records
    if not any(value for days in totals.values() for value in days.values()):
        return None
    figure = go.Figure(layout={**_LAYOUT, "barmode": "stack", "yaxis": {"title": {"text": "records"}}})
    for name, days in sorted(totals.items()):
        ordered = sorted(days.items())
        figure.add_trace(
            go.Bar(
                name=label(name),
                x=[_iso(day) for day, _ in ordered],
                y=[value for _, value in ordered],
                marker={"color": colour.get(name)},
            )
        )
    figure.update_xaxes(_day_axis(day for days in totals.values() for day in days))
    return figure


def failures_figure(daily: Sequence[DayCount]) -> go.Figure | None:
    """Return the failed, held and abandoned runs per start day, stacked by status."""
    counts: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for count in daily:
        if count.status in TROUBLE and count.day is not None:
            counts[count.status][count.day] += count.runs
    if not counts:
        return None
    figure = go.Figure(layout={**_LAYOUT, "barmode": "stack", "yaxis": {"title": {"text": "runs"}}})
    for status in TROUBLE:
        if status in counts:
            ordered = sorted(counts[status].items())
            figure.add_trace(
                go.Bar(
                    name=status,
                    x=[_iso(day) for day, _ in ordered],
                    y=[value for _, value in ordered],
                    marker={"color": _STATUS_COLOURS[status]},
                )
            )
    figure.update_xaxes(_day_axis(day for days in counts.values() for day in days))
    return figure


def watermark_figure(runs: Sequence[RunPoint], colour: dict[str, str]) -> go.Figure | None:
    """Return each run's low..high data dates as a line, the newest run on top."""
    dated = [run for run in runs if run.low is not None or run.high is not None][:MAX_TIMELINE_RUNS]
    if not dated:
        return None
    rows = [f"{label(run.process_name)} #{run.process_run_id}" for run in reversed(dated)]
    layout = {
        **_LAYOUT,
        "height": max(300, 120 + 22 * len(dated)),
        "xaxis": {"type": "date", "title": {"text": "data dates (low to high)"}},
        "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": rows, "automargin": True},
    }
    figure = go.Figure(layout=layout)
    for name, group in _by_process(dated).items():
        xs: list[str | None] = []
        ys: list[str | None] = []
        for run in group:
            low, high = run.low or run.high, run.high or run.low
            xs += [_iso(low), _iso(high), None]
            ys += [f"{label(name)} #{run.process_run_id}"] * 2 + [None]
        figure.add_trace(
            go.Scatter(
                name=label(name),
                x=xs,
                y=ys,
                mode="lines+markers",
                line={"width": 6, "color": colour.get(name)},
                connectgaps=False,
            )
        )
    return figure


def extracts_figure(statuses: Sequence[tuple[str, int]]) -> go.Figure | None:
    """Return the extracts per current status, in the order of the extract lifecycle."""
    if not statuses:
        return None
    order = {name: index for index, name in enumerate(ExtractStatus.names())}
    ordered = sorted(statuses, key=lambda pair: (order.get(pair[0], len(order)), pair[0]))
    figure = go.Figure(layout={**_LAYOUT, "yaxis": {"title": {"text": "extracts"}}, "showlegend": False})
    figure.add_trace(
        go.Bar(
            x=[label(name) for name, _ in ordered],
            y=[count for _, count in ordered],
            text=[str(count) for _, count in ordered],
            textposition="auto",
        )
    )
    return figure


def sections(data: ReportData) -> list[Section]:
    """Return the page's figure sections, in order."""
    colour = colours(data)
    shown = (
        f" (the newest {MAX_RUNS:,} of {data.total_runs:,} runs)" if data.total_runs > len(data.runs) else ""
    )
    return [
        Section(
            "durations",
            "Run durations",
            f"End minus start of each finished run; x marks a failed run, a square a held one{shown}.",
            durations_figure(data.runs, colour),
            "No finished runs in this window.",
        ),
        Section(
            "records",
            "Record counts over time",
            "The record counts of the runs started each day, stacked by process.",
            records_figure(data.daily, colour),
            "No run in this window recorded a record count.",
        ),
        Section(
            "failures",
            "Failures and holds",
            "Failed, on hold and abandoned runs, by the day they started.",
            failures_figure(data.daily),
            "No failed, held or abandoned runs in this window.",
        ),
        Section(
            "watermarks",
            "Watermark timeline",
            f"Each run's low and high data dates (the newest {MAX_TIMELINE_RUNS} runs that set them).",
            watermark_figure(data.runs, colour),
            "No run in this window set low/high dates.",
        ),
        Section(
            "extracts",
            "Extract status counts",
            "Extracts by their current status"
            + (" (linked to this process's runs)" if data.process else "")
            + (" (registered in this window)" if data.days else "")
            + ".",
            extracts_figure(data.extract_statuses),
            "No extracts recorded" + (" in this window." if data.days else "."),
        ),
    ]


def _summary_rows(data: ReportData) -> list[list[str]]:
    """Return one row per process: runs by status, records, mean duration, latest run."""
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for count in data.daily:
        totals = per[count.process_name]
        totals["runs"] += count.runs
        totals[count.status] += count.runs
        totals["records"] += count.records
        totals["timed"] += count.timed_runs
        totals["seconds"] += count.duration_seconds
    latest: dict[str, RunPoint] = {}
    for run in data.runs:  # newest first
        latest.setdefault(run.process_name, run)
    rows = []
    for name, totals in sorted(per.items()):
        mean = f"{totals['seconds'] / totals['timed']:,.1f} s" if totals["timed"] else "-"
        last = latest.get(name)
        rows.append(
            [
                name,
                f"{totals['runs']:,}",
                *(f"{totals[status]:,}" for status in RunStatus.names()),
                f"{totals['records']:,}",
                mean,
                "-" if last is None else f"{last.status} ({_when(last.start)})",
            ]
        )
    return rows


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure_json(figure: go.Figure) -> str:
    """Return the figure as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(json.loads(figure.to_json()), separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 4px; } h2 { font-size: 1.2em; margin-top: 28px; }
.meta, .about { color: #555; } .empty { color: #777; font-style: italic; }
table.summary { border-collapse: collapse; font-size: 0.9em; }
table.summary th, table.summary td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: right; }
table.summary th:first-child, table.summary td:first-child { text-align: left; }
.figure { min-height: 300px; }
"""
_DRAW = """
document.querySelectorAll('script[data-figure]').forEach(function (node) {
  var spec = JSON.parse(node.textContent);
  Plotly.newPlot(node.dataset.figure, spec.data, spec.layout, {displaylogo: false, responsive: true});
});
"""


def _scope(data: ReportData) -> str:
    who = f"process {data.process}" if data.process else "all processes"
    when = (
        f"runs started in the last {data.days} days (since {_when(data.since)})" if data.days else "all runs"
    )
    return f"{who}; {when}"


def render(data: ReportData) -> str:
    """Return the whole report page for ``data``."""
    parts = [f"<h1>pt_spark run report</h1><p class=\"meta\">{html.escape(_scope(data))}. Store: "
             f"{html.escape(data.store)}. Generated {html.escape(_when(data.generated))} by pt_spark "
             f"{html.escape(__version__)}.</p>"]  # fmt: skip
    if data.total_runs == 0:
        where = f"for process {data.process!r}" if data.process else "in this store"
        window = f" in the last {data.days} days" if data.days else ""
        parts.append(f'<p class="empty" id="no-runs">No runs recorded {html.escape(where)}{window}.</p>')
    else:
        headers = ["process", "runs", *RunStatus.names(), "records", "mean duration", "latest run"]
        parts.append("<h2>Processes</h2>" + _table(headers, _summary_rows(data)))
    drawn = 0
    for section in sections(data):
        parts.append(f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>')
        if section.figure is None:
            parts.append(f'<p class="empty">{html.escape(section.empty)}</p></section>')
            continue
        drawn += 1
        parts.append(
            f'<p class="about">{html.escape(section.about)}</p>'
            f'<div class="figure" id="fig-{section.key}"></div>'
            f'<script type="application/json" data-figure="fig-{section.key}">'
            f"{_figure_json(section.figure)}</script></section>"
        )
    script = f"<script>{get_plotlyjs()}</script>" if drawn else ""
    draw = f"<script>{_DRAW}</script>" if drawn else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pt_spark run report</title><style>{_STYLE}</style>{script}</head>"
        f"<body>{''.join(parts)}{draw}</body></html>\n"
    )


__all__ = ["MAX_TIMELINE_RUNS", "Section", "label", "render", "sections"]
