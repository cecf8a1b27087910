"""docex's C fast path (certificates/_speedups.c), or None where it was not built.

`pip install` builds it (pyproject.toml's ext-modules: gcc and Python's headers). Without
it every caller runs its pure-Python code, which gives the same answers more slowly;
`make test` refuses that case (tests/unit/certificates/test_native_field_hashes.py), so
that benchmarks never measure the slow path by accident.
"""

from __future__ import annotations

try:
    from certificates import _speedups as speedups
except ImportError:  # pragma: no cover - a machine without a C compiler
    speedups = None  # type: ignore[assignment]

__all__ = ["speedups"]
