"""The node's web pages: ``GET /verify`` (verifier), ``GET /v/{ref}`` (the short link a QR
code carries: a redirect to the verifier page for that reference), ``GET /issue`` (issuer
page), their assets under ``/web/``, ``/web/samples.json`` (a sample document per type)
and ``/web/i18n/{language}.json`` (the message catalogues of :mod:`adapters.languages`).

Languages: a page is served with ``<html lang>`` set to the first of English,
Vietnamese and Korean its ``Accept-Language`` asks for; the page's switch overrides it
and is remembered in the browser (``localStorage``), and the scripts take every word from
the catalogue (a document's own field values are shown as issued).

The pages are static files of this package (plain HTML, CSS and JavaScript: no build
step, no external CDN, nothing fetched from outside the node); they talk to the node's
own API (``POST /v1/verify``, ``GET /v1/verify/{ref}``, ``POST /v1/documents``,
``GET /v1/receipts/{id}``). Every answer carries a Content-Security-Policy that allows
only the node's own scripts, styles and API (no inline script), ``nosniff`` and
``frame-ancestors 'none'``. Files are read once, when the router is built.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException
from fastapi.responses import Response

from adapters.languages import LANGUAGES, catalogue_bytes, preferred_language
from certificates.schemas import DOCUMENT_TYPES
from certificates.schemas.samples import sample_document

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

#: the pages and assets served, by URL name, with their media types
PAGES: Final = {"verify": "verify.html", "issue": "issue.html"}
ASSETS: Final = {
    "docex.css": "text/css; charset=utf-8",
    "verify.js": "text/javascript; charset=utf-8",
    "issue.js": "text/javascript; charset=utf-8",
    "show.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "certificate.js": "text/javascript; charset=utf-8",
}
_HTML: Final = "text/html; charset=utf-8"


def _file(name: str) -> bytes:
    return resources.files(__package__ or "node.http.web").joinpath(name).read_bytes()


def _answer(content: bytes, media_type: str) -> Response:
    return Response(content, media_type=media_type, headers=SECURITY_HEADERS)


def _page(content: bytes, accept_language: str | None) -> Response:
    """A page in the language ``Accept-Language`` prefers (its ``<html lang>``)."""
    language = preferred_language(accept_language)
    html = content.replace(b'<html lang="en">', f'<html lang="{language}">'.encode(), 1)
    headers = {**SECURITY_HEADERS, "Content-Language": language, "Vary": "Accept-Language"}
    return Response(html, media_type=_HTML, headers=headers)


def _samples() -> bytes:
    """One valid sample document per type, for the issuer page's "load a sample"."""
    samples = {type_id: sample_document(type_id, 1) for type_id in DOCUMENT_TYPES}
    return json.dumps(samples, ensure_ascii=False, indent=2).encode()


def pages_router() -> APIRouter:
    """The pages' routes, with their files read now (not at import)."""
    router = APIRouter(include_in_schema=False)
    pages = {path: _file(name) for path, name in PAGES.items()}
    assets = {name: _file(name) for name in ASSETS}
    samples = _samples()
    catalogues = {language: catalogue_bytes(language) for language in LANGUAGES}

    @router.get("/verify")
    def verifier_page(accept_language: Annotated[str | None, Header()] = None) -> Response:
        return _page(pages["verify"], accept_language)

    @router.get("/issue")
    def issuer_page(accept_language: Annotated[str | None, Header()] = None) -> Response:
        return _page(pages["issue"], accept_language)

    @router.get("/web/i18n/{language}.json")
    def message_catalogue(language: str) -> Response:
        content = catalogues.get(language)
        if content is None:
            raise HTTPException(404, f"no catalogue for language {language[:16]!r}")
        return _answer(content, "application/json")

    @router.get("/v/{ref}")
    def short_link(ref: str) -> Response:
        # relative, so that the link works behind a proxy that adds a path prefix
        location = "../verify?ref=" + quote(ref[:256], safe="")
        return Response(status_code=302, headers={**SECURITY_HEADERS, "Location": location})

    @router.get("/web/samples.json")
    def sample_documents() -> Response:
        return _answer(samples, "application/json")

    @router.get("/web/{name}")
    def asset(name: str) -> Response:
        content = assets.get(name)
        if content is None:
            raise HTTPException(404, f"no web asset {name[:80]!r}")
        return _answer(content, ASSETS[name])

    return router
