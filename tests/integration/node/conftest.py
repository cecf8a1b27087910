"""A real VN node for the API tests: eth-tester (or anvil) chain with the dev consortium,
embedded content store, SQLite in a temp data dir, the app over httpx (TestClient).

The batcher and the indexer are driven by the tests (``anchor_pending``), not by
threads, so that what a test asserts does not depend on timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from certificates.json_types import JsonObject
from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil
from ledger.chains import anvil_binary, find_free_port
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


def start_node(data_dir: Path, **options: Any) -> tuple[NodeRuntime, NodeServices]:
    settings = NodeSettings(data_dir=data_dir, **{"chain": "eth-tester", **options})  # type: ignore[arg-type]
    runtime = NodeRuntime(settings, kdf_iterations=TEST_KDF_ITERATIONS)
    return runtime, runtime.open()


NodeFactory = Callable[..., NodeUnderTest]


@pytest.fixture
def make_node(tmp_path: Path, database_url: str | None) -> Iterator[NodeFactory]:
    """Start the VN node (on PostgreSQL for a test marked both_databases)."""
    runtimes: list[NodeRuntime] = []

    def make(**options: Any) -> NodeUnderTest:
        if database_url is not None:
            options.setdefault("database_url", database_url)
        runtime, services = start_node(tmp_path / "vn", **options)
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
