"""Member nodes authenticate to each other by signing each request (ADR 0023).

:class:`MemberRequestSigner` is the asking side (the receiver): it signs a request for the
node of one country with this member's account key. :class:`MemberRequestVerifier` is
the serving side: the signature must be by the account it names, for this node's country,
this path and query and this deployment, within the freshness window of this node's
clock, never seen before (signer and nonce are kept for the window in ``node.sqlite``, so
every API process of the node refuses a replay), and the account must be a current member
account of an active member in the node's event index.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from certificates.errors import InvalidSignature
from certificates.member_requests import (
    MemberRequest,
    has_member_signature,
    is_fresh,
    recover_member_request,
    sign_member_request,
)
from certificates.signing import Eip712Domain, address_of
from ledger import queries
from node.db.tables import MemberRequestNonceRow
from node.errors import (
    MemberRequestReplayed,
    MemberSignatureInvalid,
    MemberSignatureStale,
    NotAMember,
)


@dataclass(frozen=True, slots=True)
class MemberCaller:
    """A member node that signed its request: its account, member id and country."""

    account: str
    member_id: int
    country: str


class MemberRequestSigner:
    """Signs this member's requests to other members' nodes with its member account key."""

    def __init__(
        self,
        private_key: bytes,
        domain: Eip712Domain,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = private_key
        self.account = address_of(private_key)
        self._domain = domain
        self._clock = clock

    def headers(self, method: str, target: str, audience: str) -> dict[str, str]:
        """The signature headers of ``method target`` sent to the node of ``audience``."""
        request = MemberRequest(
            method.upper(), target, audience, int(self._clock()), secrets.token_hex(16)
        )
        return sign_member_request(self._key, self.account, self._domain, request)


class MemberRequestVerifier:
    """Who signed a request, if it is a fresh, first-seen request of a current member."""

    def __init__(
        self,
        *,
        country: str,
        domain: Eip712Domain,
        index: Engine,
        database: Engine,
        window_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.country = country
        self._domain = domain
        self._index = index
        self._database = database
        self._window = window_seconds
        self._clock = clock

    @staticmethod
    def is_signed(headers: Mapping[str, str]) -> bool:
        return has_member_signature(headers)

    def authenticate(self, headers: Mapping[str, str], method: str, target: str) -> MemberCaller:
        """The member behind the signed request; a refusal with its own code otherwise."""
        try:
            signed = recover_member_request(
                self._domain, headers, method=method, target=target, audience=self.country
            )
        except InvalidSignature as error:
            raise MemberSignatureInvalid(
                f"the member signature does not hold for {method} {target[:200]} "
                f"at {self.country}: {error.message}"
            ) from None
        now = self._clock()
        if not is_fresh(signed.request.timestamp, now, self._window):
            raise MemberSignatureStale(
                f"the request was signed at {signed.request.timestamp}, more than "
                f"{self._window} s from this node's clock ({int(now)})"
            )
        account = queries.member_account(self._index, signed.signer)
        if not account.current or account.member_id is None or account.country is None:
            raise NotAMember(
                f"{signed.signer} is not a current member account of an active member "
                f"({account.cause})"
            )
        self._remember(signed.signer, signed.request.nonce, now)
        return MemberCaller(signed.signer, account.member_id, account.country)

    def _remember(self, signer: str, nonce: str, now: float) -> None:
        """Record (signer, nonce); a second time is a replay. Forgets what the window
        already refuses as stale."""
        with Session(self._database) as session:
            session.execute(
                delete(MemberRequestNonceRow).where(
                    MemberRequestNonceRow.seen_at < now - 2 * self._window
                )
            )
            session.add(MemberRequestNonceRow(signer=signer, nonce=nonce, seen_at=now))
            try:
                session.commit()
            except IntegrityError:
                raise MemberRequestReplayed(
                    f"this request (signer {signer}, nonce {nonce}) was already served"
                ) from None
