"""The data of a real measurement with the fitted components stacked, projected on each axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _subplots

COMPONENT_LABELS = {"cevns": "CEvNS", "steady_state": "steady state", "brn": "prompt neutrons (BRN)",
                    "brn_prompt": "prompt BRN", "brn_delayed": "delayed BRN",
                    "nin": r"$\nu$-induced neutrons"}
AXIS_LABELS = {"energy": "reconstructed energy", "f90": "F90", "time": r"arrival time [$\mu$s]"}


def fit_projection_figure(path, kernel, fit: dict) -> Path:
    """One panel per axis of ``kernel`` (energy, [F90,] time): observed counts with Poisson errors over the
    fitted components stacked (CEvNS on top), as the collaborations show their fits. Returns the path."""
    from ..inference.cevns_fit import fitted_components

    comps = fitted_components(kernel, fit)
    shape = tuple(len(e) - 1 for _, _, e in kernel.axes)
    observed = comps.pop("observed").reshape(shape)
    order = [n for n in comps if n != "cevns"] + ["cevns"]
    fig, axes = _subplots(1, len(shape), figsize=(4.2 * len(shape), 3.6), layout="constrained")
    axes = np.atleast_1d(axes)
    for i, (ax, (name, unit, edges)) in enumerate(zip(axes, kernel.axes)):
        others = tuple(j for j in range(len(shape)) if j != i)
        edges = np.asarray(edges)
        bottom = np.zeros(len(edges) - 1)
        for c in order:
            values = comps[c].reshape(shape).sum(axis=others)
            ax.stairs(bottom + values, edges, baseline=bottom, fill=True, alpha=0.75,
                      label=COMPONENT_LABELS.get(c, c))
            bottom = bottom + values
        data = observed.sum(axis=others)
        centres = 0.5 * (edges[1:] + edges[:-1])
        ax.errorbar(centres, data, yerr=np.sqrt(data), fmt="o", color="k", ms=3, label="data")
        ax.set_xlabel(AXIS_LABELS.get(name, name) + (f" [{unit}]" if unit and name != "time" else ""))
        ax.set_ylabel("events per bin")
    axes[0].legend(fontsize=8)
    n = kernel.name
    fig.suptitle(f"{n}: CEvNS {fit['best_fit_cevns'][n]:.0f} $\\pm$ {fit['best_fit_cevns_error'][n]:.0f} "
                 f"(SM {fit['sm_cevns'][n]:.0f})", fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=130)
    return path
