"""amendments: a table of the schema, no longer created by DocumentLifecycle

Before this revision the table was created when a node first built its DocumentLifecycle
(at start): a database made before Alembic has it or not (a data dir where only
``docex users add`` ran), whatever revision it was stamped at. So it is created here
only where it is missing; a database migrated by Alembic from the start never has it
before this revision.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("amendments"):
        return
    op.create_table(
        "amendments",
        sa.Column("original_id", sa.String(length=32), nullable=False),
        sa.Column("replacement_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("original_id"),
        sa.UniqueConstraint("replacement_id"),
    )
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.create_index("amendments_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.drop_index("amendments_state")
    op.drop_table("amendments")
