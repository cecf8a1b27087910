"""The institutions that may use this node, their roles and their bearer tokens.

A token is 256 random bits shown once; the node keeps only its SHA-256. Revoking a user
revokes every token it holds; a revoked user cannot be used again under the same name.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates.schemas import DOCUMENT_TYPES
from node.access.roles import Role
from node.db.tables import TokenRow, UserRow
from node.errors import InvalidRole, UnknownUser, UserExists

if TYPE_CHECKING:
    from ledger.prepared_reads import PreparedRead

TOKEN_PREFIX: Final = "dx_"  # noqa: S105 - a prefix, not a secret
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user that presented a live token."""

    user_id: int
    name: str
    role: Role
    document_types: frozenset[str]

    def may_issue(self, document_type: str) -> bool:
        return self.role is Role.ISSUER and document_type in self.document_types


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    role: Role
    document_types: tuple[str, ...]
    created_at: float
    revoked: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def document_types_from(short_names: Iterable[str]) -> tuple[str, ...]:
    """``coo`` or ``coo/1`` -> ``coo/1``; an unknown type raises :class:`InvalidRole`."""
    resolved: list[str] = []
    for name in short_names:
        name = name.strip()
        if not name:
            continue
        matches = [t for t in DOCUMENT_TYPES if t == name or t.split("/")[0] == name]
        if not matches:
            raise InvalidRole(
                f"unknown document type {name!r}; known: {', '.join(sorted(DOCUMENT_TYPES))}"
            )
        resolved += matches
    return tuple(sorted(set(resolved)))


class UserStore:
    """Users and tokens in the node database."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        #: the token lookup, compiled on first use
        self._by_token: PreparedRead | None = None

    def add(self, name: str, role: Role, document_types: Iterable[str] = ()) -> str:
        """Create user ``name`` and return its first token (shown once, stored hashed)."""
        if not _NAME.fullmatch(name):
            raise InvalidRole(f"invalid user name {name!r}: letters, digits, '.', '_', '-'")
        types = tuple(document_types)
        if role is Role.ISSUER and not types:
            raise InvalidRole("an issuer needs at least one document type (--types coo,permit)")
        if role is not Role.ISSUER and types:
            raise InvalidRole("only issuers have document types")
        with Session(self._engine) as session:
            row = UserRow(
                name=name,
                role=role.value,
                document_types=",".join(types),
                created_at=self._clock(),
                revoked_at=None,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise UserExists(f"user {name!r} exists already") from None
            token = self._new_token(session, row.id)
            session.commit()
            return token

    def issue_token(self, name: str) -> str:
        """A new token for an existing, live user."""
        with Session(self._engine) as session:
            row = self._live_user(session, name)
            token = self._new_token(session, row.id)
            session.commit()
            return token

    def revoke(self, name: str) -> None:
        """Revoke user ``name`` and every token it holds."""
        now = self._clock()
        with Session(self._engine) as session:
            row = self._live_user(session, name)
            row.revoked_at = now
            for token in session.scalars(
                select(TokenRow).where(TokenRow.user_id == row.id, TokenRow.revoked_at.is_(None))
            ):
                token.revoked_at = now
            session.commit()

    def list(self) -> list[UserInfo]:
        with Session(self._engine) as session:
            return [
                UserInfo(
                    name=row.name,
                    role=Role(row.role),
                    document_types=tuple(t for t in row.document_types.split(",") if t),
                    created_at=row.created_at,
                    revoked=row.revoked_at is not None,
                )
                for row in session.scalars(select(UserRow).order_by(UserRow.id))
            ]

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a live ``token``, or None (one prepared read: every
        authenticated request makes it)."""
        rows = self._token_read().rows({"token_hash": hash_token(token)})
        if not rows:
            return None
        user_id, name, role, document_types, user_revoked_at, token_revoked_at = rows[0]
        if user_revoked_at is not None or token_revoked_at is not None:
            return None
        return Principal(
            user_id=user_id,
            name=name,
            role=Role(role),
            document_types=frozenset(t for t in document_types.split(",") if t),
        )

    def _token_read(self) -> PreparedRead:
        if self._by_token is None:
            # imported here: the ledger package is heavy, and ``docex users`` never reads it
            from ledger.prepared_reads import PreparedRead

            self._by_token = PreparedRead(
                self._engine,
                select(
                    UserRow.id,
                    UserRow.name,
                    UserRow.role,
                    UserRow.document_types,
                    UserRow.revoked_at,
                    TokenRow.revoked_at,
                )
                .join(TokenRow, TokenRow.user_id == UserRow.id)
                .where(TokenRow.token_hash == bindparam("token_hash")),
            )
        return self._by_token

    def _live_user(self, session: Session, name: str) -> UserRow:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
        if row is None or row.revoked_at is not None:
            raise UnknownUser(f"no live user named {name!r}")
        return row

    def _new_token(self, session: Session, user_id: int) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        session.add(
            TokenRow(
                token_hash=hash_token(token),
                user_id=user_id,
                created_at=self._clock(),
                revoked_at=None,
            )
        )
        return token
