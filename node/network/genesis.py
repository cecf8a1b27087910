"""The genesis of a consortium chain sealed by geth Clique (EIP-225), London-level.

Built from public data only: the signers' addresses and the accounts to fund. No
Shanghai/Cancun fork is scheduled (geth v1.13.15's Clique does not seal them; the
contracts are compiled for ``paris``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from eth_utils.address import is_address, to_canonical_address, to_checksum_address

_VANITY: Final = bytes(32)
_SEAL: Final = bytes(65)
#: Forks before London that a Clique chain activates at block 0.
FORKS_AT_ZERO: Final = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "muirGlacierBlock",
    "berlinBlock",
    "londonBlock",
    "arrowGlacierBlock",
    "grayGlacierBlock",
)
DEFAULT_GAS_LIMIT: Final = 30_000_000
DEFAULT_EPOCH: Final = 30_000


def clique_extra_data(signers: Sequence[str]) -> bytes:
    """32 zero bytes of vanity, the signers' addresses in ascending order, a 65-byte seal.

    Clique keeps its signer list sorted; the genesis is written the same way so that it
    does not depend on the order members were listed in.
    """
    if not signers:
        raise ValueError("a Clique chain needs at least one signer")
    for signer in signers:
        if not is_address(signer):
            raise ValueError(f"not an address: {signer!r}")
    canonical = sorted({to_canonical_address(signer) for signer in signers})
    if len(canonical) != len(signers):
        raise ValueError("a signer is listed twice")
    return _VANITY + b"".join(canonical) + _SEAL


def clique_signers(extra_data: bytes) -> list[str]:
    """The signer addresses a genesis ``extraData`` lists (the inverse of the above)."""
    body = extra_data[len(_VANITY) : len(extra_data) - len(_SEAL)]
    if len(extra_data) < len(_VANITY) + len(_SEAL) or len(body) % 20:
        raise ValueError("extraData is not 32 bytes + 20 x signers + 65 bytes")
    return [to_checksum_address(body[i : i + 20]) for i in range(0, len(body), 20)]


def clique_genesis(
    *,
    chain_id: int,
    signers: Sequence[str],
    alloc: Mapping[str, int],
    block_period: int = 1,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    epoch: int = DEFAULT_EPOCH,
    timestamp: int = 0,
) -> dict[str, Any]:
    """The genesis JSON (as a dict) for ``geth init``.

    ``alloc`` funds accounts (address -> wei). ``block_period`` is Clique's seconds
    between blocks (0 would seal only when transactions wait, which stalls confirmations).
    """
    if chain_id <= 0:
        raise ValueError("chain id must be positive")
    if block_period < 1:
        raise ValueError("block period must be at least one second")
    config: dict[str, Any] = {"chainId": chain_id}
    config.update(dict.fromkeys(FORKS_AT_ZERO, 0))
    config["clique"] = {"period": block_period, "epoch": epoch}
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "extraData": "0x" + clique_extra_data(signers).hex(),
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": "0x" + bytes(32).hex(),
        "coinbase": "0x" + bytes(20).hex(),
        "alloc": {
            to_checksum_address(address)[2:].lower(): {"balance": hex(wei)}
            for address, wei in alloc.items()
        },
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + bytes(32).hex(),
    }
