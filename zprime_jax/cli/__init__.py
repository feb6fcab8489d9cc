"""The ``zprime-jax`` command line: one thin module per command group (contract: shared design.md).

- :mod:`.main`: the parser built from the group modules, :func:`main`, error handling (exit status 2);
- :mod:`.options`: the shared option parsers and the CSV writer;
- :mod:`.rates` (``experiments``, ``rates``), :mod:`.light` (``sensitivity``, ``posterior``),
  :mod:`.drift` (``optimize-pressure``, ``pressure-scan``), :mod:`.heavy` (``mass-limit``,
  ``limit-scan``, ``e6-plane``), :mod:`.reproduce` (``reproduce``).

Each group module has a ``register(subparsers)`` and its command functions, which parse, build, call
the library and write.
"""

from __future__ import annotations

from .main import build_parser, main
from .options import UsageError

__all__ = ["UsageError", "build_parser", "main"]
