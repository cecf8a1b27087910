"""content_access: share links and the nonces of signed member requests (ADR 0023)

Stored content and batch manifests are served only to consortium members' nodes, which
sign their requests, and to holders of a share link for one document. A share link is
kept as the SHA-256 of its token; a member request's (signer, nonce) is kept for the
freshness window so that a replay is refused.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("target_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.create_index("share_links_target_hash", ["target_hash"], unique=False)
    op.create_table(
        "member_request_nonces",
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("signer", "nonce"),
    )
    with op.batch_alter_table("member_request_nonces", schema=None) as batch_op:
        batch_op.create_index("member_request_nonces_seen_at", ["seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member_request_nonces", schema=None) as batch_op:
        batch_op.drop_index("member_request_nonces_seen_at")
    op.drop_table("member_request_nonces")
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_index("share_links_target_hash")
    op.drop_table("share_links")
