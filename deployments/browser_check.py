"""Open a page in headless Chromium and say whether it really works: no console errors, every chart drawn.

A report can be valid HTML and still show an empty box where a chart should be, so the check asks the
browser itself. It uses the system Chromium (Debian's /usr/bin/chromium) and never downloads one.
A report must be self-contained, so any request that leaves the file (not `file:`, `data:` or
`about:`) is refused and counted against it.

    python -m deployments.browser_check REPORT.html [--screenshot out.png]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Route

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")

# Run in the page: for each `.chart`, is the picture there (an <img> loaded, an <svg> with size and paths)?
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('.chart')).map((el, i) => {
  const tag = el.tagName.toLowerCase();
  const target = (tag === 'img' || tag === 'svg') ? el : el.querySelector('img, svg');
  let drawn = false;
  if (target && target.tagName.toLowerCase() === 'img') {
    drawn = target.complete && target.naturalWidth > 0;
  } else if (target) {
    const box = target.getBoundingClientRect();
    drawn = box.width > 0 && box.height > 0 && target.querySelector('path') !== null;
  }
  return [el.id || `chart-${i + 1}`, drawn];
})"""


@dataclass
class ReportCheck:
    console_errors: list[str]
    charts: dict[str, bool]
    ok: bool
    external_requests: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{'ok' if self.ok else 'NOT OK'}: {len(self.charts)} charts"]
        lines += [f"  {name}: {'drawn' if drawn else 'NOT DRAWN'}" for name, drawn in self.charts.items()]
        lines += [f"  console error: {message}" for message in self.console_errors]
        lines += [f"  external request refused: {url}" for url in self.external_requests]
        return "\n".join(lines)


def chromium_path() -> str:
    return shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def browser() -> Iterator[Browser]:
    """The system Chromium, headless; `--no-sandbox` because containers and CI run it as root."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


def check_report(path: Path, screenshot: Path | None = None) -> ReportCheck:
    """Load a report from disk and check it; `screenshot` saves the whole page as PNG for a person to see."""
    errors: list[str] = []
    external: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_request(route: Route) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.route("**/*", on_request)
        page.goto(path.resolve().as_uri(), wait_until="load")
        charts = {str(name): bool(drawn) for name, drawn in page.evaluate(CHARTS_DRAWN)}
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
    ok = not errors and not external and bool(charts) and all(charts.values())
    return ReportCheck(console_errors=errors, charts=charts, ok=ok, external_requests=external)


def screenshot(
    url: str,
    out: Path,
    wait_for_text: str | None = None,
    width: int = 1400,
    height: int = 900,
    timeout_s: float = 30,
    full_page: bool = True,
) -> Path:
    """A PNG of any page (the Prefect UI, say), taken once `wait_for_text` shows, as apps draw after load."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with browser() as b:
        page = b.new_page(viewport={"width": width, "height": height})
        page.goto(url, wait_until="load", timeout=timeout_s * 1000)
        if wait_for_text is not None:
            page.get_by_text(wait_for_text).first.wait_for(state="visible", timeout=timeout_s * 1000)
        page.screenshot(path=str(out), full_page=full_page)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a review report in headless Chromium.")
    parser.add_argument("report", type=Path, help="the report's HTML file")
    parser.add_argument("--screenshot", type=Path, help="save a full-page PNG here")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        parser.error(f"{args.report} is not a file")
    result = check_report(args.report, args.screenshot)
    print(result)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
