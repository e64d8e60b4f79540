"""follow-up by risk and status: one index for a risk's pending visits

With `status` indexed alone and no statistics, SQLite answered "this risk's pending follow-ups" by
scanning every pending follow-up (the chiefs' reassignment did it once per risk moved). The composite
index replaces the single-column one on `risk_id`, whose every use it covers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:00:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_follow_up_risk_id_status', 'follow_up', ['risk_id', 'status'], unique=False)
    op.drop_index('ix_follow_up_risk_id', table_name='follow_up')


def downgrade() -> None:
    op.create_index('ix_follow_up_risk_id', 'follow_up', ['risk_id'], unique=False)
    op.drop_index('ix_follow_up_risk_id_status', table_name='follow_up')
