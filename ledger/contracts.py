"""Python bindings of the docex contracts, from the checked-in build artifacts.

``contracts/build/<Name>.json`` holds each contract's ABI and bytecode (see
docs/contracts.md). A :class:`ContractBinding` encodes calls into
:class:`~ledger.transactions.TxRequest` data and reads views with one raw ``eth_call``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.exceptions import EncodingError

from certificates.keccak import keccak256
from certificates.merkle import DocumentTerms
from certificates.signing import checksum_address
from ledger.abi_codec import ContractAbi
from ledger.chains import Chain
from ledger.errors import (
    AlreadyRecorded,
    ArtifactError,
    NotAuthorisedOnChain,
    NotFoundOnChain,
    RpcError,
)
from ledger.reverts import RevertDecoder, RevertRule, revert_data_of
from ledger.transactions import TxRequest

CONSORTIUM_REGISTRY = "ConsortiumRegistry"
DOCUMENT_REGISTRY = "DocumentRegistry"
CONTRACT_NAMES = (CONSORTIUM_REGISTRY, DOCUMENT_REGISTRY)

#: What to do instead when a call no longer encodes (a changed contract function).
CALL_HINTS: Mapping[str, str] = {
    "anchor": (
        "DocumentRegistry.anchor takes (root, routeId, documentCount) since ADR 0021;"
        " build the transaction with ledger.anchor_request(...), or call"
        " anchorWithRoute(root, documentType, documentCount, addressees)"
    ),
    "recordUse": (
        "DocumentRegistry.recordUse takes (root, targetHash, proof, addressees, allowance,"
        " declarationRef, quantity): the document's own terms, proven in a batch built with"
        " MerkleTree.build_with_terms; use ledger.use_request(...)"
    ),
    "recordRejection": (
        "DocumentRegistry.recordRejection takes (root, targetHash, proof, addressees,"
        " allowance, reasonCode); use ledger.rejection_request(...)"
    ),
    "proposeChangeQuorum": (
        "the quorum is a fraction of the active members fixed at deployment"
        " (ConsortiumRegistry.quorumNumerator/quorumDenominator); it cannot be changed"
    ),
}


def default_build_dir() -> Path:
    """``contracts/build`` of the source tree this package runs from."""
    return Path(__file__).resolve().parents[1] / "contracts" / "build"


def type_id(document_type: str) -> bytes:
    """The on-chain id of a versioned document type: ``keccak256("coo/1")``."""
    return keccak256(document_type.encode())


def country_code(country: str) -> bytes:
    """An ISO 3166-1 alpha-2 code as the contracts' ``bytes2``."""
    if len(country) != 2 or not country.isascii() or not country.isupper():
        raise ValueError(f"not an ISO 3166-1 alpha-2 code: {country!r}")
    return country.encode("ascii")


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: ContractAbi
    bytecode: bytes

    @classmethod
    def load(cls, name: str, build_dir: Path | None = None) -> Artifact:
        path = (build_dir or default_build_dir()) / f"{name}.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            bytecode = str(document["bytecode"])
            return cls(
                name=name,
                abi=ContractAbi(document["abi"]),
                bytecode=bytes.fromhex(bytecode.removeprefix("0x")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"contract artifact {path} unreadable: {exc}") from exc

    def deploy_request(self, key: str, *constructor_args: Any) -> TxRequest:
        return TxRequest(
            key=key, to=None, data=self.bytecode + self.abi.encode_constructor(constructor_args)
        )


class ContractBinding:
    """One deployed contract: encode its transactions, read its views."""

    def __init__(self, artifact: Artifact, address: str) -> None:
        self.artifact = artifact
        self.address = address
        self.abi = artifact.abi

    def call_data(self, function: str, *args: Any) -> bytes:
        codec = self.abi.function(function)
        try:
            return codec.encode(args)
        except (EncodingError, TypeError, ValueError, OverflowError) as exc:
            types = ",".join(codec.input_types)
            hint = CALL_HINTS.get(function)
            raise TypeError(
                f"{self.artifact.name}.{function}({types}) cannot encode {len(args)} argument(s):"
                f" {exc}" + (f". {hint}" if hint else "")
            ) from exc

    def request(self, key: str, function: str, *args: Any, gas: int | None = None) -> TxRequest:
        """A transaction calling ``function(*args)``, named ``key`` for the journal."""
        return TxRequest(key=key, to=self.address, data=self.call_data(function, *args), gas=gas)

    def call(
        self,
        chain: Chain,
        function: str,
        *args: Any,
        block: int | str = "latest",
        decoder: RevertDecoder | None = None,
    ) -> tuple[Any, ...]:
        """Read a view with one ``eth_call``; a revert raises its typed error."""
        codec = self.abi.function(function)
        tag = hex(block) if isinstance(block, int) else block
        params = [{"to": self.address, "data": "0x" + codec.encode(args).hex()}, tag]
        try:
            result = chain.request("eth_call", params)
        except RpcError as exc:
            data = revert_data_of(exc)
            if data is None:
                raise
            number = block if isinstance(block, int) else None
            raise (decoder or RevertDecoder([self.abi])).decode(
                data, block_number=number, action=function
            ) from exc
        return codec.decode_output(bytes.fromhex(str(result)[2:]))


#: The sentence each custom error reads as (docs/contracts.md lists when each is raised).
REVERT_RULES: Mapping[str, RevertRule] = {
    # ConsortiumRegistry
    "NotMemberAccount": RevertRule(
        "{account} is not a member account of an active member", NotAuthorisedOnChain
    ),
    "MemberNotActive": RevertRule("member {memberId} is not active", NotAuthorisedOnChain),
    "MemberNotSuspended": RevertRule("member {memberId} is not suspended"),
    "UnknownMember": RevertRule("no member {memberId}", NotFoundOnChain),
    "TooFewMembers": RevertRule("a consortium needs at least two members, got {count}"),
    "InvalidQuorumRule": RevertRule(
        "quorum rule {numerator}/{denominator} over {proposalLifetime} blocks is invalid"
        " (at least one half, less than one, a lifetime of at least one block)"
    ),
    "QuorumUnreachable": RevertRule(
        "the last active member cannot be suspended ({activeMembersAfter} would remain)"
    ),
    "QuorumNotReached": RevertRule(
        "proposal {proposalId} has {approvals} of the {quorum} approvals it needs"
    ),
    "ConsentMissing": RevertRule(
        "proposal {proposalId} acts for member {memberId}, which has not approved it",
        NotAuthorisedOnChain,
    ),
    "ProposalExpired": RevertRule(
        "proposal {proposalId} expired after block {deadline}", NotFoundOnChain
    ),
    "ProposalClosedAlready": RevertRule(
        "proposal {proposalId} is closed (state {state})", AlreadyRecorded
    ),
    "AlreadyRejected": RevertRule(
        "member {memberId} already voted no on proposal {proposalId}", AlreadyRecorded
    ),
    "NotProposer": RevertRule(
        "member {memberId} did not make proposal {proposalId} (member {proposerMember} did)",
        NotAuthorisedOnChain,
    ),
    "CountryTaken": RevertRule("{country} is already member {memberId}", AlreadyRecorded),
    "NoMemberForCountry": RevertRule("no member for {country}", NotFoundOnChain),
    "LastMember": RevertRule("member {memberId} is the last active member and cannot leave"),
    "ZeroEncryptionKey": RevertRule("an encryption public key cannot be zero"),
    "InvalidCountryCode": RevertRule("{country} is not an ISO 3166-1 alpha-2 country code"),
    "EmptyName": RevertRule("a member (or an auditor key) needs a name"),
    "UnknownAuditorKey": RevertRule("no auditor key {auditorKeyId} in force", NotFoundOnChain),
    "ZeroAccount": RevertRule("the zero address cannot be an account"),
    "AccountBoundToOtherMember": RevertRule(
        "account {account} already belongs to member {memberId}", AlreadyRecorded
    ),
    "AccountNotOfMember": RevertRule(
        "account {account} does not belong to member {memberId}", NotAuthorisedOnChain
    ),
    "KeyAlreadyActive": RevertRule("key {account} is already active for {typeId}", AlreadyRecorded),
    "KeyNotActive": RevertRule("key {account} is not active for {typeId}", NotFoundOnChain),
    "InvalidValidity": RevertRule("validity window {validFrom}..{validUntil} is empty"),
    "AgreementAlreadyInForce": RevertRule(
        "{verifierCountry} already recognises {typeId} from {issuerCountry}", AlreadyRecorded
    ),
    "AgreementNotInForce": RevertRule(
        "{verifierCountry} has no agreement on {typeId} from {issuerCountry}", NotFoundOnChain
    ),
    "UnknownProposal": RevertRule("no proposal {proposalId}", NotFoundOnChain),
    "ProposalAlreadyExecuted": RevertRule(
        "proposal {proposalId} is already executed", AlreadyRecorded
    ),
    "AlreadyApproved": RevertRule(
        "member {memberId} already approved proposal {proposalId}", AlreadyRecorded
    ),
    # DocumentRegistry
    "ZeroRoot": RevertRule("a batch root cannot be zero"),
    "EmptyBatch": RevertRule("a batch holds at least one document"),
    "NoAddressees": RevertRule("a batch needs at least one addressee country"),
    "AddresseesNotSorted": RevertRule(
        "addressees must be sorted without duplicates (at index {index})"
    ),
    "IssuerNotAuthorised": RevertRule(
        "issuer not authorised for {typeId} in {country} at block {blockNumber}"
        " (account {account})",
        NotAuthorisedOnChain,
    ),
    "AlreadyAnchored": RevertRule(
        "batch {root} already anchored by {issuer} at block {blockNumber}", AlreadyRecorded
    ),
    "UnknownRoute": RevertRule(
        "route {routeId} is not registered (anchorWithRoute registers a route)", NotFoundOnChain
    ),
    "NotRouteIssuer": RevertRule(
        "route {routeId} belongs to issuer key {routeIssuer}, not {account}", NotAuthorisedOnChain
    ),
    "TooManyRoutes": RevertRule("issuer key {issuer} has no route numbers left for {typeId}"),
    "BatchTooLarge": RevertRule("a batch holds fewer than 2^32 documents, not {documentCount}"),
    "ValueNotAccepted": RevertRule("anchoring accepts no ether ({value} wei sent)"),
    "NotConsortium": RevertRule(
        "only the consortium registry updates anchoring rights, not {caller}", NotAuthorisedOnChain
    ),
    "RegistryAlreadyAttached": RevertRule(
        "the consortium already has its document registry {registry}", AlreadyRecorded
    ),
    "AttachRefused": RevertRule(
        "a document registry attaches in a transaction sent by the consortium's deployer"
        " (sent by {origin} through {caller})",
        NotAuthorisedOnChain,
    ),
    "SafeCastOverflowedUintDowncast": RevertRule("{value} does not fit in {bits} bits"),
    "NotAnchored": RevertRule("batch {root} is not anchored", NotFoundOnChain),
    "InvalidProof": RevertRule(
        "proof does not lead from document {targetHash} to batch {root}", NotFoundOnChain
    ),
    "NotActiveAccount": RevertRule(
        "{account} is not an active account of an active member at block {blockNumber}",
        NotAuthorisedOnChain,
    ),
    "NotIssuerMember": RevertRule(
        "account {account} of member {accountMember} cannot act for issuer member {issuerMember}",
        NotAuthorisedOnChain,
    ),
    "NotAddressee": RevertRule(
        "{country} ({account}) is not an addressee of this document of batch {root}",
        NotAuthorisedOnChain,
    ),
    "InvalidTermsProof": RevertRule(
        "the addressees and allowance given are not the terms its issuer committed for"
        " document {targetHash} in batch {root}",
        NotAuthorisedOnChain,
    ),
    "SuccessorOfOtherMember": RevertRule(
        "successor batch {successorRoot} was anchored by member {successorMember},"
        " not {issuerMember}",
        NotAuthorisedOnChain,
    ),
    "SupersedeBySelf": RevertRule("document {targetHash} cannot supersede itself"),
    "DocumentIsRevoked": RevertRule("document {targetHash} is revoked", AlreadyRecorded),
    "DocumentIsSuperseded": RevertRule(
        "document {targetHash} is superseded by {successor}", AlreadyRecorded
    ),
    "ZeroQuantity": RevertRule("a use needs a quantity (and a first use an allowance)"),
    "AllowanceMismatch": RevertRule("document {targetHash} has allowance {recorded}, not {given}"),
    "OverUse": RevertRule(
        "document {targetHash} over-used: {used} of {allowed} used, {requested} more asked"
    ),
    "ECDSAInvalidSignature": RevertRule("batch signature invalid"),
    "StringTooLong": RevertRule("string too long for a short string: {str}"),
    "InvalidShortString": RevertRule("invalid short string"),
    "ECDSAInvalidSignatureLength": RevertRule("batch signature has length {length}, not 65"),
    "ECDSAInvalidSignatureS": RevertRule("batch signature is not low-s (EIP-2)"),
}


def revert_decoder(
    artifacts: Iterable[Artifact], document_types: Iterable[str] = ()
) -> RevertDecoder:
    """A decoder for the docex contracts that spells known type ids as ``coo/1``."""
    return RevertDecoder(
        [a.abi for a in artifacts],
        REVERT_RULES,
        names={type_id(t): t for t in document_types},
    )


def anchor_request(
    documents: ContractBinding,
    chain: Chain,
    key: str,
    issuer: str,
    root: bytes,
    document_type: str,
    document_count: int,
    addressees: Sequence[str],
    *,
    gas: int | None = None,
) -> TxRequest:
    """The cheapest transaction anchoring ``root`` for ``issuer`` (ADR 0021).

    On a route the issuer key registered before (same document type and sorted
    addressees), ``anchor(root, routeId, documentCount)``: within OpenAttestation's gas.
    Otherwise ``anchorWithRoute(root, documentType, documentCount, addressees)``, which
    registers the route on the way. One ``eth_call`` (``routeOf``) decides.
    """
    codes = [country_code(country) for country in addressees]
    (route_id,) = documents.call(chain, "routeOf", issuer, type_id(document_type), codes)
    if route_id:
        return documents.request(key, "anchor", root, route_id, document_count, gas=gas)
    return documents.request(
        key, "anchorWithRoute", root, document_type, document_count, codes, gas=gas
    )


def use_request(
    documents: ContractBinding,
    key: str,
    *,
    root: bytes,
    target_hash: bytes,
    proof: Sequence[bytes],
    terms: DocumentTerms,
    declaration_ref: bytes,
    quantity: int,
    gas: int | None = None,
) -> TxRequest:
    """``recordUse``: one of the document's own addressees uses ``quantity`` of the allowance
    its issuer committed in ``terms`` (proven by ``proof``, whose first hash is the terms
    leaf of a tree built with :meth:`certificates.MerkleTree.build_with_terms`)."""
    return documents.request(
        key,
        "recordUse",
        root,
        target_hash,
        list(proof),
        [country_code(c) for c in terms.addressees],
        terms.allowance,
        declaration_ref,
        quantity,
        gas=gas,
    )


def rejection_request(
    documents: ContractBinding,
    key: str,
    *,
    root: bytes,
    target_hash: bytes,
    proof: Sequence[bytes],
    terms: DocumentTerms,
    reason_code: int,
    gas: int | None = None,
) -> TxRequest:
    """``recordRejection`` by one of the document's own addressees (as :func:`use_request`)."""
    return documents.request(
        key,
        "recordRejection",
        root,
        target_hash,
        list(proof),
        [country_code(c) for c in terms.addressees],
        terms.allowance,
        reason_code,
        gas=gas,
    )


@dataclass(frozen=True, slots=True)
class AnchorRecord:
    """What the chain recorded for an anchored root (``DocumentRegistry.anchorRecord``): the
    issuer key, its member and country, the document type id, the block, the batch's
    addressees, and whether the key could issue that type for that country at that block."""

    issuer: str
    issuer_member: int
    issuer_country: str
    type_id: bytes
    block_number: int
    addressees: tuple[str, ...]
    issuer_authorised: bool


def anchor_record(
    documents: ContractBinding, chain: Chain, root: bytes, *, block: int | str = "latest"
) -> AnchorRecord:
    """The chain's record of ``root``; raises :class:`NotFoundOnChain` when not anchored."""
    ((issuer, member, country, type_, number, addressees, authorised),) = documents.call(
        chain, "anchorRecord", root, block=block
    )
    return AnchorRecord(
        issuer=checksum_address(str(issuer)),
        issuer_member=int(member),
        issuer_country=bytes(country).decode("ascii"),
        type_id=bytes(type_),
        block_number=int(number),
        addressees=tuple(bytes(a).decode("ascii") for a in addressees),
        issuer_authorised=bool(authorised),
    )


def issued_as(
    documents: ContractBinding,
    chain: Chain,
    *,
    root: bytes,
    target_hash: bytes,
    proof: Sequence[bytes],
    document_type: str,
    issuing_country: str,
) -> bool:
    """The chain's issuer check (``DocumentRegistry.issuedAs``): the document is in the
    anchored batch, which was anchored as ``document_type`` by a key of ``issuing_country``'s
    member holding that right at the anchor block. Pass what the issuer *signed*."""
    (answer,) = documents.call(
        chain,
        "issuedAs",
        root,
        target_hash,
        list(proof),
        type_id(document_type),
        country_code(issuing_country),
    )
    return bool(answer)


def load_artifacts(build_dir: Path | None = None) -> dict[str, Artifact]:
    return {name: Artifact.load(name, build_dir) for name in CONTRACT_NAMES}
