"""document_numbers: a document number is issued once per document type

Each document accepted for issuing reserves its number (certificate, permit or
declaration number) under its type; a second document with the same number is refused
(409, naming the first). Documents already in the outbox reserve theirs here, the
earliest accepted first; later duplicates from before this revision are left as they
are (they were anchored already).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: where each type keeps its number (as certificates.schemas names it)
_NUMBER_FIELD = {
    "coo/1": "certificateNumber",
    "permit/1": "permitNumber",
    "declaration/1": "declarationNumber",
}


def upgrade() -> None:
    numbers = op.create_table(
        "document_numbers",
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("document_number", sa.String(length=128), nullable=False),
        sa.Column("receipt_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("document_type", "document_number"),
    )
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.String),
        sa.column("document_type", sa.String),
        sa.column("document_json", sa.LargeBinary),
        sa.column("accepted_at", sa.Double),
    )
    bind = op.get_bind()
    seen: set[tuple[str, str]] = set()
    rows = []
    for receipt_id, document_type, document_json, _ in bind.execute(
        sa.select(
            outbox.c.id, outbox.c.document_type, outbox.c.document_json, outbox.c.accepted_at
        ).order_by(outbox.c.accepted_at, outbox.c.id)
    ):
        field = _NUMBER_FIELD.get(document_type)
        number = json.loads(document_json).get(field) if field else None
        if isinstance(number, str) and (document_type, number) not in seen:
            seen.add((document_type, number))
            rows.append(
                {
                    "document_type": document_type,
                    "document_number": number,
                    "receipt_id": receipt_id,
                }
            )
    if rows:
        op.bulk_insert(numbers, rows)


def downgrade() -> None:
    op.drop_table("document_numbers")
