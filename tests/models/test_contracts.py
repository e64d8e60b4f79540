"""The input contracts of the brief: codes or Chinese labels, local times, blanks, ranges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models import AnalysisIn, CallIn, CaseIn, CommunityIn, OfficerIn, TipIn, VisitIn
from models.common import Category, Colour, Offence
from models.contracts import FILE_COLUMNS, INPUT_CONTRACTS, OPTIONAL_COLUMNS
from models.incident import UnitStatusIn
from models.jurisdiction import PatrolUnitIn, PlaceIn, StationIn

CALL = {
    "call_id": "C1",
    "received_at": "2026-08-07T20:15:00+08:00",
    "community_code": "61030301001",
    "address": "陈仓大道盛世广场",
    "category": "missing_person",
}


def test_a_time_without_offset_is_shanghai_time_and_stored_as_utc() -> None:
    call = CallIn.model_validate({**CALL, "received_at": "2026-08-07 20:15"})
    assert call.received_at == datetime(2026, 8, 7, 12, 15, tzinfo=UTC)
    assert CallIn.model_validate(CALL).received_at == call.received_at


@pytest.mark.parametrize(
    ("given", "code"),
    [("家庭邻里", "family_neighbor"), ("violence", "violence"), (" 走失 ", "missing_person")],
)
def test_category_takes_a_code_or_its_chinese_label(given: str, code: str) -> None:
    assert CallIn.model_validate({**CALL, "category": given}).category == Category(code)


def test_optional_fields_may_be_blank_and_party_keys_split() -> None:
    call = CallIn.model_validate(
        {
            **CALL,
            "priority": "1",
            "party_keys": "PKb; PKa;PKb",
            "phone": None,
            "dispatched_at": None,
        }
    )
    assert (call.priority, call.party_keys, call.phone) == (1, ["PKa", "PKb"], None)


@pytest.mark.parametrize(
    ("contract", "row", "field"),
    [
        (CallIn, {**CALL, "priority": "7"}, "priority"),
        (CallIn, {**CALL, "received_at": "yesterday"}, "received_at"),
        (CallIn, {**CALL, "received_at": "1700000000"}, "received_at"),  # not read as epoch seconds
        (CallIn, {**CALL, "category": "野猪"}, "category"),
        (CallIn, {k: v for k, v in CALL.items() if k != "address"}, "address"),
        (
            AnalysisIn,
            {
                "signal_id": "A1",
                "produced_at": "2026-01-01",
                "community_code": "c",
                "address": "a",
                "category": "fraud",
                "score": "1.5",
            },
            "score",
        ),
        (
            VisitIn,
            {
                "visit_id": "V1",
                "visited_at": "2026-01-01 09:00",
                "officer_code": "O1",
                "community_code": "c",
                "address": "a",
                "category": "other",
                "concern": "grave",
            },
            "concern",
        ),
        (
            CaseIn,
            {
                "case_id": "K1",
                "filed_at": "2026-01-01",
                "community_code": "c",
                "address": "a",
                "offence": "jaywalking",
            },
            "offence",
        ),
    ],
)
def test_bad_values_are_refused_by_field(contract: type, row: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        contract.model_validate(row)
    assert info.value.errors()[0]["loc"][0] == field


def test_visit_tip_case_and_jurisdiction_rows() -> None:
    visit = VisitIn.model_validate(
        {
            "visit_id": "V1",
            "visited_at": "2026-08-10 10:00",
            "officer_code": "O1",
            "community_code": "c",
            "address": "南营村",
            "category": "劳资债务",
            "concern": "Low",
            "risk_id": "42",
        }
    )
    assert (visit.concern, visit.risk_id, visit.category) == ("low", 42, Category.labor_debt)
    tip = TipIn.model_validate(
        {
            "tip_id": "T1",
            "received_at": "2026-01-01T08:00:00Z",
            "community_code": "c",
            "address": "a",
            "category": "fraud",
            "contact": "wx_1",
            "wants_reward": "true",
        }
    )
    assert tip.wants_reward is True
    case = CaseIn.model_validate(
        {
            "case_id": "K1",
            "filed_at": "2026-01-01",
            "community_code": "c",
            "address": "a",
            "offence": "telecom_fraud",
            "solved_at": None,
        }
    )
    assert case.offence == Offence.telecom_fraud
    assert (
        CommunityIn.model_validate(
            {
                "community_code": "c",
                "name": "n",
                "kind": "village",
                "station_code": "s",
                "has_police_office": "false",
                "smart_security": "FALSE",
                "population": "900",
                "lat": "34.1",
                "lon": "107.2",
            }
        ).has_police_office
        is False
    )
    with pytest.raises(ValidationError):
        OfficerIn.model_validate({"officer_code": "O", "name": "n", "role": "sheriff", "station_code": "s"})


def test_colours_rank_blue_to_red() -> None:
    assert sorted(Colour, key=lambda c: c.rank) == [
        Colour.blue,
        Colour.yellow,
        Colour.orange,
        Colour.red,
    ]


def test_every_file_layout_is_exactly_its_contract() -> None:
    contracts = {spec.default_file: spec.contract for spec in INPUT_CONTRACTS.values()}
    contracts |= {
        "stations.csv": StationIn,
        "communities.csv": CommunityIn,
        "officers.csv": OfficerIn,
        "units.csv": PatrolUnitIn,
        "places.csv": PlaceIn,
        "unit_status.csv": UnitStatusIn,
    }
    assert set(contracts) == set(FILE_COLUMNS)
    for name, columns in FILE_COLUMNS.items():
        assert set(columns) | set(OPTIONAL_COLUMNS.get(name, ())) == set(contracts[name].model_fields), name


def _later(hours: float) -> str:
    from datetime import timedelta

    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


@pytest.mark.parametrize(
    ("contract", "row", "reason"),
    [
        (
            CallIn,
            {**CALL, "received_at": "2030-01-01T10:00+08:00"},
            "2030-01-01 10:00 (Asia/Shanghai) is in the future",
        ),
        (CallIn, {**CALL, "received_at": _later(2)}, "is in the future"),
        (CallIn, {**CALL, "closed_at": "2026-08-07T20:00:00+08:00"}, "closed_at is before 2026-08-07 20:15"),
        (
            CallIn,
            {**CALL, "dispatched_at": "2026-08-07T20:16+08:00", "arrived_at": "2026-08-07T20:15:30+08:00"},
            "arrived_at is before 2026-08-07 20:16",
        ),
        (
            CaseIn,
            {
                "case_id": "K1",
                "filed_at": "2026-03-02 10:00",
                "community_code": "61030301001",
                "address": "一号",
                "offence": "theft",
                "solved_at": "2026-03-01 10:00",
            },
            "solved_at is before 2026-03-02 10:00",
        ),
        (
            UnitStatusIn,
            {"unit_code": "U1", "incident_id": "INC-1", "status": "on_scene", "at": "2031-01-01T00:00"},
            "is in the future",
        ),
    ],
)
def test_a_row_from_the_future_or_out_of_order_is_refused(contract: type, row: dict, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        contract.model_validate(row)


def test_a_clock_a_little_ahead_is_tolerated() -> None:
    assert CallIn.model_validate({**CALL, "received_at": _later(0.5)}).received_at > datetime.now(UTC)
