"""The development consortium ``docex run`` deploys on first start.

Three members, VN, KR and SG, each with a governance key and an issuer key for every
document type docex knows, kept as encrypted keystores in ``<data dir>/keys`` (passphrase
beside each, mode 0600: a DEVELOPMENT convenience, never for production keys); quorum 2;
KR recognises certificates of origin (``coo/1``) from VN. The keys are fresh and funded
from the chain's public development account; the deployment is journalled, so a crash
mid-way finishes the same deployment on the next start.

Each member also gets an encryption keyring (``<CC>-encryption.json``, ADR 0024) whose
public key genesis records on chain, where every node's member directory reads it
(:mod:`node.consortium.member_directory`). Another node joins the consortium with
:func:`join_dev_consortium`: it copies ``chain.json`` and its own country's key files from
the first node's data dir, and deploys nothing.

This one data dir holding every member's private keys is the development shortcut, for
``make run`` and the demo only (production refuses it); a real member makes its keys on
its own machine with ``docex member init`` (docs/keys.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount

from certificates.hashes import to_hex
from certificates.schemas import DOCUMENT_TYPES
from ledger import (
    Chain,
    ConsortiumConfig,
    Deployment,
    Journal,
    TransactionManager,
    TxRequest,
    deploy_consortium,
    load_artifacts,
)
from ledger.contracts import revert_decoder
from node.consortium.member_keys import (
    ROLES,
    keystore_path,
    load_or_create_key,
    load_or_create_keyring,
)
from node.errors import InvalidSettings

__all__ = [
    "DEV_COUNTRIES",
    "DEV_MEMBERS",
    "ensure_dev_consortium",
    "join_dev_consortium",
    "keystore_path",
    "load_or_create_key",
]

DEV_MEMBERS: Final = (
    ("VN", "Viet Nam Customs"),
    ("KR", "Korea Customs Service"),
    ("SG", "Singapore Customs"),
)
DEV_COUNTRIES: Final = tuple(country for country, _ in DEV_MEMBERS)
#: (verifier, issuer, document type)
DEV_AGREEMENTS: Final = (("KR", "VN", "coo/1"),)
FUNDING_WEI: Final = 100 * 10**18


def dev_config(members: dict[str, tuple[str, str, bytes]]) -> ConsortiumConfig:
    """``members``: country -> (governance account, issuer account, encryption public key)."""
    return ConsortiumConfig.model_validate(
        {
            "quorum": 2,
            "members": [
                {
                    "country": country,
                    "name": name,
                    "account": members[country][0],
                    "encryption_key": to_hex(members[country][2]),
                    "issuer_keys": [
                        {"account": members[country][1], "document_type": document_type}
                        for document_type in sorted(DOCUMENT_TYPES)
                    ],
                }
                for country, name in DEV_MEMBERS
            ],
            "agreements": [
                {"verifier": verifier, "issuer": issuer, "document_type": document_type}
                for verifier, issuer, document_type in DEV_AGREEMENTS
            ],
            "document_types": sorted(DOCUMENT_TYPES),
        }
    )


def ensure_dev_consortium(
    chain: Chain,
    data_dir: Path,
    journal: Journal,
    funder_key: bytes,
    *,
    kdf_iterations: int | None = None,
    countries: Sequence[str] = DEV_COUNTRIES,
) -> Deployment:
    """The deployment in ``data_dir`` (deployed, with keys, on first call)."""
    keys_dir = data_dir / "keys"
    if (data_dir / "chain.json").exists():
        return Deployment.read(data_dir)
    accounts: dict[str, tuple[str, str, bytes]] = {}
    for country in countries:
        member = load_or_create_key(
            keystore_path(keys_dir, country, "member"), kdf_iterations=kdf_iterations
        )
        issuer = load_or_create_key(
            keystore_path(keys_dir, country, "issuer"), kdf_iterations=kdf_iterations
        )
        keyring = load_or_create_keyring(
            keystore_path(keys_dir, country, "encryption"), kdf_iterations=kdf_iterations
        )
        accounts[country] = (member.address, issuer.address, keyring.current.public_key)
    funder: LocalAccount = Account.from_key(funder_key)
    artifacts = load_artifacts()
    manager = TransactionManager(
        chain,
        journal,
        [funder],
        revert_decoder=revert_decoder(artifacts.values(), sorted(DOCUMENT_TYPES)),
    )
    manager.resume()
    for country in countries:
        for address in accounts[country][:2]:
            manager.transact(
                funder.address,
                TxRequest(
                    key=f"dev/fund/{chain.chain_id}/{address}", to=address, value=FUNDING_WEI
                ),
            )
    deployment = deploy_consortium(
        manager, funder.address, dev_config(accounts), artifacts, label="dev"
    )
    deployment.write(data_dir)
    return deployment


#: what a joining node copies from the consortium's data dir (besides its own keys)
_SHARED_FILES: Final = ("chain.json",)


def join_dev_consortium(source_dir: Path, data_dir: Path, country: str) -> bool:
    """Join the dev consortium deployed in ``source_dir`` as ``country``'s node: copy its
    ``chain.json`` and this country's key files (with their passphrase files) into
    ``data_dir``. Nothing is done when ``data_dir`` has a
    ``chain.json`` already; returns whether files were copied."""
    if (data_dir / "chain.json").exists():
        return False
    wanted = [source_dir / name for name in _SHARED_FILES]
    for role in ROLES:
        keystore = keystore_path(source_dir / "keys", country, role)
        wanted += [keystore, keystore.with_suffix(".passphrase")]
    missing = [str(path) for path in wanted if not path.is_file()]
    if missing:
        raise InvalidSettings(
            f"cannot join the consortium in {source_dir}: missing {', '.join(missing)}"
        )
    (data_dir / "keys").mkdir(parents=True, exist_ok=True)
    for path in wanted[len(_SHARED_FILES) :]:
        target = data_dir / "keys" / path.name
        if not target.exists():
            shutil.copyfile(path, target)
            target.chmod(0o600)
    # chain.json last: its presence is what marks the data dir as joined
    shutil.copyfile(source_dir / "chain.json", data_dir / "chain.json")
    return True
