"""Schemathesis against the node's OpenAPI schema with a large example budget (soak).

``tests/integration/node/test_schemathesis.py`` runs the same checks with 10 examples per
operation and mode inside ``make test``; here every operation gets ``MAX_EXAMPLES``
positive and as many negative (schema-violating) generated requests, through the ASGI app
on a real (eth-tester) chain with the dev consortium, each with a token of the role that
reaches its handler. Whatever the request: no 5xx, no status code the schema does not
document. Failures are collected over every operation, then reported together.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import status_code_conformance

from node.access.roles import Role
from node.http.app import create_app
from node.runtime import NodeRuntime
from node.settings import NodeSettings

pytestmark = pytest.mark.soak

MAX_EXAMPLES: Final = 250

#: (method, path prefix) -> the role whose token the operation is called with
_ROLE_FOR: Final = (
    ("POST", "/v1/documents/{document_id}/use", "officer"),
    ("POST", "/v1/documents/{document_id}/reject", "officer"),
    ("POST", "/v1/documents", "issuer"),
    ("GET", "/v1/documents", "issuer"),
    ("GET", "/v1/receipts", "issuer"),
    ("GET", "/v1/inbox", "officer"),
    ("GET", "/v1/audit", "auditor"),
    ("", "/v1/consortium", "admin"),
)


@pytest.fixture(scope="module")
def tokens_and_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, str], Any]]:
    data_dir: Path = tmp_path_factory.mktemp("schemathesis-soak") / "vn"
    node_settings = NodeSettings(
        data_dir=data_dir,
        chain="eth-tester",
        verify_rate_per_second=1_000_000,
        verify_burst=1_000_000,
    )
    runtime = NodeRuntime(node_settings, kdf_iterations=2**10)
    services = runtime.open()
    users = services.users
    tokens = {
        "issuer": users.add("moit-coo", Role.ISSUER, ["coo/1", "permit/1", "declaration/1"]),
        "officer": users.add("hcm-customs", Role.CUSTOMS_OFFICER),
        "auditor": users.add("state-audit", Role.AUDITOR),
        "admin": users.add("node-admin", Role.ADMIN),
    }
    yield tokens, create_app(node_settings, services)
    runtime.stop()


def _role_for(method: str, path: str) -> str:
    for wanted_method, prefix, role in _ROLE_FOR:
        if (not wanted_method or wanted_method == method) and path.startswith(prefix):
            return role
    return "admin"


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, status_code_conformance]
        )

    return call


@pytest.mark.timeout(3600)
def test_no_server_error_and_no_undocumented_status_over_a_large_budget(
    tokens_and_app: tuple[dict[str, str], Any],
) -> None:
    tokens, app = tokens_and_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    assert len(operations) >= 15
    failures: list[str] = []
    for operation in operations:
        role = _role_for(operation.method.upper(), operation.path)
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid
            except Exception as error:  # every operation's failure, reported together
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)
