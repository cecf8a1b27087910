"""A backup's manifest (``manifest.json``, format ``docex-backup/1``): what the backup
holds, file by file with its SHA-256, and where it stands against the chain.

The manifest is written last: a directory without one is not a (finished) backup. A
restore trusts nothing in the backup that the manifest does not name with its hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from node.errors import BackupTampered, BackupUnreadable

FORMAT = "docex-backup/1"
MANIFEST_FILE = "manifest.json"
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class BackedUpFile:
    """One file of the backup: its path relative to the data dir, size and SHA-256."""

    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """The chain a backup belongs to and its head when the databases were copied."""

    chain_id: int
    consortium_registry: str
    document_registry: str
    deployed_block: int
    #: None when the chain could not be reached at backup time
    head_block: int | None
    head_hash: str | None


@dataclass(frozen=True, slots=True)
class BackupManifest:
    created_at: str
    docex_version: str
    country: str
    #: "online": taken from a running node (its unfinished work settled first);
    #: "offline": no node was running on the data dir
    mode: str
    #: the moment the backup began: it holds every document accepted before it
    cut_at: float
    chain: ChainPoint | None
    #: online: documents the copied database held as unfinished, brought in once the
    #: live node had anchored them (a restored node never anchors them a second time)
    settled_documents: int
    files: tuple[BackedUpFile, ...]
    #: what is deliberately not in the backup, and why
    excluded: dict[str, str] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST_FILE
        temporary = path.with_suffix(".tmp")
        with create_private(temporary) as file:
            file.write(self.to_json().encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
        return path

    @classmethod
    def read(cls, directory: Path) -> BackupManifest:
        """The manifest of the backup in ``directory``; :class:`BackupUnreadable` naming
        the file when there is none or it is not a docex backup manifest."""
        path = directory / MANIFEST_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackupUnreadable(
                f"{directory} is not a docex backup: it has no {MANIFEST_FILE}"
            ) from None
        except (OSError, ValueError) as error:
            raise BackupUnreadable(f"cannot read the backup manifest {path}: {error}") from error
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BackupUnreadable(f"{path} is not a {FORMAT} manifest")
        try:
            chain = raw["chain"]
            return cls(
                created_at=str(raw["created_at"]),
                docex_version=str(raw["docex_version"]),
                country=str(raw["country"]),
                mode=str(raw["mode"]),
                cut_at=float(raw["cut_at"]),
                chain=None if chain is None else ChainPoint(**chain),
                settled_documents=int(raw["settled_documents"]),
                files=tuple(BackedUpFile(**entry) for entry in raw["files"]),
                excluded=dict(raw.get("excluded", {})),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BackupUnreadable(f"{path} is not a {FORMAT} manifest: {error}") from error


def safe_relative_path(name: str) -> PurePosixPath:
    """A manifest's file path, refused if it could land outside the data dir."""
    path = PurePosixPath(name)
    if (
        not name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in path.parts)
        or "\\" in name
        or path.as_posix() != name
        or name == MANIFEST_FILE
    ):
        raise BackupTampered(f"the manifest names a file outside the backup: {name!r}")
    return path


def create_private(path: Path) -> BinaryIO:
    """A new file only its owner may read or write (a backup holds keys, their
    passphrases and documents): refused if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def make_private_directory(path: Path) -> None:
    """``path`` (created if missing) readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def copy_hashing(source: BinaryIO, target: BinaryIO) -> tuple[int, str]:
    """Copy ``source`` to ``target``; the bytes copied and their SHA-256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(_COPY_CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def file_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while chunk := source.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def manifest_sha256(directory: Path) -> str:
    """The SHA-256 of a backup's manifest: noted apart from the backup, it makes the
    whole backup checkable (the manifest holds every other file's hash)."""
    return file_sha256(directory / MANIFEST_FILE)[1]


def manifest_summary(manifest: BackupManifest) -> dict[str, Any]:
    """What ``docex backup`` and ``docex restore`` print about a backup (JSON-able)."""
    chain = manifest.chain
    return {
        "created_at": manifest.created_at,
        "mode": manifest.mode,
        "country": manifest.country,
        "files": len(manifest.files),
        "bytes": sum(entry.bytes for entry in manifest.files),
        "chain_id": None if chain is None else chain.chain_id,
        "document_registry": None if chain is None else chain.document_registry,
        "head_block": None if chain is None else chain.head_block,
        "settled_documents": manifest.settled_documents,
    }
