"""Matplotlib helpers of the reproduced figures: figures, axes style, log ticks, bands.

Figures are :class:`matplotlib.figure.Figure` objects (no pyplot, no backend switch);
matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import numpy as np


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.6):
    """(figure, 2-d array of axes) at 150 dpi with a constrained layout."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=150, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def style(ax, logx=True, logy=True) -> None:
    """Log axes (as asked), light grid, inward ticks on all four sides."""
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3, lw=0.6)
    ax.grid(True, which="minor", alpha=0.1, lw=0.4)
    ax.tick_params(which="both", direction="in", top=True, right=True)


def plain_log_ticks(ax, axis: str = "x", subs=(1.0, 2.0, 5.0)) -> None:
    """Label a log axis spanning few decades at 1, 2, 5 x 10^k in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(LogLocator(base=10.0, subs=subs))
    a.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    a.set_minor_formatter(NullFormatter())


def nan_for_none(values) -> list:
    """``values`` with None (no limit) as NaN, for plotting."""
    return [np.nan if v is None else v for v in values]


def band(rows):
    """Pointwise (min, max) over rows ignoring non-finite values (NaN where none is finite); no warnings."""
    a = np.asarray([nan_for_none(r) for r in rows], dtype=float)
    ok = np.isfinite(a)
    any_ok = ok.any(axis=0)
    lo = np.where(any_ok, np.min(np.where(ok, a, np.inf), axis=0), np.nan)
    hi = np.where(any_ok, np.max(np.where(ok, a, -np.inf), axis=0), np.nan)
    return lo, hi


def draw_band(ax, x, rows, colour, label: str, edge_lw: float) -> None:
    """Shade the pointwise min-to-max band of ``rows`` over ``x`` and draw its two edges."""
    lo, hi = band(rows)
    ax.fill_between(x, lo, hi, color=colour, alpha=0.45, lw=0, label=label)
    for c in (lo, hi):
        ax.plot(x, c, color=colour, lw=edge_lw)


def empty_panel(ax, text="no experiment selected") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.4")
