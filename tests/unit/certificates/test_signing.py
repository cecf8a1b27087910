"""EIP-712 batch signatures: agree with eth-account, bound to one chain and one registry."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates.errors import InvalidSignature
from certificates.keccak import keccak256
from certificates.signing import (
    SECP256K1_N,
    BatchAnchor,
    Eip712Domain,
    address_of,
    batch_anchor_digest,
    checksum_address,
    recover_batch_signer,
    sign_batch_anchor,
)

KEY = keccak256(b"test issuer key")
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
OTHER_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
DOMAIN = Eip712Domain(chain_id=1337, verifying_contract=REGISTRY)
ANCHOR = BatchAnchor(
    root=keccak256(b"root"), document_type="coo/1", document_count=1000, addressees=("KR", "SG")
)


def typed_data(domain: Eip712Domain, anchor: BatchAnchor) -> dict[str, object]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "BatchAnchor": [
                {"name": "root", "type": "bytes32"},
                {"name": "documentType", "type": "string"},
                {"name": "documentCount", "type": "uint32"},
                {"name": "addressees", "type": "bytes2[]"},
            ],
        },
        "primaryType": "BatchAnchor",
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": {
            "root": anchor.root,
            "documentType": anchor.document_type,
            "documentCount": anchor.document_count,
            "addressees": [code.encode() for code in anchor.addressees],
        },
    }


@settings(max_examples=50, deadline=None)
@given(
    chain_id=st.integers(min_value=1, max_value=2**64),
    count=st.integers(min_value=1, max_value=2**32 - 1),
    addressees=st.lists(st.sampled_from(["KR", "SG", "VN", "JP", "DE"]), unique=True),
    type_id=st.sampled_from(["coo/1", "permit/1", "declaration/1"]),
)
def test_signature_is_the_one_eth_account_makes_for_the_same_typed_data(
    chain_id: int, count: int, addressees: list[str], type_id: str
) -> None:
    domain = Eip712Domain(chain_id=chain_id, verifying_contract=REGISTRY)
    anchor = BatchAnchor(keccak256(b"r"), type_id, count, tuple(sorted(addressees)))
    reference = Account.sign_typed_data(KEY, full_message=typed_data(domain, anchor))
    assert sign_batch_anchor(KEY, domain, anchor) == bytes(reference.signature)
    signable = encode_typed_data(full_message=typed_data(domain, anchor))
    assert Account.recover_message(signable, signature=reference.signature) == address_of(KEY)


def test_recovery_returns_the_issuer_address() -> None:
    signature = sign_batch_anchor(KEY, DOMAIN, ANCHOR)
    assert recover_batch_signer(DOMAIN, ANCHOR, signature) == Account.from_key(KEY).address


@pytest.mark.parametrize(
    "replayed_domain",
    [
        Eip712Domain(chain_id=1338, verifying_contract=REGISTRY),
        Eip712Domain(chain_id=1337, verifying_contract=OTHER_REGISTRY),
        Eip712Domain(chain_id=1337, verifying_contract=REGISTRY, version="2"),
    ],
    ids=["other-chain", "other-registry", "other-version"],
)
def test_signature_replayed_on_another_chain_or_contract_recovers_someone_else(
    replayed_domain: Eip712Domain,
) -> None:
    signature = sign_batch_anchor(KEY, DOMAIN, ANCHOR)
    assert batch_anchor_digest(replayed_domain, ANCHOR) != batch_anchor_digest(DOMAIN, ANCHOR)
    assert recover_batch_signer(replayed_domain, ANCHOR, signature) != address_of(KEY)


@pytest.mark.parametrize(
    "tampered",
    [
        BatchAnchor(keccak256(b"other root"), "coo/1", 1000, ("KR", "SG")),
        BatchAnchor(ANCHOR.root, "permit/1", 1000, ("KR", "SG")),
        BatchAnchor(ANCHOR.root, "coo/1", 999, ("KR", "SG")),
        BatchAnchor(ANCHOR.root, "coo/1", 1000, ("KR",)),
    ],
    ids=["root", "type", "count", "addressees"],
)
def test_any_changed_batch_field_breaks_the_signature(tampered: BatchAnchor) -> None:
    signature = sign_batch_anchor(KEY, DOMAIN, ANCHOR)
    assert recover_batch_signer(DOMAIN, tampered, signature) != address_of(KEY)


def test_high_s_twin_of_a_valid_signature_is_refused() -> None:
    signature = sign_batch_anchor(KEY, DOMAIN, ANCHOR)
    s = int.from_bytes(signature[32:64], "big")
    assert s <= SECP256K1_N // 2
    twin = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    with pytest.raises(InvalidSignature, match="high s"):
        recover_batch_signer(DOMAIN, ANCHOR, twin)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda sig: sig[:64],
        lambda sig: sig[:64] + b"\x00",
        lambda sig: sig[:64] + b"\x1d",
        lambda sig: b"\x00" * 32 + sig[32:],
        lambda sig: sig[:32] + b"\x00" * 32 + sig[64:],
    ],
    ids=["short", "v=0", "v=29", "r=0", "s=0"],
)
def test_malformed_signatures_are_refused(mangle: object) -> None:
    signature = sign_batch_anchor(KEY, DOMAIN, ANCHOR)
    with pytest.raises(InvalidSignature):
        recover_batch_signer(DOMAIN, ANCHOR, mangle(signature))  # type: ignore[operator]


def test_anchor_requires_sorted_distinct_country_codes() -> None:
    for addressees in [("SG", "KR"), ("KR", "KR"), ("kr",), ("KOR",)]:
        with pytest.raises(InvalidSignature):
            BatchAnchor(ANCHOR.root, "coo/1", 1, addressees)


# --- EIP-55 checksummed addresses ----------------------------------------------------------

# the test vectors of EIP-55 itself
EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_checksum_address_gives_eip55s_own_vectors(address: str) -> None:
    assert checksum_address(address.lower()) == address
    assert checksum_address(address.upper().replace("0X", "0x")) == address


@settings(max_examples=300)
@given(st.binary(min_size=20, max_size=20))
def test_checksum_address_agrees_with_eth_utils(raw: bytes) -> None:
    from eth_utils.address import to_checksum_address  # the reference (docex has its own)

    assert checksum_address("0x" + raw.hex()) == to_checksum_address("0x" + raw.hex())


@pytest.mark.parametrize("text", ["", "0x", "0x" + "g" * 40, "0x" + "a" * 39, "a" * 42])
def test_checksum_address_refuses_what_is_not_an_address(text: str) -> None:
    with pytest.raises(ValueError, match="not a 0x-prefixed 20-byte hex address"):
        checksum_address(text)
