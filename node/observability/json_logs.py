"""Structured logs: one JSON object per line on stderr, extra fields included."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Final

_STANDARD: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the stream it was
    when logging was configured: a command run inside another program (a test's CLI
    runner, an embedding service) may swap and close stderr after configuring."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _MigrationStepsOnly(logging.Filter):
    """Alembic announces its dialect on every database open ("Context impl SQLiteImpl.",
    "Will assume non-transactional DDL."): at info level keep only the schema's steps."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or record.getMessage().startswith("Running ")


def configure_logging(level: str = "info") -> None:
    """Send every logger (docex's, uvicorn's) through one JSON handler on stderr."""
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    migration = logging.getLogger("alembic.runtime.migration")
    migration.filters[:] = [_MigrationStepsOnly()]
    # one line per JSON-RPC call to the chain is noise at info level
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
