"""Small, readable jurisdictions for tests, written in the brief's file formats."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.contracts import FILE_COLUMNS

STATIONS = [
    ("61030301", "陈仓派出所", "金台区", 34.37, 107.15),
    ("61032301", "麦禾营派出所", "岐山县", 34.45, 107.62),
]
COMMUNITIES = [
    ("61030301001", "盛世广场社区", "community", "61030301", "true", "true", 8000, 34.371, 107.151),
    (
        "61030301002",
        "陈仓大道社区",
        "community",
        "61030301",
        "true",
        "false",
        6000,
        34.372,
        107.152,
    ),
    ("61032301001", "南营村", "village", "61032301", "false", "false", 1200, 34.451, 107.621),
    ("61032301002", "北营村", "village", "61032301", "false", "false", 900, 34.452, 107.622),
]
OFFICERS = [
    ("O000001", "孙宪河", "community", "61030301", "61030301001"),
    ("O000002", "李明", "community", "61030301", "61030301002"),
    ("O000003", "王志英", "patrol", "61030301", ""),
    ("O000004", "赵所长", "chief", "61030301", ""),
    ("O000005", "张伟", "community", "61032301", "61032301001"),
    ("O000006", "刘芳", "assistant", "61032301", "61032301002"),
    ("O000007", "陈所长", "chief", "61032301", ""),
]
UNITS = [
    ("U6103030101", "61030301", 2, 34.37, 107.15),
    ("U6103030102", "61030301", 2, 34.371, 107.151),
    ("U6103230101", "61032301", 3, 34.45, 107.62),
]
HEADERS = FILE_COLUMNS


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


BASE_ROW = {
    "community_code": "61030301001",
    "address": "幸福路1号",
    "officer_code": "O000001",
}


def write_rows(path: Path, *rows: dict[str, object]) -> Path:
    """A channel file named like the brief's (calls.csv, tips.csv, ...) from the fields that matter;
    the community, address and officer default to the test jurisdiction's, the rest to blank."""
    header = FILE_COLUMNS[path.name]
    return write_csv(path, header, [[{**BASE_ROW, **row}.get(c, "") for c in header] for row in rows])


TIP = {
    "tip_id": "T1",
    "received_at": "2026-03-01 10:00",
    "category": "fraud",
    "summary": "举报电诈窝点",
    "contact": "wxid_secret_li",
    "wants_reward": "true",
}


def write_jurisdiction(
    folder: Path,
    *,
    stations: Sequence[Sequence[object]] = STATIONS,
    communities: Sequence[Sequence[object]] = COMMUNITIES,
    officers: Sequence[Sequence[object]] = OFFICERS,
    units: Sequence[Sequence[object]] = UNITS,
) -> Path:
    for name, rows in (
        ("stations.csv", stations),
        ("communities.csv", communities),
        ("officers.csv", officers),
        ("units.csv", units),
    ):
        write_csv(folder / name, HEADERS[name], rows)
    return folder


def shared_file(*parts: str) -> Path:
    """A file of the project's shared folder, which sits beside the checkout (CI copies it there too)."""
    return Path(__file__).resolve().parents[2].joinpath("shared", *parts)


SACRAMENTO = shared_file("data", "sacramento", "sacramento_dispatch_2019-01.csv")


def ingest_stages(path: Path, channel: str = "call") -> tuple[Any, Any]:
    """What the intake flow does with one file, without Prefect, in two halves: validate and load,
    then link, grade and open incidents; each stage in its own transaction."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from tasks.intake.grading_stage import grade_pending
    from tasks.intake.linking_stage import link_pending
    from tasks.intake.load import load_file, validate_file
    from tasks.quick_response.incidents import open_incidents

    out: dict[str, Any] = {}

    def load() -> None:
        with session_scope() as s:
            out["validated"] = validate_file(s, channel, path)
        with session_scope() as s:
            out["loaded"] = load_file(s, out["validated"])

    def rest() -> dict[str, Any]:
        for name, stage in (
            ("linked", link_pending),
            ("graded", grade_pending),
            ("incidents", open_incidents),
        ):
            with session_scope() as s:
                out[name] = stage(s, get_rules())
        return out

    return load, rest


def ingest(path: Path, channel: str = "call") -> dict[str, Any]:
    """What the intake flow does with one file, without Prefect: each stage in its own transaction."""
    load, rest = ingest_stages(path, channel)
    load()
    return rest()  # type: ignore[no-any-return]


def review_of(
    period: str, lang: str = "en", as_of: str = "2026-04-02", scope: str = "city"
) -> dict[str, Any]:
    """The review of `scope` for `period` as built on the morning of `as_of` (local midnight)."""
    from datetime import date, datetime, time

    from bridgehead.db import session_scope
    from models.common import LOCAL_TZ
    from tasks.review.build import build_review
    from tasks.review.period import parse_period, parse_scope

    at = datetime.combine(date.fromisoformat(as_of), time(), LOCAL_TZ)
    with session_scope() as s:
        return build_review(s, parse_scope(s, scope), parse_period(period), lang, as_of=at)


def sweep_stages(day: Any) -> tuple[Any, int, Any]:
    """One day's follow-up sweep, stage by stage, each in its own transaction (what the flow does)."""
    from bridgehead.db import session_scope
    from bridgehead.rules import get_rules
    from tasks.follow_up.cadence import record_visits, schedule
    from tasks.follow_up.supervision import supervise

    with session_scope() as s:
        visits = record_visits(s, get_rules(), day)
    with session_scope() as s:
        assigned = schedule(s, get_rules(), day)
    with session_scope() as s:
        supervised = supervise(s, get_rules(), day)
    return visits, assigned, supervised


def empty_tables(engine: Any) -> None:
    """Every table emptied and the audit chain back at its genesis head (a test may delete the head)."""
    from sqlalchemy import delete, insert
    from sqlmodel import SQLModel

    from models.audit import AuditHead

    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))
        conn.execute(insert(AuditHead).values(id=1, seq=0, hash="0" * 64))


BRIDGEHEAD = str(Path(sys.executable).with_name("bridgehead"))


def wait_for(what: str, check: Any, timeout_s: float = 120) -> Any:
    """Poll `check` until it returns something truthy; fail naming what was awaited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def served(only: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`bridgehead serve --only NAME` in a process of its own, against the server in `env`."""
    return subprocess.Popen(
        [BRIDGEHEAD, "serve", "--only", only], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
