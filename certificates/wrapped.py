"""The wrapped document: a document with its salts, batch proof and issuer signature.

JSON form (``docex-wrapped/1``)::

    {
      "version": "docex-wrapped/1",
      "data": {...the document, minus concealed fields...},
      "salts": {"/certificateNumber": "<32 hex>", ...},
      "concealed": {"/importer/address": "0x<64 hex>", ...},
      "targetHash": "0x<64 hex>",
      "batch": {"root": "0x..", "proof": ["0x..", ...], "documentType": "coo/1",
                "documentCount": 1000, "addressees": ["KR"]},
      "signature": {"type": "EIP712", "signer": "0x<address>", "value": "0x<130 hex>",
                    "domain": {"name": "docex", "version": "1", "chainId": 31337,
                               "verifyingContract": "0x<address>"}}
    }

Parsing checks structure only (types, lengths, formats) and names the JSON Pointer of
the first problem; whether the hashes hold is the integrity check's business.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from certificates.disclosure import SALT_SIZE, SaltedDocument
from certificates.errors import DocexError, InvalidWrappedDocument
from certificates.hashes import HASH_RE, to_hex
from certificates.json_pointer import escape_token as _token
from certificates.json_types import JsonObject, JsonValue
from certificates.merkle import MAX_PROOF_LENGTH, DocumentTerms
from certificates.signing import BatchAnchor, Eip712Domain, checksum_address

FORMAT_VERSION = "docex-wrapped/1"
SIGNATURE_TYPE = "EIP712"

_SALT = re.compile(rf"^[0-9a-f]{{{SALT_SIZE * 2}}}$")
_SIGNATURE = re.compile(r"^0x[0-9a-f]{130}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class BatchMembership:
    """Which batch a document belongs to and the proof that ties it to the batch root."""

    anchor: BatchAnchor
    proof: tuple[bytes, ...]
    #: the document's own addressees and allowance, committed beside its leaf (the proof's
    #: first hash is their terms leaf); None for a batch built without terms
    terms: DocumentTerms | None = None


@dataclass(frozen=True, slots=True)
class BatchSignature:
    domain: Eip712Domain
    signer: str
    value: bytes


@dataclass(frozen=True, slots=True)
class WrappedDocument:
    salted: SaltedDocument
    target_hash: bytes
    batch: BatchMembership
    signature: BatchSignature

    @property
    def document_type(self) -> str:
        return self.batch.anchor.document_type

    def conceal(self, paths: list[str]) -> WrappedDocument:
        """The same document with more fields concealed (hashes and proof unchanged)."""
        return WrappedDocument(
            salted=self.salted.conceal(paths),
            target_hash=self.target_hash,
            batch=self.batch,
            signature=self.signature,
        )

    def to_json(self) -> JsonObject:
        anchor = self.batch.anchor
        return {
            "version": FORMAT_VERSION,
            "data": self.salted.data,
            "salts": {path: salt.hex() for path, salt in self.salted.salts.items()},
            "concealed": {path: to_hex(h) for path, h in sorted(self.salted.concealed.items())},
            "targetHash": to_hex(self.target_hash),
            "batch": {
                "root": to_hex(anchor.root),
                "proof": [to_hex(sibling) for sibling in self.batch.proof],
                "documentType": anchor.document_type,
                "documentCount": anchor.document_count,
                "addressees": list(anchor.addressees),
                **(
                    {
                        "terms": {
                            "addressees": list(self.batch.terms.addressees),
                            "allowance": self.batch.terms.allowance,
                        }
                    }
                    if self.batch.terms is not None
                    else {}
                ),
            },
            "signature": {
                "type": SIGNATURE_TYPE,
                "signer": self.signature.signer,
                "value": to_hex(self.signature.value),
                "domain": {
                    "name": self.signature.domain.name,
                    "version": self.signature.domain.version,
                    "chainId": self.signature.domain.chain_id,
                    "verifyingContract": self.signature.domain.verifying_contract,
                },
            },
        }

    @classmethod
    def from_json(cls, value: JsonValue) -> WrappedDocument:
        """Read the JSON form; :class:`InvalidWrappedDocument` names the first bad path."""
        top = _object(value, "")
        _only_keys(top, "", required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
        if top["version"] != FORMAT_VERSION:
            raise InvalidWrappedDocument(
                f"unsupported format {top['version']!r}, expected {FORMAT_VERSION!r}",
                path="/version",
            )
        data = _object(top["data"], "/data")
        salts = _hex_members(top["salts"], "/salts", _SALT, "32 lower-case hex digits")
        concealed = _hex_members(
            top.get("concealed", {}), "/concealed", HASH_RE, "0x and 64 lower-case hex digits"
        )
        batch = _object(top["batch"], "/batch")
        _only_keys(batch, "/batch", required=_BATCH_REQUIRED, optional=_BATCH_OPTIONAL)
        proof = _hashes(batch["proof"], "/batch/proof")
        anchor = _anchor(batch)
        # whether the terms are the ones committed beside the leaf is the integrity check's
        # (a proof that does not start with their leaf is an invalid proof)
        terms = _terms(batch["terms"]) if "terms" in batch else None
        signature = _object(top["signature"], "/signature")
        _only_keys(signature, "/signature", required=_SIGNATURE_REQUIRED)
        if signature["type"] != SIGNATURE_TYPE:
            raise InvalidWrappedDocument(
                f"unsupported signature type {signature['type']!r}", path="/signature/type"
            )
        domain = _domain(signature["domain"])
        return cls(
            salted=SaltedDocument(data=data, salts=salts, concealed=concealed),
            target_hash=_hash(top["targetHash"], "/targetHash"),
            batch=BatchMembership(anchor=anchor, proof=proof, terms=terms),
            signature=BatchSignature(
                domain=domain,
                signer=_address(signature["signer"], "/signature/signer"),
                value=bytes.fromhex(
                    _match(signature["value"], _SIGNATURE, "/signature/value", "65 bytes hex")[2:]
                ),
            ),
        )


_TOP_REQUIRED = frozenset({"version", "data", "salts", "targetHash", "batch", "signature"})
_TOP_OPTIONAL = frozenset({"concealed"})
_BATCH_REQUIRED = frozenset({"root", "proof", "documentType", "documentCount", "addressees"})
_BATCH_OPTIONAL = frozenset({"terms"})
_TERMS_REQUIRED = frozenset({"addressees", "allowance"})
_SIGNATURE_REQUIRED = frozenset({"type", "signer", "value", "domain"})
_DOMAIN_REQUIRED = frozenset({"name", "version", "chainId", "verifyingContract"})

# Every document of a batch repeats its anchor, terms (mostly) and signing domain: each is
# checked once and the frozen value reused, looked up by its JSON scalars (only when they
# are exactly str / int, so that ``True`` never finds the value read for ``1``).
_MEMO_LIMIT = 1024
_ANCHORS: dict[tuple[object, ...], BatchAnchor] = {}
_TERMS: dict[tuple[object, ...], DocumentTerms] = {}
_DOMAINS: dict[tuple[object, ...], Eip712Domain] = {}


def _memo_key(*scalars: JsonValue) -> tuple[object, ...] | None:
    """A memo key of JSON scalars and arrays of text, or None when one is of another type."""
    key: list[object] = []
    for scalar in scalars:
        kind = type(scalar)
        if kind is list:
            if not set(map(type, scalar)) <= {str}:  # type: ignore[arg-type]
                return None
            key.append((list, *scalar))  # type: ignore[misc]
        elif kind is str or kind is int:
            key.append((kind, scalar))
        else:
            return None
    return tuple(key)


def _remember(memo: dict[tuple[object, ...], _T], key: tuple[object, ...] | None, value: _T) -> _T:
    if key is not None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = value
    return value


def _anchor(batch: JsonObject) -> BatchAnchor:
    key = _memo_key(
        batch["root"], batch["documentType"], batch["documentCount"], batch["addressees"]
    )
    known = _ANCHORS.get(key) if key is not None else None
    if known is not None:
        return known
    addressees = _typed(batch["addressees"], list, "/batch/addressees", "an array")
    anchor = _build(
        "/batch",
        lambda: BatchAnchor(
            root=_hash(batch["root"], "/batch/root"),
            document_type=_typed(batch["documentType"], str, "/batch/documentType", "text"),
            document_count=_integer(batch["documentCount"], "/batch/documentCount"),
            addressees=tuple(
                _typed(code, str, f"/batch/addressees/{i}", "text")
                for i, code in enumerate(addressees)
            ),
        ),
    )
    return _remember(_ANCHORS, key, anchor)


def _terms(value: JsonValue) -> DocumentTerms:
    terms_json = _object(value, "/batch/terms")
    _only_keys(terms_json, "/batch/terms", required=_TERMS_REQUIRED)
    key = _memo_key(terms_json["addressees"], terms_json["allowance"])
    known = _TERMS.get(key) if key is not None else None
    if known is not None:
        return known
    codes = _typed(terms_json["addressees"], list, "/batch/terms/addressees", "an array")
    terms = _build(
        "/batch/terms",
        lambda: DocumentTerms(
            addressees=tuple(
                _typed(code, str, f"/batch/terms/addressees/{i}", "text")
                for i, code in enumerate(codes)
            ),
            allowance=_integer(terms_json["allowance"], "/batch/terms/allowance"),
        ),
    )
    return _remember(_TERMS, key, terms)


def _domain(value: JsonValue) -> Eip712Domain:
    domain_json = _object(value, "/signature/domain")
    _only_keys(domain_json, "/signature/domain", required=_DOMAIN_REQUIRED)
    key = _memo_key(
        domain_json["chainId"],
        domain_json["verifyingContract"],
        domain_json["name"],
        domain_json["version"],
    )
    known = _DOMAINS.get(key) if key is not None else None
    if known is not None:
        return known
    domain = _build(
        "/signature/domain",
        lambda: Eip712Domain(
            chain_id=_integer(domain_json["chainId"], "/signature/domain/chainId"),
            verifying_contract=_address(
                domain_json["verifyingContract"], "/signature/domain/verifyingContract"
            ),
            name=_typed(domain_json["name"], str, "/signature/domain/name", "text"),
            version=_typed(domain_json["version"], str, "/signature/domain/version", "text"),
        ),
    )
    return _remember(_DOMAINS, key, domain)


def _hex_members(
    value: JsonValue, path: str, pattern: re.Pattern[str], what: str
) -> dict[str, bytes]:
    """An object of hex strings (salts, concealed hashes) as bytes; the first bad one named."""
    members = _object(value, path)
    prefixed = pattern is HASH_RE
    decoded = _decode_all(list(members.values()), 66 if prefixed else SALT_SIZE * 2, prefixed)
    if decoded is not None:
        return dict(zip(members, decoded, strict=True))
    decoded_members: dict[str, bytes] = {}
    for key, text in members.items():
        if type(text) is not str or not pattern.fullmatch(text):
            raise InvalidWrappedDocument(f"must be {what}", path=f"{path}/{_token(key)}")
        decoded_members[key] = bytes.fromhex(text.removeprefix("0x"))
    return decoded_members


def _hashes(value: JsonValue, path: str) -> tuple[bytes, ...]:
    """An array of hashes (a Merkle proof) as bytes; the first bad one named."""
    items = _typed(value, list, path, "an array")
    if len(items) > MAX_PROOF_LENGTH:
        raise InvalidWrappedDocument("proof is too long", path=path)
    decoded = _decode_all(items, 66, True)
    if decoded is not None:
        return decoded
    return tuple(_hash(item, f"{path}/{i}") for i, item in enumerate(items))


def _decode_all(texts: list[JsonValue], size: int, prefixed: bool) -> tuple[bytes, ...] | None:
    """The bytes of each of ``texts`` if every one is ``size`` characters of lower-case hex
    (after ``0x`` when ``prefixed``), else None.

    A wrapped document has a salt per field: they are checked and decoded together, with
    a few calls over their concatenation instead of a match per salt (the caller goes
    through them one by one only to name a bad one).
    """
    if not set(map(type, texts)) <= {str} or not set(map(len, texts)) <= {size}:  # type: ignore[arg-type]
        return None
    joined = "".join(texts)  # type: ignore[arg-type]
    count = len(texts)
    if prefixed:
        if joined[0::size] != "0" * count or joined[1::size] != "x" * count:
            return None
        digits = joined.replace("0x", "")  # a "0x" among the digits shortens them: refused
    else:
        digits = joined
    width = size // 2 - prefixed
    if len(digits) != 2 * width * count or digits.lower() != digits:
        return None
    try:
        decoded = bytes.fromhex(digits)
    except ValueError:
        return None
    if len(decoded) != width * count:
        return None  # fromhex skips white space between bytes
    split: tuple[bytes, ...] = _splitter(width, count).unpack(decoded)
    return split


@lru_cache(maxsize=256)
def _splitter(width: int, count: int) -> struct.Struct:
    """Cuts ``count`` pieces of ``width`` bytes apart in one call."""
    return struct.Struct(f"{width}s" * count)


def _object(value: JsonValue, path: str) -> JsonObject:
    return _typed(value, dict, path, "an object")


def _typed(value: JsonValue, kind: type[_T], path: str, what: str) -> _T:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidWrappedDocument(f"must be {what}", path=path or "/")
    return value


def _integer(value: JsonValue, path: str) -> int:
    return _typed(value, int, path, "an integer")


def _match(value: JsonValue, pattern: re.Pattern[str], path: str, what: str) -> str:
    text = _typed(value, str, path, what)
    if not pattern.fullmatch(text):
        raise InvalidWrappedDocument(f"must be {what}", path=path)
    return text


def _address(value: JsonValue, path: str) -> str:
    """An EIP-55 address exactly as checksummed: another spelling of it is not accepted."""
    text = _match(value, _ADDRESS, path, "an address")
    if checksum_address(text) != text:
        raise InvalidWrappedDocument("address is not in its EIP-55 checksummed form", path=path)
    return text


def _hash(value: JsonValue, path: str) -> bytes:
    return bytes.fromhex(_match(value, HASH_RE, path, "0x and 64 lower-case hex digits")[2:])


def _only_keys(
    value: Mapping[str, JsonValue],
    path: str,
    *,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> None:
    keys = value.keys()
    if keys == required or (optional and keys <= required | optional and keys >= required):
        return
    missing = sorted(required - keys)
    if missing:
        raise InvalidWrappedDocument("required member is missing", path=f"{path}/{missing[0]}")
    extra = sorted(keys - required - optional)
    if extra:
        raise InvalidWrappedDocument("unknown member", path=f"{path}/{_token(extra[0])}")


def _build(path: str, make: Callable[[], _T]) -> _T:
    try:
        return make()
    except InvalidWrappedDocument:
        raise
    except DocexError as exc:
        raise InvalidWrappedDocument(exc.message, path=path) from exc
