"""The OpenAttestation v2 wrapped document: recognised by its ``version``, read structurally.

Shape (OpenAttestation 2.0, ``SHA3MerkleProof``)::

    {
      "version": "https://schema.openattestation.com/2.0/schema.json",
      "data": {...every value salted as "<uuid v4>:<type>:<value>"...},
      "signature": {"type": "SHA3MerkleProof", "targetHash": "<64 hex>",
                    "proof": ["<64 hex>", ...], "merkleRoot": "<64 hex>"},
      "privacy": {"obfuscatedData": ["<64 hex>", ...]}
    }

Reading checks only what must hold for the checks to run at all (objects where objects
are expected, strings where strings are expected); whether the hashes hold is the
checks' business, so a tampered document still reaches them and gets a verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from adapters.formats.errors import InvalidOpenAttestationDocument
from certificates.json_types import JsonObject, JsonValue

OA_V2_VERSION: Final = "https://schema.openattestation.com/2.0/schema.json"
OA_V3_CONTEXT: Final = (
    "https://schemata.openattestation.com/com/openattestation/1.0/OpenAttestation.v3.json"
)
SIGNATURE_TYPE: Final = "SHA3MerkleProof"

# OA's `unsalt` (validator's isUUID(…, 4)): the salt is a version-4 UUID, any case.
_UUID_V4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE
)
_UUID_LENGTH = 36
_TYPES = frozenset({"string", "number", "boolean", "null", "undefined"})


@dataclass(frozen=True, slots=True)
class OaSignature:
    type: str
    target_hash: JsonValue
    """As written (OA compares it as a string with the digest it computes)."""
    proof: tuple[JsonValue, ...]
    merkle_root: JsonValue


@dataclass(frozen=True, slots=True)
class OaWrappedDocument:
    """An OpenAttestation v2 wrapped document as received (salted data, hashes as text)."""

    data: JsonObject
    signature: OaSignature
    obfuscated_data: tuple[JsonValue, ...]
    #: a DID-signed document (``proof`` next to ``signature``): issuance by signature
    did_signed: bool
    raw: JsonObject

    @classmethod
    def from_json(cls, value: JsonValue) -> OaWrappedDocument:
        """Read an OA v2 wrapped document; :class:`InvalidOpenAttestationDocument` if not."""
        if not isinstance(value, dict):
            raise InvalidOpenAttestationDocument("an OpenAttestation document is a JSON object")
        if value.get("version") != OA_V2_VERSION:
            raise InvalidOpenAttestationDocument(
                f"expected version {OA_V2_VERSION!r}", path="/version"
            )
        data = value.get("data")
        if not isinstance(data, dict):
            raise InvalidOpenAttestationDocument("must be an object", path="/data")
        signature = value.get("signature")
        if not isinstance(signature, dict):
            raise InvalidOpenAttestationDocument(
                "required: the document is not wrapped (no signature)", path="/signature"
            )
        if signature.get("type") != SIGNATURE_TYPE:
            raise InvalidOpenAttestationDocument(
                f"unsupported signature type, expected {SIGNATURE_TYPE!r}", path="/signature/type"
            )
        proof = signature.get("proof", [])
        if not isinstance(proof, list):
            raise InvalidOpenAttestationDocument("must be an array", path="/signature/proof")
        privacy = value.get("privacy", {})
        if not isinstance(privacy, dict):
            raise InvalidOpenAttestationDocument("must be an object", path="/privacy")
        obfuscated = privacy.get("obfuscatedData", [])
        if not isinstance(obfuscated, list):
            raise InvalidOpenAttestationDocument("must be an array", path="/privacy/obfuscatedData")
        return cls(
            data=data,
            signature=OaSignature(
                type=SIGNATURE_TYPE,
                target_hash=signature.get("targetHash"),
                proof=tuple(proof),
                merkle_root=signature.get("merkleRoot"),
            ),
            obfuscated_data=tuple(obfuscated),
            did_signed="proof" in value,
            raw=value,
        )


def is_openattestation_v2(value: JsonValue) -> bool:
    """True when ``value`` declares itself an OpenAttestation v2 document."""
    return isinstance(value, dict) and value.get("version") == OA_V2_VERSION


def is_openattestation_v3(value: JsonValue) -> bool:
    if not isinstance(value, dict):
        return False
    context = value.get("@context")
    return isinstance(context, list) and OA_V3_CONTEXT in context


def salted_value_problem(value: JsonValue) -> str | None:
    """Why ``value`` is not a salted value ``<uuid v4>:<type>:<value>``, or None if it is."""
    if isinstance(value, (dict, list)) and not value:
        return None  # OA salts leaves; an empty object or array stays as it is
    if not isinstance(value, str):
        return "is not a salted string"
    salt, colon, rest = value[:_UUID_LENGTH], value[_UUID_LENGTH : _UUID_LENGTH + 1], value
    if colon != ":" or not _UUID_V4.fullmatch(salt):
        return "does not start with a UUID v4 salt"
    kind, sep, text = rest[_UUID_LENGTH + 1 :].partition(":")
    if not sep or kind not in _TYPES:
        return "has no type annotation (string, number, boolean, null or undefined)"
    if kind == "boolean" and text not in ("true", "false"):
        return "is annotated boolean but is neither true nor false"
    if kind == "null" and text != "null":
        return "is annotated null but is not null"
    if kind == "number" and _js_number(text) is None:
        return "is annotated number but is not a number"
    return None


def unsalt(value: JsonValue) -> JsonValue:
    """The value a salted field carries (OA's ``unsalt``); other values are returned as is."""
    if isinstance(value, dict):
        return {key: unsalt(member) for key, member in value.items()}
    if isinstance(value, list):
        return [unsalt(member) for member in value]
    if not isinstance(value, str) or not _UUID_V4.fullmatch(value.split(":")[0]):
        return value
    kind, _, text = value[_UUID_LENGTH + 1 :].strip().partition(":")
    if kind == "number":
        return _js_number(text)
    if kind == "boolean":
        return text == "true"
    if kind in ("null", "undefined"):
        return None
    return text


def _js_number(text: str) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
