"""a risk's events of their own time by a partial index: the review's colours at a window's end

The review asks, for every risk found in a window, when its last event of its own time was (a visit's
evidence, an end, a person's raise): "an event since the end" decides whether its colour now is its
colour then. Those are a few percent of the level history; the rules' own changes are the rest. Without
this index SQLite read the whole history through `risk_id` to find them (0.24 s at scale 1, twice a
review); with it, 0.01 s. Partial, so bulk grading's rule changes never touch it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TIMED = sa.text("cause IN ('evidence', 'end', 'person')")


def upgrade() -> None:
    op.create_index(
        'ix_risk_level_change_event', 'risk_level_change', ['risk_id', 'at'], unique=False,
        sqlite_where=EVENT_TIMED, postgresql_where=EVENT_TIMED,
    )


def downgrade() -> None:
    op.drop_index('ix_risk_level_change_event', table_name='risk_level_change')
