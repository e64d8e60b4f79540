"""Addresses that desks write differently meet: a crossing is one corner whichever street comes first,
the common street words have one spelling, and a house number's "1/2" is not a crossing."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bridgehead.addresses import is_crossing, normalise_address, normalise_addresses
from tests.factories import SACRAMENTO


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("10TH ST / K ST", "K ST / 10TH ST"),
        ("10TH ST / K ST", "K STREET & 10TH STREET"),
        ("FOLSOM BLVD / HORNET DR", "HORNET DRIVE&FOLSOM BOULEVARD"),
        ("24TH ST/VALENCIA ST", "VALENCIA STREET / 24TH STREET"),  # San Francisco writes them unspaced
        ("1963 BONAVISTA WAY", "1963 Bonavista Way"),
        ("500 N MARKET BLV", "500 NORTH MARKET BLVD"),
        ("2100 ARENA BLVD.", "2100 arena boulevard"),
        ("经二路与纬三路交叉口", "纬三路与经二路交叉口"),
        ("建设路 & 幸福路", "幸福路／建设路".replace("／", " / ")),
        ("幸福路１号", "幸福路1号"),
    ],
)
def test_the_same_place_written_two_ways_is_one_address(one: str, other: str) -> None:
    assert normalise_address(one) == normalise_address(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("1511 1/2 G ST", "1511 G ST"),  # a half-number house is not its neighbour, nor a crossing
        ("10TH ST / K ST", "10TH ST"),
        ("10TH ST / K ST", "10TH ST / L ST"),
        ("100 ST JAMES PL", "100 JAMES PL"),
        ("幸福路1号", "幸福路2号"),
    ],
)
def test_different_places_stay_apart(one: str, other: str) -> None:
    assert normalise_address(one) != normalise_address(other)


def test_a_crossing_is_kept_as_a_crossing() -> None:
    key = normalise_address("K STREET & 10TH STREET")
    assert key == "10thst&kst"
    assert is_crossing("K STREET & 10TH STREET") and is_crossing("24TH ST/VALENCIA ST")
    assert not is_crossing("1511 1/2 G ST")


@pytest.mark.skipif(not SACRAMENTO.exists(), reason=f"{SACRAMENTO} is not here")
def test_sacramentos_corners_written_both_ways_are_one_each() -> None:
    """In January 2019's export 870 corners appear in both orders ("A / B" and "B / A")."""
    with SACRAMENTO.open(encoding="utf-8") as f:
        locations = pd.Series([row["Location"] for row in csv.DictReader(f)])
    corners = locations[locations.str.contains(" / ", regex=False)].drop_duplicates()
    as_written = corners.map(lambda a: tuple(p.strip() for p in a.split(" / ")))
    both_ways = {tuple(sorted(p)) for p in as_written if tuple(reversed(p)) in set(as_written)}
    assert len(both_ways) == 870
    keys = normalise_addresses(corners)
    assert keys.nunique() == as_written.map(lambda p: tuple(sorted(p))).nunique()


ADDRESS_PARTS = st.sampled_from(
    ["10TH", "K", "ST", "STREET", "BLVD", "BOULEVARD", "N", "NORTH", "1/2", "&", "/", " / ", "与", "交叉口",
     "幸福路", "１号", "-", ".", ",", " ", "St.", "AVE"]
)  # fmt: skip


@given(st.lists(ADDRESS_PARTS | st.text(max_size=4), max_size=8).map(" ".join))
@example("A / B & C")
@example("与交叉口")
def test_the_column_and_the_single_address_agree(address: str) -> None:
    assert normalise_addresses(pd.Series([address])).iloc[0] == normalise_address(address)


def test_a_blank_address_is_blank() -> None:
    assert normalise_addresses(pd.Series([None, ""])).tolist() == ["", ""]
