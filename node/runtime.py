"""Building a node from its settings, and running its background workers.

:class:`NodeRuntime` opens (or starts) the chain, joins or deploys the dev consortium on
first start when asked, opens the databases and the content store, and starts the
batcher, the indexer and the receiver as threads; :meth:`NodeRuntime.stop` undoes all
of it, stopping only the processes it started (the managed anvil, by PID).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

from eth_account.signers.local import LocalAccount

from adapters import ContentStore, DagStore, EmbeddedContentStore, FetchLimits, KuboContentStore
from certificates.encryption_keys import encryption_private_key
from certificates.keystore import decrypt_keystore
from ledger import (
    Chain,
    Deployment,
    EthTesterChain,
    Journal,
    JsonRpcChain,
    ManagedAnvil,
    open_index,
)
from ledger.chains import anvil_binary, dev_private_keys
from ledger.deploy import DEPLOYMENT_FILE
from ledger.keystores import signer_from_key
from ledger.process_records import PidFile
from ledger.transactions import SendHook
from node.access.member_requests import MemberRequestSigner, MemberRequestVerifier
from node.access.rate_limit import TokenBuckets
from node.access.share_links import ShareLinks
from node.access.users import UserStore
from node.audit.report import AuditReports
from node.backend_kinds import ChainKind, StoreKind
from node.chain.deployment_check import check_deployment_on_chain
from node.chain.index_follower import follow_chain
from node.chain.index_watch import IndexWatch
from node.chain.ledger_link import LedgerLink, link_ledger
from node.chain.supervisor import supervise_anvil
from node.consortium.governance import Governance, member_keystore_path
from node.consortium.member_directory import MemberKeyring, chain_member_directory
from node.consortium.member_keys import read_member_keyring as read_member_keyring_file
from node.credentials import CredentialExport
from node.db import open_database
from node.documents.content_access import ContentAccess
from node.documents.lifecycle import DocumentLifecycle, follow_amendments
from node.documents.printing import CertificatePrinting
from node.errors import InvalidSettings
from node.issuing.anchor_keeper import AnchorKeeper
from node.issuing.batcher import Batcher
from node.issuing.grouped_acceptance import GroupedAcceptance
from node.issuing.outbox import Outbox
from node.network.geth_ipc import GethIpc
from node.network.node_records import read_node_records
from node.network.signer_follower import SignerFollower
from node.observability.metrics import NodeMetrics
from node.receiving.inbox import Inbox
from node.receiving.receiver import Receiver, SwarmFetch
from node.services import NodeServices
from node.settings import NodeSettings
from node.verification.attachments import AttachmentReader
from node.verification.by_reference import ReferenceVerification
from node.verification.verifier import ChainView, Verifier, index_state_reader

_log = logging.getLogger("docex.node")

#: npm installs anvil under the repository's node_modules (make setup)
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"


def apply_gil_switch_interval(settings: NodeSettings) -> None:
    """This process's threads take turns on the GIL every ``gil_switch_interval_ms``
    (``docex run`` and its API-only processes call it first thing)."""
    sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)


def read_issuer_key(settings: NodeSettings) -> LocalAccount:
    """The node's issuer key: its keystore, unlocked with the passphrase file."""
    try:
        keystore = json.loads(settings.keystore_path.read_text(encoding="utf-8"))
        passphrase = settings.passphrase_path.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, ValueError, IndexError) as error:
        raise InvalidSettings(
            f"cannot read the keystore {settings.keystore_path} and its passphrase file "
            f"{settings.passphrase_path}: {error}"
        ) from error
    return signer_from_key(decrypt_keystore(keystore, passphrase))


def read_member_key(settings: NodeSettings) -> bytes | None:
    """This member's account key (its member keystore), or None without a keystore: the
    node then cannot open confidential documents addressed to it, nor sign its requests
    to other members' nodes (which then refuse them)."""
    path = settings.member_keystore_path
    if not path.exists():
        return None
    try:
        keystore = json.loads(path.read_text(encoding="utf-8"))
        passphrase = path.with_suffix(".passphrase").read_text(encoding="utf-8").splitlines()[0]
    except (OSError, ValueError, IndexError) as error:
        raise InvalidSettings(f"cannot read the member keystore {path}: {error}") from error
    return decrypt_keystore(keystore, passphrase)


def read_member_keyring(settings: NodeSettings) -> MemberKeyring | None:
    """This member's X25519 keys: its encryption keyring (every key it has had) and, for
    documents sealed before encryption keys were recorded on chain, the key derived from
    its member keystore (ADR 0003). None without either: the node then cannot open
    confidential documents addressed to it."""
    private_keys: list[bytes] = []
    keyring = read_member_keyring_file(settings.encryption_keyring_path)
    if keyring is not None:
        private_keys += keyring.private_keys
    path = settings.member_keystore_path
    if path.exists():
        try:
            keystore = json.loads(path.read_text(encoding="utf-8"))
            passphrase = path.with_suffix(".passphrase").read_text(encoding="utf-8")
            signing_key = decrypt_keystore(keystore, passphrase.splitlines()[0])
        except (OSError, ValueError, IndexError) as error:
            raise InvalidSettings(f"cannot read the member keystore {path}: {error}") from error
        private_keys.append(encryption_private_key(signing_key))
    return MemberKeyring(settings.country, tuple(private_keys)) if private_keys else None


def _crash_hook(settings: NodeSettings) -> SendHook | None:
    """The test-only crash hook (``DOCEX_TEST_CRASH_AT``, profile ``test``), or None."""
    if settings.test_crash_at is None:
        return None
    from node.testing.fault_injection import crash_hook  # test profile only

    return crash_hook(settings.test_crash_at)


def signer_follower(settings: NodeSettings, deployment: Deployment) -> SignerFollower:
    """The follower that keeps this member's geth (``DOCEX_GETH_IPC``) in step with the
    registry: Clique votes and, with ``DOCEX_NODE_RECORDS``, its peers (ADR 0056)."""
    assert settings.geth_ipc is not None
    records = settings.node_records
    return SignerFollower(
        GethIpc(settings.geth_ipc),
        deployment.consortium_registry,
        lambda: [] if records is None else read_node_records(records),
        from_block=deployment.deployed_block,
        name=f"{settings.country}-geth",
    )


class NodeRuntime:
    """A node's components and workers, from :class:`NodeSettings`."""

    def __init__(
        self,
        settings: NodeSettings,
        *,
        kdf_iterations: int | None = None,
        chain: Chain | None = None,
    ) -> None:
        """``chain``: an already-open chain to use instead of the one the settings name
        (an embedding program's, or a test's shared eth-tester); the runtime does not
        close a chain it was given."""
        self.settings = settings
        self._kdf_iterations = kdf_iterations
        self._given_chain = chain
        self._anvil: ManagedAnvil | None = None
        self._chain: Chain | None = None
        self._journal: Journal | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.services: NodeServices | None = None
        self.receiver: Receiver | None = None

    @property
    def anvil_pid(self) -> int | None:
        return self._anvil.pid if self._anvil is not None else None

    @property
    def chain_url(self) -> str | None:
        """The JSON-RPC URL of the open chain (managed anvil or ``rpc``); None in-process."""
        if self._anvil is not None:
            return self._anvil.url
        return self.settings.rpc_url if self.settings.chain is ChainKind.RPC else None

    def open_for_api(self, chain_url: str) -> NodeServices:
        """Open the components an API-only process needs (``docex run --api-workers``):
        the chain the first process runs, reached by ``chain_url``, its deployment,
        journal, index and store. Nothing is deployed, resumed or started here: the
        first process owns the chain, the workers and the recovery."""
        settings = self.settings
        chain = JsonRpcChain(chain_url)
        self._chain = chain
        self._journal = Journal(settings.journal_path)
        ledger = link_ledger(
            chain,
            Deployment.read(settings.data_dir),
            self._journal,
            open_index(settings.index_location),
            read_issuer_key(settings),
            confirmations=settings.confirmations,
            logs_page_blocks=settings.logs_page_blocks,
        )
        store, gateway_store, _swarm = self._open_store()
        self.services = build_services(settings, ledger, store, gateway_store)
        # the first process follows the chain into the shared index
        self.services.index_watch.followed_elsewhere()
        return self.services

    def open(self) -> NodeServices:
        """Open every component (starting anvil when managed); workers not started yet."""
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        chain = self._open_chain()
        self._journal = Journal(settings.journal_path)
        if settings.join_from is not None:
            from node.dev.dev_consortium import join_dev_consortium  # dev profile only

            join_dev_consortium(settings.join_from, settings.data_dir, settings.country)
        if settings.dev_consortium:
            from node.dev.dev_consortium import ensure_dev_consortium  # dev profile only

            funder = (
                EthTesterChain.dev_private_keys()[0]
                if settings.chain is ChainKind.ETH_TESTER
                else dev_private_keys(1)[0]
            )
            first_start = not (settings.data_dir / DEPLOYMENT_FILE).exists()
            deployment = ensure_dev_consortium(
                chain,
                settings.data_dir,
                self._journal,
                funder,
                kdf_iterations=self._kdf_iterations or settings.dev_key_scrypt_n,
            )
            if first_start and self._anvil is not None:
                # the deployment is not in the journal, which replays only what a kill -9
                # of anvil loses of anchoring: on anvil's disk before the node serves
                self._anvil.wait_persisted(int(chain.request("eth_blockNumber"), 16))
        else:
            deployment = Deployment.read(settings.data_dir)
        ledger = link_ledger(
            chain,
            deployment,
            self._journal,
            open_index(settings.index_location),
            read_issuer_key(settings),
            confirmations=settings.confirmations,
            logs_page_blocks=settings.logs_page_blocks,
            on_send=_crash_hook(settings),
        )
        if not settings.dev_consortium and settings.chain is ChainKind.RPC:
            # a real consortium's chain.json came from elsewhere: is it this chain's?
            check_deployment_on_chain(ledger, settings.rpc_url or "")
        ledger.manager.resume()
        store, gateway_store, swarm = self._open_store()
        self.services = build_services(settings, ledger, store, gateway_store)
        if settings.receive:
            member_key = read_member_key(settings)
            self.receiver = Receiver(
                settings.country,
                self.services.inbox,
                ledger,
                self.services.verifier,
                # received content is kept (pinned) in the store the gateway serves
                gateway_store,
                settings.peer_gateways,
                read_member_keyring(settings),
                signer=None
                if member_key is None
                else MemberRequestSigner(member_key, ledger.request_domain),
                # a Kubo-backed node asks its own peer first: bitswap in the swarm
                swarm=swarm,
                swarm_limits=FetchLimits(deadline_seconds=settings.bitswap_timeout_ms / 1000),
                max_backoff=settings.receive_max_backoff_ms / 1000,
                index_state=self.services.index_watch.state,
            )
        return self.services

    def start_workers(self) -> None:
        services = self.services
        assert services is not None
        ledger = services.ledger
        batcher = services.batcher
        self._threads = [
            threading.Thread(
                target=follow_chain,
                args=(ledger, services.metrics, self._stop),
                kwargs={
                    "keeper": AnchorKeeper(services.outbox, ledger),
                    "poll": self.settings.index_poll_ms / 1000,
                    "watch": services.index_watch,
                },
                name="docex-indexer",
                daemon=True,
            ),
            threading.Thread(
                target=batcher.run, args=(self._stop,), name="docex-batcher", daemon=True
            ),
        ]
        if self.receiver is not None:
            self._threads.append(
                threading.Thread(
                    target=self.receiver.run,
                    args=(self._stop, self.settings.receive_poll_ms / 1000),
                    name="docex-receiver",
                    daemon=True,
                )
            )
        self._threads.append(
            threading.Thread(
                target=follow_amendments,
                args=(services.lifecycle, self._stop),
                name="docex-amendments",
                daemon=True,
            )
        )
        if self.settings.geth_ipc is not None:
            self._threads.append(
                threading.Thread(
                    target=signer_follower(self.settings, ledger.deployment).run,
                    args=(self._stop,),
                    name="docex-signer-follower",
                    daemon=True,
                )
            )
        if self._anvil is not None:
            # the managed chain is ours: restart it on its state if it dies
            self._threads.append(
                threading.Thread(
                    target=supervise_anvil,
                    args=(self._anvil, self._stop),
                    kwargs={"restarts": ledger.restarts},
                    name="docex-chain-supervisor",
                    daemon=True,
                )
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the workers, close the databases, stop anvil (by its PID) if we started it."""
        self._stop.set()
        if self.services is not None:
            self.services.batcher.wake()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None
        if self.services is not None:
            self.services.acceptance.close()  # what the API accepted is committed first
            self.services.database.dispose()
            self.services.ledger.index.dispose()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._chain is not None:
            self._chain.close()
            self._chain = None
        if self._anvil is not None:
            self._anvil.stop()
            self._anvil = None

    def _open_chain(self) -> Chain:
        settings = self.settings
        chain: Chain
        if self._given_chain is not None:
            return self._given_chain
        if settings.chain is ChainKind.ANVIL:
            self._anvil = ManagedAnvil(
                anvil_binary(NODE_MODULES), settings.data_dir / "anvil", port=settings.anvil_port
            )
            # a previous `docex run` on this data dir was killed and left its anvil
            # running (`docex run` refuses to start while that run itself is alive)
            leftover = self._anvil.stop_leftover()
            if leftover is not None:
                _log.warning(
                    "stopped the managed anvil a killed run left running",
                    extra={"pid": leftover},
                )
            chain = self._anvil.start()
        elif settings.chain is ChainKind.RPC:
            assert settings.rpc_url is not None
            chain = JsonRpcChain(settings.rpc_url)
        else:
            chain = EthTesterChain()
        self._chain = chain
        return chain

    def _open_store(self) -> tuple[ContentStore, DagStore, SwarmFetch | None]:
        """The node's store; the one its gateway serves and its receiver fills (the
        same: embedded, or the member's Kubo); and, for Kubo, the peer that fetches from
        the consortium's swarm (bitswap)."""
        settings = self.settings
        if settings.content_store is StoreKind.KUBO:
            assert settings.kubo_url is not None
            kubo = KuboContentStore(settings.kubo_url)
            return kubo, kubo, kubo
        embedded = EmbeddedContentStore(settings.content_dir)
        return embedded, embedded, None


def build_services(
    settings: NodeSettings,
    ledger: LedgerLink,
    store: ContentStore,
    gateway_store: DagStore | None,
) -> NodeServices:
    """The services over already-open components (the runtime's and the tests' way in):
    every use case is built here, once, from the parts it needs."""
    database = open_database(settings.database_location)
    outbox = Outbox(database)
    inbox = Inbox(database)
    metrics = NodeMetrics()
    metrics.watch_outbox(outbox.pending_count)
    members = chain_member_directory(ledger.index)
    # the index's state for the verifier's memo: kept by the follower after each pass
    # when it runs here, read from the index otherwise
    index_watch = IndexWatch(
        ledger.indexer.checkpoint, state=index_state_reader(ledger.index, ledger.indexer.stream)
    )
    chain_view = ChainView(
        ledger.index,
        ledger.domain,
        ledger.indexer.checkpoint,
        index_watch.state,
        in_doubt=ledger.restarts.in_doubt,
    )
    batcher = Batcher(
        outbox,
        store,
        ledger,
        metrics,
        batch_size=settings.batch_size,
        max_latency=settings.batch_max_latency_ms / 1000,
        country=settings.country,
        members=members,
        wrapping_pid_file=PidFile(settings.pids_dir / "wrapping.pid"),
    )
    verifier = Verifier(
        settings.country,
        chain_view,
        attachments=AttachmentReader(store, lambda: read_member_keyring(settings)),
    )
    share_links = ShareLinks(database, max_days=settings.share_link_max_days)
    lifecycle = DocumentLifecycle(
        country=settings.country,
        database=database,
        outbox=outbox,
        inbox=inbox,
        ledger=ledger,
        metrics=metrics,
        wake_batcher=batcher.wake,
        index_watch=index_watch,
        # a few of the follower's passes: past that, the answer does not wait for it
        index_wait_seconds=max(2.0, 4 * settings.index_poll_ms / 1000),
    )
    return NodeServices(
        settings=settings,
        database=database,
        users=UserStore(database),
        outbox=outbox,
        acceptance=GroupedAcceptance(outbox, on_group=metrics.acceptance_group_size.observe),
        store=store,
        gateway_store=gateway_store,
        verifier=verifier,
        metrics=metrics,
        verify_limiter=TokenBuckets(settings.verify_rate_per_second, settings.verify_burst),
        ledger=ledger,
        batcher=batcher,
        inbox=inbox,
        members=members,
        lifecycle=lifecycle,
        index_watch=index_watch,
        governance=Governance(
            ledger,
            member_keystore=member_keystore_path(settings.keystore_path, settings.country),
        ),
        audit=AuditReports(
            country=settings.country,
            base_url=settings.base_url,
            database=database,
            outbox=outbox,
            ledger=ledger,
        ),
        references=ReferenceVerification(
            country=settings.country,
            base_url=settings.base_url,
            database=database,
            index=ledger.index,
            verifier=verifier,
            metrics=metrics,
            lifecycle=lifecycle,
        ),
        content_access=ContentAccess(
            country=settings.country, database=database, share_links=share_links
        ),
        member_requests=MemberRequestVerifier(
            country=settings.country,
            domain=ledger.request_domain,
            index=ledger.index,
            database=database,
            window_seconds=settings.member_request_window_s,
        ),
        printing=CertificatePrinting(
            country=settings.country,
            base_url=settings.base_url,
            outbox=outbox,
            inbox=inbox,
            index=ledger.index,
        ),
        credentials=CredentialExport(
            country=settings.country,
            base_url=settings.base_url,
            database=database,
            outbox=outbox,
            ledger=ledger,
        ),
    )
