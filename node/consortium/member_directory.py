"""Confidential documents: who they are sealed for, sealing and opening envelopes.

A confidential document is stored in the content store as a ``docex-envelope/1``
(ADR 0003) of its wrapped JSON, sealed for the issuing member, every addressee country's
member and every auditor key the consortium added (ADR 0024). The envelope is bound to
the document id ``0x<batch root>`` and to the document's target hash: both come from the
anchored record, so an envelope moved to another document or batch does not open.

The **member directory** is read from the chain, through the node's event index (kept in
step by the index follower): each member's current encryption key (``EncryptionKeySet``,
changed only with the member's own approval) and the auditor keys in force
(``AuditorKeyAdded`` / ``AuditorKeyRemoved``, by quorum). Key ids in an envelope are
``<CC>:<k>`` for a member's k-th key and ``auditor:<k>`` for the k-th auditor key.
A member opens with every key of its keyring, so documents sealed before a rotation
still open.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine

from certificates import Envelope, Recipient, open_envelope, parse_strict_json, seal
from certificates.errors import EnvelopeError, InvalidInput, NotARecipient
from certificates.hashes import to_hex
from ledger import queries
from ledger.queries import SealingKey

ENVELOPE_PREFIX: Final = b'{"format":"docex-envelope/1"'
#: a sealed wrapped document is base64url (4/3) plus 80 bytes per recipient
MAX_ENVELOPE_BYTES: Final = 64 * 1024 * 1024
AUDITOR_KEY_PREFIX: Final = "auditor"


def recipient_of(key: SealingKey) -> Recipient:
    """The envelope recipient of a key the chain records."""
    owner = key.country if key.country is not None else AUDITOR_KEY_PREFIX
    return Recipient(f"{owner}:{key.key_id}", key.public_key)


class MemberDirectory:
    """The members' current encryption keys and the auditor keys in force, as read by
    ``read_keys`` (from the chain: :func:`chain_member_directory`) at each use."""

    def __init__(self, read_keys: Callable[[], Iterable[SealingKey]]) -> None:
        self._read_keys = read_keys

    def _split(self) -> tuple[dict[str, SealingKey], list[SealingKey]]:
        members: dict[str, SealingKey] = {}
        auditors: list[SealingKey] = []
        for key in self._read_keys():
            if key.country is None:
                auditors.append(key)
            else:
                members[key.country] = key
        return members, auditors

    def countries(self) -> tuple[str, ...]:
        """The countries whose member has an encryption key on chain."""
        return tuple(sorted(self._split()[0]))

    def missing(self, countries: Iterable[str]) -> list[str]:
        members = self._split()[0]
        return sorted({c for c in countries if c not in members})

    def recipients(self, countries: Iterable[str]) -> list[Recipient]:
        """Recipients of a confidential document for ``countries`` (each once, sorted) and
        every auditor key in force; KeyError when a country has no key."""
        members, auditors = self._split()
        return [
            *(recipient_of(members[country]) for country in sorted(set(countries))),
            *(recipient_of(key) for key in sorted(auditors, key=lambda k: k.key_id)),
        ]


def chain_member_directory(index: Engine) -> MemberDirectory:
    """The directory the node's event index holds (the chain's key events)."""
    return MemberDirectory(lambda: queries.sealing_keys(index))


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
class MemberKeyring:
    """This member's X25519 private keys (its keyring, oldest first, and the key derived
    from its member keystore that releases before ADR 0024 sealed for): an envelope opens
    when one of them unwraps one of the key wraps addressed to this country."""

    country: str
    private_keys: tuple[bytes, ...]

    def open(self, content: bytes, root: bytes, target_hash: bytes) -> bytes:
        """The wrapped JSON in envelope ``content``; :class:`EnvelopeError` (or its
        ``NotARecipient``) when it is malformed, not for us, or bound elsewhere."""
        return self.open_bound(content, envelope_document_id(root), target_hash)

    def open_bound(self, content: bytes, document_id: str, binding: bytes) -> bytes:
        """What envelope ``content`` seals, bound to ``document_id`` and ``binding`` (a
        wrapped document: its batch and target hash; an attachment: its own digest)."""
        try:
            value = parse_strict_json(content, max_bytes=MAX_ENVELOPE_BYTES)
        except InvalidInput as error:
            raise EnvelopeError(f"not an envelope: {error}") from None
        if not isinstance(value, dict):
            raise EnvelopeError("not an envelope: not a JSON object")
        envelope = Envelope.from_json(value)
        ours = [
            wrap.key_id for wrap in envelope.key_wraps if wrap.key_id.startswith(f"{self.country}:")
        ]
        if not ours:
            raise NotARecipient(f"{self.country} is not a recipient of this envelope")
        for key_id in ours:
            for private_key in self.private_keys:
                try:
                    return open_envelope(
                        envelope,
                        key_id=key_id,
                        private_key=private_key,
                        document_id=document_id,
                        target_hash=binding,
                    )
                except EnvelopeError:
                    continue
        raise EnvelopeError(
            "cannot open the envelope: no key of this member opens it (another key, another "
            "document or target hash, or tampered)"
        )
