"""The node's settings: one object, from ``DOCEX_*`` environment variables and a config file.

Precedence, highest first: values passed in code (the CLI's options), ``DOCEX_*``
environment variables, the TOML or JSON file named on the command line, the defaults.
No other module of docex reads the environment.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from node.backend_kinds import ChainKind, Profile, StoreKind
from node.errors import InvalidSettings

if TYPE_CHECKING:
    from ledger.sql_engines import DatabaseLocation

#: the schemes ledger.sql_engines.POSTGRES_SCHEMES accepts
_POSTGRES_URL = re.compile(r"^(postgresql|postgresql\+psycopg|postgres)://[^\s]+$")
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("docex_config_file", default=None)


class NodeSettings(BaseSettings):
    """Everything a docex node is told at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="DOCEX_",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    #: dev (``make run``, the demo), test (the suites) or production (a member's node)
    profile: Profile = Profile.DEV

    # --- where the node keeps its state ------------------------------------------------
    data_dir: Path = Field(default=Path("data"), description="Directory of all node state.")
    #: PostgreSQL for the node database and the event index, for a deployment that
    #: outgrows one SQLite file: postgresql://USER:PASSWORD@HOST:PORT/DATABASE (schemas
    #: ``node`` and ``event_index`` in it). Unset (the default): node.sqlite and
    #: index.sqlite in the data dir. The transaction journal stays in the data dir.
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL for the node database and the event index "
        "(default: SQLite files in the data dir).",
    )

    # --- chain -------------------------------------------------------------------------
    chain: ChainKind = ChainKind.ANVIL
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL when chain = rpc.")
    anvil_port: int = Field(default=8545, ge=1, le=65535)
    #: the dev consortium (VN, KR, SG) is deployed on first start when no chain.json exists
    dev_consortium: bool = Field(
        default=True, description="Deploy a development consortium on first start."
    )
    #: scrypt's cost n for the dev consortium's keystores, made on first start: geth's
    #: standard 2^18 (certificates.keystore.DEFAULT_SCRYPT_N; about 256 MiB and half a
    #: second of CPU per unlock) by default. The suites and the benchmarks set 4096 for the
    #: throwaway nodes they start (milliseconds, no protection: their passphrases sit
    #: beside the keys anyway); a member's real keys are made by `docex member init`.
    dev_key_scrypt_n: int = Field(
        default=2**18,
        ge=2**10,
        le=2**18,
        description="scrypt n of the dev consortium's keystores (a power of two).",
    )
    confirmations: int = Field(default=1, ge=1)
    #: blocks per eth_getLogs request of the event indexer (and so per index transaction):
    #: Besu refuses wider ranges than its --rpc-max-logs-range (1,000 by default)
    logs_page_blocks: int = Field(
        default=1000, ge=1, le=1_000_000, description="Blocks per eth_getLogs request."
    )
    #: how often the event indexer asks the chain for new blocks: beyond its block, what
    #: a document addressed to this node waits at most before the receiver can see it
    index_poll_ms: int = Field(
        default=500, ge=10, le=60_000, description="Event indexer poll interval (ms)."
    )

    # --- content store -----------------------------------------------------------------
    content_store: StoreKind = StoreKind.EMBEDDED
    kubo_url: str | None = Field(default=None, description="Kubo RPC URL when store = kubo.")

    # --- this node's member identity ---------------------------------------------------
    country: str = Field(default="VN", pattern=r"^[A-Z]{2}$")
    keystore: Path | None = Field(
        default=None, description="Issuer keystore; default <data dir>/keys/<country>-issuer.json."
    )
    passphrase_file: Path | None = Field(
        default=None,
        description="Keystore passphrase file; default <keystore without .json>.passphrase.",
    )
    member_keystore: Path | None = Field(
        default=None,
        description="Member (governance) keystore; default <data dir>/keys/<country>-member.json.",
    )
    encryption_keyring: Path | None = Field(
        default=None,
        description="This member's X25519 keys (docex-encryption-keys/1), which open "
        "confidential documents addressed to it; default "
        "<data dir>/keys/<country>-encryption.json.",
    )
    #: other members' nodes (trustless gateway + batch manifests), by country:
    #: {"KR": "http://127.0.0.1:8001"}
    peer_gateways: dict[str, str] = Field(default_factory=dict)
    #: a dev consortium's data dir to join on first start (its chain.json and this
    #: country's keystores are copied) instead of deploying one
    join_from: Path | None = Field(
        default=None, description="Dev consortium data dir to join on first start."
    )
    #: this member's geth IPC socket (geth Clique networks, ADR 0056): when set, a worker
    #: keeps the geth in step with the ConsortiumRegistry (Clique votes, trusted peers)
    geth_ipc: Path | None = Field(
        default=None, description="This member's geth IPC socket: follow the registry with it."
    )
    #: the members' signed node records (docex-node-record/1, a JSON list): the enodes the
    #: follower may peer with; unset, the follower votes but leaves peers as configured
    node_records: Path | None = Field(
        default=None, description="The members' signed node records (node-records.json)."
    )
    receive: bool = Field(
        default=True, description="Run the receiver (documents addressed to this country)."
    )
    receive_poll_ms: int = Field(default=500, ge=10)
    receive_max_backoff_ms: int = Field(default=30_000, ge=10)
    #: with content_store = kubo, how long the receiver lets its Kubo look for a document
    #: among the consortium's peers (bitswap) before it asks the members' gateways
    bitswap_timeout_ms: int = Field(default=10_000, ge=1_000)

    # --- who may read stored content (ADR 0023) ----------------------------------------
    #: how far a member request's signed time may be from this node's clock, either way
    member_request_window_s: int = Field(default=300, ge=5, le=3600)
    #: the longest a share link may live, and its lifetime when none is asked for
    share_link_max_days: int = Field(default=90, ge=1, le=3650)

    # --- batching ----------------------------------------------------------------------
    batch_size: int = Field(default=256, ge=1, le=100_000)
    batch_max_latency_ms: int = Field(default=500, ge=1)

    # --- limits ------------------------------------------------------------------------
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=1_048_576, ge=1024)
    max_documents_per_request: int = Field(default=1000, ge=1)
    #: attached files sent with documents to issue (base64 in the JSON body): the most
    #: bytes of one file, and of all the files of one request (413 attachment-too-large)
    max_attachment_bytes: int = Field(default=4 * 1_048_576, ge=1024)
    max_attachments_bytes: int = Field(default=16 * 1_048_576, ge=1024)
    verify_rate_per_second: float = Field(default=50.0, gt=0)
    verify_burst: int = Field(default=100, ge=1)
    #: the most events one audit report (GET /v1/audit) may list; beyond, a 422
    audit_max_events: int = Field(default=10_000, ge=1)
    #: OpenAttestation document stores this node trusts as issuers: address -> name
    #: (TradeTrust documents verified here; DNS identity cannot be checked offline)
    oa_trusted_stores: dict[str, str] = Field(default_factory=dict)

    # --- fault injection: TEST ONLY (make soak), never set in production --------------
    #: ``journalled:N`` or ``sent:N``: the node kills itself (SIGKILL) at that point of
    #: its N-th batch anchor since start, to prove a crash there loses and repeats
    #: nothing (node/testing/fault_injection.py). Unset (the default): no hook at all.
    test_crash_at: str | None = Field(default=None, pattern=r"^(journalled|sent):[1-9][0-9]*$")

    # --- HTTP --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")
    #: processes serving the HTTP API on the one port; the background workers (batcher,
    #: indexer, receiver) run in the first only (docs/node.md, "Two API processes")
    api_workers: int = Field(default=1, ge=1, le=16)
    #: how long (ms) a thread of a node process runs before one waiting for Python's GIL
    #: gets it (``sys.setswitchinterval``; Python's own default is 5). The acceptance
    #: writer and the batcher wait for it after every SQLite step and sync while the API's
    #: event loop holds it: at 0.5 one process issued 2.2x as many documents under mixed
    #: load and verified 9 % fewer (docs/node.md, "The request paths under load")
    gil_switch_interval_ms: float = Field(default=0.5, gt=0, le=100)
    #: the address people and other nodes reach this node at: the base of the links the
    #: node prints (verifier page, QR codes on printed certificates); default
    #: http://HOST:PORT
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")

    #: reverse proxies whose X-Forwarded-For / X-Forwarded-Proto the node believes (their
    #: addresses); empty: none, the client address is the TCP peer's (the verify rate
    #: limit is per client address: a header anyone can send must not choose the bucket)
    trusted_proxies: list[str] = Field(default_factory=list)

    # --- the CLI as a client of a node (docex issue, verify, audit, ...) ---------------
    #: the node the client commands talk to; default: this node's public URL
    node_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    #: the bearer token the client commands send (from ``docex users add``)
    token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgres(cls, value: SecretStr | None) -> SecretStr | None:
        # the scheme only (ledger.sql_engines.postgres_url parses it when the database is
        # opened): settings are read by every command, and SQLAlchemy is slow to import
        if value is not None and not _POSTGRES_URL.match(value.get_secret_value()):
            raise ValueError("database_url must be postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
        return value

    @field_validator("dev_key_scrypt_n")
    @classmethod
    def _scrypt_n_is_a_power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("dev_key_scrypt_n must be a power of two")
        return value

    @model_validator(mode="after")
    def _backends_have_their_urls(self) -> NodeSettings:
        if self.chain is ChainKind.RPC and not self.rpc_url:
            raise ValueError("chain = rpc needs rpc_url (DOCEX_RPC_URL)")
        if self.content_store is StoreKind.KUBO and not self.kubo_url:
            raise ValueError("content_store = kubo needs kubo_url (DOCEX_KUBO_URL)")
        return self

    @model_validator(mode="after")
    def _production_refuses_dev_and_test_parts(self) -> NodeSettings:
        refused = self.refused_in_production()
        if self.profile is Profile.PRODUCTION and refused:
            raise ValueError(
                "profile = production refuses what is made for development and tests: "
                + "; ".join(refused)
            )
        if self.test_crash_at is not None and self.profile is not Profile.TEST:
            raise ValueError(
                "test_crash_at (DOCEX_TEST_CRASH_AT) is a test hook: it needs profile = test"
            )
        return self

    def refused_in_production(self) -> list[str]:
        """What these settings use that a production node may not (with how to change it)."""
        refused: list[str] = []
        if self.dev_consortium:
            refused.append(
                "the dev consortium (set DOCEX_DEV_CONSORTIUM=false and join a real one)"
            )
        if self.join_from is not None:
            refused.append("joining a dev consortium's data dir (unset DOCEX_JOIN_FROM)")
        if self.chain is ChainKind.ANVIL:
            refused.append("the managed anvil (set DOCEX_CHAIN=rpc and DOCEX_RPC_URL)")
        if self.chain is ChainKind.ETH_TESTER:
            refused.append("the in-process eth-tester chain (set DOCEX_CHAIN=rpc)")
        if self.test_crash_at is not None:
            refused.append("the crash hook (unset DOCEX_TEST_CRASH_AT)")
        return refused

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        del dotenv_settings, file_secret_settings  # no .env files, no secrets dir
        config_file = _CONFIG_FILE.get()
        if config_file is None:
            return init_settings, env_settings
        file_source: PydanticBaseSettingsSource
        if config_file.suffix == ".json":
            file_source = JsonConfigSettingsSource(settings_cls, json_file=config_file)
        else:
            file_source = TomlConfigSettingsSource(settings_cls, toml_file=config_file)
        return init_settings, env_settings, file_source

    # --- derived values ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The node's public base URL, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def client_node_url(self) -> str:
        """The node the client commands talk to, without a trailing slash."""
        return (self.node_url or self.base_url).rstrip("/")

    @property
    def database_path(self) -> Path:
        return self.data_dir / "node.sqlite"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.sqlite"

    @property
    def database_location(self) -> DatabaseLocation:
        """The node database: the PostgreSQL URL when one is set, else node.sqlite."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @property
    def index_location(self) -> DatabaseLocation:
        """The event index: the PostgreSQL URL when one is set, else index.sqlite."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.index_path

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "transactions.sqlite"

    @property
    def pids_dir(self) -> Path:
        """PID files of ``docex run`` and the processes it starts (the managed anvil's is
        in its own directory), so that a start after a ``kill -9`` finds them."""
        return self.data_dir / "pids"

    @property
    def run_pid_path(self) -> Path:
        """``docex run``'s own PID file: a live one means a node is serving this data dir."""
        return self.pids_dir / "docex-run.pid"

    @property
    def content_dir(self) -> Path:
        return self.data_dir / "content"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def keystore_path(self) -> Path:
        return self.keystore or self.keys_dir / f"{self.country}-issuer.json"

    @property
    def passphrase_path(self) -> Path:
        return self.passphrase_file or self.keystore_path.with_suffix(".passphrase")

    @property
    def member_keystore_path(self) -> Path:
        return self.member_keystore or self.keys_dir / f"{self.country}-member.json"

    @property
    def encryption_keyring_path(self) -> Path:
        return self.encryption_keyring or self.keys_dir / f"{self.country}-encryption.json"


def load_settings(config_file: Path | None = None, **overrides: Any) -> NodeSettings:
    """Settings from ``overrides`` > ``DOCEX_*`` > ``config_file`` (.toml or .json) > defaults."""
    if config_file is not None and not config_file.is_file():
        raise InvalidSettings(f"config file {config_file} does not exist")
    token = _CONFIG_FILE.set(config_file)
    try:
        return NodeSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as error:  # pydantic's ValidationError, a TOML/JSON decode error
        raise InvalidSettings(f"invalid settings: {error}") from error
    finally:
        _CONFIG_FILE.reset(token)
