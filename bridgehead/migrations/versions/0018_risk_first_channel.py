"""how a risk was found: its first signal's channel, kept on the risk

The review counts the risks found in each window by the channel of their first signal. Looked up per
risk through the signals, that was the review's largest statement at scale 1 (0.22 s on SQLite, 0.38 s
on PostgreSQL, for 325,000 risks over three windows). Linking now writes it where it writes the first
signal's time; this fills it in for the risks already on record, by the same rule (of two signals at
the same moment, the first channel by name).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 00:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('risk') as batch:
        batch.add_column(sa.Column('first_channel', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute(
        "UPDATE risk SET first_channel = (SELECT min(signal.channel) FROM signal "
        "WHERE signal.risk_id = risk.id AND signal.occurred_at = risk.first_signal_at)"
    )


def downgrade() -> None:
    with op.batch_alter_table('risk') as batch:
        batch.drop_column('first_channel')
