"""Calls, events and errors encoded and decoded from a JSON ABI."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode

from certificates.keccak import keccak256
from ledger.abi_codec import ContractAbi, abi_type

ABI = [
    {
        "type": "function",
        "name": "anchor",
        "inputs": [
            {"name": "root", "type": "bytes32"},
            {"name": "documentType", "type": "string"},
            {"name": "documentCount", "type": "uint32"},
            {"name": "addressees", "type": "bytes2[]"},
        ],
        "outputs": [],
        "stateMutability": "nonpayable",
    },
    {
        "type": "event",
        "name": "Anchored",
        "inputs": [
            {"name": "root", "type": "bytes32", "indexed": True},
            {"name": "label", "type": "string", "indexed": True},
            {"name": "count", "type": "uint32", "indexed": False},
        ],
    },
    {
        "type": "constructor",
        "inputs": [
            {
                "name": "members",
                "type": "tuple[]",
                "components": [
                    {"name": "country", "type": "bytes2"},
                    {"name": "name", "type": "string"},
                ],
            }
        ],
    },
]


def test_function_selector_is_keccak_of_the_canonical_signature() -> None:
    codec = ContractAbi(ABI).function("anchor")
    assert codec.selector == keccak256(b"anchor(bytes32,string,uint32,bytes2[])")[:4]


def test_tuple_types_are_spelled_out() -> None:
    assert abi_type(ABI[2]["inputs"][0]) == "(bytes2,string)[]"  # type: ignore[index]


def test_event_decodes_indexed_topics_and_data_by_name() -> None:
    abi = ContractAbi(ABI)
    event = abi.events["Anchored"]
    label_hash = keccak256(b"coo/1")

    decoded = event.decode([event.topic0, b"\x01" * 32, label_hash], encode(["uint32"], [7]))

    assert event.topic0 == keccak256(b"Anchored(bytes32,string,uint32)")
    assert decoded == {"root": b"\x01" * 32, "label": label_hash, "count": 7}


def test_constructor_arguments_encode_structs() -> None:
    encoded = ContractAbi(ABI).encode_constructor([[(b"VN", "Viet Nam Customs")]])
    assert encoded == encode(["(bytes2,string)[]"], [[(b"VN", "Viet Nam Customs")]])


def test_fast_event_decoding_agrees_with_eth_abi_for_dynamic_data() -> None:
    abi = ContractAbi(
        [
            {
                "type": "event",
                "name": "BatchAnchored",
                "inputs": [
                    {"name": "root", "type": "bytes32", "indexed": True},
                    {"name": "issuer", "type": "address", "indexed": False},
                    {"name": "documentType", "type": "string", "indexed": False},
                    {"name": "addressees", "type": "bytes2[]", "indexed": False},
                    {"name": "count", "type": "uint32", "indexed": False},
                    {"name": "blob", "type": "bytes", "indexed": False},
                ],
            }
        ]
    )
    event = abi.events["BatchAnchored"]
    values = ["0x" + "ab" * 20, "coo/1 Việt Nam", (b"SG", b"TH", b"VN"), 1000, b"\x00\x01" * 40]
    data = encode(["address", "string", "bytes2[]", "uint32", "bytes"], values)

    decoded = event.decode([event.topic0, b"\x07" * 32], data)

    assert event.data_decoders  # the fast path, not eth-abi
    assert decoded == {
        "root": b"\x07" * 32,
        "issuer": values[0],
        "documentType": values[1],
        "addressees": values[2],
        "count": 1000,
        "blob": values[4],
    }


def test_truncated_event_data_is_refused() -> None:
    event = ContractAbi(ABI).events["Anchored"]
    with pytest.raises(ValueError, match="shorter"):
        event.decode([event.topic0, b"\x01" * 32, b"\x02" * 32], b"\x00" * 8)


ANONYMOUS_ABI = [
    {
        "type": "event",
        "name": "BatchAnchored",
        "anonymous": True,
        "inputs": [
            {"name": "root", "type": "bytes32", "indexed": True},
            {"name": "routeAndCount", "type": "uint80", "indexed": False},
        ],
    },
    {
        "type": "event",
        "name": "DocumentRevoked",
        "anonymous": False,
        "inputs": [
            {"name": "targetHash", "type": "bytes32", "indexed": True},
            {"name": "reasonCode", "type": "uint32", "indexed": False},
        ],
    },
]


def test_an_anonymous_event_is_recognised_by_its_shape_and_its_first_topic_is_a_value() -> None:
    abi = ContractAbi(ANONYMOUS_ABI)
    anchored = abi.events["BatchAnchored"]
    assert anchored.anonymous
    assert anchored.topic0 not in abi.events_by_topic
    root = b"\x11" * 32
    data = encode(["uint80"], [(5 << 32) | 1000])

    codec = abi.event_of([root], data)

    assert codec is anchored
    assert anchored.decode([root], data) == {"root": root, "routeAndCount": (5 << 32) | 1000}


def test_a_root_equal_to_an_event_signature_is_still_an_anonymous_anchor() -> None:
    abi = ContractAbi(ANONYMOUS_ABI)
    revoked = abi.events["DocumentRevoked"]
    data = encode(["uint80"], [7])
    assert abi.event_of([revoked.topic0], data) is abi.events["BatchAnchored"]
    assert abi.event_of([revoked.topic0, b"\x01" * 32], encode(["uint32"], [3])) is revoked
    assert abi.event_of([b"\x02" * 32, b"\x03" * 32], data) is None
