"""``zprime-jax reproduce``: the papers' figures and the heavy-Z' Table III (:mod:`zprime_jax.papers.reproduce`)."""

from __future__ import annotations

from .options import add_common


def register(subparsers) -> None:
    """Add the ``reproduce`` subcommand (its options and ``func`` come from :mod:`zprime_jax.papers.reproduce`)."""
    from ..papers import reproduce

    sp = subparsers.add_parser("reproduce", help="regenerate the papers' figures and the heavy-Z' Table III")
    add_common(sp)
    reproduce.add_arguments(sp)
