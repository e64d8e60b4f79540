"""Criminal cases (立案): the outcome the cycle is judged by, and what conversions are traced to."""

from __future__ import annotations

from datetime import datetime

from pydantic import model_validator
from sqlmodel import AutoString, Field, SQLModel

from models.common import OffenceCode, OptionalUtcTime, PartyKeys, Text, UtcTime, not_before, utcnow


class CriminalCaseBase(SQLModel):
    community_code: Text = Field(foreign_key="community.community_code", index=True)
    address: Text
    offence: OffenceCode = Field(index=True, sa_type=AutoString)


class CriminalCase(CriminalCaseBase, table=True):
    __tablename__ = "criminal_case"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(unique=True)
    filed_at: datetime = Field(index=True)
    solved_at: datetime | None = None
    address_norm: str = Field(index=True)
    party_keys: str | None = None
    source_file_id: int | None = Field(default=None, foreign_key="source_file.id", index=True)
    loaded_at: datetime = Field(default_factory=utcnow)


class CaseParty(SQLModel, table=True):
    """Who a case names, one row per person key (for 民转刑 by parties)."""

    __tablename__ = "case_party"

    case_id: int = Field(foreign_key="criminal_case.id", primary_key=True)
    party_key: str = Field(primary_key=True, index=True)


class CaseIn(CriminalCaseBase):
    """A row of the criminal case register."""

    case_id: Text
    filed_at: UtcTime
    party_keys: PartyKeys = []
    solved_at: OptionalUtcTime = None

    @model_validator(mode="after")
    def _in_order(self) -> CaseIn:
        not_before(self.filed_at, solved_at=self.solved_at)
        return self
