"""Revert data becomes a typed error whose message names the broken rule."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode

from ledger.contracts import REVERT_RULES, Artifact, country_code, revert_decoder, type_id
from ledger.errors import AlreadyRecorded, ContractReverted, NotAuthorisedOnChain, RpcError
from ledger.reverts import RevertDecoder, revert_data_of

ISSUER = "0x" + "ab" * 20


@pytest.fixture(scope="module")
def decoder() -> RevertDecoder:
    artifacts = [Artifact.load("ConsortiumRegistry"), Artifact.load("DocumentRegistry")]
    return revert_decoder(artifacts, ["coo/1"])


def custom_error(
    decoder: RevertDecoder, name: str, types: list[str], values: list[object]
) -> bytes:
    selector = next(s for s, codec in decoder._errors.items() if codec.name == name)
    return selector + encode(types, values)


def test_issuer_not_authorised_reads_as_the_rule_with_type_country_and_block(
    decoder: RevertDecoder,
) -> None:
    data = custom_error(
        decoder,
        "IssuerNotAuthorised",
        ["address", "bytes32", "bytes2", "uint256"],
        [ISSUER, type_id("coo/1"), country_code("VN"), 123],
    )

    error = decoder.decode(data, block_number=124)

    assert isinstance(error, NotAuthorisedOnChain)
    assert error.message.startswith("issuer not authorised for coo/1 in VN at block 123")
    assert error.rule == "IssuerNotAuthorised"
    assert error.arguments["blockNumber"] == 123


def test_already_anchored_is_an_already_recorded_error(decoder: RevertDecoder) -> None:
    data = custom_error(
        decoder, "AlreadyAnchored", ["bytes32", "address", "uint64"], [b"\x11" * 32, ISSUER, 9]
    )

    error = decoder.decode(data)

    assert isinstance(error, AlreadyRecorded)
    assert "already anchored" in error.message
    assert "at block 9" in error.message


def test_every_custom_error_of_the_contracts_has_a_sentence(decoder: RevertDecoder) -> None:
    assert set(decoder.errors) - set(REVERT_RULES) == set()


def test_require_reason_and_panic_are_decoded() -> None:
    decoder = RevertDecoder()
    reason = bytes.fromhex("08c379a0") + encode(["string"], ["not yet"])
    panic = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])

    assert decoder.decode(reason, block_number=5).message == "not yet at block 5"
    assert "arithmetic overflow" in decoder.decode(panic).message


def test_unknown_or_empty_revert_data_still_gives_a_typed_error() -> None:
    decoder = RevertDecoder()

    unknown = decoder.decode(bytes.fromhex("deadbeef"))
    empty = decoder.decode(b"", action="anchor")

    assert isinstance(unknown, ContractReverted)
    assert unknown.rule == "unknown"
    assert empty.message == "reverted without a reason at block latest"
    assert empty.action == "anchor"


@pytest.mark.parametrize(
    "data",
    [
        "0xdeadbeef",  # anvil, Geth, Besu
        {"message": "revert", "data": "0xdeadbeef"},  # ganache-style nesting
    ],
)
def test_revert_data_is_found_in_each_node_dialect(data: object) -> None:
    error = RpcError("eth_estimateGas", 3, "execution reverted", data)
    assert revert_data_of(error) == bytes.fromhex("deadbeef")


def test_a_non_revert_rpc_error_carries_no_revert_data() -> None:
    assert revert_data_of(RpcError("eth_sendRawTransaction", -32000, "nonce too low")) is None
