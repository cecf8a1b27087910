"""``/docs``: the API's Swagger UI, served by the node itself (no CDN on a closed network).

The Swagger UI files come from npm's ``swagger-ui-dist`` (installed by ``make setup``
under the repository's ``node_modules``), read once at start; FastAPI's own ``/docs``
would load them from a CDN, which a customs network does not reach.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from node.errors import NotReady

#: npm installs swagger-ui-dist under the repository's node_modules (make setup)
SWAGGER_UI_DIR: Final = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
ASSETS_PATH: Final = "/docs/assets"
_ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def api_docs_router(openapi_url: str, title: str, assets_dir: Path = SWAGGER_UI_DIR) -> APIRouter:
    """``GET /docs`` and its assets, from ``assets_dir``; a 503 problem naming the missing
    directory when the files are not installed."""
    router = APIRouter(include_in_schema=False)
    assets = {
        name: (assets_dir / name).read_bytes() for name in _ASSETS if (assets_dir / name).is_file()
    }

    def _installed() -> None:
        if len(assets) != len(_ASSETS):
            raise NotReady(
                f"the API documentation page needs swagger-ui-dist in {assets_dir} "
                "(run `make setup`); the schema itself is at " + openapi_url
            )

    @router.get("/docs")
    def docs() -> HTMLResponse:
        _installed()
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title}: API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @router.get(ASSETS_PATH + "/{name}")
    def asset(name: str) -> Response:
        _installed()
        if name not in _ASSETS:
            raise HTTPException(404, f"no asset {name[:80]!r} in the API documentation")
        return Response(
            assets[name],
            media_type=_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router
