"""Nonce sequences, fee bumps and consortium configurations, without a chain."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ledger.contracts import country_code, type_id
from ledger.deploy import ConsortiumConfig
from ledger.nonces import NonceSequence, NonceSequences
from ledger.transactions import Fees

A = "0x" + "11" * 20
B = "0x" + "22" * 20


def test_nonce_sequence_starts_from_its_source_and_counts_up() -> None:
    sequence = NonceSequence(lambda: 5)
    assert [sequence.allocate() for _ in range(3)] == [5, 6, 7]


def test_released_nonce_is_given_out_again() -> None:
    sequence = NonceSequence(lambda: 0)
    first = sequence.allocate()
    sequence.release(first)
    assert sequence.allocate() == first


def test_forgotten_sequence_rereads_its_source() -> None:
    start = iter([0, 10])
    sequence = NonceSequence(lambda: next(start))
    sequence.allocate()
    sequence.forget()
    assert sequence.allocate() == 10


def test_each_account_has_its_own_sequence() -> None:
    sequences = NonceSequences(lambda account: 0 if account == A else 100)
    assert (sequences.of(A).allocate(), sequences.of(B).allocate()) == (0, 100)
    assert sequences.of(A) is sequences.of(A)


def test_replacement_fees_rise_by_the_bump_and_never_fall_below_the_market() -> None:
    old = Fees(max_fee_per_gas=100, max_priority_fee_per_gas=10)
    bumped = old.bumped(15)
    assert (bumped.max_fee_per_gas, bumped.max_priority_fee_per_gas) == (115, 11)
    market = Fees(max_fee_per_gas=200, max_priority_fee_per_gas=5)
    assert bumped.at_least(market) == Fees(max_fee_per_gas=200, max_priority_fee_per_gas=11)


def config(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "quorum": 2,
        "members": [
            {
                "country": "VN",
                "name": "VN Customs",
                "account": A,
                "issuer_keys": [{"account": B, "document_type": "coo/1"}],
            },
            {"country": "TH", "name": "TH Customs", "account": B},
        ],
        "agreements": [{"verifier": "TH", "issuer": "VN", "document_type": "coo/1"}],
    }
    return {**base, **changes}


def test_configuration_becomes_the_genesis_constructor_arguments() -> None:
    members, keys, agreements, rule = ConsortiumConfig.model_validate(config()).constructor_args()

    no_encryption_key = b"\0" * 32
    assert members == [
        (b"VN", "VN Customs", A, no_encryption_key),
        (b"TH", "TH Customs", B, no_encryption_key),
    ]
    assert keys == [(1, B, type_id("coo/1"))]
    assert agreements == [(country_code("TH"), country_code("VN"), type_id("coo/1"), 0, 0)]
    # quorum: more than half of the active members (2 of 2 here), proposals expire
    assert rule[:2] == (1, 2)
    assert rule[2] > 0


@pytest.mark.parametrize(
    "bad",
    [
        {"quorum": 1},
        {"members": config()["members"][:1]},  # type: ignore[index]
        {"members": [*config()["members"], {"country": "VN", "name": "x", "account": A}]},  # type: ignore[misc]
        {"members": [{"country": "vn", "name": "x", "account": A}] * 2},
        {"surprise": True},
    ],
)
def test_invalid_configurations_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ConsortiumConfig.model_validate(config(**bad))
