"""event index: checkpoints, events, batches, documents, members, keys, agreements

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("verifier_country", sa.String(length=2), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("type_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=True),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_event")),
    )
    with op.batch_alter_table("agreement_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_event_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_event_verifier_country_issuer_country_type_id"),
            ["verifier_country", "issuer_country", "type_id"],
            unique=False,
        )

    op.create_table(
        "batch",
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issuer_member", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.LargeBinary(length=20), nullable=False),
        sa.Column("submitter", sa.LargeBinary(length=20), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("document_count", sa.Integer(), nullable=False),
        sa.Column("addressees", sa.String(length=512), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_batch")),
    )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_block_number"), ["block_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_batch_issuer_member"), ["issuer_member"], unique=False)

    op.create_table(
        "chain_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_event")),
        sa.UniqueConstraint(
            "block_number", "log_index", name=op.f("uq_chain_event_block_number_log_index")
        ),
    )
    with op.batch_alter_table("chain_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chain_event_block_number"), ["block_number"], unique=False
        )

    op.create_table(
        "checkpoint",
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_checkpoint")),
    )
    op.create_table(
        "document_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issuer_member", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("account", sa.LargeBinary(length=20), nullable=False),
        sa.Column("actor_member", sa.Integer(), nullable=True),
        sa.Column("actor_country", sa.String(length=2), nullable=True),
        sa.Column("successor_target_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("successor_root", sa.LargeBinary(length=32), nullable=True),
        sa.Column("declaration_ref", sa.LargeBinary(length=32), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=True),
        sa.Column("used_quantity", sa.BigInteger(), nullable=True),
        sa.Column("allowed_quantity", sa.BigInteger(), nullable=True),
        sa.Column("reason_code", sa.Integer(), nullable=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_event")),
    )
    with op.batch_alter_table("document_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_event_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_document_event_target_hash_block_number_log_index"),
            ["target_hash", "block_number", "log_index"],
            unique=False,
        )

    op.create_table(
        "indexed_block",
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("block_number", name=op.f("pk_indexed_block")),
    )
    op.create_table(
        "key_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.LargeBinary(length=20), nullable=False),
        sa.Column("type_id", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_event")),
    )
    with op.batch_alter_table("key_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_key_event_account_type_id"), ["account", "type_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_key_event_block_number"), ["block_number"], unique=False
        )

    op.create_table(
        "member_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_event")),
    )
    with op.batch_alter_table("member_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_event_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_event_member_id_block_number_log_index"),
            ["member_id", "block_number", "log_index"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("member_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_event_member_id_block_number_log_index"))
        batch_op.drop_index(batch_op.f("ix_member_event_block_number"))

    op.drop_table("member_event")
    with op.batch_alter_table("key_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_event_block_number"))
        batch_op.drop_index(batch_op.f("ix_key_event_account_type_id"))

    op.drop_table("key_event")
    op.drop_table("indexed_block")
    with op.batch_alter_table("document_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_event_target_hash_block_number_log_index"))
        batch_op.drop_index(batch_op.f("ix_document_event_block_number"))

    op.drop_table("document_event")
    op.drop_table("checkpoint")
    with op.batch_alter_table("chain_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_event_block_number"))

    op.drop_table("chain_event")
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_issuer_member"))
        batch_op.drop_index(batch_op.f("ix_batch_block_number"))

    op.drop_table("batch")
    with op.batch_alter_table("agreement_event", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_agreement_event_verifier_country_issuer_country_type_id")
        )
        batch_op.drop_index(batch_op.f("ix_agreement_event_block_number"))

    op.drop_table("agreement_event")
