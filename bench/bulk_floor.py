"""The floor of bulk intake: the least work that reaches the product's end state for a 110 call file.

The file is read once by pandas, phones are sealed by one cipher, every signal is linked by the
product's own rule (`plan_links`, one pass), places are classified and risks graded by the product's
pure rules (`many_parties`, `rule_reasons`), and every table is written once, ids given by the floor (the
register is empty), in one transaction: no contract per row, no spool, no parts, no read-back. What the
product does beyond that — streaming in parts, per-row reasons for bad rows, working from the database
so that a crashed run resumes — is what the ratio prices.

`end_state(url)` digests what either wrote, table by table, a risk named by its natural key (place,
kind, pair, opening) rather than its id, so the two databases are checked equal row for row.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

SIGNAL_COLUMNS = (
    "id", "source_id", "channel", "occurred_at", "community_code", "address", "address_norm", "category",
    "summary", "party_keys", "priority", "dispatched_at", "arrived_at", "closed_at", "disposition",
    "officer_code", "concern", "outcome", "source", "score", "named_risk_id", "source_file_id",
)  # fmt: skip
RISK_KEY = ("community_code", "category", "address_norm", "party_pair", "opened_at")
RISK_COLUMNS = (
    "level", "status", "reasons", "rules_version", "officer_code", "first_signal_at", "last_signal_at",
    "level_since", "calm_streak", "settled_at", "resolved_at", "reopened_count", "place_kind",
    "first_channel",
)  # fmt: skip


def read_calls(path: Path, communities: set[str]) -> pd.DataFrame:
    """The call file as the contract reads it, column by column (a clean file: the floor checks no row)."""
    from models.common import CATEGORY_LABELS

    raw = pd.read_csv(path, dtype=str, keep_default_na=False).apply(lambda c: c.str.strip())
    unknown = ~raw["community_code"].isin(communities)
    if unknown.any():
        raise SystemExit(f"the floor takes clean files: line {int(unknown.idxmax()) + 2} names no community")

    def text(name: str) -> pd.Series:
        return raw[name].where(raw[name] != "", None)

    def time(name: str) -> pd.Series:
        return pd.to_datetime(raw[name].where(raw[name] != ""), utc=True, format="ISO8601")

    keys = [
        ";".join(sorted({k.strip() for k in v.split(";") if k.strip()})) or None for v in raw["party_keys"]
    ]
    return pd.DataFrame(
        {
            "source_id": raw["call_id"],
            "occurred_at": time("received_at"),
            "community_code": raw["community_code"],
            "address": raw["address"],
            "category": raw["category"].map(lambda v: CATEGORY_LABELS.get(v, v)),
            "summary": text("summary"),
            "party_keys": pd.Series(keys, dtype=object),
            "priority": pd.to_numeric(raw["priority"].where(raw["priority"] != "")).astype("Int64"),
            "phone": text("phone"),
            "dispatched_at": time("dispatched_at"),
            "arrived_at": time("arrived_at"),
            "closed_at": time("closed_at"),
            "disposition": text("disposition"),
        }
    )


def take_in(session: Any, path: Path, calls: pd.DataFrame) -> dict[str, Any]:
    """Link, classify, grade and write the file's calls into an empty register, in one transaction."""
    from sqlalchemy import func, select

    from bridgehead import audit
    from bridgehead.addresses import is_crossing, normalise_addresses
    from bridgehead.bulk import insert_frame
    from bridgehead.db import table_of
    from bridgehead.privacy import _cipher, seal
    from bridgehead.rules import get_rules
    from models.common import utcnow
    from models.incident import IncidentDue
    from models.intake import SourceFile
    from models.jurisdiction import CARRIER_ROLES, Officer, Place
    from models.risk import Risk, RiskLevelChange, RiskLinkKey
    from models.signal import Signal, SignalParty
    from tasks.intake.files import file_sha256
    from tasks.intake.grading import colour_of, opens_risk
    from tasks.intake.grading_stage import rule_reasons
    from tasks.intake.hotspots import many_parties
    from tasks.intake.linking import plan_links
    from tasks.quick_response.incidents import is_urgent_call

    rules, now, actor = get_rules(), utcnow(), audit.current_actor()
    phases: dict[str, float] = {}
    clock = [time.perf_counter()]

    def done(phase: str) -> None:
        phases[phase] = round(time.perf_counter() - clock[0], 1)
        clock[0] = time.perf_counter()

    if session.execute(select(func.count()).select_from(table_of(Signal))).scalar_one():
        raise SystemExit("the floor takes a file into an empty register")
    s = calls.assign(id=range(1, len(calls) + 1), channel="call", source_file_id=1)
    s["address_norm"] = normalise_addresses(s["address"])
    first = s["phone"].first_valid_index()
    fernet = _cipher().fernet
    s["phone_enc"] = [
        None if p is None else seal(p) if i == first else fernet.encrypt(p.encode())
        for i, p in zip(s.index, s["phone"], strict=True)
    ]

    done("seal")
    # link: the product's one ordered pass, from nothing
    s["t"] = (s["occurred_at"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    s["parties"] = [k.split(";") if k else [] for k in s["party_keys"]]
    s["named_risk_id"], s["opens"] = None, opens_risk(s, rules)
    plan = plan_links(s, {}, {}, rules.linking.window_days * 86_400)
    s["risk_id"] = s["id"].map({sid: -ref for sid, ref in plan.risk_of.items()}).astype("Int64")
    linked = s[s["risk_id"].notna()]
    times = linked.groupby("risk_id")["occurred_at"]
    first_at, last_at = times.min(), times.max()
    officers = dict(
        session.execute(
            select(Officer.community_code, func.min(Officer.officer_code))
            .where(Officer.role.in_(CARRIER_ROLES))
            .group_by(Officer.community_code)
        ).all()
    )
    risks = pd.DataFrame(
        [
            (
                -r.ref,
                r.community_code,
                r.category,
                r.address_norm,
                r.party_pair,
                datetime.fromtimestamp(r.first_at, UTC),
            )
            for r in plan.new_risks.values()
        ],
        columns=["id", "community_code", "category", "address_norm", "party_pair", "opened_at"],
    ).set_index("id", drop=False)
    risks["officer_code"] = risks["community_code"].map(officers)
    risks["first_signal_at"], risks["last_signal_at"] = first_at, last_at
    risks["first_channel"] = (
        linked.sort_values(["occurred_at", "channel"]).groupby("risk_id")["channel"].first()
    )
    risks["level_since"] = risks["opened_at"]

    done("link")
    # places: places.csv, crossings, many unrelated parties in 30 days (every signal at a risk's address)
    at = set(zip(risks["community_code"], risks["address_norm"], strict=True))
    listed = dict(session.execute(select(Place.place_key, Place.kind)).all())
    kind_of = {(c, a): listed[f"{c}|{a}"] for c, a in at if f"{c}|{a}" in listed}
    there = s[[k in at for k in zip(s["community_code"], s["address_norm"], strict=True)]]
    for c, a, raw in zip(there["community_code"], there["address_norm"], there["address"], strict=True):
        if (c, a) not in kind_of and is_crossing(raw):
            kind_of[(c, a)] = "crossing"
    rest = there[[k not in kind_of for k in zip(there["community_code"], there["address_norm"], strict=True)]]
    kind_of |= {address: "many_parties" for address in many_parties(rest)}
    risks["place_kind"] = [
        kind_of.get(k) for k in zip(risks["community_code"], risks["address_norm"], strict=True)
    ]

    done("places")
    # grade: the product's rules on every linked signal (calls are all news, all counted)
    graded = linked.assign(
        party_count=[len(k.split(";")) if k else 0 for k in linked["party_keys"]], score=None, counted=True
    )
    places = set(risks.index[risks["place_kind"].notna()])
    by_risk = rule_reasons(graded, places, rules)
    risks["reasons"] = [by_risk.get(rid, []) for rid in risks.index]
    risks["level"] = [colour_of(r[0]).value if r else "blue" for r in risks["reasons"]]
    risks = risks.assign(status="open", rules_version=rules.version, graded_at=now)

    done("grade")
    sha256 = file_sha256(path)
    session.add(SourceFile(id=1, sha256=sha256, path=str(path), channel="call", rows_total=len(s),
                           rows_loaded=len(s), rows_quarantined=0))  # fmt: skip
    session.flush()
    insert_frame(session, table_of(Risk), risks.reset_index(drop=True))
    columns = [c for c in SIGNAL_COLUMNS if c in s] + ["phone_enc", "risk_id"]
    insert_frame(session, table_of(Signal), s[columns].assign(loaded_at=now, linked_at=now))
    named = s.loc[s["party_keys"].notna(), ["id", "parties"]].explode("parties")
    insert_frame(
        session,
        table_of(SignalParty),
        pd.DataFrame({"signal_id": named["id"], "party_key": named["parties"]}),
    )
    keys = [
        (kind, key, -ref, datetime.fromtimestamp(seen, UTC)) for (kind, key), (ref, seen) in plan.keys.items()
    ]
    insert_frame(
        session, table_of(RiskLinkKey), pd.DataFrame(keys, columns=["kind", "key", "risk_id", "last_seen_at"])
    )
    insert_frame(
        session,
        table_of(RiskLevelChange),
        pd.DataFrame(
            {"risk_id": risks["id"], "at": now, "from_level": None, "to_level": risks["level"],
             "cause": "rule", "reasons": risks["reasons"], "rules_version": rules.version, "actor": actor}
        ),
    )  # fmt: skip
    urgent = s.loc[is_urgent_call(s, rules.quick_response), "id"]
    insert_frame(session, table_of(IncidentDue), pd.DataFrame({"signal_id": urgent}))
    _sequences_past(session, ("signal", "risk", "source_file"))
    done("write")
    audit.append(session, _changes(str(path), sha256, s, risks, linked))
    done("audit")
    return {"signals": len(s), "risks": len(risks), "places": len(places), "seconds": phases}


def _sequences_past(session: Any, tables: tuple[str, ...]) -> None:
    """PostgreSQL's id sequences moved past the ids the floor gave, as inserts by the database leave them."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        for name in tables:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM \"{name}\"))"
                )
            )


def _changes(path: str, sha256: str, s: pd.DataFrame, risks: pd.DataFrame, linked: pd.DataFrame) -> list[Any]:
    """The audit trail the product writes for the same file: the file, each risk made, placed, graded."""
    from bridgehead import audit

    counts = linked["risk_id"].value_counts()
    changes = [
        audit.Change(
            "ingest", "source_file", "1", None,
            {"channel": "call", "file": path, "sha256": sha256,
             "loaded": len(s), "duplicates": 0, "quarantined": 0,
             "first_key": s["source_id"].iloc[0], "last_key": s["source_id"].iloc[-1]},
            "call file taken in",
        )
    ]  # fmt: skip
    r = risks
    for rid, community, category, address, pair in zip(
        r["id"], r["community_code"], r["category"], r["address_norm"], r["party_pair"], strict=True
    ):
        after = {"community_code": community, "category": category, "address_norm": address,
                 "party_pair": None if pd.isna(pair) else pair, "signals": int(counts[rid])}  # fmt: skip
        changes.append(audit.Change("create", "risk", str(rid), None, after, "new signal"))
    for rid, kind in r["place_kind"].dropna().items():
        why = f"a hotspot ({kind}): ranked for patrol, no household visit cadence"
        changes.append(
            audit.Change("place", "risk", str(rid), {"place_kind": None}, {"place_kind": kind}, why)
        )
    for rid, level, reasons, version in zip(
        r["id"], r["level"], r["reasons"], r["rules_version"], strict=True
    ):
        after = {"level": level, "reasons": reasons, "rules_version": version}
        changes.append(
            audit.Change("level", "risk", str(rid), {"level": None}, after, "rule: " + ", ".join(reasons))
        )
    return changes


def _plain(value: Any) -> Any:
    """A stored value as both databases give it back alike: times in UTC, text as text."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, (bytes, memoryview)):
        return "sealed"
    return value


def end_state(url: str) -> dict[str, Any]:
    """Each table's rows digested (count and sha256), a risk by its natural key; the audit trail verified
    and counted by what it records (the product writes a "link" row where a risk's signals span parts)."""
    from sqlalchemy import create_engine, select
    from sqlmodel import Session

    from bridgehead import audit
    from bridgehead.db import normalise_url, table_of
    from bridgehead.privacy import unseal
    from models.audit import AuditLog
    from models.incident import IncidentDue
    from models.intake import SourceFile
    from models.risk import Risk, RiskLevelChange, RiskLinkKey
    from models.signal import Signal, SignalParty

    engine = create_engine(normalise_url(url))
    out: dict[str, Any] = {}

    def ordered(rows: Any) -> list[str]:  # None sorts with text: by each row's JSON
        return sorted(json.dumps([_plain(v) for v in row], default=str) for row in rows)

    def digest(name: str, rows: Any) -> None:
        h, n = hashlib.sha256(), 0
        for row in rows:
            h.update(
                (row if isinstance(row, str) else json.dumps([_plain(v) for v in row], default=str)).encode()
            )
            n += 1
        out[name] = (n, h.hexdigest()[:16])

    with Session(engine) as session:
        risk, conn = table_of(Risk), session.connection()
        natural = {
            row[0]: tuple(_plain(v) for v in row[1:])
            for row in conn.execute(select(risk.c.id, *(risk.c[k] for k in RISK_KEY)))
        }
        digest(
            "risk",
            ordered(
                (natural[row[0]], *row[1:])
                for row in conn.execute(
                    select(risk.c.id, *(risk.c[k] for k in RISK_COLUMNS), risk.c.graded_at.is_(None))
                )
            ),
        )
        signal = table_of(Signal)
        phones = Counter()

        def signals() -> Any:
            query = select(
                *(signal.c[k] for k in SIGNAL_COLUMNS),
                signal.c.risk_id,
                signal.c.linked_at.is_(None),
                signal.c.phone_enc,
            ).order_by(signal.c.id)
            for row in conn.execution_options(stream_results=True, yield_per=50_000).execute(query):
                *values, rid, unlinked, phone = row
                if phone is not None and row[0] % 97 == 0:
                    phones[unseal(bytes(phone)) is not None] += 1
                yield (*values, natural.get(rid), unlinked, phone is None)

        digest("signal", signals())
        out["phones unsealed"] = dict(phones)
        party = table_of(SignalParty)
        digest("signal_party", conn.execute(select(party).order_by(party.c.signal_id, party.c.party_key)))
        key = table_of(RiskLinkKey)
        digest(
            "risk_link_key",
            (
                (k, v, natural[r], t)
                for k, v, r, t in conn.execute(
                    select(key.c.kind, key.c.key, key.c.risk_id, key.c.last_seen_at).order_by(
                        key.c.kind, key.c.key
                    )
                )
            ),
        )
        change = table_of(RiskLevelChange)
        digest("risk_level_change", ordered((natural[r], *rest) for r, *rest in conn.execute(
            select(change.c.risk_id, change.c.from_level, change.c.to_level, change.c.cause, change.c.reasons,
                   change.c.rules_version, change.c.actor))))  # fmt: skip
        due = table_of(IncidentDue).c.signal_id
        digest("incident_due", conn.execute(select(due).order_by(due)))
        source = table_of(SourceFile)
        counts = ("rows_total", "rows_loaded", "rows_quarantined")
        digest(
            "source_file",
            conn.execute(select(source.c.sha256, source.c.channel, *(source.c[c] for c in counts))),
        )
        log = table_of(AuditLog)
        actions = Counter(conn.execute(select(log.c.action, log.c.entity, log.c.entity_id)).tuples())
        per = Counter((a, e) for a, e, _ in actions)
        out["audit"] = {f"{a} {e}": n for (a, e), n in sorted(per.items()) if a != "link"}
        out["audit link rows"] = per[("link", "risk")]
        out["audit risks per action"] = {
            a: len({i for (b, e, i) in actions if b == a and e == "risk"})
            for a in ("create", "place", "level")
        }
        out["audit verified"] = audit.verify(session).ok
    engine.dispose()
    return out
