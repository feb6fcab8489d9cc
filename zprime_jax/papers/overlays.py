"""Existing bounds drawn on the (m, g) figures, from files the user gives (``--overlay FILE``).

An overlay CSV has the columns ``mass_mev,coupling``, optionally ``label`` (one curve per
label) and ``figure`` (the figure names a row is drawn on; default every (m, g) figure,
:data:`MG_FIGURES`). A curve whose first point equals its last is a closed region and is
filled lightly. Nothing is digitised from the papers.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

MG_FIGURES = ("light-fig2", "light-fig3", "light-fig4", "light-fig5")    # the (m, g) figures (overlays)


@dataclass(frozen=True)
class Overlay:
    """A user-supplied existing bound in the (m_Z' [MeV], g) plane.

    ``closed``: first point == last point (drawn as a lightly filled region).
    ``figures``: the figure names it is drawn on (empty: every (m, g) figure).
    """

    label: str
    mass_mev: np.ndarray
    coupling: np.ndarray
    closed: bool
    source: str
    figures: tuple = ()


def read_overlay(path) -> list[Overlay]:
    """Read an overlay CSV (columns ``mass_mev,coupling``, optional ``label`` and ``figure``).

    Rows with the same label form one curve, in file order (without a
    ``label`` column: one curve named after the file). ``figure``: figure
    names separated by ``;`` or spaces where that row's curve is drawn
    (default: every (m, g) figure). Raises ValueError naming the file, the
    row and the column on bad input.
    """
    p = Path(path)
    try:
        with open(p, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"--overlay {p}: cannot read the file: {err}") from None
    rows = [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise InputError(f"--overlay {p}: empty; expected a header with the columns mass_mev,coupling")
    header = [c.strip().lower() for c in rows[0]]
    for col in ("mass_mev", "coupling"):
        if col not in header:
            raise InputError(f"--overlay {p}: missing column {col!r} (columns found: {', '.join(header)}; "
                             "expected mass_mev,coupling[,label][,figure])")
    unknown = [c for c in header if c not in ("mass_mev", "coupling", "label", "figure")]
    if unknown:
        raise InputError(f"--overlay {p}: unknown column(s) {unknown}; allowed: mass_mev, coupling, label, figure")
    idx = {c: header.index(c) for c in header}
    curves: dict[str, list] = {}
    figures: dict[str, set] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        values = []
        for col in ("mass_mev", "coupling"):
            text = row[idx[col]].strip()
            try:
                v = float(text)
            except ValueError:
                raise InputError(f"--overlay {p}, line {line}, column {col!r}: not a number: {text!r}") from None
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"--overlay {p}, line {line}, column {col!r}: must be finite and > 0 "
                                 f"(log axes), got {text!r}")
            values.append(v)
        label = row[idx["label"]].strip() if "label" in idx else ""
        label = label or p.stem
        curves.setdefault(label, []).append(values)
        if "figure" in idx:
            names = [n for n in row[idx["figure"]].replace(";", " ").split() if n]
            bad = [n for n in names if n not in MG_FIGURES]
            if bad:
                raise InputError(f"--overlay {p}, line {line}, column 'figure': unknown figure(s) {bad}; "
                                 f"allowed: {', '.join(MG_FIGURES)}")
            figures.setdefault(label, set()).update(names)
    if not curves:
        raise InputError(f"--overlay {p}: no data rows below the header")
    out = []
    for label, pts in curves.items():
        if len(pts) < 2:
            raise InputError(f"--overlay {p}: curve {label!r} has {len(pts)} point; need at least 2 "
                             "(columns mass_mev, coupling)")
        a = np.asarray(pts, dtype=float)
        closed = len(pts) >= 3 and bool(np.all(a[0] == a[-1]))
        out.append(Overlay(label, a[:, 0], a[:, 1], closed, str(p), tuple(sorted(figures.get(label, ())))))
    return out


OVERLAY_COLOURS = ("darkgreen", "0.45", "olive", "teal", "saddlebrown", "darkslateblue", "darkred", "black")


def overlays_for(overlays, figure_name: str) -> list[Overlay]:
    """The overlays drawn on ``figure_name``: those without a ``figure`` column entry and those naming it."""
    return [o for o in overlays if not o.figures or figure_name in o.figures]


def draw_overlays(ax, overlays, figure_name: str) -> None:
    """Draw the overlays meant for ``figure_name`` (:func:`overlays_for`) on ``ax``."""
    for i, ov in enumerate(overlays_for(overlays, figure_name)):
        colour = OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)]
        if ov.closed:
            from matplotlib.colors import to_rgba

            ax.fill(ov.mass_mev, ov.coupling, facecolor=to_rgba(colour, 0.2), edgecolor=colour, lw=0.9, zorder=1,
                    label=ov.label)
        else:
            ax.plot(ov.mass_mev, ov.coupling, color=colour, lw=1.2, ls="-.", zorder=1, label=ov.label)
