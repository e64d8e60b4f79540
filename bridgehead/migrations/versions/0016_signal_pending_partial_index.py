"""the pending signals by a partial index: linking's queue, not every signal's link time

Linking asks for the signals not yet linked, in time order. A full index on `linked_at` kept an entry
for every signal ever linked, and linking one moved its entry (a delete and an insert in an index the
size of the register). The partial index holds only the pending ones, in the order linking reads them;
linking a signal takes it out.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text('linked_at IS NULL')


def upgrade() -> None:
    op.create_index(
        'ix_signal_pending', 'signal', ['occurred_at', 'id'], unique=False,
        sqlite_where=PENDING, postgresql_where=PENDING,
    )
    op.drop_index('ix_signal_linked_at', table_name='signal')


def downgrade() -> None:
    op.create_index('ix_signal_linked_at', 'signal', ['linked_at'], unique=False)
    op.drop_index('ix_signal_pending', table_name='signal')
