"""The Clique genesis is built from the signers' addresses only, London-level."""

from __future__ import annotations

import pytest
from eth_account import Account

from node.network import clique_extra_data, clique_genesis, clique_signers

SIGNERS = [Account.create().address for _ in range(4)]


def test_extra_data_is_vanity_then_sorted_signers_then_an_empty_seal() -> None:
    extra = clique_extra_data(SIGNERS)
    assert len(extra) == 32 + 20 * 4 + 65
    assert extra[:32] == bytes(32)
    assert extra[-65:] == bytes(65)
    listed = [extra[32 + 20 * i : 52 + 20 * i] for i in range(4)]
    assert listed == sorted(bytes.fromhex(s[2:]) for s in SIGNERS)
    assert clique_signers(extra) == sorted(SIGNERS, key=lambda s: bytes.fromhex(s[2:]))


def test_the_order_members_are_listed_in_does_not_change_the_genesis() -> None:
    one = clique_genesis(chain_id=7, signers=SIGNERS, alloc={})
    other = clique_genesis(chain_id=7, signers=list(reversed(SIGNERS)), alloc={})
    assert one == other


def test_the_chain_is_london_level_sealed_by_clique() -> None:
    genesis = clique_genesis(chain_id=7713, signers=SIGNERS[:3], alloc={SIGNERS[0]: 10**18})
    config = genesis["config"]
    assert config["chainId"] == 7713
    assert config["londonBlock"] == 0
    assert config["clique"] == {"period": 1, "epoch": 30_000}
    for later in ("shanghaiTime", "cancunTime", "pragueTime", "terminalTotalDifficulty"):
        assert later not in config
    assert genesis["alloc"] == {SIGNERS[0][2:].lower(): {"balance": hex(10**18)}}
    assert int(genesis["gasLimit"], 16) == 30_000_000


@pytest.mark.parametrize(
    ("signers", "message"),
    [([], "at least one"), ([SIGNERS[0], SIGNERS[0]], "twice"), (["0x1234"], "not an address")],
)
def test_a_genesis_without_a_proper_signer_set_is_refused(signers: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clique_genesis(chain_id=7, signers=signers, alloc={})


def test_block_period_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="block period"):
        clique_genesis(chain_id=7, signers=SIGNERS, alloc={}, block_period=0)
