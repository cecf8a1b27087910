"""The receiver: documents other members anchor for this node's country, fetched from the
issuer's node, checked, opened, verified and filed in the inbox before the goods arrive.

For each batch the index shows addressed to this country (ADR 0041):

1. read the batch manifest (``GET /v1/batches/0x<root>/manifest``) from the issuer's
   node, or, when it cannot serve it (its host gone), from another addressee's node,
   which keeps the manifest it received (CIDs it lacks are taken from the next holder);
   check that its target hashes build the anchored root, and keep it to serve in turn;
2. for each document addressed to us: fetch its CID, every block verified against it,
   from the first source that delivers: the node's own Kubo (bitswap among the
   consortium's peers, when the node is Kubo-backed), then the trustless gateway
   (``adapters.GatewayFetcher``) of every member that holds the document: its issuer,
   then its other addressees. Each source left for the next is logged with its reason
   and recorded with the document (``receivedFrom``, ``fallbacks``). The documents of
   a batch are fetched side by side (:data:`FETCH_CONCURRENCY` at a time: each fetch
   mostly waits on a peer or on the swarm), then checked and filed one by one, in
   manifest order;
3. open it with this member's key if it is sealed, check it is the listed target hash of
   this root, and verify it (offline checks and the on-chain ones, from the index);
4. file it in the inbox, and pin its content, only if it is authentic (integrity,
   signature, issuance and issuer valid); anything else is reported against the peer
   and never filed.

A peer that is down (unreachable, timeout, 5xx, manifest not there yet) is retried with
exponential backoff, per batch; nothing is lost across restarts (the schedule lives in
``node.sqlite``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Protocol

import httpx

from adapters import (
    Cid,
    DagStore,
    FetchedDag,
    FetchLimits,
    GatewayFetcher,
    InvalidCid,
    PeerFetchFailed,
)
from certificates import CheckStatus, InvalidWrappedDocument, WrappedDocument, parse_strict_json
from certificates.attachments import DeclaredAttachment
from certificates.errors import DocexError, EnvelopeError, InvalidInput
from certificates.hashes import to_hex
from certificates.json_types import JsonValue
from ledger import queries
from node.access.member_requests import MemberRequestSigner
from node.chain.index_watch import IndexState
from node.chain.ledger_link import LedgerLink
from node.consortium.member_directory import MemberKeyring, is_envelope
from node.receiving.discovery import BatchDiscovery
from node.receiving.inbox import ContentFallback, DueBatch, Inbox, PeerReport, ReceivedDocument
from node.receiving.manifests import (
    BatchManifest,
    InvalidManifest,
    ManifestEntry,
    manifest_path,
    parse_manifest,
)
from node.verification.verifier import (
    INTEGRITY,
    ISSUANCE,
    ISSUER,
    Verifier,
    index_state_reader,
)

_log = logging.getLogger("docex.node.receiver")

#: checks a document must pass to be filed: it is what the issuer anchored and signed
AUTHENTICITY_CHECKS: Final = (INTEGRITY, "signature", ISSUANCE, ISSUER)
#: a peer's failure to answer, as opposed to an answer that does not verify
TRANSIENT_REASONS: Final = frozenset({"unreachable", "timeout", "http-status", "not-in-swarm"})
#: the source named when the content was already held by this node's store
OWN_STORE: Final = "this node's store"
MAX_MANIFEST_BYTES: Final = 16 * 1024 * 1024
MAX_WRAPPED_BYTES: Final = 16 * 1024 * 1024
#: documents of one batch whose content is fetched at the same time, and the most whose
#: content is held (fetched, not yet checked) at once
FETCH_CONCURRENCY: Final = 8
FETCH_AHEAD: Final = 16


class _RetryLater(Exception):
    """The batch cannot be finished now (peer down, index behind): try again later."""


class _Refused(Exception):
    """The peer's content does not verify: reported, never filed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class _Unfetched(Exception):
    """No source delivered the content verified."""

    def __init__(self, fallbacks: Sequence[ContentFallback]) -> None:
        super().__init__("; ".join(f"{f.source}: {f.reason}" for f in fallbacks) or "no source")
        self.fallbacks = tuple(fallbacks)

    @property
    def transient(self) -> bool:
        """Every source failed to answer (none sent content that did not verify)."""
        return all(fallback.reason in TRANSIENT_REASONS for fallback in self.fallbacks)


class SwarmFetch(Protocol):
    """The node's own IPFS peer, fetching a DAG from the consortium's swarm (Kubo)."""

    @property
    def source_name(self) -> str: ...

    def fetch_dag(self, cid: Cid, *, limits: FetchLimits | None = None) -> FetchedDag: ...


@dataclass(frozen=True, slots=True)
class _Source:
    name: str
    fetch: Callable[[Cid], FetchedDag]
    #: the gateway's base URL, to report a peer that sent bad content (None: bitswap)
    gateway: str | None


@dataclass(frozen=True, slots=True)
class _Content:
    cid: Cid
    content: bytes
    #: the DAG fetched and verified, to store once the document checks (None: held)
    fetched: FetchedDag | None
    source: str
    fallbacks: tuple[ContentFallback, ...]
    #: where the document's attached files are looked for
    sources: tuple[_Source, ...]


@dataclass(frozen=True, slots=True)
class PassResult:
    filed: int
    refused: int
    retrying: int


class Receiver:
    def __init__(
        self,
        country: str,
        inbox: Inbox,
        ledger: LedgerLink,
        verifier: Verifier,
        store: DagStore,
        peers: Mapping[str, str],
        keyring: MemberKeyring | None,
        *,
        signer: MemberRequestSigner | None = None,
        swarm: SwarmFetch | None = None,
        swarm_limits: FetchLimits | None = None,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        index_state: Callable[[], IndexState] | None = None,
    ) -> None:
        """``index_state``: the index's checkpoint (number, hash), read from the index when
        not given (the node hands the one its follower keeps in memory)."""
        self.country = country
        self.inbox = inbox
        self.ledger = ledger
        self.verifier = verifier
        self.store = store
        self.peers = {c: url.rstrip("/") for c, url in peers.items()}
        self.keyring = keyring
        #: signs every request to a peer with this member's account key (ADR 0023): a
        #: node serves content and manifests only to members entitled to them
        self.signer = signer
        #: asked first for content (bitswap); the members' gateways are the fallback
        self.swarm = swarm
        self.swarm_limits = swarm_limits or FetchLimits(deadline_seconds=10.0)
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self.discovery = BatchDiscovery(
            country,
            ledger.index,
            inbox,
            index_state or index_state_reader(ledger.index, ledger.indexer.stream),
        )
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._fetchers: dict[tuple[str, str], GatewayFetcher] = {}
        self._fetchers_lock = threading.Lock()
        self._fetching = ThreadPoolExecutor(FETCH_CONCURRENCY, "docex-receiver-fetch")

    def close(self) -> None:
        self._fetching.shutdown(cancel_futures=True)
        self._http.close()
        for fetcher in self._fetchers.values():
            fetcher.close()

    # --- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Loop until ``stop``; any failure is logged and retried, never fatal."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                _log.exception("receiver failed; retrying")
            stop.wait(poll)

    def run_once(self) -> PassResult:
        """Track new batches addressed to us, then work on every due one."""
        if self.discovery.due():
            self.discover()
        filed = refused = retrying = 0
        for due in self.inbox.due():
            try:
                result = self._receive(due)
            except _RetryLater as error:
                delay = min(self.max_backoff, self.base_backoff * 2 ** min(due.attempts, 16))
                self.inbox.retry_later(due.root, delay, str(error))
                _log.info(
                    "batch will be retried",
                    extra={"root": to_hex(due.root), "delay": delay, "error": str(error)},
                )
                retrying += 1
                continue
            self.inbox.finish(due.root)
            filed += result[0]
            refused += result[1]
        return PassResult(filed, refused, retrying)

    def discover(self) -> int:
        """Start tracking indexed batches addressed to this country by another member."""
        return self.discovery.discover()

    # --- one batch -----------------------------------------------------------------------

    def _receive(self, due: DueBatch) -> tuple[int, int]:
        record = queries.batch(self.ledger.index, due.root)
        if record is None:  # reorganised away, or the index is being rebuilt
            raise _RetryLater("the batch is not in the index")
        manifest, from_issuer = self._manifest_of(due, record)
        filed = refused_count = 0
        waiting: list[str] = []
        mine: list[ManifestEntry] = []
        for entry in manifest.documents:
            if self.country not in entry.addressees:
                continue  # in the batch, addressed to another member
            if self.inbox.has(entry.target_hash) or self.inbox.refused(due.root, entry.target_hash):
                continue
            if entry.cid is None and not from_issuer:
                # only the issuer may say we are not to fetch it; another holder may just
                # not know this CID (it learnt those of its own documents)
                waiting.append("no reachable holder lists its CID")
                continue
            mine.append(entry)
        for entry, content in self._fetched_ahead(record.issuer_country, due, mine):
            try:
                self._receive_document(due, entry, content)
                filed += 1
            except _Refused as refused:
                peer = self.peers.get(record.issuer_country, record.issuer_country)
                self._report(peer, due, entry.target_hash, entry.cid, refused)
                refused_count += 1
            except _RetryLater as error:
                waiting.append(str(error))
        if waiting:
            raise _RetryLater(f"{len(waiting)} document(s) not received yet: {waiting[0]}")
        return filed, refused_count

    def _holders(self, issuer_country: str, addressees: Sequence[str]) -> list[tuple[str, str]]:
        """(country, node URL) of every member that may serve the batch's manifest: its
        issuer, then its other addressees (each keeps the manifest it received)."""
        countries = dict.fromkeys((issuer_country, *sorted(addressees)))
        return [
            (country, self.peers[country])
            for country in countries
            if country != self.country and country in self.peers
        ]

    def _manifest_of(
        self, due: DueBatch, record: queries.BatchRecord
    ) -> tuple[BatchManifest, bool]:
        """The batch's manifest, and whether its issuer served it: the one kept from an
        earlier pass, else read from the first holder that serves one that verifies
        (CIDs missing there taken from the next holders); kept for the next pass and to
        serve the batch's other members."""
        kept = self.inbox.manifest(due.root)
        manifest = None
        if kept is not None:
            manifest = self._parsed(json.loads(kept[1]), record)
        from_issuer = False
        if manifest is not None and manifest.missing_cids(self.country) == 0:
            return manifest, from_issuer
        failures: list[str] = []
        for country, url in self._holders(record.issuer_country, record.addressees):
            try:
                served = self._manifest(url, country, record)
            except _Refused as refused:
                self._report(url, due, None, None, refused)
                failures.append(f"{country}: refused: {refused.detail}")
                continue
            except _RetryLater as error:
                failures.append(f"{country}: {error}")
                continue
            if country == record.issuer_country:
                from_issuer = True
                manifest = served  # the issuer's view is authoritative for what we may fetch
            else:
                manifest = served if manifest is None else manifest.with_cids_of(served)
                _log.info(
                    "batch manifest read from another holder",
                    extra={"root": to_hex(due.root), "holder": country, "failures": failures},
                )
            if from_issuer or manifest.missing_cids(self.country) == 0:
                break
        if manifest is None:
            detail = "; ".join(failures) or f"no peer gateway for {record.issuer_country}"
            raise _RetryLater(f"no holder served the manifest: {detail}")
        self.inbox.keep_manifest(due.root, json.dumps(manifest.to_json(), separators=(",", ":")))
        return manifest, from_issuer

    def _parsed(self, value: JsonValue, record: queries.BatchRecord) -> BatchManifest | None:
        try:
            return parse_manifest(
                value,
                root=record.root,
                document_type=record.document_type,
                document_count=record.document_count,
            )
        except InvalidManifest:
            return None

    def _signed(self, method: str, target: str, audience: str) -> dict[str, str]:
        """The member signature headers of a request to ``audience``'s node (none when
        this node has no member key: the peer will then refuse)."""
        if self.signer is None:
            return {}
        return self.signer.headers(method, target, audience)

    def _manifest(self, peer: str, audience: str, record: queries.BatchRecord) -> BatchManifest:
        target = manifest_path(record.root)
        url = peer + target
        headers = {"Accept": "application/json", **self._signed("GET", target, audience)}
        try:
            response = self._http.get(url, headers=headers)
        except httpx.HTTPError as error:
            raise _RetryLater(f"{url}: {type(error).__name__}") from None
        if response.status_code != 200:
            # 404 is normal for a moment: the issuer records the anchor after it is mined
            raise _RetryLater(f"{url} answered {response.status_code}")
        if len(response.content) > MAX_MANIFEST_BYTES:
            raise _Refused("invalid-manifest", f"manifest larger than {MAX_MANIFEST_BYTES} B")
        try:
            value = parse_strict_json(response.content, max_bytes=MAX_MANIFEST_BYTES)
            return parse_manifest(
                value,
                root=record.root,
                document_type=record.document_type,
                document_count=record.document_count,
            )
        except (InvalidInput, InvalidManifest) as error:
            raise _Refused("invalid-manifest", str(error)) from None

    def _fetcher(self, peer: str, audience: str) -> GatewayFetcher:
        with self._fetchers_lock:  # the fetching threads share one fetcher per peer
            if (peer, audience) not in self._fetchers:
                self._fetchers[peer, audience] = GatewayFetcher(
                    [peer], sign=lambda method, target: self._signed(method, target, audience)
                )
            return self._fetchers[peer, audience]

    def _fetched_ahead(
        self, issuer_country: str, due: DueBatch, entries: Sequence[ManifestEntry]
    ) -> Iterator[tuple[ManifestEntry, Future[_Content]]]:
        """Each of ``entries`` in order with its content being fetched (what
        :meth:`_content` returns or raises, in the future), :data:`FETCH_CONCURRENCY` at a
        time and at most :data:`FETCH_AHEAD` ahead of the one being checked. Fetched
        content is verified against its CID and held in memory only: nothing is stored
        or filed before its document is checked."""
        window: deque[tuple[ManifestEntry, Future[_Content]]] = deque()
        for entry in entries:
            window.append((entry, self._fetching.submit(self._content, issuer_country, due, entry)))
            if len(window) >= FETCH_AHEAD:
                yield window.popleft()
        yield from window

    def _sources(self, issuer_country: str, addressees: Sequence[str]) -> tuple[_Source, ...]:
        """Where content is asked for, in order: this node's own IPFS peer (bitswap),
        then the gateway of every member that holds the document (its issuer, then its
        other addressees) whose URL this node knows."""
        sources: list[_Source] = []
        swarm = self.swarm
        if swarm is not None:
            limits = self.swarm_limits
            sources.append(
                _Source(swarm.source_name, lambda cid: swarm.fetch_dag(cid, limits=limits), None)
            )
        for country in dict.fromkeys((issuer_country, *addressees)):
            url = self.peers.get(country)
            if country == self.country or url is None:
                continue
            sources.append(
                _Source(f"gateway {country} {url}", self._fetcher(url, country).fetch, url)
            )
        return tuple(sources)

    def _fetch(
        self, cid: Cid, sources: Sequence[_Source], due: DueBatch
    ) -> tuple[FetchedDag, str, tuple[ContentFallback, ...]]:
        """The verified DAG from the first source that delivers it, its name, and each
        source tried before it with the reason it was left (logged; a gateway that sent
        content that does not verify is reported too)."""
        fallbacks: list[ContentFallback] = []
        for source in sources:
            try:
                return source.fetch(cid), source.name, tuple(fallbacks)
            except PeerFetchFailed as error:
                for rejection in error.rejections:
                    fallback = ContentFallback(
                        source.name, rejection.reason, rejection.detail[:500]
                    )
                    fallbacks.append(fallback)
                    _log.warning(
                        "content source failed; trying the next",
                        extra={"cid": str(cid), **fallback.to_json()},
                    )
                    if source.gateway is not None and rejection.reason not in TRANSIENT_REASONS:
                        detail = f"{rejection.reason}: {rejection.detail}"
                        self._report(
                            source.gateway, due, None, str(cid), _Refused("bad-content", detail)
                        )
        raise _Unfetched(fallbacks)

    def _content(self, issuer_country: str, due: DueBatch, entry: ManifestEntry) -> _Content:
        """The listed content: from the store if held, else fetched (every block verified
        against its CID) but not stored yet."""
        if entry.cid is None:
            raise _Refused("invalid-manifest", "no CID listed for a document addressed to us")
        try:
            cid = Cid.parse(entry.cid)
        except InvalidCid as error:
            raise _Refused("invalid-cid", str(error)) from None
        sources = self._sources(issuer_country, entry.addressees)
        if self.store.has(cid):
            return _Content(cid, self.store.get(cid), None, OWN_STORE, (), sources)
        try:
            fetched, source, fallbacks = self._fetch(cid, sources, due)
        except _Unfetched as unfetched:
            # peers down, or bad blocks (reported): the next attempt may get it whole
            raise _RetryLater(f"{entry.cid}: {unfetched}") from None
        try:
            return _Content(cid, fetched.content(), fetched, source, fallbacks, sources)
        except DocexError as error:  # verified blocks that are not a UnixFS file
            raise _Refused("not-a-wrapped-document", str(error)) from None

    def _receive_document(
        self, due: DueBatch, entry: ManifestEntry, fetching: Future[_Content]
    ) -> None:
        content = fetching.result()  # or what fetching it raised

        def keep() -> None:
            # stored only once it verified: a hostile peer's content never lands in the
            # store (nor is served by this node's gateway); pinned either way (content
            # Kubo fetched over bitswap is held, not pinned, until here)
            if content.fetched is not None:
                self.store.put_blocks(content.fetched.blocks)
            self.store.pin(content.cid)

        self._check_and_file(due, entry, content.content, keep, content)

    def _mirror_attachments(
        self, sources: Sequence[_Source], due: DueBatch, wrapped: WrappedDocument
    ) -> None:
        """Fetch the files a verified document binds (ADR 0061) that this node lacks, from
        the document's sources, each block verified against its CID. A file no source
        can serve is left out: the verdict then says attachment-missing."""
        for declared in DeclaredAttachment.all_of(wrapped.salted.data):
            try:
                cid = Cid.parse(declared.cid)
                if self.store.has(cid):
                    continue
                fetched, _source, _fallbacks = self._fetch(cid, sources, due)
            except (InvalidCid, ValueError):
                continue
            except _Unfetched as unfetched:
                if unfetched.transient:
                    raise _RetryLater(f"attachment {declared.cid}: {unfetched}") from None
                continue
            self.store.put_blocks(fetched.blocks)
            self.store.pin(fetched.root)

    def _check_and_file(
        self,
        due: DueBatch,
        entry: ManifestEntry,
        content: bytes,
        keep: Callable[[], None],
        #: where the content came from, and where the document's files are fetched
        fetched: _Content | None = None,
    ) -> None:
        sealed = is_envelope(content)
        if sealed:
            if self.keyring is None:
                raise _RetryLater("no encryption keyring to open sealed documents with")
            try:
                content = self.keyring.open(content, due.root, entry.target_hash)
            except EnvelopeError as error:
                raise _Refused("cannot-open", str(error)) from None
        try:
            value: JsonValue = parse_strict_json(content, max_bytes=MAX_WRAPPED_BYTES)
            wrapped = WrappedDocument.from_json(value)
        except (InvalidInput, InvalidWrappedDocument) as error:
            raise _Refused("not-a-wrapped-document", str(error)) from None
        if wrapped.target_hash != entry.target_hash or wrapped.batch.anchor.root != due.root:
            raise _Refused("wrong-document", "the content is not the listed document of this batch")
        verdict = self.verifier.verify(value)
        failed = [
            check
            for check in verdict.checks
            if check.name in AUTHENTICITY_CHECKS and check.status is not CheckStatus.VALID
        ]
        if failed:
            reasons = "; ".join(f"{check.name}: {check.reason}" for check in failed)
            raise _Refused("not-verified", reasons)
        keep()
        if fetched is not None and DeclaredAttachment.all_of(wrapped.salted.data):
            self._mirror_attachments(fetched.sources, due, wrapped)
            verdict = self.verifier.verify(value)  # now with the files at hand
        self.inbox.file(
            ReceivedDocument(
                target_hash=entry.target_hash,
                batch_root=due.root,
                document_type=wrapped.document_type,
                issuer_country=due.issuer_country,
                issuer=wrapped.signature.signer,
                cid=entry.cid or "",
                confidential=sealed,
                block_number=due.block_number,
                received_at=self._clock(),
                wrapped_json=content,
                verdict_json=json.dumps(verdict.to_json(), separators=(",", ":")),
                valid=verdict.valid,
                received_from=None if fetched is None else fetched.source,
                fallbacks=() if fetched is None else fetched.fallbacks,
            )
        )
        _log.info(
            "document received",
            extra={
                "targetHash": to_hex(entry.target_hash),
                "issuerCountry": due.issuer_country,
                "confidential": sealed,
                "valid": verdict.valid,
                "receivedFrom": None if fetched is None else fetched.source,
            },
        )

    # --- reports -------------------------------------------------------------------------

    def _report(
        self,
        peer: str,
        due: DueBatch,
        target_hash: bytes | None,
        cid: str | None,
        refused: _Refused,
    ) -> None:
        _log.warning(
            "peer reported",
            extra={"peer": peer, "reason": refused.reason, "detail": refused.detail},
        )
        self.inbox.report(
            PeerReport(
                peer=peer,
                issuer_country=due.issuer_country,
                batch_root=due.root,
                target_hash=target_hash,
                cid=cid,
                reason=refused.reason,
                detail=refused.detail,
                reported_at=self._clock(),
            )
        )
