"""The API server believes X-Forwarded-For only from the proxies the settings name: the
verify rate limit is per client address, and a header any local process can send must
not choose it. A real uvicorn server (the one ``docex run`` starts) on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from ledger.chains import find_free_port
from node.http.api_process import api_server
from node.settings import NodeSettings

pytestmark = pytest.mark.integration


def _client_address_app() -> FastAPI:
    app = FastAPI()

    @app.get("/client")
    def client(request: Request) -> dict[str, str | None]:
        return {"host": request.client.host if request.client else None}

    return app


def _serve(settings: NodeSettings) -> Iterator[str]:
    server = api_server(_client_address_app(), settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def untrusting(tmp_path: Path) -> Iterator[str]:
    yield from _serve(NodeSettings(data_dir=tmp_path, port=find_free_port()))


@pytest.fixture
def behind_a_proxy(tmp_path: Path) -> Iterator[str]:
    settings = NodeSettings(data_dir=tmp_path, port=find_free_port(), trusted_proxies=["127.0.0.1"])
    yield from _serve(settings)


def test_a_forwarded_for_header_is_ignored_by_default(untrusting: str) -> None:
    answer = httpx.get(f"{untrusting}/client", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.json()["host"] == "127.0.0.1"


def test_a_trusted_proxy_names_the_client(behind_a_proxy: str) -> None:
    answer = httpx.get(f"{behind_a_proxy}/client", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.json()["host"] == "203.0.113.7"
