"""receiving_batches.manifest_json: the batch manifest as this node received it

A receiving node keeps the manifest it read (verified against the anchored root) and
serves it to the batch's other members, so that an addressee can still learn the CIDs
of its documents when the issuing member's host is gone (issue 13, point 6). Batches
tracked before are left null (their manifest is read again if ever needed).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("receiving_batches") as batch_op:
        batch_op.add_column(sa.Column("manifest_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receiving_batches") as batch_op:
        batch_op.drop_column("manifest_json")
