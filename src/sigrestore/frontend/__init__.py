"""The user-facing subcommands ``sigrestore run``, ``check`` and ``init``.

Each subcommand lives in its own module; :func:`register` adds them to the
``sigrestore`` argument parser (``sigrestore.cli``).  Errors the user can fix
are printed as one plain message (never a traceback) with exit status 1.
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run``, ``check`` and ``init`` subcommands to ``subparsers``."""
    from sigrestore.frontend import check, init, run

    run.register(subparsers)
    check.register(subparsers)
    init.register(subparsers)
