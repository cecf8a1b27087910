"""The node's side of the VC export: ``GET /.well-known/did.json``,
``GET /v1/documents/{id}/credential`` and ``GET /v1/credentials/status/{purpose}/{list}``.

- **Issuer**: the member's ``did:web``, made from the node's public URL
  (``https://customs.example.vn`` → ``did:web:customs.example.vn``; a path adds segments
  and the document is served at ``/<path>/did.json``).
- **Keys**: the member's issuer accounts in the ConsortiumRegistry (the node's event
  index), each listed with the public key the node recorded when it signed with it: a
  current account, and an account rotated out (so that credentials it signed still
  verify); an account disowned by a RevokeKey proposal is dropped (credentials it signed
  stop verifying, which is the point of revoking for cause). The signing key is the node's
  issuer key (ADR 0060, "the signing key").
- **Status**: each exported document takes one place (``credential_status``) at its first
  export, the same place for ever. The revocation list has the bit of every document
  revoked or superseded on chain; the suspension list has every bit set while the member
  is suspended by the consortium. Lists are built from the event index at each request, so
  they follow the chain as the index does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.formats.vc import (
    MIN_BITS,
    MemberKey,
    StatusLists,
    StatusPurpose,
    did_document,
    did_web,
    export_credential,
    secp256k1_public_key,
    secure_credential,
    status_list_credential,
)
from certificates.errors import NotFound, Unavailable
from certificates.hashes import to_hex
from certificates.json_types import JsonObject
from certificates.wrapped import WrappedDocument
from ledger import queries
from node.access.roles import Role
from node.access.users import Principal
from node.chain.ledger_link import LedgerLink
from node.db.tables import CredentialKeyRow, CredentialStatusRow
from node.documents.held_documents import ReferenceKind, parse_reference
from node.errors import DocumentNotAnchored, DocumentNotFound, NodeError, NotAuthorised
from node.issuing.outbox import DocumentState, Outbox

#: bits per status list: the specification's minimum (herd privacy), one list per 131,072
LIST_LENGTH: Final = MIN_BITS
_ALLOCATION_ATTEMPTS: Final = 5


class CredentialsUnavailable(Unavailable, NodeError):
    """The node's public URL makes no did:web (e.g. an IPv6 literal): no VC export."""

    code = "credentials-unavailable"


class StatusListNotFound(NotFound, NodeError):
    """No such status list: an unknown purpose, or a list number no credential uses."""

    code = "status-list-not-found"


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    token: str
    target_hash_hex: str
    document_type: str


def did_of(base_url: str) -> tuple[str, str]:
    """The member's ``did:web`` and the path its DID document is served at."""
    parts = urlsplit(base_url)
    segments = [segment for segment in parts.path.split("/") if segment]
    did = did_web(parts.netloc, *segments)
    served = "/" + "/".join(segments) + "/did.json" if segments else "/.well-known/did.json"
    return did, served


class CredentialExport:
    """Credentials of the documents this node issued, its DID document and status lists."""

    def __init__(
        self, *, country: str, base_url: str, database: Engine, outbox: Outbox, ledger: LedgerLink
    ) -> None:
        self._country = country
        self._base_url = base_url
        self._database = database
        self._outbox = outbox
        self._ledger = ledger
        self._no_did = ""
        try:
            self._did: str | None
            self._did, self.did_path = did_of(base_url)
        except ValueError as error:  # the node still runs; only the VC export is off
            self._did, self.did_path = None, "/.well-known/did.json"
            self._no_did = f"the public URL {base_url} makes no did:web ({error})"

    @property
    def did(self) -> str:
        """The member's did:web, or :class:`CredentialsUnavailable` (503)."""
        if self._did is None:
            raise CredentialsUnavailable(self._no_did + ": set DOCEX_PUBLIC_URL to a host name")
        return self._did

    # --- keys ----------------------------------------------------------------------------

    @property
    def _signing_account(self) -> str:
        return str(self._ledger.issuer.address).lower()

    def _fragment(self, account: str) -> str:
        return f"issuer-{account}"

    def _record_signing_key(self) -> None:
        """Keep the public key of the key this node signs with (the registry holds accounts)."""
        public_key = secp256k1_public_key(self._ledger.signing_key)
        with Session(self._database) as session, session.begin():
            if session.get(CredentialKeyRow, self._signing_account) is None:
                session.add(
                    CredentialKeyRow(
                        account=self._signing_account,
                        public_key=public_key,
                        recorded_at=time.time(),
                    )
                )

    def _member(self) -> tuple[int, str | None]:
        """This member's id and name in the registry (the node's event index)."""
        member = queries.admitted_member(self._ledger.index, self._country)
        if member is None:
            raise DocumentNotFound(
                f"the event index knows no member of {self._country} yet: no DID document"
            )
        return member

    def _member_id(self) -> int:
        return self._member()[0]

    def did_document(self) -> JsonObject:
        """The member's DID document: its current and rotated-out issuer keys."""
        did = self.did
        self._record_signing_key()
        member_id = self._member_id()
        with Session(self._database) as session:
            known = {
                row.account: row.public_key for row in session.scalars(select(CredentialKeyRow))
            }
        chain_id = self._ledger.deployment.chain_id
        keys = [
            MemberKey(
                self._fragment(account.account),
                known[account.account],
                current=account.current,
                account=account.account,
                chain_id=chain_id,
            )
            for account in queries.member_accounts(self._ledger.index, member_id)
            if account.account in known and not account.disowned
        ]
        if not keys:
            raise DocumentNotFound(
                f"no issuer key of {self._country} this node has signed with is in the registry"
            )
        return did_document(did, keys)

    # --- credentials -----------------------------------------------------------------------

    def credential(self, principal: Principal, document_id: str) -> IssuedCredential:
        """The ``vc+jwt`` of the document ``document_id`` names (issued here, anchored)."""
        reference = parse_reference(document_id)
        if reference.kind is ReferenceKind.CID:
            raise DocumentNotFound("name the document by its receipt id or target hash")
        receipt = self._outbox.receipt_of(reference.values[0])
        if receipt is None:
            raise DocumentNotFound(
                f"this node issued no document {document_id[:80]}: a credential is exported "
                "by the node of the member that issued the document"
            )
        if principal.role is Role.ISSUER and receipt.user_id != principal.user_id:
            raise NotAuthorised("this document belongs to another issuer")
        if (
            receipt.state is not DocumentState.ANCHORED
            or receipt.wrapped_json is None
            or receipt.target_hash is None
        ):
            raise DocumentNotAnchored(
                f"document {receipt.id} is {receipt.state.value}: a credential is exported "
                "once it is anchored"
            )
        wrapped = WrappedDocument.from_json(json.loads(receipt.wrapped_json))
        sequence = self._place(receipt.target_hash, receipt.id)
        self._record_signing_key()
        _, member_name = self._member()
        list_number, index = divmod(sequence, LIST_LENGTH)
        credential = export_credential(
            wrapped,
            issuer_did=self.did,
            issuer_name=member_name,
            status=StatusLists(
                self.status_list_url("revocation", list_number + 1),
                self.status_list_url("suspension", list_number + 1),
                index,
            ),
        )
        return IssuedCredential(
            token=self._secure(credential),
            target_hash_hex=to_hex(receipt.target_hash),
            document_type=wrapped.document_type,
        )

    def _secure(self, credential: JsonObject) -> str:
        kid = f"{self.did}#{self._fragment(self._signing_account)}"
        return secure_credential(credential, private_key=self._ledger.signing_key, kid=kid)

    def _place(self, target_hash: bytes, receipt_id: str) -> int:
        """The document's place in the status lists, taken at its first export."""
        for _ in range(_ALLOCATION_ATTEMPTS):
            with Session(self._database) as session:
                existing = session.get(CredentialStatusRow, target_hash)
                if existing is not None:
                    return existing.sequence
                following = session.scalar(
                    select(func.coalesce(func.max(CredentialStatusRow.sequence) + 1, 0))
                )
                try:
                    session.execute(
                        insert(CredentialStatusRow).values(
                            target_hash=target_hash,
                            sequence=following,
                            receipt_id=receipt_id,
                            allocated_at=time.time(),
                        )
                    )
                    session.commit()
                except IntegrityError:
                    # another export took that place first: read again (rolled back
                    # first: PostgreSQL refuses any statement in a failed transaction)
                    session.rollback()
                    continue
                return int(following or 0)
        raise DocumentNotAnchored("could not take a status list place: try again")

    # --- status lists ----------------------------------------------------------------------

    def status_list_url(self, purpose: StatusPurpose, list_number: int) -> str:
        return f"{self._base_url}/v1/credentials/status/{purpose}/{list_number}"

    def status_list(self, purpose: str, list_number: int) -> str:
        """The ``vc+jwt`` of status list ``list_number`` (1-based) for ``purpose``, as the
        event index has it now."""
        if purpose not in ("revocation", "suspension"):
            raise StatusListNotFound(
                f"no {purpose[:40]!r} status list: the purposes are revocation and suspension"
            )
        checked: StatusPurpose = "revocation" if purpose == "revocation" else "suspension"
        first = (list_number - 1) * LIST_LENGTH
        with Session(self._database) as session:
            places = session.execute(
                select(CredentialStatusRow.target_hash, CredentialStatusRow.sequence).where(
                    CredentialStatusRow.sequence >= first,
                    CredentialStatusRow.sequence < first + LIST_LENGTH,
                )
            ).all()
        if list_number < 1 or not places:
            raise StatusListNotFound(f"no credential uses {purpose} status list {list_number}")
        self._record_signing_key()
        member_id = self._member_id()
        set_bits: Iterable[int]
        if checked == "revocation":
            withdrawn = queries.withdrawn_documents(self._ledger.index, member_id)
            set_bits = [sequence - first for target, sequence in places if target in withdrawn]
        elif queries.member_active(self._ledger.index, member_id):
            set_bits = []
        else:  # the consortium suspended the member: every credential it issued is suspended
            set_bits = [sequence - first for _, sequence in places]
        listed = status_list_credential(
            list_url=self.status_list_url(checked, list_number),
            issuer=self.did,
            purpose=checked,
            set_indexes=set_bits,
            valid_from=datetime.now(UTC),
            length=LIST_LENGTH,
        )
        return self._secure(listed)
