"""Package attributes imported on first use (PEP 562).

Several packages export names whose modules pull in scipy, statsmodels,
pylimma or matplotlib; every workflow job resolves the config at parse time,
so importing a package must not load them.  Each package lists
``name -> submodule`` and gets its ``__getattr__`` from :func:`lazy_getattr`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` when
    ``name`` is first used, and keeps the value in the package's namespace."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
