"""receiving and confidential documents: inbox, receiving_batches, peer_reports, outbox.confidential

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
        "inbox",
        sa.Column("target_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("batch_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("issuer", sa.String(length=42), nullable=False),
        sa.Column("cid", sa.String(length=128), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("wrapped_json", sa.LargeBinary(), nullable=False),
        sa.Column("verdict_json", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("target_hash"),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("inbox_received", ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_batch_root"), ["batch_root"], unique=False)

    op.create_table(
        "receiving_batches",
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("root"),
    )
    with op.batch_alter_table("receiving_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receiving_batches_state"), ["state"], unique=False)

    op.create_table(
        "peer_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("peer", sa.String(length=512), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("batch_root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("target_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("cid", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("reported_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # documents accepted before are plain (not sealed): the default fills them
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confidential", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("confidential")
    op.drop_table("peer_reports")
    with op.batch_alter_table("receiving_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receiving_batches_state"))
    op.drop_table("receiving_batches")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_batch_root"))
        batch_op.drop_index("inbox_received")
    op.drop_table("inbox")
