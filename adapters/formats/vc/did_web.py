"""The member's ``did:web`` identifier and DID document (current and past keys).

``did:web:customs.example.vn`` resolves to ``https://customs.example.vn/.well-known/did.json``
(a path adds segments: ``did:web:host:members:vn`` → ``https://host/members/vn/did.json``);
the node serves the document there. Keys are given as input (the node reads them from
its keystore and the ConsortiumRegistry); a past key stays listed so that credentials
signed before a rotation still verify; a key the member disowns is simply not given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from adapters.formats.vc.jws import secp256k1_public_jwk
from certificates.json_types import JsonObject, JsonValue

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
JWK_CONTEXT: Final = "https://w3id.org/security/suites/jws-2020/v1"
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
_FRAGMENT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class MemberKey:
    """One of the member's secp256k1 keys, as the DID document lists it."""

    fragment: str
    """The key's id inside the DID document (``did:web:...#<fragment>``)."""
    public_key: bytes
    """SEC1 public key, 33 (compressed) or 65 bytes."""
    current: bool
    """False for a key rotated out: listed so that older credentials still verify."""
    account: str | None = None
    """The key's Ethereum address in the ConsortiumRegistry, when it has one."""
    chain_id: int | None = None


def did_web(host: str, *path: str) -> str:
    """``did:web`` of a host (``customs.example.vn`` or ``localhost:8443``) and path."""
    host = host.lower()
    if not _HOST.fullmatch(host):
        raise ValueError(f"not a host name for did:web: {host!r}")
    if any(not _SEGMENT.fullmatch(segment) for segment in path):
        raise ValueError("did:web path segments are letters, digits, '.', '_' and '-'")
    return ":".join(["did", "web", quote(host, safe=""), *path])


def did_web_url(did: str) -> str:
    """The https URL a ``did:web`` resolves to."""
    if not did.startswith("did:web:"):
        raise ValueError(f"not a did:web: {did!r}")
    host, *path = did.removeprefix("did:web:").split(":")
    host = host.replace("%3A", ":").replace("%3a", ":")
    return (
        f"https://{host}/{'/'.join(path)}/did.json"
        if path
        else (f"https://{host}/.well-known/did.json")
    )


def did_document(did: str, keys: Sequence[MemberKey]) -> JsonObject:
    """The DID document: every key a ``JsonWebKey2020`` method, all usable for assertion."""
    if not keys:
        raise ValueError("a DID document needs at least one key")
    fragments = [key.fragment for key in keys]
    if len(set(fragments)) != len(fragments) or any(
        not _FRAGMENT.fullmatch(fragment) for fragment in fragments
    ):
        raise ValueError("key fragments must be distinct words of letters, digits, . _ -")
    methods: list[JsonValue] = []
    for key in keys:
        method: JsonObject = {
            "id": f"{did}#{key.fragment}",
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": secp256k1_public_jwk(key.public_key),
        }
        if key.account is not None and key.chain_id is not None:
            method["blockchainAccountId"] = f"eip155:{key.chain_id}:{key.account}"
        methods.append(method)
    current: list[JsonValue] = [f"{did}#{key.fragment}" for key in keys if key.current]
    every: list[JsonValue] = [f"{did}#{key.fragment}" for key in keys]
    return {
        "@context": [DID_CONTEXT, JWK_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        # credentials are checked against every listed key; new ones are signed by current keys
        "assertionMethod": every,
        "authentication": current,
    }


def verification_key(document: JsonObject, kid: str) -> JsonObject:
    """The ``publicKeyJwk`` an assertion key id names in a DID document (KeyError if none)."""
    assertion = document.get("assertionMethod")
    methods = document.get("verificationMethod")
    if not isinstance(assertion, list) or kid not in assertion or not isinstance(methods, list):
        raise KeyError(kid)
    for method in methods:
        if isinstance(method, dict) and method.get("id") == kid:
            jwk = method.get("publicKeyJwk")
            if isinstance(jwk, dict):
                return jwk
    raise KeyError(kid)
