"""received_from: where the receiver got each document's content, and why it fell back

The receiver asks the node's own Kubo first (bitswap in the consortium's swarm), then
the trustless gateways of every member that holds the document (its issuer, its other
addressees). ``received_from`` names the source that delivered; ``fallbacks_json`` lists
each source tried before it and why it failed. Rows received before are left null.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.add_column(sa.Column("received_from", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("fallbacks_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.drop_column("fallbacks_json")
        batch_op.drop_column("received_from")
