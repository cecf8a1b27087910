"""chain_event by name: the member directory reads the encryption and auditor key events
of the whole chain at every batch, without scanning every anchor

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chain_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chain_event_name_block_number_log_index"),
            ["name", "block_number", "log_index"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("chain_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_event_name_block_number_log_index"))
