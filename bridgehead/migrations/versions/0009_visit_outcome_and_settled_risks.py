"""visit outcome, settled risks, officers' daily capacity and capacity notices

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 22:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True))

    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    op.create_table('capacity_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('officer_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recipient_officer_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('owed', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('overflow', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['officer_code'], ['officer.officer_code'], ),
    sa.ForeignKeyConstraint(['recipient_officer_code'], ['officer.officer_code'], ),
    sa.ForeignKeyConstraint(['station_code'], ['station.station_code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('officer_code', 'issued_on')
    )
    with op.batch_alter_table('capacity_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capacity_notice_issued_on'), ['issued_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_capacity_notice_officer_code'), ['officer_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_capacity_notice_station_code'), ['station_code'], unique=False)

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_follow_up_planned_on'), ['planned_on'], unique=False)

    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_capacity', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_column('daily_capacity')

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_planned_on'))
        batch_op.drop_column('planned_on')

    with op.batch_alter_table('capacity_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capacity_notice_station_code'))
        batch_op.drop_index(batch_op.f('ix_capacity_notice_officer_code'))
        batch_op.drop_index(batch_op.f('ix_capacity_notice_issued_on'))

    op.drop_table('capacity_notice')
    with op.batch_alter_table('risk', schema=None) as batch_op:
        batch_op.drop_column('settled_at')

    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.drop_column('outcome')
