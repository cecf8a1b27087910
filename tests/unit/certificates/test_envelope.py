"""Encryption envelopes: only the recipients open them, and any tampering is an error."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates.encryption_keys import encryption_private_key, encryption_public_key
from certificates.envelope import (
    ENVELOPE_FORMAT,
    Envelope,
    KeyWrap,
    Recipient,
    open_envelope,
    seal,
)
from certificates.errors import EnvelopeError, EnvelopeTooLarge, InvalidEnvelope, NotARecipient
from certificates.json_types import JsonObject

DOCUMENT_ID = "coo/1:VN-2026-000123"
TARGET_HASH = hashlib.sha256(b"target hash of VN-2026-000123").digest()
PLAINTEXT = b'{"certificateNumber":"VN-2026-000123","exporter":"Saigon Textiles"}'


class Member:
    """A key id and its X25519 key pair, derived from a label so tests are reproducible."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        self.private_key = hashlib.sha256(key_id.encode()).digest()
        self.public_key = (
            X25519PrivateKey.from_private_bytes(self.private_key).public_key().public_bytes_raw()
        )

    @property
    def recipient(self) -> Recipient:
        return Recipient(key_id=self.key_id, public_key=self.public_key)


ISSUER = Member("VN:0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
ADDRESSEES = (
    Member("KR:0x8ba1f109551bD432803012645Ac136ddd64DBA72"),
    Member("TH:0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"),
)
AUDITOR = Member("VN-AUDIT:0x1111111111111111111111111111111111111111")
OUTSIDER = Member("JP:0x2222222222222222222222222222222222222222")
RECIPIENTS = (ISSUER, *ADDRESSEES)


def deterministic_random(seed: bytes) -> Callable[[int], bytes]:
    """A reproducible random source: SHA-256 in counter mode."""
    counter = 0

    def random_bytes(size: int) -> bytes:
        nonlocal counter
        output = b""
        while len(output) < size:
            output += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        return output[:size]

    return random_bytes


def sealed(plaintext: bytes = PLAINTEXT, recipients: tuple[Member, ...] = RECIPIENTS) -> Envelope:
    return seal(
        plaintext,
        document_id=DOCUMENT_ID,
        target_hash=TARGET_HASH,
        recipients=[member.recipient for member in recipients],
    )


def open_as(
    member: Member,
    envelope: Envelope,
    *,
    document_id: str = DOCUMENT_ID,
    target_hash: bytes = TARGET_HASH,
) -> bytes:
    return open_envelope(
        envelope,
        key_id=member.key_id,
        private_key=member.private_key,
        document_id=document_id,
        target_hash=target_hash,
    )


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def single_bit_flips(data: bytes) -> Iterator[bytes]:
    for index in range(len(data)):
        for bit in range(8):
            yield flip(data, index, 1 << bit)


# --- who can open --------------------------------------------------------------------------


@pytest.mark.parametrize("member", RECIPIENTS, ids=lambda member: member.key_id)
def test_issuer_and_every_addressee_open_the_document(member: Member) -> None:
    assert open_as(member, sealed()) == PLAINTEXT


def test_a_non_recipient_cannot_open_the_envelope() -> None:
    with pytest.raises(NotARecipient):
        open_as(OUTSIDER, sealed())


def test_a_recipients_key_id_with_another_private_key_cannot_open_the_envelope() -> None:
    impostor = Member(OUTSIDER.key_id)
    impostor.key_id = ISSUER.key_id
    with pytest.raises(EnvelopeError):
        open_as(impostor, sealed())


def test_an_auditor_opens_the_envelope_only_when_it_is_a_recipient() -> None:
    with pytest.raises(NotARecipient):
        open_as(AUDITOR, sealed())
    assert open_as(AUDITOR, sealed(recipients=(*RECIPIENTS, AUDITOR))) == PLAINTEXT


def test_keys_derived_from_a_members_signing_key_open_the_envelope() -> None:
    signing_key = hashlib.sha256(b"member signing key").digest()
    recipient = Recipient(key_id="VN:0xmember", public_key=encryption_public_key(signing_key))
    envelope = seal(
        PLAINTEXT, document_id=DOCUMENT_ID, target_hash=TARGET_HASH, recipients=[recipient]
    )
    opened = open_envelope(
        envelope,
        key_id="VN:0xmember",
        private_key=encryption_private_key(signing_key),
        document_id=DOCUMENT_ID,
        target_hash=TARGET_HASH,
    )
    assert opened == PLAINTEXT


def test_an_empty_document_round_trips() -> None:
    assert open_as(ISSUER, sealed(plaintext=b"")) == b""


# --- associated data: the envelope belongs to one document and one target hash ------------


def test_opening_under_another_document_id_is_an_error() -> None:
    with pytest.raises(EnvelopeError):
        open_as(ISSUER, sealed(), document_id="coo/1:VN-2026-000124")


@pytest.mark.parametrize("index", range(32))
def test_opening_under_another_target_hash_is_an_error(index: int) -> None:
    with pytest.raises(EnvelopeError):
        open_as(ADDRESSEES[0], sealed(), target_hash=flip(TARGET_HASH, index))


def test_document_id_and_target_hash_are_not_confused_at_their_boundary() -> None:
    # Moving a byte from the target hash into the id must not give the same binding.
    with pytest.raises(EnvelopeError):
        open_as(ISSUER, sealed(), document_id=DOCUMENT_ID + "x", target_hash=TARGET_HASH)


# --- tampering: every single-bit flip in every binary field is detected ---------------------


def test_every_bit_flip_in_the_ciphertext_is_an_error_for_every_recipient() -> None:
    envelope = sealed()
    for ciphertext in single_bit_flips(envelope.ciphertext):
        tampered = Envelope(envelope.nonce, ciphertext, envelope.key_wraps)
        for member in RECIPIENTS:
            with pytest.raises(EnvelopeError):
                open_as(member, tampered)


def test_every_bit_flip_in_the_nonce_is_an_error_for_every_recipient() -> None:
    envelope = sealed()
    for nonce in single_bit_flips(envelope.nonce):
        tampered = Envelope(nonce, envelope.ciphertext, envelope.key_wraps)
        for member in RECIPIENTS:
            with pytest.raises(EnvelopeError):
                open_as(member, tampered)


def replace_wrap(envelope: Envelope, index: int, wrap: KeyWrap) -> Envelope:
    wraps = list(envelope.key_wraps)
    wraps[index] = wrap
    return Envelope(envelope.nonce, envelope.ciphertext, tuple(wraps))


@pytest.mark.parametrize("index", range(len(RECIPIENTS)))
def test_every_bit_flip_in_a_key_wrap_is_an_error_for_its_recipient(index: int) -> None:
    envelope = sealed()
    wrap = envelope.key_wraps[index]
    for wrapped_key in single_bit_flips(wrap.wrapped_key):
        tampered = replace_wrap(
            envelope, index, KeyWrap(wrap.key_id, wrap.ephemeral_public_key, wrapped_key)
        )
        with pytest.raises(EnvelopeError):
            open_as(RECIPIENTS[index], tampered)


@pytest.mark.parametrize("index", range(len(RECIPIENTS)))
def test_every_bit_flip_in_an_ephemeral_key_is_an_error_for_its_recipient(index: int) -> None:
    envelope = sealed()
    wrap = envelope.key_wraps[index]
    for ephemeral_public_key in single_bit_flips(wrap.ephemeral_public_key):
        tampered = replace_wrap(
            envelope, index, KeyWrap(wrap.key_id, ephemeral_public_key, wrap.wrapped_key)
        )
        with pytest.raises(EnvelopeError):
            open_as(RECIPIENTS[index], tampered)


def test_a_low_order_ephemeral_key_is_an_error_not_a_zero_secret() -> None:
    envelope = sealed()
    wrap = envelope.key_wraps[0]
    tampered = replace_wrap(envelope, 0, KeyWrap(wrap.key_id, bytes(32), wrap.wrapped_key))
    with pytest.raises(EnvelopeError):
        open_as(RECIPIENTS[0], tampered)


def test_swapping_the_key_ids_of_two_wraps_is_an_error() -> None:
    envelope = sealed()
    first, second, *rest = envelope.key_wraps
    swapped = (
        KeyWrap(second.key_id, first.ephemeral_public_key, first.wrapped_key),
        KeyWrap(first.key_id, second.ephemeral_public_key, second.wrapped_key),
        *rest,
    )
    tampered = Envelope(envelope.nonce, envelope.ciphertext, swapped)
    for member in RECIPIENTS[:2]:
        with pytest.raises(EnvelopeError):
            open_as(member, tampered)


def test_dropping_a_recipient_is_an_error_for_the_others() -> None:
    envelope = sealed()
    tampered = Envelope(envelope.nonce, envelope.ciphertext, envelope.key_wraps[:-1])
    for member in RECIPIENTS[:-1]:
        with pytest.raises(EnvelopeError):
            open_as(member, tampered)


def test_reordering_the_recipients_is_an_error() -> None:
    envelope = sealed()
    tampered = Envelope(envelope.nonce, envelope.ciphertext, envelope.key_wraps[::-1])
    with pytest.raises(EnvelopeError):
        open_as(ISSUER, tampered)


def test_a_wrap_grafted_from_another_envelope_is_an_error() -> None:
    envelope, other = sealed(), sealed()
    tampered = replace_wrap(envelope, 0, other.key_wraps[0])
    with pytest.raises(EnvelopeError):
        open_as(RECIPIENTS[0], tampered)


# --- sealing rules ------------------------------------------------------------------------


def test_duplicate_recipient_key_ids_are_rejected() -> None:
    with pytest.raises(EnvelopeError, match="duplicate"):
        sealed(recipients=(ISSUER, ADDRESSEES[0], ISSUER))


def test_an_envelope_needs_a_recipient() -> None:
    with pytest.raises(EnvelopeError):
        sealed(recipients=())


def test_a_low_order_recipient_public_key_is_rejected() -> None:
    with pytest.raises(EnvelopeError, match="low order"):
        seal(
            PLAINTEXT,
            document_id=DOCUMENT_ID,
            target_hash=TARGET_HASH,
            recipients=[Recipient(key_id="XX:0xbroken", public_key=bytes(32))],
        )


@pytest.mark.parametrize("public_key", [b"", bytes(31), bytes(33)])
def test_a_recipient_public_key_is_32_bytes(public_key: bytes) -> None:
    with pytest.raises(EnvelopeError):
        Recipient(key_id="VN:0xabc", public_key=public_key)


@pytest.mark.parametrize("key_id", ["", "VN 0xabc", "VN:\n", "VN:é", "x" * 257])
def test_a_key_id_is_printable_ascii_without_spaces(key_id: str) -> None:
    with pytest.raises(EnvelopeError):
        Recipient(key_id=key_id, public_key=ISSUER.public_key)


@pytest.mark.parametrize("target_hash", [b"", bytes(31), bytes(33)])
def test_the_target_hash_is_32_bytes(target_hash: bytes) -> None:
    with pytest.raises(EnvelopeError):
        seal(PLAINTEXT, document_id=DOCUMENT_ID, target_hash=target_hash, recipients=[])


def test_the_document_id_is_not_empty() -> None:
    with pytest.raises(EnvelopeError):
        seal(PLAINTEXT, document_id="", target_hash=TARGET_HASH, recipients=[ISSUER.recipient])


def test_a_plaintext_at_the_size_limit_is_sealed_and_one_byte_more_is_refused() -> None:
    recipients = [ISSUER.recipient]
    envelope = seal(
        bytes(100),
        document_id=DOCUMENT_ID,
        target_hash=TARGET_HASH,
        recipients=recipients,
        max_plaintext_size=100,
    )
    assert open_as(ISSUER, envelope) == bytes(100)
    with pytest.raises(EnvelopeTooLarge):
        seal(
            bytes(101),
            document_id=DOCUMENT_ID,
            target_hash=TARGET_HASH,
            recipients=recipients,
            max_plaintext_size=100,
        )


def test_sealing_uses_only_the_injected_random_source() -> None:
    def seal_with(seed: bytes) -> JsonObject:
        return seal(
            PLAINTEXT,
            document_id=DOCUMENT_ID,
            target_hash=TARGET_HASH,
            recipients=[member.recipient for member in RECIPIENTS],
            random_bytes=deterministic_random(seed),
        ).to_json()

    assert seal_with(b"a") == seal_with(b"a")
    assert seal_with(b"a")["ciphertext"] != seal_with(b"b")["ciphertext"]


def test_each_recipient_gets_its_own_ephemeral_key() -> None:
    ephemeral_keys = {wrap.ephemeral_public_key for wrap in sealed().key_wraps}
    assert len(ephemeral_keys) == len(RECIPIENTS)


# --- the JSON form ------------------------------------------------------------------------


def test_json_form_round_trips_through_text() -> None:
    envelope = sealed()
    parsed = Envelope.from_json(json.loads(json.dumps(envelope.to_json())))
    assert parsed == envelope
    assert open_as(ADDRESSEES[1], parsed) == PLAINTEXT


def test_json_form_is_versioned_and_lists_recipients_in_order() -> None:
    form = sealed().to_json()
    assert form["format"] == ENVELOPE_FORMAT == "docex-envelope/1"
    recipients = form["recipients"]
    assert isinstance(recipients, list)
    assert [wrap["keyId"] for wrap in recipients if isinstance(wrap, dict)] == [
        member.key_id for member in RECIPIENTS
    ]


Mutation = Callable[[dict], None]  # type: ignore[type-arg]


def _set(path: tuple[str | int, ...], value: object) -> Mutation:
    def mutate(form: dict) -> None:  # type: ignore[type-arg]
        target = form
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _delete(path: tuple[str | int, ...]) -> Mutation:
    def mutate(form: dict) -> None:  # type: ignore[type-arg]
        target = form
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


def _append_to(field: str, suffix: str) -> Mutation:
    def mutate(form: dict) -> None:  # type: ignore[type-arg]
        form[field] = form[field] + suffix

    return mutate


def _duplicate_first_recipient(form: dict) -> None:  # type: ignore[type-arg]
    form["recipients"].append(copy.deepcopy(form["recipients"][0]))


def _non_canonical_nonce(form: dict) -> None:  # type: ignore[type-arg]
    # 12 bytes encode to 16 characters with no spare bits; 13 bytes leave 4 spare
    # bits: set them, so the text decodes but is not what an encoder would write.
    form["nonce"] = "A" * 17 + "B"


MALFORMED_FORMS: dict[str, tuple[Mutation, str]] = {
    "unknown format version": (_set(("format",), "docex-envelope/2"), "/format"),
    "format missing": (_delete(("format",)), "/format"),
    "unknown top-level field": (_set(("documentId",), "x"), "/documentId"),
    "nonce not a string": (_set(("nonce",), 12), "/nonce"),
    "nonce padded base64": (_append_to("nonce", "=="), "/nonce"),
    "nonce in standard base64 alphabet": (_set(("nonce",), "AAAAAAAAAAAAAAA+"), "/nonce"),
    "nonce with spare bits set": (_non_canonical_nonce, "/nonce"),
    "nonce of 11 bytes": (_set(("nonce",), "A" * 15), "/nonce"),
    "ciphertext shorter than a tag": (_set(("ciphertext",), "AAAA"), "/ciphertext"),
    "ciphertext with whitespace": (_append_to("ciphertext", " "), "/ciphertext"),
    "recipients not an array": (_set(("recipients",), {}), "/recipients"),
    "recipients empty": (_set(("recipients",), []), "/recipients"),
    "recipient not an object": (_set(("recipients", 0), "VN"), "/recipients/0"),
    "recipient with unknown field": (_set(("recipients", 1, "alg"), "x"), "/recipients/1/alg"),
    "recipient without wrappedKey": (_delete(("recipients", 0, "wrappedKey")), "/recipients/0"),
    "keyId not a string": (_set(("recipients", 0, "keyId"), 7), "/recipients/0/keyId"),
    "keyId with a space": (_set(("recipients", 0, "keyId"), "VN 0x"), "/recipients/0"),
    "ephemeral key of 31 bytes": (
        _set(("recipients", 0, "ephemeralPublicKey"), "A" * 42),
        "/recipients/0/ephemeralPublicKey",
    ),
    "wrapped key of 32 bytes": (
        _set(("recipients", 2, "wrappedKey"), "A" * 43),
        "/recipients/2/wrappedKey",
    ),
    "duplicate keyId": (_duplicate_first_recipient, "/recipients"),
}


@pytest.mark.parametrize("name", list(MALFORMED_FORMS))
def test_malformed_json_forms_are_rejected_with_the_offending_path(name: str) -> None:
    mutate, path = MALFORMED_FORMS[name]
    form = json.loads(json.dumps(sealed().to_json()))
    mutate(form)
    with pytest.raises(InvalidEnvelope) as raised:
        Envelope.from_json(form)
    assert raised.value.path is not None
    assert raised.value.path.startswith(path)


@pytest.mark.parametrize("value", [[], "envelope", None, 3])
def test_a_json_form_that_is_not_an_object_is_rejected(value: object) -> None:
    with pytest.raises(InvalidEnvelope):
        Envelope.from_json(value)  # type: ignore[arg-type]


def test_a_json_form_over_the_size_limit_is_rejected_before_decoding() -> None:
    form = sealed(plaintext=bytes(1000)).to_json()
    assert Envelope.from_json(form, max_plaintext_size=1000).ciphertext
    with pytest.raises(EnvelopeTooLarge):
        Envelope.from_json(form, max_plaintext_size=999)


# --- properties over random documents and recipient sets -------------------------------------

private_keys = st.binary(min_size=32, max_size=32)


@settings(max_examples=150, deadline=None)
@given(
    plaintext=st.binary(max_size=4096),
    recipient_keys=st.lists(private_keys, min_size=1, max_size=6, unique=True),
    outsider_key=private_keys,
    document_id=st.text(min_size=1, max_size=80).filter(
        lambda text: not any(0xD800 <= ord(char) <= 0xDFFF for char in text)
    ),
    target_hash=st.binary(min_size=32, max_size=32),
)
def test_every_recipient_and_nobody_else_opens_random_documents(
    plaintext: bytes,
    recipient_keys: list[bytes],
    outsider_key: bytes,
    document_id: str,
    target_hash: bytes,
) -> None:
    members = []
    for index, private_key in enumerate(recipient_keys):
        member = Member(f"M{index}:key")
        member.private_key = private_key
        member.public_key = (
            X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()
        )
        members.append(member)
    envelope = Envelope.from_json(
        seal(
            plaintext,
            document_id=document_id,
            target_hash=target_hash,
            recipients=[member.recipient for member in members],
        ).to_json()
    )
    outsider_public = (
        X25519PrivateKey.from_private_bytes(outsider_key).public_key().public_bytes_raw()
    )
    for member in members:
        assert (
            open_as(member, envelope, document_id=document_id, target_hash=target_hash) == plaintext
        )
        if outsider_public != member.public_key:
            with pytest.raises(EnvelopeError):
                open_envelope(
                    envelope,
                    key_id=member.key_id,
                    private_key=outsider_key,
                    document_id=document_id,
                    target_hash=target_hash,
                )
