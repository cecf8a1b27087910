"""The node's hold on its chain: the deployment, its issuer key, the transaction manager
and the event index, and the one write the batcher needs (anchoring a batch root)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from certificates.member_requests import request_domain
from certificates.signing import Eip712Domain
from ledger import (
    Chain,
    ChainRewound,
    ConfirmedTransaction,
    ContractBinding,
    Deployment,
    EventIndexer,
    Journal,
    NotFoundOnChain,
    RpcError,
    TransactionManager,
    WatchedContract,
    anchor_request,
    load_artifacts,
)
from ledger.contracts import Artifact, revert_decoder
from ledger.transactions import SendHook
from node.chain.restarts import ChainRestarts


@dataclass
class LedgerLink:
    chain: Chain
    deployment: Deployment
    journal: Journal
    manager: TransactionManager
    documents: ContractBinding
    consortium: ContractBinding
    index: Engine
    indexer: EventIndexer
    issuer: LocalAccount
    #: restarts of the managed chain the index has not re-checked yet
    restarts: ChainRestarts = field(default_factory=ChainRestarts)

    @property
    def domain(self) -> Eip712Domain:
        """Where this node's batch signatures are valid: its chain and DocumentRegistry."""
        return Eip712Domain(self.deployment.chain_id, self.deployment.document_registry)

    @property
    def request_domain(self) -> Eip712Domain:
        """Where member requests between nodes are signed (ADR 0023): this chain and its
        ConsortiumRegistry."""
        return request_domain(self.deployment.chain_id, self.deployment.consortium_registry)

    @property
    def signing_key(self) -> bytes:
        return bytes(self.issuer.key)

    def anchor(
        self,
        batch_id: str,
        root: bytes,
        document_type: str,
        document_count: int,
        addressees: Sequence[str],
    ) -> ConfirmedTransaction:
        """Anchor a batch root, once: the key ``anchor/<chain>/<batch>`` is journalled, so a
        retry after a crash waits for the first transaction instead of sending another."""
        self.send_anchor(batch_id, root, document_type, document_count, addressees)
        return self.wait_for_anchor(batch_id)

    def send_anchor(
        self,
        batch_id: str,
        root: bytes,
        document_type: str,
        document_count: int,
        addressees: Sequence[str],
    ) -> None:
        """The first half of :meth:`anchor`: journal and send, without waiting (the
        batcher sends the anchors of several batches, then waits for each)."""
        request = anchor_request(
            self.documents,
            self.chain,
            self.anchor_key(batch_id),
            self.issuer.address,
            root,
            document_type,
            document_count,
            addressees,
        )
        try:
            self.manager.submit(self.issuer.address, request)
        except NotFoundOnChain as error:
            if error.rule != "UnknownRoute":
                raise
            # routeOf named a route a moment ago and the gas estimate no longer finds it:
            # the chain lost the block that registered it (restarted on older state); the
            # anchor keeper replays it from the journal, the batcher retries this batch
            raise ChainRewound(
                f"the chain lost the registration of this batch's route: {error}"
            ) from error

    def wait_for_anchor(self, batch_id: str) -> ConfirmedTransaction:
        """The second half of :meth:`anchor`: the sent anchor, once confirmed."""
        return self.manager.wait(self.anchor_key(batch_id))

    def anchor_key(self, batch_id: str) -> str:
        """The journal key of a batch's anchoring transaction."""
        return f"anchor/{self.deployment.chain_id}/{batch_id}"

    def registry_deployed(self) -> bool:
        """Does the chain still hold the DocumentRegistry's code (a reset chain does not)?"""
        code = self.chain.request("eth_getCode", [self.documents.address, "latest"])
        return isinstance(code, str) and code not in ("0x", "0x0", "")

    def head_block(self) -> int:
        return int(self.chain.request("eth_blockNumber"), 16)

    def chain_tip(self) -> tuple[int, bytes]:
        """The chain's newest block: its number and hash (which commits to every block
        below it, so an unchanged tip is an unchanged chain)."""
        block = self.chain.request("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict):
            raise RpcError("eth_getBlockByNumber", -32603, "the chain has no latest block")
        return int(block["number"], 16), bytes.fromhex(str(block["hash"]).removeprefix("0x"))


def link_ledger(
    chain: Chain,
    deployment: Deployment,
    journal: Journal,
    index: Engine,
    issuer: LocalAccount,
    *,
    confirmations: int = 1,
    on_send: SendHook | None = None,
    logs_page_blocks: int = 1000,
) -> LedgerLink:
    """Bind the node to ``deployment`` on ``chain`` with ``issuer`` as its anchoring key."""
    artifacts = load_artifacts()
    documents = ContractBinding(artifacts["DocumentRegistry"], deployment.document_registry)
    consortium = ContractBinding(artifacts["ConsortiumRegistry"], deployment.consortium_registry)
    manager = TransactionManager(
        chain,
        journal,
        [issuer],
        confirmations=confirmations,
        on_send=on_send,
        revert_decoder=revert_decoder(artifacts.values(), list(deployment.document_types)),
    )
    return LedgerLink(
        chain=chain,
        deployment=deployment,
        journal=journal,
        manager=manager,
        documents=documents,
        consortium=consortium,
        index=index,
        indexer=registry_indexer(chain, deployment, index, logs_page_blocks, artifacts),
        issuer=issuer,
    )


def registry_indexer(
    chain: Chain,
    deployment: Deployment,
    index: Engine,
    logs_page_blocks: int = 1000,
    artifacts: Mapping[str, Artifact] | None = None,
) -> EventIndexer:
    """The indexer of ``deployment``'s two registries into ``index``, reading the chain's
    logs ``logs_page_blocks`` blocks per request (``DOCEX_LOGS_PAGE_BLOCKS``); on an empty
    ``index`` its first pass rebuilds the whole index from the chain."""
    artifacts = artifacts or load_artifacts()
    return EventIndexer(
        chain,
        index,
        [
            WatchedContract(
                "ConsortiumRegistry",
                deployment.consortium_registry,
                artifacts["ConsortiumRegistry"].abi,
            ),
            WatchedContract(
                "DocumentRegistry", deployment.document_registry, artifacts["DocumentRegistry"].abi
            ),
        ],
        start_block=deployment.deployed_block,
        page_size=logs_page_blocks,
    )
