"""the urgent calls waiting for an incident; indexes for intake's increments

Opening incidents scanned every urgent call ever taken for one without an incident, and grouped the
whole level history for risks newly red. The queue `incident_due` holds what the link stage brought
(filled here with the calls that a run which died half-way left behind, by the rules in force). SQLite
has no statistics, so it read a status or place-kind index of half the register where a composite one
answers exactly: open red risks by latest signal, an address's household risks, a channel's signals in
a window; a partial index by time finds a person's recent raises; the review counts the risks found and
resolved in a window per community from an index alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from bridgehead.rules import get_rules

    op.create_table(
        'incident_due',
        sa.Column('signal_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['signal_id'], ['signal.id']),
        sa.PrimaryKeyConstraint('signal_id'),
    )
    person = sa.text("cause = 'person'")
    op.create_index(
        'ix_risk_level_change_person_at', 'risk_level_change', ['at'], unique=False,
        sqlite_where=person, postgresql_where=person,
    )
    op.create_index('ix_risk_place_kind_address_norm', 'risk', ['place_kind', 'address_norm'], unique=False)
    op.drop_index('ix_risk_place_kind', table_name='risk')
    for column in ('first_signal_at', 'resolved_at'):
        op.create_index(f'ix_risk_{column}_community_code', 'risk', [column, 'community_code'], unique=False)
    op.create_index('ix_signal_channel_occurred_at', 'signal', ['channel', 'occurred_at'], unique=False)
    op.drop_index('ix_signal_channel', table_name='signal')
    op.create_index(
        'ix_risk_status_level_last_signal_at', 'risk', ['status', 'level', 'last_signal_at'], unique=False
    )
    rules = get_rules().quick_response
    op.get_bind().execute(
        sa.text(
            "INSERT INTO incident_due (signal_id) SELECT s.id FROM signal s WHERE s.channel = 'call' "
            "AND s.linked_at IS NOT NULL AND (s.priority <= :p OR s.category IN :c) "
            "AND NOT EXISTS (SELECT 1 FROM incident i WHERE i.signal_id = s.id)"
        ).bindparams(sa.bindparam('c', expanding=True)),
        {'p': rules.urgent_priority, 'c': [str(c) for c in rules.urgent_categories]},
    )


def downgrade() -> None:
    for column in ('first_signal_at', 'resolved_at'):
        op.drop_index(f'ix_risk_{column}_community_code', table_name='risk')
    op.create_index('ix_signal_channel', 'signal', ['channel'], unique=False)
    op.drop_index('ix_signal_channel_occurred_at', table_name='signal')
    op.drop_index('ix_risk_status_level_last_signal_at', table_name='risk')
    op.create_index('ix_risk_place_kind', 'risk', ['place_kind'], unique=False)
    op.drop_index('ix_risk_place_kind_address_norm', table_name='risk')
    op.drop_index('ix_risk_level_change_person_at', table_name='risk_level_change')
    op.drop_table('incident_due')
