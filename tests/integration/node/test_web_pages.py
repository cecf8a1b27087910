"""The web pages as HTTP answers (their behaviour in a browser: tests/e2e/web): served by
the node itself with security headers, every asset they load local, a short link that
redirects to the verifier page, and a valid sample document per type."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from certificates import CheckCode, validate_document
from certificates.schemas import DOCUMENT_TYPES

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", ["/verify", "/issue"])
def test_a_page_is_served_with_a_strict_content_security_policy(
    node: NodeUnderTest, path: str
) -> None:
    response = node.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text  # no inline script
    assert " style=" not in response.text  # no inline style


@pytest.mark.parametrize("path", ["/verify", "/issue"])
def test_everything_a_page_loads_comes_from_the_node(node: NodeUnderTest, path: str) -> None:
    page = node.client.get(path).text
    loaded = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert loaded
    for reference in loaded:
        assert "//" not in reference, f"{reference} is not on this node"
        response = node.client.get(f"/{reference}")
        assert response.status_code == 200, reference
        assert response.headers["x-content-type-options"] == "nosniff"
    scripts = [r for r in loaded if r.endswith(".js")]
    for script in scripts:
        body = node.client.get(f"/{script}").text
        for imported in re.findall(r'from "\./([^"]+)"', body):
            assert node.client.get(f"/web/{imported}").status_code == 200, imported


def test_an_unknown_asset_is_404(node: NodeUnderTest) -> None:
    for name in ("nope.js", "pages.py", "..%2Fpages.py", "__init__.py"):
        assert node.client.get(f"/web/{name}").status_code == 404


def test_a_short_link_redirects_to_the_verifier_page_for_its_reference(
    node: NodeUnderTest,
) -> None:
    target_hash = "0x" + "ab" * 32

    response = node.client.get(f"/v/{target_hash}", follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["location"] == f"../verify?ref={target_hash}"
    assert node.client.get(f"/v/{target_hash}").url.path == "/verify"


def test_a_short_link_escapes_what_it_carries(node: NodeUnderTest) -> None:
    response = node.client.get("/v/a%26b%3Cscript%3E", follow_redirects=False)

    assert response.headers["location"] == "../verify?ref=a%26b%3Cscript%3E"


def test_the_issuer_page_offers_a_valid_sample_of_every_type(node: NodeUnderTest) -> None:
    samples = node.client.get("/web/samples.json").json()

    assert sorted(samples) == sorted(DOCUMENT_TYPES)
    for type_id, sample in samples.items():
        assert validate_document(sample).type_id == type_id


def test_the_pages_are_not_in_the_api_schema(node: NodeUnderTest) -> None:
    paths = node.client.get("/openapi.json").json()["paths"]

    assert "/v1/verify/{ref}" in paths
    assert not {"/verify", "/issue", "/v/{ref}", "/web/{name}"} & set(paths)


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
        ("ko", "ko"),
        ("fr-FR,ko;q=0.7,vi;q=0.5", "ko"),
        ("fr-FR,de;q=0.5", "en"),
        (None, "en"),
    ],
)
@pytest.mark.parametrize("path", ["/verify", "/issue"])
def test_a_page_is_served_in_the_language_accept_language_prefers(
    node: NodeUnderTest, path: str, accept_language: str | None, language: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}

    response = node.client.get(path, headers=headers)

    assert f'<html lang="{language}">' in response.text
    assert response.headers["content-language"] == language
    assert "accept-language" in response.headers["vary"].lower()
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_each_language_has_its_catalogue_with_every_key_and_check_code(
    node: NodeUnderTest,
) -> None:
    english = node.client.get("/web/i18n/en.json").json()
    for language in ("en", "vi", "ko"):
        response = node.client.get(f"/web/i18n/{language}.json")
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        messages = response.json()
        assert set(messages) == set(english), language
        # a plain-language reason for every published check code
        for code in CheckCode:
            assert messages[f"code.{code.value}"], (language, code)
    assert node.client.get("/web/i18n/fr.json").status_code == 404
    assert node.client.get("/web/i18n/..%2Fen.json").status_code == 404
