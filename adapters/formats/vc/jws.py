"""Compact JWS with ES256K (RFC 7515, RFC 8812): the securing of ``application/vc+jwt``.

ES256K is ECDSA over secp256k1 with SHA-256, the curve of the members' Ethereum keys;
the signature is r ‖ s (32 bytes each), s normalised to the lower half of the order.
"""

from __future__ import annotations

import base64
import json
from typing import Final

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapters.formats.errors import InvalidCredential
from certificates.canonical import canonicalize
from certificates.json_types import JsonObject, JsonValue

ALGORITHM: Final = "ES256K"
_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_MAX_TOKEN: Final = 1 << 20


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text.isascii() or "=" in text:
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secp256k1_public_jwk(public_key: bytes) -> JsonObject:
    """The JWK (``kty`` EC, ``crv`` secp256k1) of a 33- or 65-byte SEC1 public key."""
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public_key)
    numbers = point.public_numbers()
    return {
        "kty": "EC",
        "crv": "secp256k1",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def secp256k1_public_key(private_key: bytes) -> bytes:
    """The uncompressed SEC1 public key (65 bytes) of a 32-byte private key."""
    key = ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SECP256K1())
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def sign_compact(header: JsonObject, payload: JsonValue, private_key: bytes) -> str:
    """``header.payload.signature``; the payload is the RFC 8785 form of ``payload``."""
    if header.get("alg") != ALGORITHM:
        raise ValueError(f"only {ALGORITHM} is supported")
    signing_input = f"{b64url(canonicalize(header))}.{b64url(canonicalize(payload))}"
    key = ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SECP256K1())
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    s = min(s, _ORDER - s)
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def read_compact(token: str) -> tuple[JsonObject, JsonObject, bytes, bytes]:
    """Header, payload, signature and signing input of a compact JWS (not verified)."""
    if len(token) > _MAX_TOKEN:
        raise InvalidCredential(f"a credential JWT is limited to {_MAX_TOKEN} characters")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidCredential(
            "not a compact JWS (header.payload.signature): expected application/vc+jwt"
        )
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise InvalidCredential(f"the JWT is not base64url-encoded JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidCredential("the JWT header and payload must be JSON objects")
    return header, payload, signature, f"{parts[0]}.{parts[1]}".encode("ascii")


def verify_signature(signing_input: bytes, signature: bytes, public_jwk: JsonObject) -> bool:
    """True when ``signature`` (r ‖ s) is ES256K over ``signing_input`` by that key."""
    if len(signature) != 64 or public_jwk.get("crv") != "secp256k1":
        return False
    try:
        x = int.from_bytes(b64url_decode(str(public_jwk["x"])), "big")
        y = int.from_bytes(b64url_decode(str(public_jwk["y"])), "big")
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256K1()).public_key()
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except (KeyError, ValueError, _CryptoInvalidSignature):
        return False
    return True
