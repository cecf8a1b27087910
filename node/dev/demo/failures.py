"""How the demo gives up: a step that cannot go on (a node that did not start, an
answer the demo cannot use). A failed expectation is not an error: it is recorded and
reported (:mod:`node.dev.demo.expectations`)."""

from __future__ import annotations

from certificates.errors import DocexError


class DemoAborted(DocexError):
    """The demo cannot carry on: the network did not start, or a step's work broke off."""

    code = "demo-aborted"
