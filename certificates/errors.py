"""The docex exception hierarchy.

Every failure docex reports is a :class:`DocexError` with a stable machine ``code``
(used as the RFC 9457 problem ``type`` suffix at the HTTP edge and as a CLI message
prefix) and a human ``message``. Layers add subclasses; nothing raises bare
``ValueError`` across a layer boundary. Errors know nothing of transport: each also
derives from one of a few *kinds*, and the node's HTTP edge (``node/http/problems.py``)
maps kinds to status codes in one table::

    DocexError                   something failed (500 unless a kind says otherwise)
    ├── Invalid                  the input is wrong; sending it again will not help
    │   ├── InvalidInput         not readable at all (not strict JSON, bad encoding)
    │   └── TooLarge             over a size limit
    ├── NotFound                 what was asked for does not exist (here)
    ├── Conflict                 the current state forbids it (already done, not yet)
    ├── Refused                  the caller may not do this (credentials, rights, rate)
    ├── Unavailable              a component it needs is not available now; retry later
    └── UpstreamFailed           a chain, store or peer we called answered wrongly
"""

from __future__ import annotations


class DocexError(Exception):
    """Root of every error docex raises on purpose."""

    code: str = "docex-error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.message = message
        #: JSON Pointer (RFC 6901) of the offending value, when there is one.
        self.path = path
        # "" is the whole document (RFC 6901): no empty "(at )" in the message
        super().__init__(f"{message} (at {path})" if path else message)


class Invalid(DocexError):
    """Kind: the input is wrong (sending it again will not help)."""

    code = "invalid"


class TooLarge(Invalid):
    """Kind: the input is over a size limit."""

    code = "too-large"


class NotFound(DocexError):
    """Kind: what was asked for does not exist (here)."""

    code = "not-found"


class Conflict(DocexError):
    """Kind: the current state forbids the request (already done, not yet possible)."""

    code = "conflict"


class Refused(DocexError):
    """Kind: the caller may not do this (no credentials, no right, over its rate)."""

    code = "refused"


class Unavailable(DocexError):
    """Kind: a component the request needs is not available now; retry later."""

    code = "unavailable"


class UpstreamFailed(DocexError):
    """Kind: a chain, content store or peer node that docex called answered wrongly."""

    code = "upstream-failed"


class InvalidInput(Invalid):
    """Input rejected before it reached the domain: not strict JSON, too large, ..."""

    code = "invalid-input"


class InvalidDocument(InvalidInput):
    """A document that does not satisfy its type's schema."""

    code = "invalid-document"


class UnknownDocumentType(InvalidDocument):
    code = "unknown-document-type"


class InvalidWrappedDocument(InvalidInput):
    """A wrapped document whose structure (not its hashes) is malformed."""

    code = "invalid-wrapped-document"


class InvalidSignature(Invalid):
    """A signature that is malformed, non-canonical (high-s) or not over what it claims."""

    code = "invalid-signature"


class EnvelopeError(Invalid):
    """An encryption envelope that cannot be opened: not a recipient, or tampered with."""

    code = "envelope-error"


class KeystoreError(Invalid):
    """A keystore that cannot be read or decrypted (wrong passphrase, bad file)."""

    code = "keystore-error"


class InvalidEnvelope(EnvelopeError):
    """The JSON form of an envelope is malformed (unknown version, bad field, bad length)."""

    code = "invalid-envelope"


class NotARecipient(Refused, EnvelopeError):
    """The envelope holds no key wrap for the key id that tries to open it."""

    code = "not-a-recipient"


class EnvelopeTooLarge(TooLarge, EnvelopeError):
    """A plaintext or ciphertext over the size limit."""

    code = "envelope-too-large"


class WrongPassphrase(Refused, KeystoreError):
    """The passphrase does not open the keystore (its MAC does not match)."""

    code = "wrong-passphrase"


class InvalidKeystore(KeystoreError):
    """A keystore file that is not a well-formed V3 keystore within docex's limits."""

    code = "invalid-keystore"


class InvalidPrivateKey(KeystoreError):
    """Key material of the wrong length or outside the secp256k1 / X25519 key range."""

    code = "invalid-private-key"


# --- strict JSON input (certificates/strict_json.py) --------------------------------------
# Each rejection has its own code so that a sender's system can react to it by machine.


class InputTooLarge(TooLarge, InvalidInput):
    code = "input-too-large"


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
