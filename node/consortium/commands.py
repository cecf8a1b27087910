"""The consortium's governance commands: what a member may propose, as typed values.

The consortium endpoints parse a JSON body into one of these (through :data:`PROPOSAL`);
:class:`~node.consortium.governance.Governance` turns each into a registry proposal.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

UINT32_MAX: Final = 2**32 - 1
UINT96_MAX: Final = 2**96 - 1
UINT64_MAX: Final = 2**64 - 1

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Account = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="An address")]
MemberId = Annotated[int, Field(ge=1, le=UINT32_MAX)]
PublicKey = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="An X25519 public key (32 bytes)")
]
DocumentType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A versioned document type (`coo/1`), or `member` for the member account",
    ),
]


class _Command(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, alias_generator=to_camel, validate_by_name=False
    )


class AdmitMember(_Command):
    action: Literal["admitMember"]
    country: Country
    name: str = Field(min_length=1, max_length=256)
    account: Account


class SuspendMember(_Command):
    action: Literal["suspendMember"]
    member_id: MemberId


class ReadmitMember(_Command):
    action: Literal["readmitMember"]
    member_id: MemberId


class ChangeQuorum(_Command):
    action: Literal["changeQuorum"]
    quorum: int = Field(ge=1, le=UINT32_MAX)


class AddKey(_Command):
    action: Literal["addKey"]
    member_id: MemberId
    account: Account
    document_type: DocumentType


class RotateKey(_Command):
    action: Literal["rotateKey"]
    member_id: MemberId
    old_account: Account
    new_account: Account
    document_type: DocumentType


class RevokeKey(_Command):
    action: Literal["revokeKey"]
    member_id: MemberId
    account: Account
    document_type: DocumentType


class AddAgreement(_Command):
    action: Literal["addAgreement"]
    verifier_country: Country
    issuer_country: Country
    document_type: DocumentType
    valid_from: int = Field(ge=0, le=UINT64_MAX, description="Unix seconds")
    valid_until: int = Field(default=0, ge=0, le=UINT64_MAX, description="Unix seconds; 0: open")


class WithdrawAgreement(_Command):
    action: Literal["withdrawAgreement"]
    verifier_country: Country
    issuer_country: Country
    document_type: DocumentType


class SetEncryptionKey(_Command):
    """A member's new encryption key: it executes only with that member's own approval."""

    action: Literal["setEncryptionKey"]
    member_id: MemberId
    public_key: PublicKey


class AddAuditorKey(_Command):
    """An auditor recipient for every confidential document sealed from then on (quorum)."""

    action: Literal["addAuditorKey"]
    name: str = Field(min_length=1, max_length=256)
    public_key: PublicKey


class RemoveAuditorKey(_Command):
    action: Literal["removeAuditorKey"]
    auditor_key_id: int = Field(ge=1, le=UINT32_MAX)


ProposalAction = Annotated[
    AdmitMember
    | SuspendMember
    | ReadmitMember
    | ChangeQuorum
    | AddKey
    | RotateKey
    | RevokeKey
    | AddAgreement
    | WithdrawAgreement
    | SetEncryptionKey
    | AddAuditorKey
    | RemoveAuditorKey,
    Field(discriminator="action"),
]


PROPOSAL: Final = TypeAdapter[ProposalAction](ProposalAction)
