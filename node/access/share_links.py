"""Share links: whoever holds one reads one document's content, until it expires or is
revoked (ADR 0023).

A link is created for one document (by its target hash) by a user the node lets act for
the document's issuer or for one of its addressees; its token is 256 random bits shown
once (``dxs_...``), and the node keeps only its SHA-256. Every link has an expiry, at
most ``max_days`` away. Opening a link checks, in this order: the token is one this node
issued (``share-link-invalid``), not revoked (``share-link-revoked``), not expired
(``share-link-expired``); it then names its one document and nothing else.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from node.db.tables import ShareLinkRow
from node.errors import (
    InvalidRequestBody,
    ShareLinkExpired,
    ShareLinkInvalid,
    ShareLinkNotFound,
    ShareLinkRevoked,
)

SHARE_TOKEN_PREFIX: Final = "dxs_"  # noqa: S105 - a prefix, not a secret
#: the token: the prefix and 32 random bytes in base64url (43 characters)
SHARE_TOKEN: Final = re.compile(r"^dxs_[A-Za-z0-9_-]{43}$")
SHARE_LINK_ID: Final = re.compile(r"^[0-9a-f]{32}$")
DAY: Final = 86_400.0


def hash_share_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A link as listed: never its token."""

    id: str
    target_hash: bytes
    created_by: str
    created_at: float
    expires_at: float
    revoked_at: float | None
    revoked_by: str | None

    def state(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


@dataclass(frozen=True, slots=True)
class NewShareLink:
    """A link just created, with its token (shown this once)."""

    link: ShareLink
    token: str


def _link(row: ShareLinkRow) -> ShareLink:
    return ShareLink(
        id=row.id,
        target_hash=row.target_hash,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


class ShareLinks:
    """The node's share links, in ``node.sqlite``."""

    def __init__(
        self, engine: Engine, *, max_days: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self.max_days = max_days
        self._clock = clock

    def create(self, target_hash: bytes, created_by: str, days: int | None) -> NewShareLink:
        """A new link to the document ``target_hash``, expiring in ``days`` (1 to
        ``max_days``; ``max_days`` when None)."""
        lifetime = self.max_days if days is None else days
        if not 1 <= lifetime <= self.max_days:
            message = f"a share link lives 1 to {self.max_days} days, not {lifetime}"
            raise InvalidRequestBody(
                message, path="/expiresInDays", errors=(("/expiresInDays", message),)
            )
        now = self._clock()
        token = SHARE_TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ShareLinkRow(
            id=secrets.token_hex(16),
            token_hash=hash_share_token(token),
            target_hash=target_hash,
            created_by=created_by,
            created_at=now,
            expires_at=now + lifetime * DAY,
            revoked_at=None,
            revoked_by=None,
        )
        with Session(self._engine) as session:
            session.add(row)
            session.commit()
            return NewShareLink(_link(row), token)

    def of_document(self, target_hash: bytes) -> list[ShareLink]:
        """Every link ever made to the document, oldest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(ShareLinkRow)
                .where(ShareLinkRow.target_hash == target_hash)
                .order_by(ShareLinkRow.created_at, ShareLinkRow.id)
            )
            return [_link(row) for row in rows]

    def get(self, link_id: str) -> ShareLink:
        with Session(self._engine) as session:
            row = session.get(ShareLinkRow, link_id) if SHARE_LINK_ID.fullmatch(link_id) else None
            if row is None:
                raise ShareLinkNotFound(f"no share link {link_id[:40]!r} on this node")
            return _link(row)

    def revoke(self, link_id: str, revoked_by: str) -> ShareLink:
        """Revoke the link (again: no change, the first revocation stands)."""
        with Session(self._engine) as session:
            row = session.get(ShareLinkRow, link_id) if SHARE_LINK_ID.fullmatch(link_id) else None
            if row is None:
                raise ShareLinkNotFound(f"no share link {link_id[:40]!r} on this node")
            if row.revoked_at is None:
                row.revoked_at = self._clock()
                row.revoked_by = revoked_by
                session.commit()
            return _link(row)

    def open(self, token: str) -> ShareLink:
        """The live link of ``token``; refused with why when it is not one."""
        if not SHARE_TOKEN.fullmatch(token):
            raise ShareLinkInvalid("not a share token of this node")
        with Session(self._engine) as session:
            row = session.scalars(
                select(ShareLinkRow).where(ShareLinkRow.token_hash == hash_share_token(token))
            ).first()
            if row is None:
                raise ShareLinkInvalid("not a share token of this node")
            link = _link(row)
        if link.revoked_at is not None:
            raise ShareLinkRevoked("this share link was revoked")
        if self._clock() >= link.expires_at:
            raise ShareLinkExpired("this share link has expired")
        return link
