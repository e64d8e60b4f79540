"""signals by channel, time and community, and by address and kind: the review from its indexes

Two of the signal table's indexes gain a column each, so that the review reads them alone:
- the calls and tips of a window per community (`channel, occurred_at` + `community_code`): SQLite
  looked up every call's row for its community (0.14 s a window at scale 1, 0.09 s so);
- the dispute signals at a criminal case's address (`address_norm` + `category`): by address alone,
  SQLite read every signal at the 13,700 addresses of a year's cases, 135,000 rows for the 11,000 it
  wanted (0.34 s; 0.15 s so).
Each replaces the narrower index it starts with, which every query that used it can still use.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:50:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_signal_channel_occurred_at', table_name='signal')
    op.create_index(
        'ix_signal_channel_occurred_at_community_code', 'signal', ['channel', 'occurred_at', 'community_code'],
        unique=False,
    )
    op.drop_index('ix_signal_address_norm', table_name='signal')
    op.create_index('ix_signal_address_norm_category', 'signal', ['address_norm', 'category'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_signal_address_norm_category', table_name='signal')
    op.create_index('ix_signal_address_norm', 'signal', ['address_norm'], unique=False)
    op.drop_index('ix_signal_channel_occurred_at_community_code', table_name='signal')
    op.create_index('ix_signal_channel_occurred_at', 'signal', ['channel', 'occurred_at'], unique=False)
