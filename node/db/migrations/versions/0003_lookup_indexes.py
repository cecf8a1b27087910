"""lookups by target hash or CID: outbox_target_hash, outbox_cid, inbox_cid

Verify by reference, the lifecycle and the inbox find a document by its target hash or
CID; without these indexes each lookup scanned the table.

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
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("outbox_target_hash", ["target_hash"], unique=False)
        batch_op.create_index("outbox_cid", ["cid"], unique=False)
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("inbox_cid", ["cid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("inbox_cid")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("outbox_cid")
        batch_op.drop_index("outbox_target_hash")
