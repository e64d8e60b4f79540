"""sweep stages: the committed stages of a day's sweep, so a killed day resumes after them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sweep_stage',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'stage')
    )


def downgrade() -> None:
    op.drop_table('sweep_stage')
