"""outbox.allowance: the quantity a document's addressees may use, set by its issuer

A document's terms commit its allowance beside its leaf (the DocumentRegistry refuses
a use beyond it). Until this revision every document committed 1 (single use); the
issuing request now sets it (``allowance`` query parameter). Existing rows keep 1,
which is what their anchored terms say.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("outbox")}
    if "allowance" in columns:  # a database the current schema made before Alembic stamped it
        return
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(
            sa.Column("allowance", sa.BigInteger(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("allowance")
