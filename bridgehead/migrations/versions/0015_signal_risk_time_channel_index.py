"""a risk's signals by time and channel, from the index alone

"Any news on this risk since T" (a follow-up brought forward, a risk gone quiet, a resolution undone)
and "the channel of a risk's first signal" (the review's risks found by channel) looked a risk's
signals up by `risk_id` and then read each row for its time and channel. The composite index answers
them without the table; it replaces the single-column one on `risk_id`, whose every use it covers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:00:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_signal_risk_id_occurred_at_channel', 'signal', ['risk_id', 'occurred_at', 'channel'], unique=False
    )
    op.drop_index('ix_signal_risk_id', table_name='signal')


def downgrade() -> None:
    op.create_index('ix_signal_risk_id', 'signal', ['risk_id'], unique=False)
    op.drop_index('ix_signal_risk_id_occurred_at_channel', table_name='signal')
