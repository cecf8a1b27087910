"""The node's web pages for people: the verifier page (``/verify``, ``/v/{ref}``) and the
issuer page (``/issue``), plain HTML/CSS/JS files served by the node itself."""

from node.http.web.pages import pages_router

__all__ = ["pages_router"]
