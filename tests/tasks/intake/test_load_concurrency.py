"""Two intakes at once make the register that one after the other makes (issue 18, item 1).

Two real processes take in two overlapping call files. Each validates and loads its file, then both
wait at a barrier and start linking, grading and opening incidents at the same instant: the moment
that used to give two risks for one address, risks with no signal and incidents on them. The
register they leave must be the one the two files give taken in one after the other, in either order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bridgehead.db import session_scope
from models.incident import Incident
from models.risk import Risk
from models.signal import Signal
from tasks.jurisdiction import load_jurisdiction
from tests.factories import empty_tables, write_rows

STAGES = """
import sys, time
from pathlib import Path
from tests.factories import ingest_stages
path, ready, go = map(Path, sys.argv[1:])
load, rest = ingest_stages(path)
load()
ready.touch()
while not go.exists():
    time.sleep(0.005)
rest()
"""

ADDRESSES = [f"幸福路{n}号" for n in range(1, 16)]
COMMUNITIES = ["61030301001", "61030301002", "61032301001"]
CATEGORIES = ["family_neighbor", "public_order", "violence"]


def _calls(n: int) -> list[dict[str, object]]:
    """Repeat callers at a few addresses, some with a weapon word and a named pair: links, colours, reds."""
    start = datetime.now(UTC) - timedelta(days=40)
    rows = []
    for i in range(n):
        rows.append(
            {
                "call_id": f"C{i:05d}",
                "received_at": (start + timedelta(hours=2 * i)).isoformat(),
                "community_code": COMMUNITIES[i % 3],
                "address": ADDRESSES[(i * 7) % len(ADDRESSES)],
                "category": CATEGORIES[(i // 3) % 3],
                "priority": 3,
                "summary": "邻里纠纷，持刀威胁" if i % 17 == 0 else "邻里纠纷",
                "party_keys": "P1;P2" if i % 11 == 0 else "",
                "closed_at": (start + timedelta(hours=2 * i, minutes=30)).isoformat(),
            }
        )
    return rows


def _register() -> dict[str, Any]:
    """The register by natural keys: which calls share a risk, each risk's colour, the incidents."""
    with session_scope() as s:
        members: dict[int, list[str]] = {}
        for rid, source in s.execute(select(Signal.risk_id, Signal.source_id)):
            members.setdefault(rid, []).append(source)
        risks = sorted(
            (tuple(sorted(members.get(r.id, []))), r.level, r.status, r.category)
            for r in s.execute(select(Risk)).scalars()
        )
        incidents = sorted(s.execute(select(Incident.incident_code)).scalars())
        unlinked = s.execute(select(Signal.id).where(Signal.linked_at.is_(None))).all()
    return {"risks": risks, "incidents": incidents, "unlinked": len(unlinked)}


def _run(files: list[Path], tmp: Path, *, together: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    go = tmp / "go"
    go.unlink(missing_ok=True)
    if not together:
        go.touch()
    procs, ready = [], []
    for i, path in enumerate(files):
        flag = tmp / f"ready{i}"
        flag.unlink(missing_ok=True)
        ready.append(flag)
        cmd = [sys.executable, "-c", STAGES, str(path), str(flag), str(go)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not together:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, out
        procs.append(proc)
    if together:
        deadline = time.monotonic() + 120
        while not all(f.exists() for f in ready):
            assert time.monotonic() < deadline, "the intakes never finished loading"
            assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
            time.sleep(0.01)
        go.touch()
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, out


@pytest.mark.usefixtures("jurisdiction")
def test_two_intakes_at_once_leave_the_register_of_one_after_the_other(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls = _calls(300)
    first = write_rows(tmp_path / "a" / "calls.csv", *calls[:200])
    second = write_rows(tmp_path / "b" / "calls.csv", *calls[100:])
    serial = []
    for order in ([first, second], [second, first]):
        empty_tables(engine)
        with session_scope() as s:
            load_jurisdiction(s, jurisdiction, actor="person:test")
        _run(order, tmp_path, together=False)
        serial.append(_register())
    assert serial[0]["risks"], "the files must make risks for the test to mean anything"
    assert any(level == "red" for _, level, _, _ in serial[0]["risks"])
    assert serial[0]["incidents"]

    for attempt in range(3):  # the barrier makes the overlap near-certain; three tries make it sure
        empty_tables(engine)
        with session_scope() as s:
            load_jurisdiction(s, jurisdiction, actor="person:test")
        _run([first, second], tmp_path, together=True)
        together = _register()
        assert together["unlinked"] == 0
        assert all(members for members, *_ in together["risks"]), "a risk with no signal"
        assert together in serial, f"attempt {attempt}: not the register of either order"
