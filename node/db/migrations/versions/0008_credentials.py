"""credentials: status list places of exported credentials, and the signing keys' public keys

A document exported as a Verifiable Credential takes one place in the node's Bitstring
Status Lists (revocation and suspension) at its first export; the public key of each
account the node signs credentials with is kept so that the DID document can list it
after the key is rotated out. Both tables start empty: nothing existing changes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_status",
        sa.Column("target_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.Column("allocated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("target_hash"),
        sa.UniqueConstraint("sequence"),
    )
    op.create_table(
        "credential_keys",
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=65), nullable=False),
        sa.Column("recorded_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )


def downgrade() -> None:
    op.drop_table("credential_keys")
    op.drop_table("credential_status")
