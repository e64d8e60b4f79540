"""The brief's input files: their columns in order, and which contract reads each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import SQLModel

from models.case import CaseIn
from models.signal import AnalysisIn, CallIn, TipIn, VisitIn


@dataclass(frozen=True)
class InputContract:
    channel: str
    contract: type[SQLModel]
    key: str  # the natural key: unique inside a file, and across loads
    time_field: str
    default_file: str  # the name the generator and the inbox use


INPUT_CONTRACTS: dict[str, InputContract] = {
    c.channel: c
    for c in (
        InputContract("call", CallIn, "call_id", "received_at", "calls.csv"),
        InputContract("visit", VisitIn, "visit_id", "visited_at", "visits.csv"),
        InputContract("analysis", AnalysisIn, "signal_id", "produced_at", "analysis.csv"),
        InputContract("tip", TipIn, "tip_id", "received_at", "tips.csv"),
        InputContract("case", CaseIn, "case_id", "filed_at", "cases.csv"),
    )
}


# The brief's file layouts, column order included: what the generator writes and real files bring.
FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "stations.csv": ("station_code", "name", "district", "lat", "lon"),
    "communities.csv": (
        "community_code",
        "name",
        "kind",
        "station_code",
        "has_police_office",
        "smart_security",
        "population",
        "lat",
        "lon",
    ),
    "officers.csv": ("officer_code", "name", "role", "station_code", "community_code"),
    "units.csv": ("unit_code", "station_code", "members", "lat", "lon"),
    "places.csv": ("address", "community_code", "kind"),
    "calls.csv": (
        "call_id",
        "received_at",
        "community_code",
        "address",
        "category",
        "priority",
        "summary",
        "party_keys",
        "phone",
        "dispatched_at",
        "arrived_at",
        "closed_at",
        "disposition",
    ),
    "visits.csv": (
        "visit_id",
        "visited_at",
        "officer_code",
        "community_code",
        "address",
        "category",
        "summary",
        "party_keys",
        "concern",
        "risk_id",
        "outcome",
    ),
    "analysis.csv": (
        "signal_id",
        "produced_at",
        "source",
        "community_code",
        "address",
        "category",
        "summary",
        "score",
        "party_keys",
    ),
    "tips.csv": (
        "tip_id",
        "received_at",
        "community_code",
        "address",
        "category",
        "summary",
        "contact",
        "wants_reward",
    ),
    "cases.csv": ("case_id", "filed_at", "community_code", "address", "offence", "party_keys", "solved_at"),
    "unit_status.csv": ("unit_code", "incident_id", "status", "at"),
}

# Columns a file may carry beyond its layout: an officer's own daily visit capacity (blank: the role's).
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"officers.csv": ("daily_capacity",)}
