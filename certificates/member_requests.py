"""Signed requests between member nodes (ADR 0023): what is signed, and who signed it.

A member node that asks another for stored content or a batch manifest signs the request
with its **member account** key (the account the ConsortiumRegistry lists for it). The
signature is EIP-712 over

    MemberRequest(string method,string target,bytes2 audience,uint64 timestamp,bytes16 nonce)

under the domain ``("docex-member-request", "1", chainId, ConsortiumRegistry)``, so that a
request signed for one node (``audience``, the serving member's country), one path and
query (``target``), one deployment and one moment cannot be used for another; the nonce
makes each request unique within the freshness window. Batch anchor signatures
(:mod:`certificates.signing`) use another domain name and type: neither can pass for the
other.

Pure: the caller gives the key, the time and the nonce; whether the recovered account is
a current member's, and whether a nonce was seen before, is the node's business.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from certificates.errors import InvalidSignature
from certificates.keccak import keccak256
from certificates.signing import Eip712Domain, recover_digest_signer, sign_digest

REQUEST_DOMAIN_NAME: Final = "docex-member-request"
_REQUEST_TYPE: Final = (
    "MemberRequest(string method,string target,bytes2 audience,uint64 timestamp,bytes16 nonce)"
)
MEMBER_REQUEST_TYPEHASH: Final = keccak256(_REQUEST_TYPE.encode())

#: the four headers a signed request carries
SIGNER_HEADER: Final = "Docex-Signer"
TIMESTAMP_HEADER: Final = "Docex-Timestamp"
NONCE_HEADER: Final = "Docex-Nonce"
SIGNATURE_HEADER: Final = "Docex-Signature"
MEMBER_HEADERS: Final = (SIGNER_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)

_METHOD: Final = re.compile(r"^[A-Z]{1,16}$")
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")
_NONCE: Final = re.compile(r"^[0-9a-f]{32}$")
_ADDRESS: Final = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SIGNATURE: Final = re.compile(r"^0x[0-9a-fA-F]{130}$")
_TIMESTAMP: Final = re.compile(r"^[0-9]{1,12}$")
#: a path and query as sent: printable ASCII, bounded
_TARGET: Final = re.compile(r"^/[\x21-\x7e]{0,2047}$")


def request_domain(chain_id: int, consortium_registry: str) -> Eip712Domain:
    """The domain member requests are signed under: one chain, one ConsortiumRegistry."""
    return Eip712Domain(chain_id, consortium_registry, name=REQUEST_DOMAIN_NAME)


@dataclass(frozen=True, slots=True)
class MemberRequest:
    """What a member node signs: one request, for one audience, at one moment."""

    method: str
    #: the path and query exactly as sent (``/ipfs/bafy...?format=car&dag-scope=all``)
    target: str
    #: the country of the member node the request is for
    audience: str
    timestamp: int
    #: 16 random bytes, as 32 lower-case hex digits
    nonce: str

    def __post_init__(self) -> None:
        if not _METHOD.fullmatch(self.method):
            raise InvalidSignature(f"not an HTTP method: {self.method[:20]!r}")
        if not _TARGET.fullmatch(self.target):
            raise InvalidSignature("the request target is not a printable path and query")
        if not _COUNTRY.fullmatch(self.audience):
            raise InvalidSignature(f"audience {self.audience[:8]!r} is not a country code")
        if not 0 <= self.timestamp < 2**64:
            raise InvalidSignature("timestamp out of range")
        if not _NONCE.fullmatch(self.nonce):
            raise InvalidSignature("a nonce is 32 lower-case hex digits")

    def struct_hash(self) -> bytes:
        return keccak256(
            MEMBER_REQUEST_TYPEHASH
            + keccak256(self.method.encode("ascii"))
            + keccak256(self.target.encode("ascii"))
            + self.audience.encode("ascii").ljust(32, b"\0")
            + self.timestamp.to_bytes(32, "big")
            + bytes.fromhex(self.nonce).ljust(32, b"\0")
        )


def member_request_digest(domain: Eip712Domain, request: MemberRequest) -> bytes:
    """The EIP-712 digest ``keccak256(0x1901 ‖ domainSeparator ‖ structHash)``."""
    return keccak256(b"\x19\x01" + domain.separator() + request.struct_hash())


def sign_member_request(
    private_key: bytes, signer: str, domain: Eip712Domain, request: MemberRequest
) -> dict[str, str]:
    """The headers that carry ``request``'s signature by ``private_key`` (whose address is
    ``signer``)."""
    signature = sign_digest(private_key, member_request_digest(domain, request))
    return {
        SIGNER_HEADER: signer,
        TIMESTAMP_HEADER: str(request.timestamp),
        NONCE_HEADER: request.nonce,
        SIGNATURE_HEADER: "0x" + signature.hex(),
    }


@dataclass(frozen=True, slots=True)
class SignedMemberRequest:
    """A request as received: what it claims, and the account that really signed it."""

    request: MemberRequest
    signer: str


def has_member_signature(headers: Mapping[str, str]) -> bool:
    """Whether ``headers`` (case-insensitive names, lower-cased) carry any signature header."""
    return any(name.lower() in headers for name in MEMBER_HEADERS)


def recover_member_request(
    domain: Eip712Domain,
    headers: Mapping[str, str],
    *,
    method: str,
    target: str,
    audience: str,
) -> SignedMemberRequest:
    """The request in ``headers`` (lower-cased names) for ``method target`` at ``audience``,
    with its recovered signer; :class:`InvalidSignature` when a header is missing or
    malformed, or the signature is not by the account ``Docex-Signer`` names."""
    values = {name: headers.get(name.lower(), "") for name in MEMBER_HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise InvalidSignature(f"the signed request lacks {', '.join(missing)}")
    claimed = values[SIGNER_HEADER]
    if not _ADDRESS.fullmatch(claimed):
        raise InvalidSignature(f"{SIGNER_HEADER} is not an address")
    if not _TIMESTAMP.fullmatch(values[TIMESTAMP_HEADER]):
        raise InvalidSignature(f"{TIMESTAMP_HEADER} is not a number of seconds")
    if not _SIGNATURE.fullmatch(values[SIGNATURE_HEADER]):
        raise InvalidSignature(f"{SIGNATURE_HEADER} is not 0x and 65 bytes in hex")
    request = MemberRequest(
        method, target, audience, int(values[TIMESTAMP_HEADER]), values[NONCE_HEADER]
    )
    signer = recover_digest_signer(
        member_request_digest(domain, request), bytes.fromhex(values[SIGNATURE_HEADER][2:])
    )
    if signer.lower() != claimed.lower():
        raise InvalidSignature("the signature is not by the account the request names")
    return SignedMemberRequest(request, signer)


def is_fresh(timestamp: int, now: float, window_seconds: int) -> bool:
    """Whether a request signed at ``timestamp`` is within ``window_seconds`` of ``now``
    (either side: clocks differ a little between administrations)."""
    return abs(now - timestamp) <= window_seconds
