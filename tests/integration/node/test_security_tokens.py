"""Security: credentials and the public verification limit, as an outsider or a former
institution would attack them. The role x endpoint table is ``test_authorisation_matrix.py``.

- a token revoked with ``docex users revoke`` (another process, another database
  connection) is refused by the running node on its very next request, everywhere;
- an ``Idempotency-Key`` replay does not outlive the token, and one institution's key
  never replays another institution's answer;
- the verification limit is per client, answers 429 with ``Retry-After`` and a problem,
  and refilling the bucket takes time, not a new header.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from certificates.schemas.samples import sample_document
from node.cli.main import app as docex

if TYPE_CHECKING:
    from conftest import NodeUnderTest

pytestmark = pytest.mark.integration

runner = CliRunner()


def _users_command(node: NodeUnderTest, *arguments: str) -> Any:
    """``docex users ARGUMENTS`` on the node's data dir (and its PostgreSQL database, found
    by the same setting, when it runs on one)."""
    settings = node.runtime.settings
    env = (
        {"DOCEX_DATABASE_URL": settings.database_url.get_secret_value()}
        if settings.database_url is not None
        else {}
    )
    return runner.invoke(
        docex, ["users", *arguments, "--data-dir", str(settings.data_dir)], env=env
    )


def _revoke_with_the_cli(node: NodeUnderTest, name: str) -> None:
    result = _users_command(node, "revoke", name)
    assert result.exit_code == 0, result.output


@pytest.mark.both_databases  # users, tokens
def test_a_token_revoked_from_the_cli_is_refused_at_once_on_every_endpoint(
    node: NodeUnderTest,
) -> None:
    accepted = node.issue(sample_document("coo/1", 1))
    receipt = accepted.headers["location"]
    assert node.client.get(receipt, headers=node.auth("issuer")).status_code == 200

    _revoke_with_the_cli(node, "moit-coo")

    node.problem(node.issue(sample_document("coo/1", 2)), 401, "not-authenticated")
    node.problem(node.client.get(receipt, headers=node.auth("issuer")), 401, "not-authenticated")
    history = node.client.get(
        receipt.replace("/receipts/", "/documents/") + "/history", headers=node.auth("issuer")
    )
    node.problem(history, 401, "not-authenticated")
    assert node.services.outbox.pending_count() == 1  # only the document accepted before
    # the other institutions keep working
    assert node.issue(sample_document("coo/1", 3), user="other-issuer").status_code == 202


@pytest.mark.both_databases  # users, tokens
def test_a_revoked_user_gets_no_new_token_and_its_name_stays_taken(node: NodeUnderTest) -> None:
    _revoke_with_the_cli(node, "moit-coo")

    token = _users_command(node, "token", "moit-coo")
    again = _users_command(node, "add", "moit-coo", "--role", "admin")

    assert token.exit_code != 0
    assert "moit-coo" in token.output
    assert again.exit_code != 0


def test_an_idempotent_replay_needs_a_live_token(node: NodeUnderTest) -> None:
    body = sample_document("coo/1", 4)
    first = node.issue(body, **{"Idempotency-Key": "order-4"})
    assert first.status_code == 202

    node.services.users.revoke("moit-coo")

    replay = node.issue(body, **{"Idempotency-Key": "order-4"})
    node.problem(replay, 401, "not-authenticated")


def test_one_institutions_idempotency_key_never_replays_anothers_answer(
    node: NodeUnderTest,
) -> None:
    first = node.issue(sample_document("coo/1", 5), **{"Idempotency-Key": "shared-key"})
    other = node.issue(
        sample_document("coo/1", 6), user="other-issuer", **{"Idempotency-Key": "shared-key"}
    )

    assert first.status_code == other.status_code == 202
    assert "idempotent-replayed" not in other.headers
    mine = {r["id"] for r in first.json()["receipts"]}
    theirs = {r["id"] for r in other.json()["receipts"]}
    assert mine.isdisjoint(theirs)
    node.problem(node.receipt(next(iter(mine)), user="other-issuer"), 403, "not-authorised")


def test_forged_tokens_are_refused_without_telling_which_part_was_wrong(
    node: NodeUnderTest,
) -> None:
    real = node.tokens["issuer"]
    forgeries = [
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character off
        real.upper(),
        real + "x",
        "dx_" + "A" * 43,
        real.removeprefix("dx_"),
    ]
    details = set()
    for forged in forgeries:
        response = node.client.post(
            "/v1/documents",
            content=json.dumps(sample_document("coo/1", 7)),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {forged}"},
        )
        details.add(node.problem(response, 401, "not-authenticated")["detail"])
    assert len(details) == 1
    assert node.services.outbox.pending_count() == 0


def _verify(node: NodeUnderTest, client: tuple[str, int] | None = None, **headers: str) -> Any:
    if client is None:
        return node.client.post("/v1/verify", json={}, headers=headers)
    from fastapi.testclient import TestClient

    from node.http.app import create_app

    other = TestClient(create_app(node.runtime.settings, node.services), client=client)
    return other.post("/v1/verify", json={}, headers=headers)


def test_the_verification_limit_is_per_client_and_not_evaded_by_headers(make_node: Any) -> None:
    node: NodeUnderTest = make_node(verify_burst=2, verify_rate_per_second=0.001)
    assert _verify(node).status_code == 200
    assert _verify(node).status_code == 200

    limited = _verify(node)
    spoofed = _verify(node, **{"X-Forwarded-For": "198.51.100.1", "X-Real-IP": "198.51.100.2"})
    signed_in = _verify(node, Authorization=f"Bearer {node.tokens['admin']}")

    by_reference = node.client.get("/v1/verify/0x" + "ab" * 32)  # the same public bucket

    for response in (limited, spoofed, signed_in, by_reference):
        node.problem(response, 429, "rate-limited")
        assert int(response.headers["retry-after"]) >= 1
    # another client address has its own bucket
    assert _verify(node, client=("198.51.100.9", 4000)).status_code == 200
