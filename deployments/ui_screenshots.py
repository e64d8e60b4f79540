"""Pictures of the Prefect UI as operations staff see it, after `make demo`, taken in headless Chromium.

Starts `bridgehead serve` (the local server on var/prefect, where the demo's runs are, and every
deployment), checks that the deployments page lists every Bridgehead deployment, and saves:
the deployments page, the latest daily-sweep run, and the latest review artifact. Stops what it
started, by process id.

    .venv/bin/python -m deployments.ui_screenshots [--out docs]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from deployments.browser_check import browser
from deployments.local_server import free_port, stop_process

BRIDGEHEAD = str(Path(sys.executable).with_name("bridgehead"))


def _serve(port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [BRIDGEHEAD, "serve", "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # Ctrl-C works even from a script
    )


def _until(what: str, check, timeout_s: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"waited {timeout_s:.0f} s for {what}")


def take(out: Path, port: int) -> dict[str, Path]:
    """The three pictures from a served UI; an error if a Bridgehead deployment is missing from its page."""
    from deployments.serve import deployments

    api, ui = httpx.Client(base_url=f"http://127.0.0.1:{port}/api", timeout=10), f"http://127.0.0.1:{port}"
    expected = sorted(deployments())
    _until(
        "every deployment registered",
        lambda: len(api.post("/deployments/filter", json={}).json()) >= len(expected),
    )
    sweep = api.post(
        "/flow_runs/filter",
        json={"flows": {"name": {"any_": ["daily-sweep"]}}, "sort": "START_TIME_DESC", "limit": 1},
    ).json()
    review = api.post(
        "/artifacts/filter",
        json={
            "artifacts": {"key": {"like_": "review-"}, "type": {"any_": ["markdown"]}},
            "sort": "CREATED_DESC",
            "limit": 1,
        },
    ).json()
    if not sweep or not review:
        raise LookupError("no daily-sweep run or review artifact: run `make demo` first")
    shots = {
        "deployments": (f"{ui}/deployments", "daily-sweep"),
        "daily-sweep-run": (f"{ui}/runs/flow-run/{sweep[0]['id']}", sweep[0]["name"]),
        "review-artifact": (f"{ui}/artifacts/artifact/{review[0]['id']}", "Review"),
    }
    out.mkdir(parents=True, exist_ok=True)
    saved = {}
    with browser() as b:
        for name, (url, wait_for) in shots.items():
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="load")
            page.get_by_text(wait_for).first.wait_for(state="visible", timeout=60_000)
            page.wait_for_timeout(1500)  # charts and lists settle after the first paint
            if name == "deployments":
                text = page.inner_text("body")
                missing = [d for d in expected if d not in text]
                if missing:
                    raise AssertionError(f"not on the deployments page: {', '.join(missing)}")
            saved[name] = out / f"ui-{name}.png"
            page.screenshot(path=str(saved[name]))
            page.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    os.environ.pop("PREFECT_API_URL", None)  # the local server on var/prefect, where the demo's runs are
    os.environ.setdefault("BRIDGEHEAD_DATABASE_URL", "sqlite:///var/demo/bridgehead.db")  # the demo's data
    port = free_port()
    serve = _serve(port, Path("var") / "ui-screenshots-serve.log")
    try:
        _until(
            "the Prefect server", lambda: httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
        )
        for name, path in take(args.out, port).items():
            print(f"{name}: {path}")
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop_process(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
