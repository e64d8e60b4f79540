"""A register keyed by the old normalisation (before migration 0012) is keyed as intake keys it today:
signals, cases, places, risks and link keys; two corners that become one keep both risks, and the
corner's next call joins the one seen last; rerunning changes nothing."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

from bridgehead.db import session_scope
from bridgehead.renormalise import renormalise
from models.jurisdiction import Place
from models.risk import Risk, RiskLinkKey
from models.signal import Signal
from tasks.jurisdiction import load_jurisdiction
from tests.factories import ingest, write_csv, write_rows

SIGNAL, RISK, LINK_KEY, PLACE = (m.__table__ for m in (Signal, Risk, RiskLinkKey, Place))  # type: ignore[attr-defined]

_OLD_NOISE = re.compile(r"[\s,，。.、;；:：#＃\-—_/\\()（）\[\]【】\"'“”‘’]+")


def old_key(address: str) -> str:
    """The normalisation before 0012: no crossings, no street words, '&' kept."""
    return _OLD_NOISE.sub("", unicodedata.normalize("NFKC", address).casefold())


def calls(tmp_path: Path, *rows: tuple[str, str, str]) -> None:
    """(call id, day in March 2026, address): one public-order call each."""
    ingest(
        write_rows(
            tmp_path / f"in-{rows[0][0]}" / "calls.csv",
            *[
                {"call_id": i, "received_at": f"2026-03-{d} 10:00", "address": a, "category": "public_order",
                 "summary": "有人吵闹"}
                for i, d, a in rows
            ],
        )
    )  # fmt: skip


def state(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as c:
        return {
            "signal": c.execute(sa.select(SIGNAL.c.id, SIGNAL.c.address_norm).order_by(SIGNAL.c.id)).all(),
            "risk": c.execute(sa.select(RISK.c.id, RISK.c.address_norm).order_by(RISK.c.id)).all(),
            "keys": c.execute(
                sa.select(LINK_KEY.c.key, LINK_KEY.c.risk_id)
                .where(LINK_KEY.c.kind == "address")
                .order_by("key")
            ).all(),
            "place": c.execute(
                sa.select(PLACE.c.place_key, PLACE.c.address_norm).order_by("place_key")
            ).all(),
        }


def keyed_the_old_way(engine: Engine) -> None:
    """Every stored key rewritten as the old normalisation made it, from the addresses as written."""
    with engine.begin() as c:
        for sid, address in c.execute(sa.select(SIGNAL.c.id, SIGNAL.c.address)).all():
            c.execute(SIGNAL.update().where(SIGNAL.c.id == sid).values(address_norm=old_key(address)))
        for rid, address in c.execute(
            sa.select(SIGNAL.c.risk_id, sa.func.min(SIGNAL.c.address)).group_by(SIGNAL.c.risk_id)
        ).all():
            c.execute(RISK.update().where(RISK.c.id == rid).values(address_norm=old_key(address)))
        c.execute(LINK_KEY.delete().where(LINK_KEY.c.kind == "address"))
        for rid, community, norm, category, seen in c.execute(
            sa.select(
                RISK.c.id, RISK.c.community_code, RISK.c.address_norm, RISK.c.category, RISK.c.last_signal_at
            )
        ).all():
            c.execute(
                LINK_KEY.insert().values(kind="address", key=f"{community}|{norm}|{category}", risk_id=rid,
                                         last_seen_at=seen)
            )  # fmt: skip
        places = c.execute(sa.select(PLACE)).mappings().all()
        c.execute(PLACE.delete())
        for p in places:
            norm = old_key(p["address"])
            c.execute(
                PLACE.insert().values(
                    {**p, "address_norm": norm, "place_key": f"{p['community_code']}|{norm}"}
                )
            )


def test_the_old_keys_become_todays(engine: Engine, jurisdiction: Path, tmp_path: Path) -> None:
    write_csv(jurisdiction / "places.csv", ("address", "community_code", "kind"),
              [("FOLSOM BOULEVARD 1", "61030301001", "shop")])  # fmt: skip
    with session_scope() as s:
        load_jurisdiction(s, jurisdiction, actor="person:test")
    calls(
        tmp_path, ("A", "02", "10TH ST / K ST"), ("B", "03", "100 NORTH MARKET BLV"), ("C", "04", "幸福路1号")
    )
    today = state(engine)
    assert today["place"] == [("61030301001|folsomblvd1", "folsomblvd1")]
    keyed_the_old_way(engine)
    assert state(engine) != today
    with engine.begin() as c:
        done = renormalise(c)
    assert state(engine) == today
    assert done.rows["signal"] == 2 and done.rows["risk"] == 2 and done.rows["place"] == 1
    with engine.begin() as c:
        again = renormalise(c)
    assert sum(again.rows.values()) == 0


def test_two_corners_that_become_one_keep_their_risks_and_the_last_seen_takes_the_next_call(
    engine: Engine, jurisdiction: Path, tmp_path: Path
) -> None:
    calls(tmp_path, ("A", "02", "10TH ST / K ST"))
    calls(tmp_path, ("B", "05", "10TH ST / L ST"))
    keyed_the_old_way(engine)
    with engine.begin() as c:  # as the old code stored "K ST / 10TH ST": a corner of its own
        c.execute(SIGNAL.update().where(SIGNAL.c.source_id == "B").values(address="K ST / 10TH ST"))
        c.execute(SIGNAL.update().where(SIGNAL.c.source_id == "B").values(address_norm="kst10thst"))
        later = c.execute(sa.select(SIGNAL.c.risk_id).where(SIGNAL.c.source_id == "B")).scalar_one()
        c.execute(RISK.update().where(RISK.c.id == later).values(address_norm="kst10thst"))
        c.execute(
            LINK_KEY.update()
            .where(LINK_KEY.c.risk_id == later)
            .values(key="61030301001|kst10thst|public_order")
        )
    with engine.begin() as c:
        done = renormalise(c)
    assert done.merged_keys == 1
    after = state(engine)
    assert {norm for _, norm in after["risk"]} == {"10thst&kst"} and len(after["risk"]) == 2
    assert after["keys"] == [("61030301001|10thst&kst|public_order", later)]
    calls(tmp_path, ("C", "09", "K STREET & 10TH STREET"))
    with engine.connect() as c:
        joined = c.execute(sa.select(SIGNAL.c.risk_id).where(SIGNAL.c.source_id == "C")).scalar_one()
    assert joined == later
