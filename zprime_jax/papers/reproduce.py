"""Regenerate the figures and Table III of the two papers: ``zprime-jax reproduce`` (issue 8).

Light-mediator paper (Bertuzzo, Grilli di Cortona, Magno Dantas Ramos,
arXiv:2112.04020), Figs. 1-5, and heavy-Z' paper (Miranda, Papoulias,
Tortola, Valle, arXiv:2002.01482), Figs. 1-6 and Table III, each as a PNG and
a CSV of the plotted data, from the package's public functions (no physics
here). :data:`FIGURES` maps a name to (description, function);
:func:`main_reproduce` runs a selection and returns a JSON-ready dict;
:func:`add_arguments` adds the command-line options to a subparser.

The parts: :mod:`.registry` (the figure names), :mod:`.light` (light-mediator
figures), :mod:`.heavy` and :mod:`.heavy_e6` (heavy-Z' figures), :mod:`.table3`
(Table III), :mod:`.overlays` (user-supplied bounds), :mod:`.context` (settings,
progress, output), :mod:`.plots` (matplotlib helpers) and :mod:`.published`
(the papers' numbers, from the data file ``published.toml``).

Existing experimental bounds appear only from files the user gives
(``--overlay FILE``, :func:`read_overlay`). Nothing is digitised from the papers.

``quick=True`` uses coarse grids (the whole set in a few minutes on 2 cores);
the default mode uses finer grids and more points. Progress (figure k of n,
elapsed time) goes only to the ``progress`` stream the caller passes (the
command line: stderr unless ``--quiet``); nothing is printed on stdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import InputError
from .context import CL90, FULL, QUICK, Context, Progress, Settings
from .heavy import CR51, REACTORS, SNS
from .overlays import MG_FIGURES, Overlay, draw_overlays, read_overlay
from .registry import FIGURES, check_figures
from .table3 import TABLE_EXPERIMENTS, TABLE_MODELS

__all__ = ["CL90", "CR51", "FIGURES", "FULL", "MG_FIGURES", "QUICK", "REACTORS", "SNS", "TABLE_EXPERIMENTS",
           "TABLE_MODELS", "Overlay", "Settings", "add_arguments", "draw_overlays", "main_reproduce",
           "read_overlay", "run_from_args"]


def main_reproduce(figures: list[str] | None, out_dir, quick: bool = False, overlays: list[str] | None = None,
                   progress=None, *, experiments: list[str] | None = None) -> dict:
    """Regenerate the figures ``figures`` (None: all of :data:`FIGURES`) into ``out_dir``.

    Args:
      figures: names from :data:`FIGURES` (ValueError listing the valid names otherwise).
      out_dir: output folder (created).
      quick: coarse grids (:data:`QUICK`) instead of :data:`FULL`.
      overlays: CSV files of existing bounds (:func:`read_overlay`), drawn on the (m, g) figures.
      progress: stream for the progress bar (None, the default: silent).
      experiments: restrict the heavy-Z' experiment lists to these names (testing; None: all).
    Returns a JSON-ready dict: ``out_dir``, ``quick``, ``figures`` (per figure: ``description``,
    ``files``, ``seconds`` and its key numbers), ``overlays``, ``wall_s``.
    """
    names = check_figures(figures)
    loaded = []
    for path in overlays or []:
        loaded.extend(read_overlay(path))
    if experiments is not None:
        unknown = [n for n in experiments if n not in TABLE_EXPERIMENTS]
        if unknown:
            raise InputError(f"experiments: unknown heavy-Z' experiment(s) {unknown}; "
                             f"allowed: {', '.join(TABLE_EXPERIMENTS)}")
    if out_dir is None or str(out_dir) == "":
        raise InputError("--out: an output folder is required")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"--out {out}: cannot create the folder: {err}") from None
    bar = Progress(progress, len(names))
    ctx = Context(out, QUICK if quick else FULL, loaded, bar,
                  None if experiments is None else frozenset(experiments))
    t0 = time.perf_counter()
    results = {}
    for k, name in enumerate(names, start=1):
        description, fn = FIGURES[name]
        bar.start(k, name)
        res = fn(ctx)
        results[name] = {"description": description, **res, "seconds": round(bar.done(), 2)}
    return {"out_dir": str(out), "quick": bool(quick), "figures": results,
            "overlays": [{"label": o.label, "file": o.source, "closed": o.closed, "points": int(o.mass_mev.size),
                          "figures": list(o.figures) or list(MG_FIGURES)} for o in loaded],
            "wall_s": round(time.perf_counter() - t0, 2)}


def add_arguments(sp) -> None:
    """Add the ``reproduce`` options to an argparse subparser (and ``func`` = :func:`run_from_args`)."""
    group = sp.add_mutually_exclusive_group(required=True)
    group.add_argument("--figure", action="append", metavar="NAME",
                       help="figure to regenerate (repeatable): " + ", ".join(FIGURES))
    group.add_argument("--all", action="store_true", help="regenerate every figure and Table III")
    sp.add_argument("--quick", action="store_true", help="coarse grids: the whole set in a few minutes on 2 cores")
    sp.add_argument("--overlay", action="append", metavar="FILE",
                    help="CSV of an existing bound (columns mass_mev,coupling[,label][,figure]; a closed region "
                         "when the first point equals the last), drawn on the (m, g) figures; repeatable")
    sp.add_argument("--out", required=True, help="output folder for the PNG, CSV and Markdown files")
    sp.set_defaults(func=run_from_args)


def run_from_args(args) -> dict:
    """Run :func:`main_reproduce` from parsed ``reproduce`` arguments: progress on stderr unless ``--quiet``."""
    return main_reproduce(None if getattr(args, "all", False) else args.figure, args.out, quick=args.quick,
                          overlays=args.overlay, progress=None if getattr(args, "quiet", False) else sys.stderr)
