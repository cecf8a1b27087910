"""outbox_documents, outbox_wrapped: an outbox row's two documents in tables of their own

The outbox row of a document is updated at every step of issuing (claimed into a batch,
signed, anchored), and SQLite writes a whole row again at each update, its overflow pages
included. With the validated document (about 2 kB) and the wrapped one (about 7 kB) in
the row, marking a batch of 256 documents anchored cost 20 ms of CPU; with the small row
left, under 1 ms (issue 15, point 2). Each document is now written once, into its own
table: the validated JSON when the document is accepted, the wrapped JSON when its batch
is signed. The rows move as they are; on SQLite the outbox table is copied without the
two columns (Alembic's batch mode), so the upgrade of a large database takes a while,
once.

The outbox's indexes by target hash, CID and batch become partial (rows where the
column is set): a pending row has none of the three, and each NULL entry was written at
acceptance and moved again when the column was set. Storing a request of five documents
took 1.67 ms of CPU with the full indexes, 1.45-1.50 with partial ones (on a copy of
that node's database).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: the outbox's lookup indexes on columns set after acceptance: partial from here on
_SET_LATER = (
    ("outbox_target_hash", "target_hash"),
    ("outbox_cid", "cid"),
    ("ix_outbox_batch_id", "batch_id"),
)
_OUTBOX = sa.table(
    "outbox",
    sa.column("id", sa.String),
    sa.column("document_json", sa.LargeBinary),
    sa.column("wrapped_json", sa.LargeBinary),
)


def _documents_table(name: str, column: str) -> sa.TableClause:
    return sa.table(name, sa.column("receipt_id", sa.String), sa.column(column, sa.LargeBinary))


def upgrade() -> None:
    for name, column in (("outbox_documents", "document_json"), ("outbox_wrapped", "wrapped_json")):
        op.create_table(
            name,
            sa.Column("receipt_id", sa.String(length=32), nullable=False),
            sa.Column(column, sa.LargeBinary(), nullable=False),
            sa.ForeignKeyConstraint(["receipt_id"], ["outbox.id"]),
            sa.PrimaryKeyConstraint("receipt_id"),
        )
    bind = op.get_bind()
    bind.execute(
        sa.insert(_documents_table("outbox_documents", "document_json")).from_select(
            ["receipt_id", "document_json"], sa.select(_OUTBOX.c.id, _OUTBOX.c.document_json)
        )
    )
    bind.execute(
        sa.insert(_documents_table("outbox_wrapped", "wrapped_json")).from_select(
            ["receipt_id", "wrapped_json"],
            sa.select(_OUTBOX.c.id, _OUTBOX.c.wrapped_json).where(
                _OUTBOX.c.wrapped_json.is_not(None)
            ),
        )
    )
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("document_json")
        outbox.drop_column("wrapped_json")
    for name, column in _SET_LATER:
        op.drop_index(name, table_name="outbox")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "outbox", [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, column in _SET_LATER:
        op.drop_index(name, table_name="outbox")
        op.create_index(name, "outbox", [column])
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("document_json", sa.LargeBinary(), nullable=True))
        outbox.add_column(sa.Column("wrapped_json", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    for name, column in (("outbox_documents", "document_json"), ("outbox_wrapped", "wrapped_json")):
        apart = _documents_table(name, column)
        bind.execute(
            sa.update(_OUTBOX).values(
                {
                    column: sa.select(apart.c[column])
                    .where(apart.c.receipt_id == _OUTBOX.c.id)
                    .scalar_subquery()
                }
            )
        )
    with op.batch_alter_table("outbox") as outbox:
        outbox.alter_column("document_json", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("outbox_wrapped")
    op.drop_table("outbox_documents")
