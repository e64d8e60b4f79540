"""Rows of the brief's calls.csv, numbered and varied (communities, categories, priorities), in its column
order; shared by the intake load tests and the intake flow test, which need many distinct calls."""

from __future__ import annotations

from models.contracts import FILE_COLUMNS

COMMUNITIES = ["61030301001", "61030301002", "61032301001", "61032301002"]
CALL_HEADER = FILE_COLUMNS["calls.csv"]


def call_row(i: int, **overrides: object) -> list[object]:
    row = {
        "call_id": f"C{i:06d}",
        "received_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
        "community_code": COMMUNITIES[i % 4],
        "address": f"幸福路{i % 300}号",
        "category": ["family_neighbor", "公共", "public_order", "家庭邻里", "traffic"][i % 5]
        if i % 5 != 1
        else "labor_debt",
        "priority": 1 + i % 4,
        "summary": f"第{i}起警情",
        "party_keys": f"PK{i % 97:04d};PK{i % 89:04d}",
        "phone": f"139{i:08d}",
        "dispatched_at": "",
        "arrived_at": "",
        "closed_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 23:59:00",
        "disposition": "mediated",
    }
    row |= overrides
    return [row[c] for c in CALL_HEADER]
