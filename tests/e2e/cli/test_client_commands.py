"""``docex issue``, ``verify``, ``revoke``, ``use``, ``reject``, ``history``, ``inbox`` as
processes against real VN and KR nodes on one anvil (see conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from certificates.schemas.samples import sample_document
from ledger.chains import find_free_port
from node.cli.client.issue_inputs import chunks_of, read_documents

if TYPE_CHECKING:
    from conftest import Consortium

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
DOCEX = REPO / ".venv" / "bin" / "docex"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any DOCEX_* variable, plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("DOCEX_")}, **extra}


def docex(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run ``docex ARGS`` to completion; the CompletedProcess (text)."""
    return subprocess.run(
        [str(DOCEX), *args],
        capture_output=True,
        text=True,
        env=env or clean_env(),
        cwd=REPO,
        timeout=600,
    )


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def write_certificates(path: Path, indexes: range, to: str = "KR", lines: bool = False) -> None:
    documents = [{**sample_document("coo/1", i, items=1), "importingCountry": to} for i in indexes]
    if lines:
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents))
    else:
        path.write_text(json.dumps(documents, ensure_ascii=False))


def outbox_count(data_dir: Path, user: str) -> int:
    with sqlite3.connect(f"file:{data_dir / 'node.sqlite'}?mode=ro", uri=True) as database:
        (count,) = database.execute(
            "SELECT count(*) FROM outbox JOIN users ON outbox.user_id = users.id"
            " WHERE users.name = ?",
            (user,),
        ).fetchone()
    return int(count)


def test_issue_sets_the_allowance_each_document_commits(
    consortium: Consortium, tmp_path: Path
) -> None:
    batch = tmp_path / "permits.json"
    write_certificates(batch, range(150, 152))
    env = clean_env(DOCEX_NODE_URL=consortium.vn.base, DOCEX_TOKEN=consortium.vn_issuer)
    out = tmp_path / "out"
    issued = docex("issue", str(batch), "--allowance", "3", "--wait", "-o", str(out), env=env)
    assert issued.returncode == 0, issued.stderr
    receipts = json.loads((out / "receipts.json").read_text())
    for receipt in receipts:
        wrapped = json.loads((out / receipt["wrapped"]).read_text())
        assert wrapped["batch"]["terms"]["allowance"] == 3

    refused = docex("issue", str(batch), "--allowance", "0", env=env)
    assert refused.returncode != 0
    assert "allowance" in refused.stderr.lower()


def test_issue_a_batch_wait_and_verify(consortium: Consortium, tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    write_certificates(batch, range(100, 112))
    env = clean_env(
        DOCEX_NODE_URL=consortium.vn.base, DOCEX_TOKEN=consortium.vn_issuer, TTY_COMPATIBLE="1"
    )
    out = tmp_path / "out"
    issued = docex(
        "issue", str(batch), "--type", "coo", "--to", "KR", "--chunk-size", "5", "--wait",
        "-o", str(out), env=env,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert "accepted" in issued.stderr
    assert "anchored" in issued.stderr
    assert "12 documents issued: 12 anchored" in issued.stdout
    receipts = json.loads((out / "receipts.json").read_text())
    assert [r["input"] for r in receipts] == [f"{batch}#/{i}" for i in range(12)]
    assert {r["status"] for r in receipts} == {"anchored"}
    assert len({r["id"] for r in receipts}) == 12
    wrapped = out / receipts[0]["wrapped"]
    assert wrapped.name == "batch-0.wrapped.json"

    # verify a file: human output, then --json; exit 0
    human = docex("verify", str(wrapped), "--node", consortium.vn.base)
    assert human.returncode == 0, human.stderr + human.stdout
    assert "integrity" in human.stdout
    assert "VALID" in human.stdout
    as_json = docex("verify", str(wrapped), "--json", "--node", consortium.vn.base)
    assert as_json.returncode == 0
    verdict = json.loads(as_json.stdout)
    assert verdict["valid"] is True
    assert {c["name"] for c in verdict["checks"]} >= {"integrity", "issuance", "status"}

    # by reference (receipt id, target hash): the node's GET /v1/verify/{ref}
    for ref in (receipts[1]["id"], receipts[1]["targetHash"]):
        by_ref = docex("verify", ref, "--json", "--node", consortium.vn.base)
        assert by_ref.returncode == 0, by_ref.stderr
        assert json.loads(by_ref.stdout)["document"]["targetHash"] == receipts[1]["targetHash"]

    # tampered: one field changed -> invalid, exit 1, the failing check shown
    document = json.loads(wrapped.read_text())
    document["data"]["certificateNumber"] = document["data"]["certificateNumber"] + "X"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    refused = docex("verify", str(tampered), "--node", consortium.vn.base)
    assert refused.returncode == 1, refused.stderr + refused.stdout
    assert "INVALID" in refused.stdout
    tampered_json = docex("verify", str(tampered), "--json", "--node", consortium.vn.base)
    assert tampered_json.returncode == 1
    assert json.loads(tampered_json.stdout)["valid"] is False

    # many at once, over one connection: one result each, exit with the worst
    many = [str(wrapped), receipts[1]["id"], str(tampered)]
    several = docex("verify", *many, "--json", "--node", consortium.vn.base)
    assert several.returncode == 1, several.stderr
    answers = json.loads(several.stdout)
    assert [a["document"] for a in answers] == many
    assert [a["answer"]["valid"] for a in answers] == [True, True, False]
    unknown = "0x" + "cd" * 32
    with_error = docex("verify", str(wrapped), unknown, "--node", consortium.vn.base)
    assert with_error.returncode == 2
    assert f"{wrapped}:" in with_error.stdout
    assert "VALID" in with_error.stdout
    assert f"docex verify: {unknown}:" in with_error.stderr

    # the same command again sends nothing new: every document is in the state file
    again = docex("issue", str(batch), "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert [r["id"] for r in json.loads(again.stdout)] == [r["id"] for r in receipts]


def test_an_interrupted_issue_resumes_without_duplicates(
    consortium: Consortium, tmp_path: Path
) -> None:
    token = consortium.add_issuer("resume-coo")
    inputs = tmp_path / "many.jsonl"
    write_certificates(inputs, range(1000, 1240), lines=True)
    args = ["issue", str(inputs), "--chunk-size", "2", "--node", consortium.vn.base]
    state_path = Path(f"{inputs}.docex-state")

    def accepted() -> dict[str, Any]:
        try:
            return dict(json.loads(state_path.read_text())["documents"])
        except (OSError, ValueError):
            return {}

    # Ctrl-C (SIGINT, by PID) once some chunks are recorded
    process = subprocess.Popen(
        [str(DOCEX), *args, "--token", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=REPO,
    )
    while process.poll() is None and len(accepted()) < 10:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    first = accepted()
    assert 10 <= len(first) < 240

    # a crash after the node accepted the next chunk but before the state recorded it:
    # the same chunk, with its key, reaches the node once more on the re-run
    documents = read_documents([inputs])
    missing = [d for d in documents if d.position not in first]
    lost = next(chunks_of(missing, 2, 1_048_576, confidential=False))
    sent = httpx.post(
        f"{consortium.vn.base}/v1/documents",
        content=lost.body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": lost.idempotency_key,
        },
        timeout=30,
    )
    assert sent.status_code == 202, sent.text
    lost_ids = [r["id"] for r in sent.json()["receipts"]]

    resumed = docex(*args, "--token", token, "--json")
    assert resumed.returncode == 0, resumed.stderr
    rows = json.loads(resumed.stdout)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 240
    by_position = {row["input"]: row["id"] for row in rows}
    assert all(by_position[position] == entry["receipt"] for position, entry in first.items())
    assert [by_position[d.position] for d in lost.documents] == lost_ids
    assert outbox_count(consortium.vn.data_dir, "resume-coo") == 240


def test_verify_against_an_unreachable_node_exits_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{find_free_port()}"
    done = docex("verify", "0x" + "ab" * 32, "--node", url)
    assert done.returncode == 2
    assert f"cannot reach the node at {url}" in done.stderr
    missing = docex("verify", str(tmp_path / "nothing.json"), "--node", url)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_after_issue_round_trip(consortium: Consortium, tmp_path: Path) -> None:
    vn, kr = consortium.vn.base, consortium.kr.base
    batch = tmp_path / "to-kr.json"
    write_certificates(batch, range(200, 203))
    issued = docex(
        "issue", str(batch), "--wait", "--json", "--node", vn, "--token", consortium.vn_issuer
    )
    assert issued.returncode == 0, issued.stderr
    used, rejected, revoked = json.loads(issued.stdout)
    officer = ["--node", kr, "--token", consortium.kr_officer]

    def in_kr_inbox() -> bool:
        listed = docex(
            "inbox", "--json", "--type", "coo/1", "--from", "VN", "--limit", "1000", *officer
        )
        assert listed.returncode == 0, listed.stderr
        hashes = {d["targetHash"] for d in json.loads(listed.stdout)["documents"]}
        return {used["targetHash"], rejected["targetHash"]} <= hashes

    wait_for("KR's inbox", in_kr_inbox)
    table = docex("inbox", *officer)
    assert table.returncode == 0
    assert "inbox" in table.stdout
    saved = tmp_path / "received.json"
    one = docex("inbox", used["targetHash"], "-o", str(saved), *officer)
    assert one.returncode == 0, one.stderr
    assert "data" in json.loads(saved.read_text())
    # KR's own node verifies what it received (KR recognises VN's certificates of origin)
    assert docex("verify", str(saved), "--node", kr).returncode == 0

    use = docex(
        "use", used["targetHash"], "--declaration", "KR-DECL-0001", "--quantity", "1", *officer
    )
    assert use.returncode == 0, use.stderr
    assert "recorded: transaction 0x" in use.stdout
    reject = docex("reject", rejected["targetHash"], "--reason", "3", "--json", *officer)
    assert reject.returncode == 0, reject.stderr
    assert json.loads(reject.stdout)["txHash"].startswith("0x")
    revoke = docex(
        "revoke", revoked["id"], "--reason", "1", "--node", vn, "--token", consortium.vn_issuer
    )
    assert revoke.returncode == 0, revoke.stderr
    # read-your-writes: once `revoke` answered, the same node's verdict says so
    assert docex("verify", revoked["id"], "--node", vn).returncode == 1

    issuer = ["--node", vn, "--token", consortium.vn_issuer]

    def events(document_id: str, wanted: str) -> list[str] | None:
        history = docex("history", document_id, "--json", *issuer)
        assert history.returncode == 0, history.stderr
        names = [e["event"] for e in json.loads(history.stdout)["events"]]
        return names if wanted in names else None

    assert "DocumentUsed" in str(
        wait_for("the use in the history", lambda: events(used["id"], "DocumentUsed"))
    )
    wait_for("the rejection", lambda: events(rejected["id"], "DocumentRejected"))
    assert events(revoked["id"], "DocumentRevoked") is not None  # no wait: VN revoked it
    human = docex("history", used["id"], *issuer)
    assert human.returncode == 0
    assert "DocumentUsed" in human.stdout


def test_another_institution_is_refused_with_a_clear_message(
    consortium: Consortium, tmp_path: Path
) -> None:
    batch = tmp_path / "one.json"
    batch.write_text(
        json.dumps({**sample_document("coo/1", 300, items=1), "importingCountry": "KR"})
    )
    issued = docex(
        "issue", str(batch), "--wait", "--json", "--node", consortium.vn.base,
        "--token", consortium.vn_issuer,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    (receipt,) = json.loads(issued.stdout)
    other = docex(
        "revoke", receipt["id"], "--reason", "1", "--node", consortium.vn.base,
        "--token", consortium.vn_other_issuer,
    )  # fmt: skip
    assert other.returncode == 1
    assert other.stderr.startswith("docex revoke: the node refused (403 Forbidden)")
    assert "institution may not do this" in other.stderr
    no_token = docex("history", receipt["id"], "--node", consortium.vn.base)
    assert no_token.returncode == 1
    assert "401" in no_token.stderr
    assert "--token" in no_token.stderr


def test_an_invalid_document_is_named_by_its_file_and_nothing_is_recorded(
    consortium: Consortium, tmp_path: Path
) -> None:
    documents = [sample_document("coo/1", i, items=1) for i in (400, 401)]
    documents[1]["items"][0]["hsCode"] = "not a code"  # type: ignore[index]
    batch = tmp_path / "mixed.json"
    batch.write_text(json.dumps(documents, ensure_ascii=False))
    refused = docex(
        "issue", str(batch), "--node", consortium.vn.base, "--token", consortium.vn_issuer
    )
    assert refused.returncode == 1
    assert "the node refused (422" in refused.stderr
    assert f"{batch}#/1 /items/0/hsCode" in refused.stderr
    assert not Path(f"{batch}.docex-state").exists()
    wrong_type = docex("issue", str(batch), "--type", "permit", "--node", consortium.vn.base)
    assert wrong_type.returncode == 2
    assert f"{batch}#/0: a coo/1 document, not permit" in wrong_type.stderr


def test_a_share_link_round_trip(consortium: Consortium, tmp_path: Path) -> None:
    batch = tmp_path / "shared.json"
    batch.write_text(
        json.dumps({**sample_document("coo/1", 400, items=1), "importingCountry": "KR"})
    )
    issuer = ["--node", consortium.vn.base, "--token", consortium.vn_issuer]
    issued = docex("issue", str(batch), "--wait", "--json", *issuer)
    assert issued.returncode == 0, issued.stderr
    (receipt,) = json.loads(issued.stdout)

    created = docex("share", "create", receipt["id"], "--days", "2", "--json", *issuer)
    assert created.returncode == 0, created.stderr
    link = json.loads(created.stdout)
    shared = httpx.get(link["url"], timeout=30)
    assert shared.status_code == 200
    assert shared.json()["targetHash"] == receipt["targetHash"]
    listed = docex("share", "list", receipt["id"], *issuer)
    assert listed.returncode == 0, listed.stderr
    assert link["id"] in listed.stdout
    assert "active" in listed.stdout
    assert link["token"] not in listed.stdout

    revoked = docex("share", "revoke", link["id"], *issuer)
    assert revoked.returncode == 0, revoked.stderr
    refused = httpx.get(link["url"], timeout=30)
    assert refused.status_code == 403
    assert refused.json()["code"] == "share-link-revoked"
    too_long = docex("share", "create", receipt["id"], "--days", "1000", *issuer)
    assert too_long.returncode == 1
    assert "1 to 90 days" in too_long.stderr
