"""Reading a document's attached files for the ``attachments`` check: from this node's
content store by the CID the document binds, opened from their envelope when the
document is confidential (this node's member key), compared by
:func:`certificates.attachments.check_attachments`."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from adapters import Cid, ContentError, ContentNotFound, ContentStore, InvalidCid
from certificates import EnvelopeError, open_envelope
from certificates.attachments import DeclaredAttachment, Found
from certificates.envelope import Envelope
from certificates.errors import InvalidInput, NotARecipient
from certificates.strict_json import parse_strict_json
from node.consortium.member_directory import MAX_ENVELOPE_BYTES, MemberSecret, is_envelope
from node.issuing.attachments import envelope_binding


class AttachmentReader:
    """The bytes of attached files, as this node's store holds them."""

    def __init__(self, store: ContentStore, secret: Callable[[], MemberSecret | None]) -> None:
        self._store = store
        self._secret = cache(secret)  # the member keystore is unlocked on first need

    def read(self, declared: DeclaredAttachment) -> bytes | Found:
        try:
            content = self._store.get(Cid.parse(declared.cid))
        except (ContentNotFound, InvalidCid, ValueError):
            return Found.MISSING
        except ContentError:
            return Found.CORRUPTED  # a block that no longer hashes to its CID
        if not is_envelope(content):
            return content
        secret = self._secret()
        if secret is None:
            return Found.SEALED
        try:
            value = parse_strict_json(content, max_bytes=MAX_ENVELOPE_BYTES)
            if not isinstance(value, dict):
                return Found.CORRUPTED
            document_id, binding = envelope_binding(declared.sha256)
            return open_envelope(
                Envelope.from_json(value),
                key_id=secret.key_id,
                private_key=secret.private_key,
                document_id=document_id,
                target_hash=binding,
            )
        except NotARecipient:
            return Found.SEALED
        except (EnvelopeError, InvalidInput):
            return Found.CORRUPTED  # an envelope changed in place no longer opens
