"""Citizen tips (线索举报): the tipster's side of a tip signal, kept apart from the signal itself.

The contact is encrypted at rest; the tipster knows the tip only by its anonymous code.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Tip(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    signal_id: int = Field(foreign_key="signal.id", unique=True)
    tip_code: str = Field(unique=True, description="anonymous, unguessable code the tipster keeps")
    contact_enc: bytes | None = None
    wants_reward: bool = False
    status: str = Field(default="received", index=True, description="received|verified|rewarded|paid")
    verified_by: str | None = Field(default=None, foreign_key="officer.officer_code")
    verified_at: datetime | None = None
    outcome: str | None = Field(default=None, description="risk_found | case_solved | unfounded")
