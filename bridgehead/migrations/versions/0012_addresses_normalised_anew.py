"""addresses normalised anew: a crossing is one corner whichever street comes first, and the common
street words (BLVD, BOULEVARD, BLV; N, NORTH) have one spelling

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:20:00
"""
from collections.abc import Sequence

from alembic import op

from bridgehead.renormalise import renormalise

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    renormalise(op.get_bind())


def downgrade() -> None:
    """The old keys are not kept: downgrading leaves the new ones, which the old code reads as addresses."""
