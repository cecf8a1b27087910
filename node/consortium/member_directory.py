"""Confidential documents: the members' encryption keys, sealing and opening envelopes.

A confidential document is stored in the content store as a ``docex-envelope/1``
(ADR 0003) of its wrapped JSON, sealed for the issuing member and every addressee
country's member. The envelope is bound to the document id ``0x<batch root>`` and to the
document's target hash: both come from the anchored record, so an envelope moved to
another document or batch does not open.

The consortium registry holds no encryption keys yet, so the members' X25519 public keys
live in the **member directory**, ``<data dir>/members.json`` (``docex-members/1``),
written by the dev consortium from the member keystores and copied by nodes that join
it; a real deployment distributes the same file with ``chain.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from certificates import Envelope, Recipient, open_envelope, parse_strict_json, seal
from certificates.encryption_keys import encryption_private_key, member_public_keys
from certificates.errors import EnvelopeError, InvalidInput
from certificates.hashes import to_hex
from node.errors import InvalidSettings

MEMBER_DIRECTORY_FORMAT: Final = "docex-members/1"
ENVELOPE_PREFIX: Final = b'{"format":"docex-envelope/1"'
#: a sealed wrapped document is base64url (4/3) plus 80 bytes per recipient
MAX_ENVELOPE_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MemberEncryptionKey:
    """A member's published encryption key: key id ``CC:0x<address>`` and X25519 key."""

    country: str
    key_id: str
    public_key: bytes

    def recipient(self) -> Recipient:
        return Recipient(self.key_id, self.public_key)


def member_key_of(country: str, signing_key: bytes) -> MemberEncryptionKey:
    """The published key derived from a member's secp256k1 key (ADR 0003)."""
    keys = member_public_keys(signing_key)
    return MemberEncryptionKey(country, f"{country}:{keys.address}", keys.encryption_public_key)


class MemberDirectory:
    """Country -> encryption key, read from ``members.json``."""

    def __init__(self, keys: Iterable[MemberEncryptionKey]) -> None:
        self._keys = {key.country: key for key in keys}

    def __contains__(self, country: object) -> bool:
        return country in self._keys

    def countries(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def key(self, country: str) -> MemberEncryptionKey:
        return self._keys[country]

    def missing(self, countries: Iterable[str]) -> list[str]:
        return sorted({c for c in countries if c not in self._keys})

    def recipients(self, countries: Iterable[str]) -> list[Recipient]:
        """Recipients for ``countries`` (each once, sorted); KeyError when one is unknown."""
        return [self._keys[country].recipient() for country in sorted(set(countries))]

    @classmethod
    def read(cls, path: Path) -> MemberDirectory:
        """The directory in ``path``; an empty one when the file does not exist."""
        if not path.exists():
            return cls(())
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
            if value.get("format") != MEMBER_DIRECTORY_FORMAT:
                raise ValueError(f"format is not {MEMBER_DIRECTORY_FORMAT}")
            return cls(
                MemberEncryptionKey(
                    str(entry["country"]),
                    str(entry["keyId"]),
                    bytes.fromhex(str(entry["encryptionPublicKey"]).removeprefix("0x")),
                )
                for entry in value["members"]
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidSettings(f"cannot read the member directory {path}: {error}") from error

    def write(self, path: Path) -> None:
        """Write atomically (temporary file, rename)."""
        value = {
            "format": MEMBER_DIRECTORY_FORMAT,
            "members": [
                {
                    "country": key.country,
                    "keyId": key.key_id,
                    "encryptionPublicKey": to_hex(key.public_key),
                }
                for key in (self._keys[c] for c in self.countries())
            ],
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def envelope_document_id(root: bytes) -> str:
    """The document id an envelope is bound to: the anchored batch root."""
    return to_hex(root)


def seal_wrapped(
    wrapped_json: bytes, root: bytes, target_hash: bytes, recipients: Sequence[Recipient]
) -> bytes:
    """The envelope (JSON bytes) of a wrapped document, for ``recipients``."""
    envelope = seal(
        wrapped_json,
        document_id=envelope_document_id(root),
        target_hash=target_hash,
        recipients=recipients,
    )
    return json.dumps(envelope.to_json(), separators=(",", ":")).encode("utf-8")


def is_envelope(content: bytes) -> bool:
    return content.startswith(ENVELOPE_PREFIX)


@dataclass(frozen=True, slots=True)
class MemberSecret:
    """This node's member key id and X25519 private key (derived from its keystore)."""

    key_id: str
    private_key: bytes

    @classmethod
    def of(cls, country: str, signing_key: bytes) -> MemberSecret:
        return cls(member_key_of(country, signing_key).key_id, encryption_private_key(signing_key))

    def open(self, content: bytes, root: bytes, target_hash: bytes) -> bytes:
        """The wrapped JSON in envelope ``content``; :class:`EnvelopeError` (or its
        ``NotARecipient``) when it is malformed, not for us, or bound elsewhere."""
        try:
            value = parse_strict_json(content, max_bytes=MAX_ENVELOPE_BYTES)
        except InvalidInput as error:
            raise EnvelopeError(f"not an envelope: {error}") from None
        if not isinstance(value, dict):
            raise EnvelopeError("not an envelope: not a JSON object")
        return open_envelope(
            Envelope.from_json(value),
            key_id=self.key_id,
            private_key=self.private_key,
            document_id=envelope_document_id(root),
            target_hash=target_hash,
        )


def directory_from_keys(signing_keys: Mapping[str, bytes]) -> MemberDirectory:
    """A directory from members' signing keys (the dev consortium's keystores)."""
    return MemberDirectory(member_key_of(c, key) for c, key in signing_keys.items())
