"""A real VN node for the API tests: eth-tester (or anvil) chain with the dev consortium,
embedded content store, SQLite in a temp data dir, the app over httpx (TestClient).

The batcher and the indexer are driven by the tests (``anchor_pending``), not by
threads, so that what a test asserts does not depend on timing.

Deploying the dev consortium on a fresh eth-tester costs about 2 s per node (py-evm runs
every contract creation several times to estimate its gas), which most tests here paid
for the same state. So each worker deploys it once (:class:`DevNodeTemplate`): a node's
data directory made then and copied for each test, and one eth-tester reverted to the
snapshot taken then. A test's node therefore starts from exactly the state a fresh
deployment gives, with its own copy of every file. Options that change what is deployed
or where (another chain, country, store, keys) get a fresh deployment, as before.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil
from ledger.chains import EthTesterChain, anvil_binary, find_free_port
from node.access.roles import Role
from node.chain.index_follower import sync_index
from node.http.app import create_app
from node.runtime import NODE_MODULES, NodeRuntime
from node.services import NodeServices
from node.settings import NodeSettings

#: scrypt cost for the dev keystores in tests (the default costs seconds per key)
TEST_KDF_ITERATIONS = 2**10


@dataclass
class NodeUnderTest:
    runtime: NodeRuntime
    services: NodeServices
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def issue(self, body: Any, user: str = "issuer", **headers: str) -> Any:
        import json

        return self.client.post(
            "/v1/documents",
            content=json.dumps(body),
            headers={"Content-Type": "application/json", **self.auth(user), **headers},
        )

    def anchor_pending(self) -> int:
        """Close every pending batch now, anchor it, and bring the index up to the head."""
        assert self.services.batcher is not None
        assert self.services.ledger is not None
        anchored = self.services.batcher.run_once(force=True)
        sync_index(self.services.ledger, self.services.metrics)
        return anchored

    def stop(self) -> None:
        self.runtime.stop()

    @staticmethod
    def problem(response: Any, status: int, code: str) -> dict[str, Any]:
        """Assert ``response`` is an RFC 9457 problem of ``status`` and ``code``; its body."""
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        assert body["type"] == f"urn:docex:problem:{code}"
        assert body["status"] == status
        assert body["code"] == code
        assert body["detail"]
        return body

    def receipt(self, receipt_id: str, user: str = "issuer") -> Any:
        return self.client.get(f"/v1/receipts/{receipt_id}", headers=self.auth(user))


def coo(index: int = 1) -> JsonObject:
    return sample_document("coo/1", index)


def start_node(
    data_dir: Path, *, shared_chain: EthTesterChain | None = None, **options: Any
) -> tuple[NodeRuntime, NodeServices]:
    settings = NodeSettings(data_dir=data_dir, **{"chain": "eth-tester", **options})  # type: ignore[arg-type]
    runtime = NodeRuntime(settings, kdf_iterations=TEST_KDF_ITERATIONS, chain=shared_chain)
    return runtime, runtime.open()


#: options that change nothing about the dev consortium's deployment or the data
#: directory's layout: a node with only these may start from the worker's template
TEMPLATE_SAFE_OPTIONS = frozenset(
    {
        "batch_size",
        "batch_max_latency_ms",
        "database_url",
        "max_attachment_bytes",
        "max_attachments_bytes",
        "max_body_bytes",
        "peer_gateways",
        "public_url",
        "verify_burst",
        "verify_rate_per_second",
    }
)


class DevNodeTemplate:
    """One deployment of the dev consortium per worker, handed to each test as a copy of
    the data directory and the shared eth-tester reverted to the snapshot of that state."""

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "vn"
        self.chain = EthTesterChain()
        runtime, _ = start_node(self.data_dir, shared_chain=self.chain)
        runtime.stop()
        self._snapshot = self.chain.request("evm_snapshot")

    def start(self, data_dir: Path, **options: Any) -> tuple[NodeRuntime, NodeServices]:
        """A node in ``data_dir`` (which must not exist) on the template's state."""
        self.chain.request("evm_revert", [self._snapshot])
        self.chain.request("evm_setAutomine", [True])  # a test may have turned it off
        shutil.copytree(self.data_dir, data_dir)
        return start_node(data_dir, shared_chain=self.chain, **options)


@pytest.fixture(scope="session")
def dev_node_template(tmp_path_factory: pytest.TempPathFactory) -> DevNodeTemplate:
    return DevNodeTemplate(tmp_path_factory.mktemp("dev-node-template"))


NodeFactory = Callable[..., NodeUnderTest]


@pytest.fixture
def make_node(
    tmp_path: Path, database_url: str | None, request: pytest.FixtureRequest
) -> Iterator[NodeFactory]:
    """Start the VN node (on PostgreSQL for a test marked both_databases): from the
    worker's template when it is the test's first node and its options allow it."""
    runtimes: list[NodeRuntime] = []

    def make(**options: Any) -> NodeUnderTest:
        if database_url is not None:
            options.setdefault("database_url", database_url)
        data_dir = tmp_path / "vn"
        if not data_dir.exists() and set(options) <= TEMPLATE_SAFE_OPTIONS:
            template: DevNodeTemplate = request.getfixturevalue("dev_node_template")
            runtime, services = template.start(data_dir, **options)
        else:
            runtime, services = start_node(data_dir, **options)
        runtimes.append(runtime)
        client = TestClient(create_app(runtime.settings, services), client=("203.0.113.7", 5000))
        under_test = NodeUnderTest(runtime, services, client)
        users = services.users
        if not users.list():
            under_test.tokens = {
                "issuer": users.add("moit-coo", Role.ISSUER, ["coo/1"]),
                "permit-issuer": users.add("moh-permits", Role.ISSUER, ["permit/1"]),
                "other-issuer": users.add("vcci-coo", Role.ISSUER, ["coo/1"]),
                "officer": users.add("hcm-customs", Role.CUSTOMS_OFFICER),
                "auditor": users.add("state-audit", Role.AUDITOR),
                "admin": users.add("node-admin", Role.ADMIN),
            }
        return under_test

    yield make
    for runtime in runtimes:
        runtime.stop()


@pytest.fixture
def node(make_node: NodeFactory) -> NodeUnderTest:
    return make_node()


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[ManagedAnvil]:
    """A fresh managed anvil of this test's own, stopped by its PID at the end."""
    managed = ManagedAnvil(anvil_binary(NODE_MODULES), tmp_path / "anvil", port=find_free_port())
    managed.start()
    yield managed
    managed.stop()
