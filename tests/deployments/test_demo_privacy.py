"""No tipster contact and no caller phone leaves the database during a whole demo.

The demo runs against a Prefect server of its own, so every log line and artifact it produced can be
read back through the API afterwards. Every contact of `tips.csv` and every phone of `calls.csv` is
then looked for in: the demo's own output, the server's logs, every artifact, every file the demo
exported (reports, CSV, JSON, HTML), and every audit row.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from deployments.local_server import LocalServer
from tests.factories import BRIDGEHEAD

pytestmark = pytest.mark.server

DIGITS = re.compile(r"\d{5,}")
WORDS = re.compile(r"[A-Za-z0-9_@.+\-]{5,}")


def _needles(data: Path) -> tuple[set[str], set[str]]:
    """Phone-like secrets as digits only, and the other contacts (WeChat ids, e-mails) as written."""
    phones, others = set(), set()
    values = [r["contact"] for r in csv.DictReader((data / "tips.csv").open(encoding="utf-8"))]
    values += [r["phone"] for r in csv.DictReader((data / "calls.csv").open(encoding="utf-8"))]
    for value in filter(None, (v.strip() for v in values)):
        digits = re.sub(r"\D", "", value)
        (
            phones.add(digits[-11:])
            if len(digits) >= 7 and len(digits) >= len(value) - 4
            else others.add(value)
        )
    return phones, others


def _paged(api: httpx.Client, path: str, body: dict | None = None) -> Iterator[dict]:
    offset = 0
    while True:
        page = api.post(path, json={**(body or {}), "limit": 200, "offset": offset}).json()
        yield from page
        if len(page) < 200:
            return
        offset += 200


def _leaks(haystack: str, phones: set[str], others: set[str]) -> set[str]:
    found = {d[-11:] for d in DIGITS.findall(haystack) if d[-11:] in phones}
    found |= {w for w in WORDS.findall(haystack) if w in others}
    return found | {o for o in others if " " in o and o in haystack}


def _written_by_bridgehead(path: Path) -> bool:
    """Not the city's own files (the generated data, the inbox the simulated city fed: the input, phones
    and all), not a database (its phones and contacts are sealed) or the key; quarantine reports count."""
    if path.name.endswith(".quarantine.csv"):
        return True
    if {"data", "inbox"} & set(path.parts[:-1]) or path.suffix == ".db" or path.name.startswith("secret"):
        return False
    return not path.name.startswith("bridgehead.db")  # the WAL and journal beside it


def test_a_full_demo_writes_no_contact_or_phone_anywhere_it_can_be_read(tmp_path: Path) -> None:
    folder, reports = tmp_path / "demo", tmp_path / "reports"
    with LocalServer(tmp_path / "prefect") as server:
        env = {
            **os.environ,
            "PREFECT_HOME": str(server.home),
            "PREFECT_API_URL": server.api_url,
            "BRIDGEHEAD_REPORTS_DIR": str(reports),
        }
        env.pop("BRIDGEHEAD_DATABASE_URL", None)
        demo = subprocess.run(
            [BRIDGEHEAD, "demo", "--dir", str(folder), "--scale", "0.02", "--replay-days", "7"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        api = httpx.Client(base_url=server.api_url, timeout=30)
        logs = [r["message"] for r in _paged(api, "/logs/filter")]
        artifacts = [json.dumps(a, ensure_ascii=False, default=str) for a in _paged(api, "/artifacts/filter")]
    exported = [
        f.read_text(encoding="utf-8", errors="replace")
        for root in (reports, folder)
        for f in root.rglob("*")
        if f.is_file() and _written_by_bridgehead(f.relative_to(root))
    ]
    engine = create_engine(f"sqlite:///{folder / 'bridgehead.db'}")
    with engine.connect() as conn:
        audit = [
            " ".join(str(v) for v in row)
            for row in conn.execute(
                text("SELECT actor, action, entity, entity_id, before, after, reason FROM audit_log")
            )
        ]
    engine.dispose()
    phones, others = _needles(folder / "data")
    assert len(phones) > 1000 and others  # the needles are real: every generated phone and contact
    assert len(logs) > 100 and len(artifacts) > 5 and len(exported) >= 6 and len(audit) > 1000
    assert "Tip " in demo.stdout and "rewarded" in demo.stdout  # the tipster's loop ran
    for name, texts in {
        "the demo's output": [demo.stdout, demo.stderr],
        "log lines": logs,
        "artifacts": artifacts,
        "exported files": exported,
        "audit rows": audit,
    }.items():
        leaks = _leaks("\n".join(texts), phones, others)
        assert not leaks, f"{len(leaks)} contacts or phones in {name}, e.g. {sorted(leaks)[:3]}"
