"""The docex exception hierarchy.

Every failure docex reports is a :class:`DocexError` with a stable machine ``code``
(used as the RFC 9457 problem ``type`` suffix at the HTTP edge and as a CLI message
prefix) and a human ``message``. Layers add subclasses; nothing raises bare
``ValueError`` across a layer boundary.
"""

from __future__ import annotations


class DocexError(Exception):
    """Root of every error docex raises on purpose."""

    code: str = "docex-error"
    #: HTTP status the node maps this error to (the edge may override per route).
    http_status: int = 500

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.message = message
        #: JSON Pointer (RFC 6901) of the offending value, when there is one.
        self.path = path
        super().__init__(f"{message} (at {path})" if path is not None else message)


class InvalidInput(DocexError):
    """Input rejected before it reached the domain: not strict JSON, too large, ..."""

    code = "invalid-input"
    http_status = 400


class InvalidDocument(InvalidInput):
    """A document that does not satisfy its type's schema."""

    code = "invalid-document"
    http_status = 422


class UnknownDocumentType(InvalidDocument):
    code = "unknown-document-type"


class InvalidWrappedDocument(InvalidInput):
    """A wrapped document whose structure (not its hashes) is malformed."""

    code = "invalid-wrapped-document"
    http_status = 422


class InvalidSignature(DocexError):
    """A signature that is malformed, non-canonical (high-s) or not over what it claims."""

    code = "invalid-signature"
    http_status = 422


class EnvelopeError(DocexError):
    """An encryption envelope that cannot be opened: not a recipient, or tampered with."""

    code = "envelope-error"
    http_status = 422


class KeystoreError(DocexError):
    """A keystore that cannot be read or decrypted (wrong passphrase, bad file)."""

    code = "keystore-error"
    http_status = 400


class InvalidEnvelope(EnvelopeError):
    """The JSON form of an envelope is malformed (unknown version, bad field, bad length)."""

    code = "invalid-envelope"


class NotARecipient(EnvelopeError):
    """The envelope holds no key wrap for the key id that tries to open it."""

    code = "not-a-recipient"
    http_status = 403


class EnvelopeTooLarge(EnvelopeError):
    """A plaintext or ciphertext over the size limit."""

    code = "envelope-too-large"
    http_status = 413


class WrongPassphrase(KeystoreError):
    """The passphrase does not open the keystore (its MAC does not match)."""

    code = "wrong-passphrase"
    http_status = 401


class InvalidKeystore(KeystoreError):
    """A keystore file that is not a well-formed V3 keystore within docex's limits."""

    code = "invalid-keystore"


class InvalidPrivateKey(KeystoreError):
    """Key material of the wrong length or outside the secp256k1 / X25519 key range."""

    code = "invalid-private-key"


# --- strict JSON input (certificates/strict_json.py) --------------------------------------
# Each rejection has its own code so that a sender's system can react to it by machine.


class InputTooLarge(InvalidInput):
    code = "input-too-large"
    http_status = 413


class InvalidUtf8(InvalidInput):
    code = "invalid-utf8"


class ByteOrderMark(InvalidInput):
    code = "byte-order-mark"


class MalformedJson(InvalidInput):
    code = "malformed-json"


class NestingTooDeep(InvalidInput):
    code = "nesting-too-deep"


class DuplicateKey(InvalidInput):
    code = "duplicate-key"


class NonFiniteNumber(InvalidInput):
    """NaN, Infinity or -Infinity: not JSON, though many parsers accept them."""

    code = "non-finite-number"


class NumberOverflow(InvalidInput):
    """A number such as 1e400 that a binary64 parser would silently turn into infinity."""

    code = "number-overflow"


class UnsafeInteger(InvalidInput):
    """An integer outside the I-JSON range ±(2^53-1) that other parsers would round."""

    code = "unsafe-integer"


class NonIntegerNumber(InvalidInput):
    """A number with a fraction or exponent: documents carry them as decimal strings."""

    code = "non-integer-number"


class LoneSurrogate(InvalidInput):
    code = "lone-surrogate"


class NotNfc(InvalidInput):
    """Text not in Unicode Normalization Form C: rejected, never normalised (ADR 0002)."""

    code = "not-nfc"


# --- document schemas (certificates/schemas/) ---------------------------------------------


class SchemaViolation(InvalidDocument):
    """A document of a known type that fails its schema; ``errors`` lists every violation."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        errors: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message, path=path)
        #: Every violation as (JSON Pointer, message), in the validator's order.
        self.errors = errors
