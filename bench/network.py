"""Network benchmark (issue 13, point 8): a document's way from its issuer to its addressees
on the consortium network `docex network` runs, side by side with the same run on anvil,
and mirroring content between two Kubo peers by bitswap against a trustless HTTP gateway.

- **exchange**: a real :class:`~node.network.consortium.Consortium` (VN, KR, SG, TH on
  127.0.0.80-83, each its own geth Clique signer with 1 s blocks, Kubo peer and
  ``docex run`` node, with the member nodes' settings of ``docex network``), then the
  same run on one anvil (automine) with VN, KR and SG nodes on the dev consortium
  (embedded stores: received over the issuer's trustless gateway), with the same
  settings. Documents are issued at VN: certificates of origin addressed to KR and, one
  request in four, permits addressed to KR and SG. *steady*: requests of 10 documents at
  2 a second for a fixed time. For each document: **issue to anchored**, from the start
  of its issue request to the moment VN's node records its batch mined (``anchored_at``
  of the batch in VN's outbox, read-only), and **issue to received**, to the moment each
  addressee's node files it (``receivedAt`` of its inbox entry, read by following the
  addressee's ``GET /v1/inbox`` with a customs officer's token); p50 and p99, the rates,
  and where the time goes (issue to batch closed, closed to anchored, anchored to
  received). *burst*: 1,000 (quick) or 2,000 certificates posted at once: docs/s until
  all are anchored, and until all are in KR's inbox.
- **mirroring**: two Kubo v0.43.1 peers in a private swarm (127.0.0.84-85); 1 KB, 1 MB
  and 50 MB of fresh random bytes added and pinned on the first, then pinned by the
  second (``pin/add``: every block fetched by bitswap); against the same bytes in an
  embedded store served by docex's trustless gateway (``adapters.content.gateway_server``,
  uvicorn on 127.0.0.1), fetched, verified and stored by ``GatewayFetcher.fetch_into``
  (what a node's receiver falls back to).
- **target**: issue to received at the addressee within 3 block periods + 1 s at p99.

Times are wall-clock (``time.time``) on one machine: the bench's, the issuer node's and
the addressees' clocks are the same clock. Figures from a shared 2-core machine: compare
the columns, not the absolutes. Results go to bench/results/network.json.
Run: ``python -m bench.network [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import secrets
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from adapters.content.embedded import EmbeddedContentStore
from adapters.content.gateway_fetcher import FetchLimits, GatewayFetcher
from adapters.content.gateway_server import gateway_router
from adapters.content.kubo import KuboContentStore
from bench.soak.issuing import issue_documents
from bench.workdirs import work_directory
from certificates.json_types import JsonObject
from certificates.keystore import LIGHT_SCRYPT_N
from certificates.schemas.samples import sample_permit
from ledger.chains import find_free_port
from node.dev.demo.certificates_of_origin import certificate_for_korea
from node.dev.demo.network import DemoNetwork, add_node_user, child_environment
from node.network import KuboNode, PidFile, audit_kubo_node, consortium_networks, engine_binary
from node.network.consortium import Consortium
from node.network.kubo import new_swarm_secret
from node.network.member_node import LATENCY_SETTINGS

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "network.json"
BLOCK_PERIOD = 1
#: bench addresses: 127.0.0.80-83 the consortium's members, .84-.85 the Kubo pair
FIRST_HOST = 80
KUBO_HOSTS = ("127.0.0.84", "127.0.0.85")
COUNTRIES = ("VN", "KR", "SG", "TH")
DOCUMENTS_PER_REQUEST = 10
REQUESTS_PER_SECOND = 2.0
#: one steady request in this many issues permits addressed to KR and SG (the others:
#: certificates of origin addressed to KR)
SHARED_EVERY = 4
#: documents per request of a burst (within the node's default 1 MiB request body)
BURST_PER_REQUEST = 100
#: what the bench adds to the member nodes' own settings, on both chains
BENCH_SETTINGS: Mapping[str, object] = {"log_level": "warning"}
WATCH_POLL = 0.05
SIZES = {"1KB": 1_000, "1MB": 1_000_000, "50MB": 50_000_000}


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_s": round(_percentile(values, 0.50), 3),
        "p99_s": round(_percentile(values, 0.99), 3),
        "max_s": round(max(values, default=0.0), 3),
    }


# -- the documents ----------------------------------------------------------------------

_numbers = itertools.count(1)


def to_korea(count: int) -> list[JsonObject]:
    """Certificates of origin from VN, addressed to KR (numbered across the whole run)."""
    return [certificate_for_korea(next(_numbers)) for _ in range(count)]


def to_korea_and_singapore(count: int) -> list[JsonObject]:
    """Permits from VN, addressed to KR and SG."""
    return [
        {**sample_permit(next(_numbers)), "addresseeCountries": ["KR", "SG"]} for _ in range(count)
    ]


# -- watching the issuer's outbox and the addressees' inboxes ---------------------------


@dataclass(frozen=True, slots=True)
class Anchored:
    target_hash: str
    #: when VN's batcher closed the document's batch, and when it recorded it mined
    batch_closed_at: float
    anchored_at: float


class _Poller:
    """A daemon thread calling ``poll`` every :data:`WATCH_POLL` seconds until closed."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Poller:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(WATCH_POLL):
            self.poll()

    def poll(self) -> None:
        raise NotImplementedError


class AnchorWatch(_Poller):
    """Reads the issuer node's outbox (read-only): each batch recorded anchored, with its
    documents' receipt ids and target hashes."""

    def __init__(self, database: Path) -> None:
        super().__init__()
        self.uri = f"file:{database}?mode=ro"
        self.seen: dict[str, Anchored] = {}
        self._batches: set[str] = set()

    def poll(self) -> None:
        with (
            contextlib.suppress(sqlite3.Error),
            contextlib.closing(sqlite3.connect(self.uri, uri=True)) as db,
        ):
            batches = db.execute(
                "SELECT id, created_at, anchored_at FROM batches WHERE state = 'anchored'"
            ).fetchall()
            for batch_id, closed_at, anchored_at in batches:
                if batch_id in self._batches:
                    continue
                rows = db.execute(
                    "SELECT id, target_hash FROM outbox WHERE batch_id = ?", (batch_id,)
                )
                for receipt_id, target_hash in rows:
                    self.seen[str(receipt_id)] = Anchored(
                        "0x" + bytes(target_hash).hex(), float(closed_at), float(anchored_at)
                    )
                self._batches.add(batch_id)


class InboxWatch(_Poller):
    """Follows one addressee's inbox over its API (``GET /v1/inbox``, keyset pages), as
    a customs system would: target hash -> ``receivedAt``."""

    def __init__(self, node_url: str, token: str) -> None:
        super().__init__()
        self.received: dict[str, float] = {}
        self._client = httpx.Client(
            base_url=node_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )
        self._cursor: dict[str, Any] = {}

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._client.close()

    def poll(self) -> None:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            answer = self._client.get("/v1/inbox", params={"limit": 1000, **self._cursor})
            answer.raise_for_status()
            documents = answer.json()["documents"]
            for document in documents:
                self.received.setdefault(document["targetHash"], float(document["receivedAt"]))
            if documents:
                last = documents[-1]
                self._cursor = {"after": last["receivedAt"], "afterHash": last["targetHash"]}


# -- the exchange run -------------------------------------------------------------------


@dataclass
class Members:
    """What the run needs of a network: VN's node (its API, outbox, an issuer's token)
    and each addressee's node with a customs officer's token."""

    issuer_url: str
    issuer_database: Path
    issuer_token: str
    #: country -> (node URL, customs officer's token)
    addressees: dict[str, tuple[str, str]]


@dataclass
class Issued:
    """Documents sent: receipt id -> (request start, addressees)."""

    sent: dict[str, tuple[float, tuple[str, ...]]] = field(default_factory=dict)

    def post(
        self, client: httpx.Client, token: str, documents: list[JsonObject], to: tuple[str, ...]
    ) -> list[str]:
        started = time.time()
        ids = issue_documents(client, token, list(documents))
        self.sent.update(dict.fromkeys(ids, (started, to)))
        return ids


class Exchange:
    def __init__(self, anchors: AnchorWatch, inboxes: Mapping[str, InboxWatch]) -> None:
        self.anchors = anchors
        self.inboxes = inboxes

    def received_at(self, receipt_id: str, country: str) -> float | None:
        anchored = self.anchors.seen.get(receipt_id)
        if anchored is None:
            return None
        return self.inboxes[country].received.get(anchored.target_hash)

    def all_received(self, issued: Issued) -> bool:
        return all(
            self.received_at(receipt_id, country) is not None
            for receipt_id, (_, to) in issued.sent.items()
            for country in to
        )

    def all_anchored(self, issued: Issued) -> bool:
        return all(receipt_id in self.anchors.seen for receipt_id in issued.sent)

    def wait(self, what: str, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not done in {timeout:.0f} s")
            time.sleep(0.1)

    def figures(self, issued: Issued) -> dict[str, Any]:
        """Latencies of ``issued``, all anchored and received, and where the time went."""
        anchored, received, at_all, closing, mining, delivering = [], [], [], [], [], []
        for receipt_id, (started, to) in issued.sent.items():
            record = self.anchors.seen[receipt_id]
            anchored.append(record.anchored_at - started)
            closing.append(record.batch_closed_at - started)
            mining.append(record.anchored_at - record.batch_closed_at)
            times = [self.received_at(receipt_id, country) or 0.0 for country in to]
            received += [at - started for at in times]
            delivering += [at - record.anchored_at for at in times]
            if len(to) > 1:
                at_all.append(max(times) - started)
        return {
            "issue_to_anchored": _spread(anchored),
            "issue_to_received": _spread(received),
            "issue_to_received_at_both_KR_and_SG": _spread(at_all),
            "where_the_time_goes": {
                "issue_to_batch_closed": _spread(closing),
                "batch_closed_to_anchored": _spread(mining),
                "anchored_to_received": _spread(delivering),
            },
        }

    def last_anchored(self, issued: Issued) -> float:
        return max(self.anchors.seen[receipt_id].anchored_at for receipt_id in issued.sent)

    def last_received(self, issued: Issued) -> float:
        return max(
            self.received_at(receipt_id, country) or 0.0
            for receipt_id, (_, to) in issued.sent.items()
            for country in to
        )


def exchange_run(members: Members, seconds: float, burst: int) -> dict[str, Any]:
    """The steady and burst runs of documents issued at VN, received at KR (and SG)."""
    token = members.issuer_token
    with (
        httpx.Client(base_url=members.issuer_url, timeout=120) as client,
        AnchorWatch(members.issuer_database) as anchors,
        contextlib.ExitStack() as watches,
    ):
        inboxes = {
            country: watches.enter_context(InboxWatch(url, officer))
            for country, (url, officer) in members.addressees.items()
        }
        exchange = Exchange(anchors, inboxes)
        # warm-up: the first batch of each type registers its route (a costlier
        # transaction), and the receivers' first fetches open their connections
        warm_up = Issued()
        warm_up.post(client, token, to_korea(DOCUMENTS_PER_REQUEST), ("KR",))
        warm_up.post(client, token, to_korea_and_singapore(DOCUMENTS_PER_REQUEST), ("KR", "SG"))
        exchange.wait("the warm-up", partial(exchange.all_received, warm_up), 180)

        steady = Issued()
        started = time.time()
        for n in range(int(seconds * REQUESTS_PER_SECOND)):
            time.sleep(max(0.0, started + n / REQUESTS_PER_SECOND - time.time()))
            if n % SHARED_EVERY == SHARED_EVERY - 1:
                documents, to = to_korea_and_singapore(DOCUMENTS_PER_REQUEST), ("KR", "SG")
            else:
                documents, to = to_korea(DOCUMENTS_PER_REQUEST), ("KR",)
            steady.post(client, token, documents, to)
        exchange.wait("the steady run", partial(exchange.all_received, steady), 300)

        burst_issued = Issued()
        burst_started = time.time()
        for _ in range(burst // BURST_PER_REQUEST):
            burst_issued.post(client, token, to_korea(BURST_PER_REQUEST), ("KR",))
        exchange.wait("the burst, anchored", partial(exchange.all_anchored, burst_issued), 300)
        exchange.wait("the burst, received", partial(exchange.all_received, burst_issued), 600)
        documents = len(steady.sent)
        return {
            "steady": {
                "documents": documents,
                "documents_to_KR_and_SG": sum(len(to) > 1 for _, to in steady.sent.values()),
                "offered_documents_per_second": REQUESTS_PER_SECOND * DOCUMENTS_PER_REQUEST,
                **exchange.figures(steady),
                "anchored_documents_per_second": round(
                    documents / (exchange.last_anchored(steady) - started), 1
                ),
                "received_documents_per_second_at_KR": round(
                    documents / (exchange.last_received(steady) - started), 1
                ),
            },
            "burst": _burst_figures(exchange, burst_issued, burst_started),
        }


def _burst_figures(exchange: Exchange, issued: Issued, started: float) -> dict[str, Any]:
    anchored = exchange.last_anchored(issued) - started
    received = exchange.last_received(issued) - started
    count = len(issued.sent)
    return {
        "documents": count,
        "anchored_documents_per_second": round(count / anchored, 1),
        "anchored_in_s": round(anchored, 2),
        "received_documents_per_second_at_KR": round(count / received, 1),
        "received_in_s": round(received, 2),
    }


def exchange_on_consortium(workdir: Path, seconds: float, burst: int) -> dict[str, Any]:
    """VN, KR, SG and TH as `docex network` runs them (127.0.0.80-83), stopped by PID."""
    consortium = Consortium(workdir / "consortium")
    environment = child_environment(os.environ)
    try:
        consortium.up(
            COUNTRIES,
            block_period=BLOCK_PERIOD,
            scrypt_n=LIGHT_SCRYPT_N,  # throw-away keys
            node_settings=BENCH_SETTINGS,
            first_host=FIRST_HOST,
        )
        nodes = {m.country: m.node_url for m in consortium.members()}

        def data_dir(country: str) -> Path:
            return consortium.root / country / "node"

        members = Members(
            issuer_url=nodes["VN"],
            issuer_database=data_dir("VN") / "node.sqlite",
            issuer_token=add_node_user(
                data_dir("VN"), "vn-bench", "issuer", "coo,permit", environment
            ),
            addressees={
                country: (
                    nodes[country],
                    add_node_user(
                        data_dir(country), f"{country.lower()}-bench", "customs-officer", "",
                        environment,
                    ),
                )
                for country in ("KR", "SG")
            },
        )  # fmt: skip
        figures = exchange_run(members, seconds, burst)
        violations = consortium.audit()
        if violations:
            raise RuntimeError(f"closed-network rules broken: {violations}")
    finally:
        consortium.down()
    return {
        "chain": f"geth v1.13.15 Clique, 4 signers, block period {BLOCK_PERIOD} s",
        "nodes": "each member its own geth, Kubo and docex node (`docex network`)",
        **figures,
    }


def exchange_on_anvil(workdir: Path, seconds: float, burst: int) -> dict[str, Any]:
    """VN, KR and SG nodes on one anvil (embedded stores, the issuer's gateway)."""
    environment = child_environment(os.environ)
    with DemoNetwork(
        workdir / "anvil",
        environment=environment,
        node_settings={**LATENCY_SETTINGS, **BENCH_SETTINGS},
    ) as network:
        network.start()
        members = Members(
            issuer_url=network.url("VN"),
            issuer_database=network.data_dir("VN") / "node.sqlite",
            issuer_token=network.add_user("VN", "vn-bench", "issuer", "coo,permit"),
            addressees={
                country: (
                    network.url(country),
                    network.add_user(country, f"{country.lower()}-bench", "customs-officer"),
                )
                for country in ("KR", "SG")
            },
        )
        figures = exchange_run(members, seconds, burst)
    return {
        "chain": "anvil (automine: a block per transaction)",
        "nodes": "VN, KR and SG nodes on one anvil, embedded stores, received over the "
        "issuer's trustless gateway",
        **figures,
    }


# -- mirroring --------------------------------------------------------------------------


@contextlib.contextmanager
def kubo_pair(workdir: Path) -> Iterator[tuple[KuboNode, KuboNode]]:
    """Two Kubo peers in one private swarm, connected, audited, stopped by PID."""
    pid_file = PidFile(workdir / "kubo.pids.json")
    secret = new_swarm_secret()
    nodes = [
        KuboNode(
            engine_binary("kubo"),
            workdir / f"kubo-{index}",
            host=IPv4Address(host),
            swarm_port=find_free_port(host),
            api_port=find_free_port(host),
            swarm_secret=secret,
            pid_file=pid_file,
            name=f"kubo-{index}",
        )
        for index, host in enumerate(KUBO_HOSTS)
    ]
    try:
        for kubo in nodes:
            kubo.init()
        for kubo in nodes:
            kubo.configure([other.as_peer() for other in nodes if other is not kubo])
            kubo.start()
        nodes[1].connect(nodes[0].as_peer())
        allowed = consortium_networks(IPv4Address(host) for host in KUBO_HOSTS)
        violations = [v for kubo in nodes for v in audit_kubo_node(kubo, allowed)]
        if violations:
            raise RuntimeError(f"closed-network rules broken: {violations}")
        yield nodes[0], nodes[1]
    finally:
        for kubo in nodes:
            kubo.stop()
        pid_file.stop_all()


@contextlib.contextmanager
def gateway_serving(store: EmbeddedContentStore) -> Iterator[str]:
    """docex's trustless gateway over ``store``, in this process, on 127.0.0.1."""
    port = find_free_port()
    config = uvicorn.Config(gateway_router(store), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def mirroring(workdir: Path, rounds: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    served = EmbeddedContentStore(workdir / "served", fsync=False)
    with (
        kubo_pair(workdir) as (first, second),
        KuboContentStore(first.api_url, timeout_seconds=300) as source,
        KuboContentStore(second.api_url, timeout_seconds=300) as mirror,
        gateway_serving(served) as gateway,
        GatewayFetcher([gateway], limits=FetchLimits(max_content_bytes=128 * 10**6)) as fetcher,
    ):
        for label, size in SIZES.items():
            bitswap: list[float] = []
            http: list[float] = []
            for round_ in range(rounds if size < 10**7 else max(1, rounds - 1)):
                content = secrets.token_bytes(size)
                cid = source.put(content)
                bitswap.append(_timed(partial(mirror.pin, cid)))
                if mirror.get(cid) != content:
                    raise RuntimeError(f"{label}: the mirrored bytes differ")
                if served.put(content) != cid:
                    raise RuntimeError(f"{label}: the embedded store and Kubo disagree on the CID")
                copy = EmbeddedContentStore(workdir / f"copy-{label}-{round_}", fsync=False)
                http.append(_timed(partial(fetcher.fetch_into, cid, copy)))
                if copy.get(cid) != content:
                    raise RuntimeError(f"{label}: the fetched bytes differ")
            figures[label] = {
                "bytes": size,
                "rounds": len(bitswap),
                "bitswap_pin_s_median": round(statistics.median(bitswap), 4),
                "gateway_fetch_into_s_median": round(statistics.median(http), 4),
                "bitswap_MB_per_s": round(size / 1e6 / statistics.median(bitswap), 3),
                "gateway_MB_per_s": round(size / 1e6 / statistics.median(http), 3),
            }
    return figures


# -- the run ----------------------------------------------------------------------------


def _ratio(network: float, anvil: float) -> float:
    return round(network / anvil, 1) if anvil else 0.0


def comparison(clique: dict[str, Any], anvil: dict[str, Any]) -> dict[str, Any]:
    """Clique over anvil, figure by figure (latencies: how many times longer; rates: the
    share of anvil's)."""
    steady_c, steady_a = clique["steady"], anvil["steady"]
    ratios: dict[str, Any] = {}
    for name in ("issue_to_anchored", "issue_to_received"):
        for point in ("p50_s", "p99_s"):
            ratios[f"{name}_{point[:3]}"] = _ratio(steady_c[name][point], steady_a[name][point])
    for run in ("steady", "burst"):
        for rate in ("anchored_documents_per_second", "received_documents_per_second_at_KR"):
            ratios[f"{run}_{rate}"] = _ratio(clique[run][rate], anvil[run][rate])
    return ratios


def target(clique: dict[str, Any]) -> dict[str, Any]:
    bound = 3 * BLOCK_PERIOD + 1.0
    received_p99 = clique["steady"]["issue_to_received"]["p99_s"]
    return {
        "statement": "issue to received at the addressee within 3 block periods + 1 s at p99",
        "bound_s": bound,
        "issue_to_received_p99_s": received_p99,
        "issue_to_anchored_p99_s": clique["steady"]["issue_to_anchored"]["p99_s"],
        "outcome": "met" if received_p99 <= bound else "not-met",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.network", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s steady, 1,000 burst")
    parser.add_argument("--no-write", action="store_true", help="print, do not write JSON")
    parser.add_argument("--workdir", type=Path, help="scratch directory, kept (default: temporary)")
    parser.add_argument(
        "--only", choices=("consortium", "anvil", "mirroring"), help="one part, not written"
    )
    options = parser.parse_args(argv)
    seconds, burst, rounds = (10.0, 1000, 2) if options.quick else (30.0, 2000, 3)
    parts: dict[str, Callable[[Path], dict[str, Any]]] = {
        "consortium": partial(_exchange_part, exchange_on_consortium, seconds, burst),
        "anvil": partial(_exchange_part, exchange_on_anvil, seconds, burst),
        "mirroring": partial(mirroring, rounds=rounds),
    }
    with contextlib.ExitStack() as scratch:
        if options.workdir is None:
            workdir = scratch.enter_context(work_directory("docex-net-"))
        else:
            workdir = options.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        figures: dict[str, dict[str, Any]] = {}
        for name, part in parts.items():
            if options.only not in (None, name):
                continue
            print(f"{name} ...", flush=True)
            figures[name] = part(workdir)
            print(json.dumps(figures[name], indent=2), flush=True)
    if options.only is not None or options.no_write:
        return 0
    clique, anvil = figures["consortium"], figures["anvil"]
    result = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": "quick" if options.quick else "full",
        "machine": {
            "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)),
            "platform": platform.platform(),
            "shared": "other test runs used the same cores: compare columns, not absolutes",
        },
        "block_period_s": BLOCK_PERIOD,
        "member_node_settings": dict(LATENCY_SETTINGS),
        "exchange": {"clique": clique, "anvil": anvil},
        "clique_over_anvil": comparison(clique, anvil),
        "mirroring": figures["mirroring"],
        "target": target(clique),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT.parent)}")
    return 0


def _exchange_part(
    run: Callable[[Path, float, int], dict[str, Any]], seconds: float, burst: int, workdir: Path
) -> dict[str, Any]:
    return run(workdir, seconds, burst)


if __name__ == "__main__":
    raise SystemExit(main())
