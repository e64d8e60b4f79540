"""Stored addresses keyed anew when the normalisation changes (a data migration's work).

Signals, cases and places keep the address as written, so their keys are recomputed from it. A risk and
its address link key hold only the old key: each takes the new key of the signals that carried the old
one. Where two keys become one ("A / B" and "B / A" were two corners and are now one), the risks keep
their own history and the link key goes to the risk that used it last, as a key always belongs to the
newest risk that used it: that risk takes the corner's next signals. Where two places become one,
the first (by its old key) is kept. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bridgehead.addresses import normalise_addresses

CHUNK = 50_000

_meta = sa.MetaData()
SIGNAL = sa.Table(
    "signal",
    _meta,
    sa.Column("id"),
    sa.Column("community_code"),
    sa.Column("address"),
    sa.Column("address_norm"),
)
CASE = sa.Table("criminal_case", _meta, sa.Column("id"), sa.Column("address"), sa.Column("address_norm"))
PLACE = sa.Table(
    "place", _meta, sa.Column("place_key"), sa.Column("community_code"), sa.Column("address"),
    sa.Column("address_norm"), sa.Column("kind"),
)  # fmt: skip
RISK = sa.Table(
    "risk",
    _meta,
    sa.Column("id"),
    sa.Column("community_code"),
    sa.Column("category"),
    sa.Column("address_norm"),
)
LINK_KEY = sa.Table(
    "risk_link_key",
    _meta,
    sa.Column("kind"),
    sa.Column("key"),
    sa.Column("risk_id"),
    sa.Column("last_seen_at"),
)


@dataclass
class Rekeyed:
    """What changed: rows per table, and the keys that became one."""

    rows: dict[str, int] = field(default_factory=dict)
    merged_keys: int = 0
    merged_places: int = 0


def renormalise(conn: Connection) -> Rekeyed:
    done = Rekeyed()
    moved = _from_addresses(conn, SIGNAL, done, with_community=True)
    _from_addresses(conn, CASE, done)
    _places(conn, done)
    _risks(conn, moved, done)
    _link_keys(conn, moved, done)
    return done


def _from_addresses(
    conn: Connection, table: sa.Table, done: Rekeyed, with_community: bool = False
) -> dict[tuple[str, str], str]:
    """Each row's key from its address; the (community, old key) → new key of the rows that changed."""
    moved: dict[tuple[str, str], str] = {}
    columns = [table.c.id, table.c.address, table.c.address_norm]
    if with_community:
        columns.append(table.c.community_code)
    last, changed = None, 0
    while True:
        query = sa.select(*columns).order_by(table.c.id).limit(CHUNK)
        rows = pd.DataFrame(conn.execute(query if last is None else query.where(table.c.id > last)).all())
        if rows.empty:
            break
        last = rows["id"].iloc[-1]
        rows["new"] = normalise_addresses(rows["address"])
        rows = rows[rows["new"] != rows["address_norm"]]
        if not rows.empty:
            conn.execute(
                table.update()
                .where(table.c.id == sa.bindparam("b_id"))
                .values(address_norm=sa.bindparam("b_new")),
                [{"b_id": int(i), "b_new": n} for i, n in zip(rows["id"], rows["new"], strict=True)],
            )
            changed += len(rows)
            if with_community:
                for c, old, new in zip(
                    rows["community_code"], rows["address_norm"], rows["new"], strict=True
                ):
                    moved.setdefault((c, old), new)
    done.rows[table.name] = changed
    return moved


def _places(conn: Connection, done: Rekeyed) -> None:
    """Reference data, a few thousand rows: written anew whole when any key changed."""
    places = pd.DataFrame(
        conn.execute(sa.select(PLACE).order_by(PLACE.c.place_key)).all(), columns=[c.name for c in PLACE.c]
    )
    places["new"] = normalise_addresses(places["address"])
    done.rows["place"] = int((places["new"] != places["address_norm"]).sum())
    if not done.rows["place"]:
        return
    places["place_key"] = places["community_code"] + "|" + places["new"]
    kept = places.drop_duplicates("place_key")
    done.merged_places = len(places) - len(kept)
    conn.execute(PLACE.delete())
    conn.execute(
        PLACE.insert(),
        kept.drop(columns="address_norm").rename(columns={"new": "address_norm"}).to_dict("records"),
    )


def _risks(conn: Connection, moved: dict[tuple[str, str], str], done: Rekeyed) -> None:
    olds = sorted({old for _, old in moved})
    changes = []
    for start in range(0, len(olds), CHUNK):
        rows = conn.execute(
            sa.select(RISK.c.id, RISK.c.community_code, RISK.c.address_norm).where(
                RISK.c.address_norm.in_(olds[start : start + CHUNK])
            )
        ).all()
        changes += [{"b_id": i, "b_new": moved[(c, a)]} for i, c, a in rows if (c, a) in moved]
    if changes:
        conn.execute(
            RISK.update().where(RISK.c.id == sa.bindparam("b_id")).values(address_norm=sa.bindparam("b_new")),
            changes,
        )
    done.rows["risk"] = len(changes)


def _link_keys(conn: Connection, moved: dict[tuple[str, str], str], done: Rekeyed) -> None:
    """The address keys renamed; where two become one, the one seen last keeps it."""
    categories = list(conn.execute(sa.select(RISK.c.category).distinct()).scalars())
    renamed = {
        f"{c}|{old}|{cat}": f"{c}|{new}|{cat}" for (c, old), new in moved.items() for cat in categories
    }
    rows = pd.DataFrame(
        _keys_in(conn, list(renamed)) + _keys_in(conn, sorted(set(renamed.values()))),
        columns=["key", "risk_id", "last_seen_at"],
    ).drop_duplicates("key")
    rows["new_key"] = rows["key"].map(lambda k: renamed.get(k, k))
    done.rows["risk_link_key"] = int((rows["new_key"] != rows["key"]).sum())
    if not done.rows["risk_link_key"]:
        return
    winners = rows.sort_values(["last_seen_at", "risk_id"]).drop_duplicates("new_key", keep="last")
    done.merged_keys = len(rows) - len(winners)
    for start in range(0, len(rows), CHUNK):
        chunk = rows["key"].iloc[start : start + CHUNK].tolist()
        conn.execute(LINK_KEY.delete().where(LINK_KEY.c.kind == "address", LINK_KEY.c.key.in_(chunk)))
    conn.execute(
        LINK_KEY.insert(),
        [
            {"kind": "address", "key": k, "risk_id": int(r), "last_seen_at": t}
            for k, r, t in winners[["new_key", "risk_id", "last_seen_at"]].itertuples(index=False)
        ],
    )


def _keys_in(conn: Connection, keys: list[str]) -> list[tuple[str, int, object]]:
    found: list[tuple[str, int, object]] = []
    for start in range(0, len(keys), CHUNK):
        found += conn.execute(
            sa.select(LINK_KEY.c.key, LINK_KEY.c.risk_id, LINK_KEY.c.last_seen_at).where(
                LINK_KEY.c.kind == "address", LINK_KEY.c.key.in_(keys[start : start + CHUNK])
            )
        ).all()
    return found
