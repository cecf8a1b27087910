"""Reading a document's attached files for the ``attachments`` check: from this node's
content store by the CID the document binds, opened from their envelope when the
document is confidential (this node's member key), compared by
:func:`certificates.attachments.check_attachments`."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from adapters import Cid, ContentError, ContentNotFound, ContentStore, InvalidCid
from certificates import EnvelopeError
from certificates.attachments import DeclaredAttachment, Found
from certificates.errors import InvalidInput, NotARecipient
from node.consortium.member_directory import MemberKeyring, is_envelope
from node.issuing.attachments import envelope_binding


class AttachmentReader:
    """The bytes of attached files, as this node's store holds them."""

    def __init__(self, store: ContentStore, keyring: Callable[[], MemberKeyring | None]) -> None:
        self._store = store
        self._keyring = cache(keyring)  # the member's keys are unlocked on first need

    def read(self, declared: DeclaredAttachment) -> bytes | Found:
        try:
            content = self._store.get(Cid.parse(declared.cid))
        except (ContentNotFound, InvalidCid, ValueError):
            return Found.MISSING
        except ContentError:
            return Found.CORRUPTED  # a block that no longer hashes to its CID
        if not is_envelope(content):
            return content
        keyring = self._keyring()
        if keyring is None:
            return Found.SEALED
        try:
            document_id, binding = envelope_binding(declared.sha256)
            return keyring.open_bound(content, document_id, binding)
        except NotARecipient:
            return Found.SEALED
        except (EnvelopeError, InvalidInput):
            return Found.CORRUPTED  # an envelope changed in place no longer opens
