"""How ``docex issue`` reads, chunks and keys its input, and what its state file resumes.

(Real files in a temp dir: reading them is what is under test.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certificates.schemas.samples import sample_document
from node.cli.client.issue_inputs import (
    InvalidIssueInput,
    IssueState,
    StateMismatch,
    chunks_of,
    default_state_path,
    read_documents,
)


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False))
    return path


def test_arrays_lines_and_directories_keep_their_order_and_positions(tmp_path: Path) -> None:
    documents = [sample_document("coo/1", i, items=1) for i in range(5)]
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.json", documents[0])
    write(folder / "b.json", documents[1:3])
    (folder / "c.jsonl").write_text("\n".join(json.dumps(d) for d in documents[3:]) + "\n\n")
    (folder / "notes.txt").write_text("not a document")
    read = read_documents([folder])
    assert [d.position for d in read] == [
        f"{folder}/a.json",
        f"{folder}/b.json#/0",
        f"{folder}/b.json#/1",
        f"{folder}/c.jsonl:1",
        f"{folder}/c.jsonl:2",
    ]
    assert [json.loads(d.body) for d in read] == documents
    assert [d.file_stem for d in read] == ["a", "b-0", "b-1", "c-l1", "c-l2"]
    assert default_state_path([folder]) == tmp_path / "in.docex-state"


def test_input_that_is_not_strict_json_is_refused_with_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"documentType": "coo/1"}\n{"a": 1, "a": 2}\n')
    with pytest.raises(InvalidIssueInput, match=r"bad\.jsonl:2"):
        read_documents([bad])
    with pytest.raises(InvalidIssueInput, match="a document is a JSON object"):
        read_documents([write(tmp_path / "list.json", [1])])


def test_chunks_respect_both_limits_and_keys_follow_the_content(tmp_path: Path) -> None:
    documents = read_documents(
        [write(tmp_path / "b.json", [sample_document("coo/1", i, items=1) for i in range(7)])]
    )
    size = len(documents[0].body)
    by_count = list(chunks_of(documents, 3, 10 * size * 7, confidential=False))
    assert [len(c.documents) for c in by_count] == [3, 3, 1]
    by_bytes = list(chunks_of(documents, 100, 2 * size + 60, confidential=False))
    assert all(len(c.body) <= 2 * size + 60 for c in by_bytes)
    assert sum(len(c.documents) for c in by_bytes) == 7
    assert [json.loads(c.body) for c in by_count] == [
        [json.loads(d.body) for d in c.documents] for c in by_count
    ]
    again = list(chunks_of(documents, 3, 10 * size * 7, confidential=False))
    assert [c.idempotency_key for c in again] == [c.idempotency_key for c in by_count]
    sealed = list(chunks_of(documents, 3, 10 * size * 7, confidential=True))
    assert sealed[0].idempotency_key != by_count[0].idempotency_key
    # another allowance is another request (the node binds the key to it); 1 is the default
    single = list(chunks_of(documents, 3, 10 * size * 7, confidential=False, allowance=1))
    assert single[0].idempotency_key == by_count[0].idempotency_key
    triple = list(chunks_of(documents, 3, 10 * size * 7, confidential=False, allowance=3))
    assert triple[0].idempotency_key != by_count[0].idempotency_key
    with pytest.raises(InvalidIssueInput, match="limit"):
        list(chunks_of(documents, 3, size, confidential=False))


def test_the_state_resumes_only_the_same_documents_for_the_same_node(tmp_path: Path) -> None:
    documents = read_documents(
        [write(tmp_path / "b.json", [sample_document("coo/1", i, items=1) for i in range(4)])]
    )
    path = tmp_path / "b.json.docex-state"
    state = IssueState.load(path, "http://127.0.0.1:8000", confidential=False)
    first = next(chunks_of(documents, 2, 1 << 20, confidential=False))
    state.record(first, ["a" * 32, "b" * 32])
    resumed = IssueState.load(path, "http://127.0.0.1:8000", confidential=False)
    assert [resumed.receipt_of(d) for d in documents] == ["a" * 32, "b" * 32, None, None]
    edited = read_documents(
        [write(tmp_path / "b.json", [sample_document("coo/1", 9, items=1)] + [{}] * 3)]
    )
    assert resumed.receipt_of(edited[0]) is None  # same position, other bytes: send it
    with pytest.raises(StateMismatch, match="--state"):
        IssueState.load(path, "http://127.0.0.1:9000", confidential=False)
    with pytest.raises(StateMismatch):
        IssueState.load(path, "http://127.0.0.1:8000", confidential=True)
    with pytest.raises(StateMismatch, match="allowance=1"):
        IssueState.load(path, "http://127.0.0.1:8000", confidential=False, allowance=5)
