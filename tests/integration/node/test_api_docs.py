"""``/docs`` works on a closed network: the Swagger UI comes from the node, not a CDN."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from node.http.api_docs import api_docs_router
from node.http.problems import install_problem_handlers

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


def test_the_docs_page_loads_every_asset_from_the_node(node: NodeUnderTest) -> None:
    page = node.client.get("/docs")

    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    assert all(source.startswith("/") for source in sources), sources
    assert "cdn" not in page.text
    for source in sources:
        asset = node.client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    assert node.client.get("/openapi.json").json()["paths"]


def test_an_unknown_asset_is_a_404_problem(node: NodeUnderTest) -> None:
    response = node.client.get("/docs/assets/..%2Fpackage.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_without_the_installed_files_the_page_says_what_to_run(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None)
    install_problem_handlers(app)
    app.include_router(api_docs_router("/openapi.json", "docex", assets_dir=tmp_path))

    response = TestClient(app).get("/docs")

    assert response.status_code == 503
    assert "make setup" in response.json()["detail"]
    assert str(tmp_path) in response.json()["detail"]
