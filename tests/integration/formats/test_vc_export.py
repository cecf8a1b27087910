"""VC 2.0 export, checked by implementations that are not ours.

- the credential's JWS (ES256K, ``vc+jwt``) by ``jwcrypto`` (PyPI), with the key the
  member's DID document lists for the JWT's ``kid``;
- the status by Digital Bazaar's ``@digitalbazaar/vc-bitstring-status-list`` (npm), which
  decodes our status lists and reads the credential's entries itself.
Tampering and revocation must turn each red.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from jwcrypto import jwk, jws  # type: ignore[import-untyped]

from adapters.formats import InvalidCredential
from adapters.formats.vc import (
    MIN_BITS,
    MemberKey,
    StatusLists,
    credential_status,
    did_document,
    did_web,
    did_web_url,
    export_credential,
    read_presented_credential,
    secp256k1_public_key,
    secure_credential,
    status_list_credential,
    verify_credential_jwt,
)
from certificates.schemas import validate_document
from certificates.schemas.samples import sample_document
from certificates.signing import Eip712Domain
from certificates.wrapped import WrappedDocument
from certificates.wrapping import wrap_batch

RunReference = Callable[[str, dict[str, Any]], Any]

DID = did_web("customs.example.vn", "members", "vn")
REVOCATION = "https://customs.example.vn/v1/status/revocation/1"
SUSPENSION = "https://customs.example.vn/v1/status/suspension/1"
INDEX = 4242
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
ISSUER_KEY = bytes(range(1, 33))
DOMAIN = Eip712Domain(
    chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3"
)


@pytest.fixture(scope="module")
def keys() -> dict[str, bytes]:
    return {
        name: secrets.token_bytes(31).rjust(32, b"\x01") for name in ("past", "current", "stranger")
    }


@pytest.fixture(scope="module")
def did_doc(keys: dict[str, bytes]) -> dict[str, Any]:
    return did_document(
        DID,
        [
            MemberKey("key-2025", secp256k1_public_key(keys["past"]), current=False),
            MemberKey(
                "key-2026",
                secp256k1_public_key(keys["current"]),
                current=True,
                account="0x" + "ab" * 20,
                chain_id=31337,
            ),
        ],
    )


def _wrapped(type_id: str, index: int = 3) -> WrappedDocument:
    documents = [validate_document(sample_document(type_id, i)) for i in (index, index + 1)]
    return next(iter(wrap_batch(documents, signing_key=ISSUER_KEY, domain=DOMAIN)))


def _jwt(credential: dict[str, Any], key: bytes, fragment: str) -> str:
    return secure_credential(credential, private_key=key, kid=f"{DID}#{fragment}")


def _status_lists(key: bytes, revoked: set[int], suspended: set[int]) -> dict[str, str]:
    return {
        url: _jwt(
            status_list_credential(
                list_url=url, issuer=DID, purpose=purpose, set_indexes=indexes, valid_from=NOW
            ),
            key,
            "key-2026",
        )
        for url, purpose, indexes in (
            (REVOCATION, "revocation", revoked),
            (SUSPENSION, "suspension", suspended),
        )
    }


def their_jws_check(token: str, document: dict[str, Any]) -> dict[str, Any]:
    """jwcrypto verifies the JWS with the key the DID document lists for its kid."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "vc+jwt"
    method = next(m for m in document["verificationMethod"] if m["id"] == header["kid"])
    assert header["kid"] in document["assertionMethod"]
    verifier = jws.JWS()
    verifier.deserialize(token)
    verifier.verify(jwk.JWK(**method["publicKeyJwk"]), alg="ES256K")
    payload: dict[str, Any] = json.loads(verifier.payload)
    return payload


def their_status_check(
    run_reference: RunReference,
    credential: dict[str, Any],
    lists: dict[str, str],
    document: dict[str, Any],
) -> dict[str, Any]:
    verified_lists = {url: their_jws_check(token, document) for url, token in lists.items()}
    answer: dict[str, Any] = run_reference(
        "vc_status.mjs", {"credential": credential, "statusLists": verified_lists}
    )
    return answer


@pytest.mark.parametrize("type_id", ["coo/2", "coo/1", "permit/1", "declaration/1"])
def test_an_exported_credential_verifies_with_jwcrypto_and_is_not_revoked(
    type_id: str, keys: dict[str, bytes], did_doc: dict[str, Any], run_reference: RunReference
) -> None:
    wrapped = _wrapped(type_id)
    credential = export_credential(
        wrapped,
        issuer_did=DID,
        issuer_name="Viet Nam Customs",
        status=StatusLists(REVOCATION, SUSPENSION, INDEX),
    )
    token = _jwt(credential, keys["current"], "key-2026")

    theirs = their_jws_check(token, did_doc)
    assert theirs == credential
    assert theirs["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert theirs["evidence"][0]["targetHash"] == "0x" + wrapped.target_hash.hex()
    status = their_status_check(
        run_reference, theirs, _status_lists(keys["current"], {7}, set()), did_doc
    )
    assert status["verified"] is True, status
    assert status["statuses"] == {"revocation": False, "suspension": False}
    assert all(length >= MIN_BITS for length in status["lengths"].values())
    assert verify_credential_jwt(token, did_doc) == credential  # ours agrees


def test_the_mapping_places_form_d_fields_in_un_cefact_names() -> None:
    credential = export_credential(_wrapped("coo/2"), issuer_did=DID)
    subject = credential["credentialSubject"]
    assert isinstance(subject, dict)
    consignment = subject["supplyChainConsignment"]
    line = consignment["includedConsignmentItems"][0]["tradeLineItems"][0]
    assert line["tradeProduct"]["originCountry"]["code"] == "VN"
    assert line["invoiceReference"]["iD"].startswith("INV-")
    assert consignment["includedConsignmentItems"][0]["crossBorderRegulatoryProcedure"][
        "originCriteriaText"
    ]
    assert consignment["mainCarriageTransportMovement"]["departureEvent"]["departureDateTime"]


def test_tampering_turns_the_independent_check_red(
    keys: dict[str, bytes], did_doc: dict[str, Any]
) -> None:
    credential = export_credential(
        _wrapped("coo/2"), issuer_did=DID, status=StatusLists(REVOCATION, SUSPENSION, INDEX)
    )
    token = _jwt(credential, keys["current"], "key-2026")
    header, payload, signature = token.split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed["credentialSubject"]["iD"] = "VN-KR 24/02/9999999"
    forged_payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"
    with pytest.raises(jws.InvalidJWSSignature):
        their_jws_check(forged, did_doc)
    with pytest.raises(InvalidCredential, match="altered"):
        verify_credential_jwt(forged, did_doc)

    stranger = _jwt(credential, keys["stranger"], "key-2026")  # a key the DID does not list
    with pytest.raises(jws.InvalidJWSSignature):
        their_jws_check(stranger, did_doc)
    with pytest.raises(InvalidCredential):
        verify_credential_jwt(stranger, did_doc)


def test_revocation_and_suspension_turn_the_independent_status_red(
    keys: dict[str, bytes], did_doc: dict[str, Any], run_reference: RunReference
) -> None:
    credential = export_credential(
        _wrapped("coo/1"), issuer_did=DID, status=StatusLists(REVOCATION, SUSPENSION, INDEX)
    )
    revoked = their_status_check(
        run_reference, credential, _status_lists(keys["current"], {INDEX}, set()), did_doc
    )
    assert revoked["statuses"] == {"revocation": True, "suspension": False}
    suspended = their_status_check(
        run_reference,
        credential,
        _status_lists(keys["current"], set(), {INDEX, INDEX + 1}),
        did_doc,
    )
    assert suspended["statuses"] == {"revocation": False, "suspension": True}

    lists = _status_lists(keys["current"], {INDEX}, set())
    ours = credential_status(
        credential, {url: verify_credential_jwt(token, did_doc) for url, token in lists.items()}
    )
    assert ours == {"revocation": True, "suspension": False}


def test_a_credential_signed_before_a_key_rotation_still_verifies(
    keys: dict[str, bytes], did_doc: dict[str, Any]
) -> None:
    credential = export_credential(_wrapped("permit/1"), issuer_did=DID)
    token = _jwt(credential, keys["past"], "key-2025")
    assert their_jws_check(token, did_doc) == credential
    assert "validUntil" in credential
    assert did_doc["authentication"] == [f"{DID}#key-2026"]
    assert did_web_url(DID) == "https://customs.example.vn/members/vn/did.json"


def test_concealed_fields_stay_out_of_the_credential() -> None:
    wrapped = _wrapped("coo/1").conceal(["/importer/address", "/items/0/fobValue"])
    credential = export_credential(wrapped, issuer_did=DID)
    consignee = credential["credentialSubject"]["supplyChainConsignment"]["consignee"]  # type: ignore[index,call-overload]
    assert "postalAddress" in consignee
    assert "line1" not in consignee["postalAddress"]
    assert credential["evidence"][0]["concealedFields"][0] == "/importer/address"  # type: ignore[index]


@pytest.mark.parametrize(
    ("presented", "words"),
    [
        (
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "proof": {"type": "DataIntegrityProof"},
            },
            "'DataIntegrityProof' .an embedded proof. is not supported",
        ),
        ({"@context": ["https://www.w3.org/ns/credentials/v2"]}, "unsecured credential"),
        (42, "not a Verifiable Credential"),
    ],
)
def test_an_unknown_securing_mechanism_is_a_clear_error(presented: Any, words: str) -> None:
    with pytest.raises(InvalidCredential, match=words):
        read_presented_credential(presented)


def test_a_jwt_with_another_algorithm_is_refused(did_doc: dict[str, Any]) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"vc+jwt"}').rstrip(b"=").decode()
    with pytest.raises(InvalidCredential, match="'HS256' is not supported"):
        verify_credential_jwt(f"{header}.e30.AAAA", did_doc)
