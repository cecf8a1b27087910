"""Encryption envelopes for confidential documents (format ``docex-envelope/1``, ADR 0003).

A document is encrypted once with a fresh AES-256-GCM content key; the content key is
wrapped for each recipient with X25519 (a fresh ephemeral key per recipient) and
HKDF-SHA256, giving a one-time key-encryption key and nonce that AES-256-GCM-encrypt it.
The associated data of the content and of every wrap binds the document id and the
target hash, so an envelope moved to another document, or opened against another
target hash, fails as if it had been tampered with. Opening never returns unauthenticated
bytes: every failure is an :class:`~certificates.errors.EnvelopeError`.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from certificates.errors import EnvelopeError, EnvelopeTooLarge, InvalidEnvelope, NotARecipient
from certificates.json_types import JsonObject, JsonValue

ENVELOPE_FORMAT = "docex-envelope/1"

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
TARGET_HASH_SIZE = 32
WRAPPED_KEY_SIZE = KEY_SIZE + TAG_SIZE

DEFAULT_MAX_PLAINTEXT_SIZE = 16 * 1024 * 1024
MAX_RECIPIENTS = 256
MAX_KEY_ID_LENGTH = 256
MAX_DOCUMENT_ID_LENGTH = 1024

# Every label starts with the format version, so a later format cannot be confused with
# this one; the part after the NUL says what the bytes are for.
_CONTENT_AD_LABEL = ENVELOPE_FORMAT.encode() + b"\x00content\x00"
_WRAP_AD_LABEL = ENVELOPE_FORMAT.encode() + b"\x00key-wrap\x00"
_KEK_INFO_LABEL = ENVELOPE_FORMAT.encode() + b"\x00kek\x00"

# Printable ASCII without space: "VN:0x<address>", "auditor:GDVC", ...
_KEY_ID_PATTERN = re.compile(r"[\x21-\x7e]+")
_BASE64URL_PATTERN = re.compile(r"[A-Za-z0-9_-]*")

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who can open an envelope: a key id (e.g. ``VN:0x<address>``) and its X25519 key."""

    key_id: str
    public_key: bytes

    def __post_init__(self) -> None:
        _check_key_id(self.key_id, error=EnvelopeError)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != KEY_SIZE:
            raise EnvelopeError(f"recipient {self.key_id!r}: an X25519 public key is 32 bytes")


@dataclass(frozen=True, slots=True)
class KeyWrap:
    """The content key encrypted for one recipient."""

    key_id: str
    ephemeral_public_key: bytes
    wrapped_key: bytes

    def __post_init__(self) -> None:
        _check_key_id(self.key_id, error=InvalidEnvelope)
        _check_length("ephemeral public key", self.ephemeral_public_key, KEY_SIZE)
        _check_length("wrapped key", self.wrapped_key, WRAPPED_KEY_SIZE)


@dataclass(frozen=True, slots=True)
class Envelope:
    """An encrypted document: AES-256-GCM ciphertext and one key wrap per recipient."""

    nonce: bytes
    ciphertext: bytes
    key_wraps: tuple[KeyWrap, ...]

    def __post_init__(self) -> None:
        _check_length("nonce", self.nonce, NONCE_SIZE)
        if not isinstance(self.ciphertext, bytes) or len(self.ciphertext) < TAG_SIZE:
            raise InvalidEnvelope("the ciphertext is shorter than its authentication tag")
        if not isinstance(self.key_wraps, tuple) or not self.key_wraps:
            raise InvalidEnvelope("an envelope has at least one key wrap")
        if len(self.key_wraps) > MAX_RECIPIENTS:
            raise InvalidEnvelope(f"an envelope has at most {MAX_RECIPIENTS} recipients")
        key_ids = [wrap.key_id for wrap in self.key_wraps]
        if len(set(key_ids)) != len(key_ids):
            raise InvalidEnvelope("duplicate recipient key id")

    @property
    def recipient_key_ids(self) -> tuple[str, ...]:
        """The key ids that can open this envelope, in envelope order."""
        return tuple(wrap.key_id for wrap in self.key_wraps)

    def to_json(self) -> JsonObject:
        """Return the versioned JSON form (binary fields in unpadded base64url)."""
        recipients: list[JsonValue] = [
            {
                "keyId": wrap.key_id,
                "ephemeralPublicKey": _b64encode(wrap.ephemeral_public_key),
                "wrappedKey": _b64encode(wrap.wrapped_key),
            }
            for wrap in self.key_wraps
        ]
        return {
            "format": ENVELOPE_FORMAT,
            "nonce": _b64encode(self.nonce),
            "ciphertext": _b64encode(self.ciphertext),
            "recipients": recipients,
        }

    @classmethod
    def from_json(
        cls, value: JsonObject, *, max_plaintext_size: int = DEFAULT_MAX_PLAINTEXT_SIZE
    ) -> Envelope:
        """Parse the JSON form strictly; raise :class:`InvalidEnvelope` naming the bad field."""
        body = _exact_object(value, {"format", "nonce", "ciphertext", "recipients"}, "")
        if body["format"] != ENVELOPE_FORMAT:
            raise InvalidEnvelope(f"unsupported envelope format {body['format']!r}", path="/format")
        raw_recipients = body["recipients"]
        if not isinstance(raw_recipients, list) or not raw_recipients:
            raise InvalidEnvelope("recipients must be a non-empty array", path="/recipients")
        if len(raw_recipients) > MAX_RECIPIENTS:
            raise InvalidEnvelope(
                f"an envelope has at most {MAX_RECIPIENTS} recipients", path="/recipients"
            )
        key_wraps = []
        for index, raw_wrap in enumerate(raw_recipients):
            path = f"/recipients/{index}"
            wrap = _exact_object(raw_wrap, {"keyId", "ephemeralPublicKey", "wrappedKey"}, path)
            key_id = wrap["keyId"]
            if not isinstance(key_id, str):
                raise InvalidEnvelope("keyId must be a string", path=f"{path}/keyId")
            try:
                key_wraps.append(
                    KeyWrap(
                        key_id=key_id,
                        ephemeral_public_key=_b64decode(
                            wrap["ephemeralPublicKey"], f"{path}/ephemeralPublicKey", KEY_SIZE
                        ),
                        wrapped_key=_b64decode(
                            wrap["wrappedKey"], f"{path}/wrappedKey", WRAPPED_KEY_SIZE
                        ),
                    )
                )
            except InvalidEnvelope as error:
                if error.path is not None:
                    raise
                raise InvalidEnvelope(error.message, path=path) from None
        max_ciphertext_size = max_plaintext_size + TAG_SIZE
        if isinstance(body["ciphertext"], str) and len(body["ciphertext"]) > _b64_length(
            max_ciphertext_size
        ):
            raise EnvelopeTooLarge(
                f"the ciphertext exceeds {max_plaintext_size} bytes of plaintext",
                path="/ciphertext",
            )
        ciphertext = _b64decode(body["ciphertext"], "/ciphertext", None)
        if len(ciphertext) < TAG_SIZE:
            raise InvalidEnvelope(
                "the ciphertext is shorter than its authentication tag", path="/ciphertext"
            )
        if len(ciphertext) > max_ciphertext_size:
            raise EnvelopeTooLarge(
                f"the ciphertext exceeds {max_plaintext_size} bytes of plaintext",
                path="/ciphertext",
            )
        nonce = _b64decode(body["nonce"], "/nonce", NONCE_SIZE)
        try:
            return cls(nonce=nonce, ciphertext=ciphertext, key_wraps=tuple(key_wraps))
        except InvalidEnvelope as error:
            if error.path is not None:
                raise
            raise InvalidEnvelope(error.message, path="/recipients") from None


def seal(
    plaintext: bytes,
    *,
    document_id: str,
    target_hash: bytes,
    recipients: Sequence[Recipient],
    random_bytes: RandomBytes = secrets.token_bytes,
    max_plaintext_size: int = DEFAULT_MAX_PLAINTEXT_SIZE,
) -> Envelope:
    """Encrypt ``plaintext`` so that each of ``recipients``, and nobody else, can open it.

    The issuer that wants to read its own document again lists itself as a recipient.
    """
    if not isinstance(plaintext, bytes):
        raise EnvelopeError("the plaintext must be bytes")
    if len(plaintext) > max_plaintext_size:
        raise EnvelopeTooLarge(f"the plaintext exceeds {max_plaintext_size} bytes")
    document = _document_binding(document_id, target_hash)
    if not recipients:
        raise EnvelopeError("an envelope needs at least one recipient")
    if len(recipients) > MAX_RECIPIENTS:
        raise EnvelopeError(f"an envelope has at most {MAX_RECIPIENTS} recipients")
    key_ids = [recipient.key_id for recipient in recipients]
    duplicates = sorted({key_id for key_id in key_ids if key_ids.count(key_id) > 1})
    if duplicates:
        raise EnvelopeError(f"duplicate recipient key id(s): {', '.join(duplicates)}")

    content_key = _random(random_bytes, KEY_SIZE)
    nonce = _random(random_bytes, NONCE_SIZE)
    key_wraps = tuple(
        _wrap_content_key(content_key, recipient, document, random_bytes)
        for recipient in recipients
    )
    ciphertext = AESGCM(content_key).encrypt(
        nonce, plaintext, _content_associated_data(document, key_ids)
    )
    return Envelope(nonce=nonce, ciphertext=ciphertext, key_wraps=key_wraps)


def open_envelope(
    envelope: Envelope,
    *,
    key_id: str,
    private_key: bytes,
    document_id: str,
    target_hash: bytes,
) -> bytes:
    """Return the plaintext for recipient ``key_id`` holding the X25519 ``private_key``.

    Raises :class:`NotARecipient` when ``key_id`` has no wrap, and :class:`EnvelopeError`
    for a wrong key, another document id or target hash, or any tampering.
    """
    document = _document_binding(document_id, target_hash)
    if not isinstance(private_key, bytes) or len(private_key) != KEY_SIZE:
        raise EnvelopeError("an X25519 private key is 32 bytes")
    wrap = next((wrap for wrap in envelope.key_wraps if wrap.key_id == key_id), None)
    if wrap is None:
        raise NotARecipient(f"{key_id!r} is not a recipient of this envelope")

    own_key = X25519PrivateKey.from_private_bytes(private_key)
    try:
        shared_secret = own_key.exchange(
            X25519PublicKey.from_public_bytes(wrap.ephemeral_public_key)
        )
    except ValueError:
        # A low-order ephemeral point gives an all-zero secret: only a forger sends one.
        raise EnvelopeError("cannot open the envelope: invalid ephemeral key") from None
    kek, wrap_nonce = _key_encryption_key(
        shared_secret,
        wrap.ephemeral_public_key,
        own_key.public_key().public_bytes_raw(),
        key_id,
    )
    try:
        content_key = AESGCM(kek).decrypt(
            wrap_nonce, wrap.wrapped_key, _wrap_associated_data(document, key_id)
        )
        return AESGCM(content_key).decrypt(
            envelope.nonce,
            envelope.ciphertext,
            _content_associated_data(document, list(envelope.recipient_key_ids)),
        )
    except InvalidTag:
        raise EnvelopeError(
            "cannot open the envelope: wrong key, another document or target hash, or tampered"
        ) from None


def _wrap_content_key(
    content_key: bytes, recipient: Recipient, document: bytes, random_bytes: RandomBytes
) -> KeyWrap:
    ephemeral_key = X25519PrivateKey.from_private_bytes(_random(random_bytes, KEY_SIZE))
    ephemeral_public_key = ephemeral_key.public_key().public_bytes_raw()
    try:
        shared_secret = ephemeral_key.exchange(
            X25519PublicKey.from_public_bytes(recipient.public_key)
        )
    except ValueError:
        raise EnvelopeError(
            f"recipient {recipient.key_id!r}: not a usable X25519 public key (low order)"
        ) from None
    kek, wrap_nonce = _key_encryption_key(
        shared_secret, ephemeral_public_key, recipient.public_key, recipient.key_id
    )
    wrapped_key = AESGCM(kek).encrypt(
        wrap_nonce, content_key, _wrap_associated_data(document, recipient.key_id)
    )
    return KeyWrap(
        key_id=recipient.key_id,
        ephemeral_public_key=ephemeral_public_key,
        wrapped_key=wrapped_key,
    )


def _key_encryption_key(
    shared_secret: bytes, ephemeral_public_key: bytes, recipient_public_key: bytes, key_id: str
) -> tuple[bytes, bytes]:
    """HKDF-SHA256 → (32-byte KEK, 12-byte nonce), both used once: the ephemeral key is fresh."""
    info = (
        _KEK_INFO_LABEL
        + ephemeral_public_key
        + recipient_public_key
        + _length_prefixed(key_id.encode("ascii"))
    )
    okm = HKDF(
        algorithm=hashes.SHA256(), length=KEY_SIZE + NONCE_SIZE, salt=None, info=info
    ).derive(shared_secret)
    return okm[:KEY_SIZE], okm[KEY_SIZE:]


def _document_binding(document_id: str, target_hash: bytes) -> bytes:
    if not isinstance(document_id, str) or not document_id:
        raise EnvelopeError("the document id must be a non-empty string")
    try:
        encoded_id = document_id.encode("utf-8")
    except UnicodeEncodeError:
        raise EnvelopeError("the document id is not valid Unicode") from None
    if len(encoded_id) > MAX_DOCUMENT_ID_LENGTH:
        raise EnvelopeError(f"the document id exceeds {MAX_DOCUMENT_ID_LENGTH} bytes")
    if not isinstance(target_hash, bytes) or len(target_hash) != TARGET_HASH_SIZE:
        raise EnvelopeError("the target hash is 32 bytes")
    return _length_prefixed(encoded_id) + target_hash


def _content_associated_data(document: bytes, key_ids: Sequence[str]) -> bytes:
    # The recipient list is bound too: dropping or reordering a wrap fails for everyone.
    recipients = b"".join(_length_prefixed(key_id.encode("ascii")) for key_id in key_ids)
    return _CONTENT_AD_LABEL + document + len(key_ids).to_bytes(4, "big") + recipients


def _wrap_associated_data(document: bytes, key_id: str) -> bytes:
    return _WRAP_AD_LABEL + document + _length_prefixed(key_id.encode("ascii"))


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _random(random_bytes: RandomBytes, size: int) -> bytes:
    value = random_bytes(size)
    if not isinstance(value, bytes) or len(value) != size:
        raise EnvelopeError("the random source returned the wrong number of bytes")
    return value


def _check_key_id(key_id: object, *, error: type[EnvelopeError]) -> None:
    if not isinstance(key_id, str) or not _KEY_ID_PATTERN.fullmatch(key_id):
        raise error("a key id is a non-empty string of printable ASCII without spaces")
    if len(key_id) > MAX_KEY_ID_LENGTH:
        raise error(f"a key id has at most {MAX_KEY_ID_LENGTH} characters")


def _check_length(name: str, value: object, size: int) -> None:
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidEnvelope(f"the {name} is {size} bytes")


def _exact_object(value: object, keys: set[str], path: str) -> dict[str, JsonValue]:
    if not isinstance(value, dict):
        raise InvalidEnvelope("expected a JSON object", path=path or "/")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise InvalidEnvelope(f"unknown field {unknown[0]!r}", path=f"{path}/{unknown[0]}")
    missing = sorted(keys - set(value))
    if missing:
        raise InvalidEnvelope(f"missing field {missing[0]!r}", path=f"{path}/{missing[0]}")
    return value


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_length(size: int) -> int:
    """Length of the unpadded base64url text of ``size`` bytes."""
    return (size * 4 + 2) // 3


def _b64decode(value: object, path: str, size: int | None) -> bytes:
    """Decode canonical unpadded base64url: no padding, no other alphabet, no stray bits."""
    if not isinstance(value, str) or not _BASE64URL_PATTERN.fullmatch(value):
        raise InvalidEnvelope("expected unpadded base64url text", path=path)
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidEnvelope("expected unpadded base64url text", path=path) from None
    if _b64encode(data) != value:
        raise InvalidEnvelope("non-canonical base64url text", path=path)
    if size is not None and len(data) != size:
        raise InvalidEnvelope(f"expected {size} bytes, got {len(data)}", path=path)
    return data
