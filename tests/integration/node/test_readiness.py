"""``/readyz``: ready when the chain answers, the index is in step and the store is
usable; 503 naming the component otherwise. ``/healthz`` only says the process answers."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import NodeFactory, NodeUnderTest

    from node.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.integration


def test_a_running_node_is_ready(node: NodeUnderTest) -> None:
    answer = node.client.get("/readyz")

    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"]["store"] == {"ready": True}
    assert answer.json()["checks"]["database"] == {"ready": True}
    assert node.client.get("/healthz").status_code == 200


def test_a_node_whose_store_is_gone_is_not_ready_but_alive(node: NodeUnderTest) -> None:
    shutil.rmtree(node.runtime.settings.content_dir)

    answer = node.client.get("/readyz")

    assert answer.status_code == 503
    store = answer.json()["checks"]["store"]
    assert store["ready"] is False
    assert store["code"] == "content-store-unavailable"  # a stable code beside the reason
    assert "missing" in store["reason"]
    assert node.client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_a_node_whose_postgres_database_is_gone_is_not_ready_but_alive(
    make_node: NodeFactory, postgres_database: str, request: pytest.FixtureRequest
) -> None:
    server: PostgresServer = request.getfixturevalue("postgres_server")  # see conftest
    node = make_node(database_url=postgres_database)
    assert node.client.get("/readyz").status_code == 200

    server.drop_database(postgres_database.rsplit("/", 1)[1])
    answer = node.client.get("/readyz")

    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"]["ready"] is False
    assert postgres_database.split("@")[0] not in checks["database"]["reason"]  # no password
    assert node.client.get("/healthz").status_code == 200


def test_every_answer_carries_a_request_id_its_own_or_the_clients(node: NodeUnderTest) -> None:
    ids = [node.client.get("/healthz").headers["X-Request-Id"] for _ in range(3)]
    echoed = node.client.get("/healthz", headers={"X-Request-Id": "clerk-42"})

    assert len(set(ids)) == 3  # one per request, never reused
    assert all(len(request_id) == 32 and int(request_id, 16) >= 0 for request_id in ids)
    assert echoed.headers["X-Request-Id"] == "clerk-42"
