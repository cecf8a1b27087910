"""Where the pinned engines built by `make engines` (tools/engines/) are found."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

from node.network.errors import EngineNotBuilt

#: overrides the directory of the binaries (default: bin/ of the source checkout)
ENGINES_BIN_ENV: Final = "DOCEX_ENGINES_BIN"
_SOURCE_BIN: Final = Path(__file__).resolve().parents[2] / "bin"
_BINARIES: Final = {"geth": "geth", "kubo": "ipfs"}

Engine = Literal["geth", "kubo"]


def engines_directory() -> Path:
    configured = os.environ.get(ENGINES_BIN_ENV)
    return Path(configured) if configured else _SOURCE_BIN


def engine_binary(engine: Engine) -> Path:
    """The executable of ``engine``; :class:`EngineNotBuilt` when it is not there."""
    path = engines_directory() / _BINARIES[engine]
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise EngineNotBuilt(f"{engine} is not built at {path}: run `make engines`")
    return path
