"""A frame inserted at the driver's speed is stored exactly as SQLAlchemy would store the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, text
from sqlmodel import Session

from bridgehead import audit, bulk
from bridgehead.bulk import BULK_FROM, COPY_FROM, insert_frame, insert_in_order
from bridgehead.db import session_scope, table_of
from models.signal import Signal
from models.tip import Tip

BEIJING = timezone(timedelta(hours=8))


def _signals(prefix: str) -> list[dict[str, object]]:
    base = {"channel": "call", "community_code": "61030301001", "category": "dispute"}
    base |= {"address": "幸福路1号", "address_norm": "幸福路1号"}
    return [
        {
            **base,
            "source_id": f"{prefix}1",
            "occurred_at": datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=UTC),
            "arrived_at": datetime(2026, 3, 1, 17, 45, tzinfo=BEIJING),  # stored as UTC
            "priority": 2,
            "score": 0.25,
            "phone_enc": b"\x00sealed\xff",
            "summary": "吵架, 'quoted' \\ back",
        },
        {
            **base,
            "source_id": f"{prefix}2",
            "occurred_at": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
            "arrived_at": None,
            "priority": None,
            "score": None,
            "phone_enc": None,
            "summary": None,
        },
    ]


def _stored(engine: Engine, prefix: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT source_id, CAST(occurred_at AS TEXT), CAST(arrived_at AS TEXT), "
                "CAST(loaded_at AS TEXT), priority, score, phone_enc, summary, address "
                "FROM signal WHERE source_id LIKE :p ORDER BY source_id"
            ),
            {"p": f"{prefix}%"},
        ).all()
    return [(row[0][len(prefix) :], *row[1:3], row[3] is not None, *row[4:]) for row in rows]


@pytest.fixture(params=["core", "driver"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A few rows go by SQLAlchemy Core; `driver` sends them the way many rows go."""
    if request.param == "driver":
        monkeypatch.setattr(bulk, "BULK_FROM", 0)
    return str(request.param)


def test_a_frame_is_stored_as_sqlalchemy_stores_its_rows(
    engine: Engine, jurisdiction: Path, path: str
) -> None:
    with session_scope() as s:
        s.execute(insert(table_of(Signal)), _signals("orm-"))
        insert_frame(s, table_of(Signal), pd.DataFrame(_signals("bulk-")), ["channel", "source_id"])
    assert _stored(engine, "bulk-") == _stored(engine, "orm-")
    assert [row[0] for row in _stored(engine, "bulk-")] == ["1", "2"]


def test_rows_whose_key_is_taken_are_skipped_and_booleans_kept(
    engine: Engine, jurisdiction: Path, path: str
) -> None:
    with session_scope() as s:
        insert_frame(s, table_of(Signal), pd.DataFrame(_signals("k-")), ["channel", "source_id"])
        again = pd.DataFrame(_signals("k-") + _signals("new-"))
        insert_frame(s, table_of(Signal), again, ["channel", "source_id"])
        ids = [i for (i,) in s.execute(text("SELECT id FROM signal ORDER BY id")).all()]
        tips = pd.DataFrame({"signal_id": ids[:2], "tip_code": ["a", "b"], "wants_reward": [True, False]})
        insert_frame(s, table_of(Tip), tips, [])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM signal")).scalar_one() == 4
        rewards = conn.execute(text("SELECT tip_code, wants_reward FROM tip ORDER BY tip_code")).all()
    assert [(code, bool(wants)) for code, wants in rewards] == [("a", True), ("b", False)]


def test_rows_written_in_order_are_known_by_id_without_reading_them_back(
    engine: Engine, jurisdiction: Path, path: str
) -> None:
    with session_scope() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's rowids: PostgreSQL says what it wrote by RETURNING")
        before, ids = insert_in_order(
            s, table_of(Signal), pd.DataFrame(_signals("a-")), ["channel", "source_id"]
        )
        assert ids is not None
        stored = dict(s.execute(text("SELECT source_id, id FROM signal WHERE id > :b"), {"b": before}).all())
        assert stored == dict(zip(["a-1", "a-2"], ids, strict=True))
        again = pd.DataFrame(_signals("a-")[1:] + _signals("b-"))  # one key taken: the caller must read back
        assert insert_in_order(s, table_of(Signal), again, ["channel", "source_id"]) == (ids[-1], None)


def test_a_long_audit_append_is_stored_as_a_short_one_and_the_chain_verifies(engine: Engine) -> None:
    """Appends of `BULK_FROM` rows and more go by `insert_frame`: the same text in every column (a
    missing "before" is JSON's null, as SQLAlchemy writes it), and the hash chain holds across both."""
    change = audit.Change("link", "risk", "7", None, {"signals_added": 2, "note": "é"}, "new signal")
    with session_scope() as s:
        audit.append(s, [change], actor="person:test")
        audit.append(s, [change] * BULK_FROM, actor="person:test")  # executemany
        audit.append(s, [change] * COPY_FROM, actor="person:test")  # PostgreSQL: by COPY
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT CAST(at AS TEXT), actor, action, entity, entity_id, CAST(before AS TEXT), "
                "CAST(after AS TEXT), reason FROM audit_log ORDER BY seq"
            )
        ).all()
    assert len(stored) == 1 + BULK_FROM + COPY_FROM
    assert {tuple(row[1:]) for row in stored} == {tuple(stored[0][1:])}
    assert stored[0][5] == "null"
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_an_update_of_many_rows_sets_each_its_own_and_no_other(engine: Engine, jurisdiction: Path) -> None:
    """`update_frame` of COPY_FROM rows and more (COPY and `UPDATE … FROM` on PostgreSQL, limited to the
    ids' range): every third row, each to its own value; the rows between and beyond keep theirs."""
    rows = [{**_signals("u-")[1], "source_id": f"u-{i:05d}"} for i in range(3 * COPY_FROM + 10)]
    with session_scope() as s:
        insert_frame(s, table_of(Signal), pd.DataFrame(rows), ["channel", "source_id"])
        ids = [i for (i,) in s.execute(text("SELECT id FROM signal ORDER BY id")).all()]
        chosen = ids[5:-5:3]
        frame = pd.DataFrame({"id": chosen, "summary": [f"s{i}" for i in chosen], "priority": 3})
        bulk.update_frame(s, table_of(Signal), frame)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, summary FROM signal")).tuples().all())
    assert stored == {i: f"s{i}" if i in set(chosen) else None for i in ids}
    assert len(chosen) >= COPY_FROM
