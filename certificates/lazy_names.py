"""Names a package exports but loads on first use (PEP 562), so that importing the
package does not import every dependency of every name: a command, a node process or a
tool starts in the time its own imports take."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: each name of ``homes`` (name -> the module that
    defines it) is imported on first use, then kept in the package like any other."""

    def __getattr__(name: str) -> Any:  # noqa: N807 (it is the module's __getattr__)
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
