"""Deploy a consortium from a configuration file and record where it lives.

The configuration (TOML or JSON) names the members, their governance accounts and
issuer keys, the quorum rule and the mutual-recognition agreements::

    quorum_fraction = [1, 2]               # more than half of the voting members
    proposal_lifetime_blocks = 100000      # a proposal can be voted on for this many blocks
    [[members]]
    country = "VN"
    name = "Viet Nam Customs"
    account = "0x..."                      # member (governance) account
    encryption_key = "0x..."               # optional: X25519 public key, 32 bytes
    issuer_keys = [{ account = "0x...", document_type = "coo/1" }]
    [[agreements]]
    verifier = "TH"
    issuer = "VN"
    document_type = "coo/1"
    valid_from = 0                         # unix seconds
    valid_until = 0                        # 0 = open-ended

Both contracts are deployed through the transaction manager (journalled, idempotent:
re-running after a crash finishes the same deployment), and the addresses are written
to ``<data dir>/chain.json``.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ledger.contracts import (
    CONSORTIUM_REGISTRY,
    DOCUMENT_REGISTRY,
    Artifact,
    country_code,
    type_id,
)
from ledger.errors import DeploymentError
from ledger.transactions import TransactionManager

DEPLOYMENT_FILE = "chain.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssuerKeyConfig(_Strict):
    account: str
    document_type: str


class MemberConfig(_Strict):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    name: str = Field(min_length=1)
    account: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    encryption_key: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    issuer_keys: tuple[IssuerKeyConfig, ...] = ()


class AgreementConfig(_Strict):
    verifier: str = Field(pattern=r"^[A-Z]{2}$")
    issuer: str = Field(pattern=r"^[A-Z]{2}$")
    document_type: str
    valid_from: int = Field(default=0, ge=0)
    valid_until: int = Field(default=0, ge=0)


def required_approvals(voters: int, fraction: tuple[int, int]) -> int:
    """More than ``fraction`` of ``voters``, at least one (``ConsortiumRegistry`` rule)."""
    numerator, denominator = fraction
    return max(1, min(voters, voters * numerator // denominator + 1))


class ConsortiumConfig(_Strict):
    #: the quorum: more than numerator/denominator of the voting members (>= 1/2, < 1)
    quorum_fraction: tuple[int, int] = (1, 2)
    proposal_lifetime_blocks: int = Field(default=100_000, ge=1, lt=2**64)
    #: older configurations named an absolute quorum; accepted only when it is what the
    #: fraction gives for the genesis members (so that no file changes meaning silently)
    quorum: int | None = Field(default=None, ge=1)
    members: tuple[MemberConfig, ...] = Field(min_length=2)
    agreements: tuple[AgreementConfig, ...] = ()
    #: document types the node spells in messages (issuer keys' types are added)
    document_types: tuple[str, ...] = ()

    @field_validator("members")
    @classmethod
    def _distinct_countries(cls, members: tuple[MemberConfig, ...]) -> tuple[MemberConfig, ...]:
        countries = [m.country for m in members]
        if len(set(countries)) != len(countries):
            raise ValueError("one member per country")
        return members

    @field_validator("quorum_fraction")
    @classmethod
    def _fraction(cls, fraction: tuple[int, int]) -> tuple[int, int]:
        numerator, denominator = fraction
        if not (0 < denominator < 2**32 and 2 * numerator >= denominator > numerator):
            raise ValueError("the quorum fraction is at least one half and less than one")
        return fraction

    @model_validator(mode="after")
    def _legacy_quorum(self) -> ConsortiumConfig:
        if self.quorum is not None:
            expected = required_approvals(len(self.members), self.quorum_fraction)
            if self.quorum != expected:
                raise ValueError(
                    f"quorum {self.quorum} is not what the quorum fraction "
                    f"{self.quorum_fraction[0]}/{self.quorum_fraction[1]} gives for "
                    f"{len(self.members)} members ({expected}): set quorum_fraction instead"
                )
        return self

    def all_document_types(self) -> list[str]:
        found = list(self.document_types)
        for member in self.members:
            found += [k.document_type for k in member.issuer_keys]
        found += [a.document_type for a in self.agreements]
        return sorted(set(found))

    def constructor_args(self) -> tuple[Any, ...]:
        members = [
            (
                country_code(m.country),
                m.name,
                m.account,
                bytes.fromhex(m.encryption_key[2:]) if m.encryption_key else b"\0" * 32,
            )
            for m in self.members
        ]
        keys = [
            (index, key.account, type_id(key.document_type))
            for index, member in enumerate(self.members, start=1)
            for key in member.issuer_keys
        ]
        agreements = [
            (
                country_code(a.verifier),
                country_code(a.issuer),
                type_id(a.document_type),
                a.valid_from,
                a.valid_until,
            )
            for a in self.agreements
        ]
        rule = (*self.quorum_fraction, self.proposal_lifetime_blocks)
        return members, keys, agreements, rule


def load_config(path: Path) -> ConsortiumConfig:
    """Read a consortium configuration (``.toml`` or ``.json``)."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return ConsortiumConfig.model_validate(raw)
    except (OSError, ValueError, ValidationError) as exc:
        raise DeploymentError(f"consortium configuration {path} invalid: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Deployment:
    chain_id: int
    consortium_registry: str
    document_registry: str
    deployed_block: int
    deployer: str
    document_types: tuple[str, ...] = ()

    def write(self, data_dir: Path) -> Path:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / DEPLOYMENT_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
        return path

    @classmethod
    def read(cls, data_dir: Path) -> Deployment:
        path = data_dir / DEPLOYMENT_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            raw["document_types"] = tuple(raw.get("document_types", ()))
            return cls(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise DeploymentError(f"no readable deployment at {path}: {exc}") from exc


def deploy_consortium(
    manager: TransactionManager,
    deployer: str,
    config: ConsortiumConfig,
    artifacts: dict[str, Artifact],
    *,
    label: str = "consortium",
) -> Deployment:
    """Deploy ConsortiumRegistry (genesis from ``config``), then DocumentRegistry over it.

    ``label`` names the deployment in the journal: the same label resumes, a new one
    deploys afresh.
    """
    prefix = f"deploy/{manager.chain_id}/{label}"
    consortium = manager.transact(
        deployer,
        artifacts[CONSORTIUM_REGISTRY].deploy_request(
            f"{prefix}/{CONSORTIUM_REGISTRY}", *config.constructor_args()
        ),
    )
    if consortium.contract_address is None:
        raise DeploymentError("ConsortiumRegistry deployment created no contract")
    documents = manager.transact(
        deployer,
        artifacts[DOCUMENT_REGISTRY].deploy_request(
            f"{prefix}/{DOCUMENT_REGISTRY}", consortium.contract_address
        ),
    )
    if documents.contract_address is None:
        raise DeploymentError("DocumentRegistry deployment created no contract")
    return Deployment(
        chain_id=manager.chain_id,
        consortium_registry=consortium.contract_address,
        document_registry=documents.contract_address,
        deployed_block=consortium.block_number,
        deployer=deployer,
        document_types=tuple(config.all_document_types()),
    )
