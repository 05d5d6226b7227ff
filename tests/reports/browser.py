"""Open a report page in Debian's headless Chromium with playwright, and say what it showed.

Playwright drives the system ``chromium`` (``executable_path``); it never downloads a browser.
Console errors and uncaught page errors are captured from playwright's ``console`` and
``pageerror`` events, every request that is not to a ``file:`` URL is blocked and recorded, and
the screenshot's pixel spread is measured in the page itself (a canvas), so no image library is
needed. ``python -m tests.reports.browser report.html docs/report.png`` takes the README's
screenshot.
"""

from __future__ import annotations

import base64
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Plots drawn, and the SVG roots plotly made inside them.
_COUNT_PLOTS = """() => ({
  plots: document.querySelectorAll('.js-plotly-plot').length,
  svgs: document.querySelectorAll('.js-plotly-plot svg.main-svg').length,
  traces: document.querySelectorAll('.js-plotly-plot g.trace').length,
  figures: document.querySelectorAll('script[data-figure]').length,
  injected: document.querySelectorAll('body b').length,
  scripts: document.scripts.length,
})"""
#: The standard deviation of a PNG's grey levels (0 for a blank page), computed on a canvas.
_PIXEL_SPREAD = """async (src) => {
  const image = new Image();
  image.src = src;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let sum = 0, squares = 0, n = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const grey = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
    sum += grey; squares += grey * grey; n += 1;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, squares / n - mean * mean));
}"""


@dataclass
class PageView:
    """What the browser saw: errors, blocked requests, plots and the screenshot's pixel spread."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    plots: int = 0
    svgs: int = 0
    traces: int = 0
    figures: int = 0
    injected: int = 0
    scripts: int = 0
    pixel_spread: float = 0.0
    text: str = ""


def chromium() -> str:
    """Return the path of Debian's chromium, or fail with how to install it."""
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("chromium is not installed: apt-get install -y chromium (or `make test-report`)")
    return path


def view(page_file: Path, screenshot: Path | None = None, timeout_ms: int = 60_000) -> PageView:
    """Open ``page_file`` offline in headless Chromium and return what it showed."""
    from playwright.sync_api import Route, sync_playwright

    seen = PageView()

    def block(route: Route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            seen.blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on(
                "console",
                lambda message: message.type == "error" and seen.console_errors.append(message.text),
            )
            page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
            page.route("**/*", block)
            page.goto(page_file.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            figures = page.evaluate("document.querySelectorAll('script[data-figure]').length")
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot').length >= {int(figures)}", timeout=timeout_ms
            )
            page.wait_for_timeout(300)  # let plotly finish its first transition
            counts = page.evaluate(_COUNT_PLOTS)
            seen.plots, seen.svgs, seen.traces = counts["plots"], counts["svgs"], counts["traces"]
            seen.figures, seen.injected, seen.scripts = (
                counts["figures"],
                counts["injected"],
                counts["scripts"],
            )
            seen.text = page.inner_text("body")
            png = page.screenshot(full_page=True, path=None if screenshot is None else str(screenshot))
            source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            seen.pixel_spread = float(page.evaluate(_PIXEL_SPREAD, source))
        finally:
            browser.close()
    return seen


if __name__ == "__main__":
    result = view(Path(sys.argv[1]), Path(sys.argv[2]))
    print(result.console_errors, result.page_errors, result.blocked, result.plots, result.pixel_spread)
