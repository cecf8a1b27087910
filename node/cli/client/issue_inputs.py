"""What ``docex issue`` sends: documents read from files, chunked, and the resume state.

- **Inputs.** A ``.json`` file holds one document or a JSON array of them; a ``.jsonl`` /
  ``.ndjson`` file one document per line; a directory every ``.json``/``.jsonl`` file in
  it (sorted by name, not recursive). Every document is parsed as strict JSON
  (:func:`certificates.parse_strict_json`) and sent as its compact serialisation, so the
  same input always gives the same bytes. Each document has a **position** naming where
  it came from (``coo.json``, ``batch.json#/3``, ``batch.jsonl:12``).
- **Chunks.** Consecutive documents, at most ``max_documents`` and ``max_bytes`` of body
  per request (the node's ``max_documents_per_request`` and ``max_body_bytes``). The
  Idempotency-Key of a chunk is the SHA-256 of its body (and of the confidential flag and
  the allowance):
  a chunk sent twice is the same request, and the node replays its first answer.
- **State** (``docex-issue-state/1``): the node, and for every accepted document its
  position, the SHA-256 of its bytes and its receipt id; written atomically after every
  accepted chunk. A re-run drops the documents already accepted (same position, same
  bytes) and chunks the rest the same way, so a chunk whose answer was lost to a crash
  gets the same key again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certificates.errors import Conflict, DocexError, InvalidInput

STATE_FORMAT = "docex-issue-state/1"
STATE_SUFFIX = ".docex-state"
_LINE_SUFFIXES = (".jsonl", ".ndjson")
_FILE_SUFFIXES = (".json", *_LINE_SUFFIXES)


class InvalidIssueInput(InvalidInput):
    """An input file or document that cannot be sent (not strict JSON, too large, ...)."""

    code = "invalid-issue-input"


class StateMismatch(Conflict):
    """A state file that belongs to another node or another kind of request."""

    code = "issue-state-mismatch"


@dataclass(frozen=True, slots=True)
class InputDocument:
    """One document to send: where it came from and its compact JSON bytes."""

    position: str
    body: bytes
    document_type: str | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def file_stem(self) -> str:
        """A file name for its outputs: ``coo-1``, ``batch-3``, ``batch-l12``."""
        path, _, rest = self.position.partition("#/")
        if rest:
            return f"{Path(path).stem}-{rest}"
        path, _, line = self.position.rpartition(":")
        if line.isdigit() and Path(path).suffix in _LINE_SUFFIXES:
            return f"{Path(path).stem}-l{line}"
        return Path(self.position).stem


@dataclass(frozen=True, slots=True)
class Chunk:
    """Documents sent in one request, and that request's Idempotency-Key."""

    documents: tuple[InputDocument, ...]
    body: bytes
    idempotency_key: str


def _document(position: str, value: Any) -> InputDocument:
    if not isinstance(value, dict):
        raise InvalidIssueInput(f"{position}: a document is a JSON object")
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    document_type = value.get("documentType")
    return InputDocument(position, body, document_type if isinstance(document_type, str) else None)


def _parse(raw: bytes, where: str) -> Any:
    from certificates import parse_strict_json

    try:
        return parse_strict_json(raw, max_bytes=max(len(raw), 1))
    except DocexError as error:
        raise InvalidIssueInput(f"{where}: {error}") from error


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            child for child in path.iterdir() if child.is_file() and child.suffix in _FILE_SUFFIXES
        )
    if not path.is_file():
        raise InvalidIssueInput(f"{path}: no such file or directory")
    return [path]


def read_documents(inputs: Sequence[Path]) -> list[InputDocument]:
    """Every document of ``inputs``, in order (see the module docstring for the formats)."""
    documents: list[InputDocument] = []
    for path in (file for given in inputs for file in _files_of(given)):
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise InvalidIssueInput(f"{path}: {error.strerror or error}") from error
        if path.suffix in _LINE_SUFFIXES:
            for number, line in enumerate(raw.splitlines(), start=1):
                if line.strip():
                    position = f"{path}:{number}"
                    documents.append(_document(position, _parse(line, position)))
            continue
        value = _parse(raw, str(path))
        if isinstance(value, list):
            documents.extend(_document(f"{path}#/{i}", item) for i, item in enumerate(value))
        else:
            documents.append(_document(str(path), value))
    return documents


def idempotency_key(body: bytes, confidential: bool, allowance: int = 1) -> str:
    """``docex-issue-<sha256>``: the same documents, flag, allowance and order give the
    same key (an allowance of 1, the default, hashes as before allowances existed)."""
    prefix = b"confidential=%d\n" % confidential
    if allowance != 1:
        prefix += b"allowance=%d\n" % allowance
    return f"docex-issue-{hashlib.sha256(prefix + body).hexdigest()}"


def chunks_of(
    documents: Sequence[InputDocument],
    max_documents: int,
    max_bytes: int,
    confidential: bool,
    allowance: int = 1,
) -> Iterator[Chunk]:
    """Consecutive chunks within both limits (a JSON array body each)."""
    current: list[InputDocument] = []
    size = 2  # the brackets

    def close() -> Chunk:
        body = b"[" + b",".join(document.body for document in current) + b"]"
        return Chunk(tuple(current), body, idempotency_key(body, confidential, allowance))

    for document in documents:
        if len(document.body) + 2 > max_bytes:
            raise InvalidIssueInput(
                f"{document.position}: {len(document.body)} bytes, more than the node's "
                f"limit of {max_bytes} bytes per request"
            )
        added = len(document.body) + (1 if current else 0)
        if current and (len(current) >= max_documents or size + added > max_bytes):
            yield close()
            current, size = [], 2
            added = len(document.body)
        current.append(document)
        size += added
    if current:
        yield close()


def default_state_path(inputs: Sequence[Path]) -> Path:
    """``<first input><STATE_SUFFIX>``, beside it (never inside an input directory)."""
    first = inputs[0].resolve()
    return first.with_name(first.name + STATE_SUFFIX)


class IssueState:
    """The receipts of the documents already accepted, kept in a JSON file."""

    def __init__(self, path: Path, node: str, confidential: bool, allowance: int = 1) -> None:
        self.path = path
        self.node = node
        self.confidential = confidential
        self.allowance = allowance
        #: position -> {"sha256": ..., "receipt": ...}
        self.accepted: dict[str, dict[str, str]] = {}

    @classmethod
    def load(cls, path: Path, node: str, confidential: bool, allowance: int = 1) -> IssueState:
        state = cls(path, node, confidential, allowance)
        if not path.exists():
            return state
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InvalidIssueInput(f"{path}: not a readable state file ({error})") from error
        if not isinstance(recorded, dict) or recorded.get("format") != STATE_FORMAT:
            raise InvalidIssueInput(f"{path}: not a {STATE_FORMAT} file")
        if (
            recorded.get("node") != node
            or recorded.get("confidential") != confidential
            or recorded.get("allowance", 1) != allowance
        ):
            raise StateMismatch(
                f"{path} records documents sent to {recorded.get('node')} "
                f"(confidential={recorded.get('confidential')}, "
                f"allowance={recorded.get('allowance', 1)}); pass --state NEW_FILE to "
                "start over"
            )
        documents = recorded.get("documents")
        if isinstance(documents, dict):
            state.accepted = {
                str(position): {"sha256": str(entry["sha256"]), "receipt": str(entry["receipt"])}
                for position, entry in documents.items()
                if isinstance(entry, dict) and "sha256" in entry and "receipt" in entry
            }
        return state

    def receipt_of(self, document: InputDocument) -> str | None:
        """The receipt id if this very document (position and bytes) was accepted."""
        entry = self.accepted.get(document.position)
        if entry is None or entry["sha256"] != document.sha256:
            return None
        return entry["receipt"]

    def record(self, chunk: Chunk, receipt_ids: Sequence[str]) -> None:
        """Record a chunk's receipts and write the file (atomically, durably)."""
        if len(receipt_ids) != len(chunk.documents):
            raise InvalidIssueInput(
                f"the node answered {len(receipt_ids)} receipts for {len(chunk.documents)} "
                "documents"
            )
        for document, receipt in zip(chunk.documents, receipt_ids, strict=True):
            self.accepted[document.position] = {"sha256": document.sha256, "receipt": receipt}
        self._write()

    def _write(self) -> None:
        content = json.dumps(
            {
                "format": STATE_FORMAT,
                "node": self.node,
                "confidential": self.confidential,
                "allowance": self.allowance,
                "documents": self.accepted,
            },
            indent=1,
            ensure_ascii=False,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".docex-state-", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
