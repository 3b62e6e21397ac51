"""Public names of a package that are loaded from their modules on first use.

Why: a package's ``__init__`` that imports its modules makes every ``import`` of any of
them pay for all (the PubMed parser's lxml, the plots' matplotlib and scipy), while each
workflow job and command needs only a few. PEP 562 lets the package resolve a name when it
is first asked for instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in the
    modules ``homes`` gives (``{"Registry": "registry"}`` means ``package.registry``)."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        setattr(sys.modules[package], name, value)  # the next lookup finds it directly
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
