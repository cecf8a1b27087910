"""The development consortium ``docex run`` deploys on first start.

Three members, VN, KR and SG, each with a governance key and an issuer key for every
document type docex knows, kept as encrypted keystores in ``<data dir>/keys`` (passphrase
beside each, mode 0600: a DEVELOPMENT convenience, never for production keys); quorum 2;
KR recognises certificates of origin (``coo/1``) from VN. The keys are fresh and funded
from the chain's public development account; the deployment is journalled, so a crash
mid-way finishes the same deployment on the next start.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount

from certificates.keystore import decrypt_keystore, encrypt_keystore
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

DEV_MEMBERS: Final = (
    ("VN", "Viet Nam Customs"),
    ("KR", "Korea Customs Service"),
    ("SG", "Singapore Customs"),
)
DEV_COUNTRIES: Final = tuple(country for country, _ in DEV_MEMBERS)
#: (verifier, issuer, document type)
DEV_AGREEMENTS: Final = (("KR", "VN", "coo/1"),)
FUNDING_WEI: Final = 100 * 10**18


def keystore_path(keys_dir: Path, country: str, role: str) -> Path:
    return keys_dir / f"{country}-{role}.json"


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def load_or_create_key(path: Path, *, kdf_iterations: int | None = None) -> LocalAccount:
    """The key in keystore ``path`` (passphrase in ``path.with_suffix('.passphrase')``),
    created with a random passphrase when missing."""
    passphrase_path = path.with_suffix(".passphrase")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        passphrase = secrets.token_urlsafe(24)
        key = secrets.token_bytes(32)
        keystore = encrypt_keystore(key, passphrase, iterations=kdf_iterations)
        _write_private(passphrase_path, passphrase + "\n")
        _write_private(path, json.dumps(keystore))
    passphrase = passphrase_path.read_text(encoding="utf-8").splitlines()[0]
    key = decrypt_keystore(json.loads(path.read_text(encoding="utf-8")), passphrase)
    account: LocalAccount = Account.from_key(key)
    return account


def dev_config(members: dict[str, tuple[str, str]]) -> ConsortiumConfig:
    """``members``: country -> (governance account, issuer account)."""
    return ConsortiumConfig.model_validate(
        {
            "quorum": 2,
            "members": [
                {
                    "country": country,
                    "name": name,
                    "account": members[country][0],
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
    if (data_dir / "chain.json").exists():
        return Deployment.read(data_dir)
    keys_dir = data_dir / "keys"
    accounts: dict[str, tuple[str, str]] = {}
    for country in countries:
        member = load_or_create_key(
            keystore_path(keys_dir, country, "member"), kdf_iterations=kdf_iterations
        )
        issuer = load_or_create_key(
            keystore_path(keys_dir, country, "issuer"), kdf_iterations=kdf_iterations
        )
        accounts[country] = (member.address, issuer.address)
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
        for address in accounts[country]:
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
