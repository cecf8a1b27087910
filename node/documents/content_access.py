"""Who may read a document's stored content, and who may share it (ADR 0023).

Least privilege, per document: a document's content (``/ipfs/{cid}``) goes to the node of
its **issuing member** and of **its own addressees** (the terms committed beside its leaf,
not the batch's), never to another member because it is a member; and to whoever holds a
live **share link** for that one document. A batch manifest goes to members only and
lists a CID only where that member may fetch it (the target hashes and terms stay, so the
receiver can rebuild the anchored root). Content this node does not hold as a document
(a block inside a larger DAG, anything else) is not served.

A share link for a document is created, listed and revoked at this node by:

- an **issuer**: for the documents it issued itself;
- a **customs officer**: for documents this node's country is an addressee of;
- (listing and revoking also) **auditors** and **admins**, for any document held here.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from node.access.member_requests import MemberCaller
from node.access.roles import Role
from node.access.share_links import NewShareLink, ShareLink, ShareLinks
from node.access.users import Principal
from node.documents.held_documents import (
    HeldDocument,
    Reference,
    ReferenceKind,
    find_document_attaching,
    find_held_document,
    parse_reference,
)
from node.errors import DocumentNotFound, NotAuthorised, NotEntitled
from node.issuing.outbox import BatchDocumentEntry


class ContentAccess:
    """The access rules for stored content, manifests and share links of one node."""

    def __init__(self, *, country: str, database: Engine, share_links: ShareLinks) -> None:
        self.country = country
        self._database = database
        self.share_links = share_links

    # --- reading content ------------------------------------------------------------------

    def _by_cid(self, cid: str) -> HeldDocument:
        reference = parse_reference(cid)
        held = (
            find_held_document(self._database, self.country, reference)
            if reference.kind is ReferenceKind.CID
            else None
        )
        if held is None and reference.kind is ReferenceKind.CID:
            # a file attached to a document issued here: read as that document is
            held = find_document_attaching(self._database, self.country, reference.values[0])
        if held is None or held.cid is None:
            raise DocumentNotFound(f"this node holds no document whose content is {cid[:80]}")
        return held

    def member_may_read(self, caller: MemberCaller, cid: str) -> None:
        """Allow ``caller``'s node to read ``cid`` only if it is the content of a document
        its country issued or is an addressee of."""
        held = self._by_cid(cid)
        if caller.country not in held.entitled_countries():
            raise NotEntitled(
                f"{caller.country} is neither the issuer nor an addressee of this document"
            )

    def share_may_read(self, token: str, cid: str) -> None:
        """Allow the holder of ``token`` to read ``cid`` only if it is the content of the
        one document the link was made for."""
        link = self.share_links.open(token)
        held = self._by_cid(cid)
        if held.target_hash != link.target_hash:
            raise NotEntitled("this share link is for another document")

    def shared_document(self, token: str) -> HeldDocument:
        """The one document a live share link opens."""
        link = self.share_links.open(token)
        held = find_held_document(
            self._database,
            self.country,
            Reference(ReferenceKind.TARGET_HASH, ("0x" + link.target_hash.hex(),)),
        )
        if held is None:
            raise DocumentNotFound("the shared document is no longer held by this node")
        return held

    def manifest_reader(
        self, caller: MemberCaller, issuer_country: str
    ) -> Callable[[BatchDocumentEntry], bool]:
        """Which entries of a batch this node issued ``caller`` may fetch (its CID shown)."""
        if caller.country == issuer_country:
            return lambda _entry: True
        return lambda entry: caller.country in entry.addressees

    # --- share links ----------------------------------------------------------------------

    def _document_for(
        self, principal: Principal, document_id: str, *, managing: bool
    ) -> HeldDocument:
        held = find_held_document(self._database, self.country, parse_reference(document_id))
        if held is None:
            raise DocumentNotFound(f"this node holds no document {document_id[:80]}")
        if principal.role is Role.ISSUER:
            if held.issued_by != principal.user_id:
                raise NotAuthorised("an issuer shares only the documents it issued itself")
        elif principal.role is Role.CUSTOMS_OFFICER:
            if self.country not in held.addressees:
                raise NotAuthorised(
                    f"this node's country {self.country} is not an addressee of the document"
                )
        elif not managing:
            raise NotAuthorised(
                "only the document's issuer or an addressee's customs officer creates links"
            )
        return held

    def create_link(self, principal: Principal, document_id: str, days: int) -> NewShareLink:
        held = self._document_for(principal, document_id, managing=False)
        return self.share_links.create(held.target_hash, principal.name, days)

    def links_of(self, principal: Principal, document_id: str) -> list[ShareLink]:
        held = self._document_for(principal, document_id, managing=True)
        return self.share_links.of_document(held.target_hash)

    def revoke_link(self, principal: Principal, link_id: str) -> ShareLink:
        link = self.share_links.get(link_id)
        self._document_for(principal, "0x" + link.target_hash.hex(), managing=True)
        return self.share_links.revoke(link_id, principal.name)
