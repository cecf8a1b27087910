"""routes: one row per RouteRegistered event (anchors refer to their route by id)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route",
        sa.Column("route_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issuer", sa.LargeBinary(length=20), nullable=False),
        sa.Column("issuer_member", sa.Integer(), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("type_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("addressees", sa.String(length=512), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("route_id", name=op.f("pk_route")),
    )
    with op.batch_alter_table("route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_block_number"), ["block_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("route", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_block_number"))
    op.drop_table("route")
