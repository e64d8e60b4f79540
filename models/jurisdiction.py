"""Jurisdiction (辖区): stations, communities and villages, officers and patrol units.

Reference data keyed by the codes in the jurisdiction files, so a reload is an upsert.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import AutoString, Field, SQLModel

from models.common import OptionalText, Text, TextBool


class CommunityKind(StrEnum):
    community = "community"  # 社区 (urban)
    village = "village"  # 行政村


class OfficerRole(StrEnum):
    community = "community"  # 社区民警 / 驻村民警
    patrol = "patrol"
    chief = "chief"  # 所长
    assistant = "assistant"  # 警务助理


#: The roles that carry a community's visits (its risks are theirs).
CARRIER_ROLES = (OfficerRole.community.value, OfficerRole.assistant.value)


class UnitStatus(StrEnum):
    free = "free"
    dispatched = "dispatched"
    en_route = "en_route"
    on_scene = "on_scene"


class StationBase(SQLModel):
    name: Text
    district: Text = Field(index=True)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Station(StationBase, table=True):
    """派出所: owns a jurisdiction of communities and villages."""

    station_code: str = Field(primary_key=True)


class StationIn(StationBase):
    """A row of stations.csv."""

    station_code: Text


class CommunityBase(SQLModel):
    name: Text
    kind: CommunityKind = Field(sa_type=AutoString)
    station_code: Text = Field(foreign_key="station.station_code", index=True)
    has_police_office: TextBool
    smart_security: TextBool
    population: int = Field(ge=0)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Community(CommunityBase, table=True):
    """社区 / 行政村: the smallest unit of jurisdiction."""

    community_code: str = Field(primary_key=True)


class CommunityIn(CommunityBase):
    """A row of communities.csv."""

    community_code: Text


class PlaceKind(StrEnum):
    shop = "shop"
    hospital = "hospital"
    school = "school"
    transport = "transport"
    public_space = "public_space"
    site = "site"
    other = "other"


class PlaceBase(SQLModel):
    address: Text
    community_code: Text = Field(foreign_key="community.community_code", index=True)
    kind: PlaceKind = Field(sa_type=AutoString)


class Place(PlaceBase, table=True):
    """A place that draws calls from many unrelated people (places.csv): its risk is a hotspot, not a
    household. Keyed by community and normalised address, as risks are linked."""

    place_key: str = Field(primary_key=True, description="community_code|normalised address")
    address_norm: str = Field(index=True)


class PlaceIn(PlaceBase):
    """A row of places.csv (optional in a jurisdiction folder)."""


class OfficerBase(SQLModel):
    name: Text
    role: OfficerRole = Field(sa_type=AutoString)
    station_code: Text = Field(foreign_key="station.station_code", index=True)
    community_code: OptionalText = Field(default=None, foreign_key="community.community_code", index=True)
    daily_capacity: int | None = Field(
        default=None, ge=1, le=100, description="visits a day; blank: the rules' default for the role"
    )


class Officer(OfficerBase, table=True):
    officer_code: str = Field(primary_key=True)


class OfficerIn(OfficerBase):
    """A row of officers.csv."""

    officer_code: Text


class PatrolUnitBase(SQLModel):
    station_code: Text = Field(foreign_key="station.station_code", index=True)
    members: int = Field(ge=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class PatrolUnit(PatrolUnitBase, table=True):
    """A patrol unit; its status is what quick response reads and sets."""

    __tablename__ = "patrol_unit"

    unit_code: str = Field(primary_key=True)
    status: str = Field(default=UnitStatus.free, index=True)
    status_since: datetime | None = None
    incident_id: int | None = Field(default=None, foreign_key="incident.id")


class PatrolUnitIn(PatrolUnitBase):
    """A row of units.csv."""

    unit_code: Text
