"""Matplotlib figures of the CLI commands (imported lazily by the CLI).

The library never switches the matplotlib backend and does not use pyplot:
every figure is a :class:`matplotlib.figure.Figure` (not registered with
pyplot, so nothing to close), and ``Figure.savefig`` picks the writer for
the file type (Agg for PNG), so figures are written headless while a
notebook user's backend stays as it was.
"""

from __future__ import annotations

import numpy as np

# Detector colours of the light-mediator paper's Figs. 2, 3, 5 (right panels).
EXPERIMENT_COLOURS = {
    "ess-csi": "tab:blue", "ess-ge": "tab:purple", "ess-si": "tab:orange",
    "ess-ar": "tab:green", "ess-xe": "tab:red", "ess-c3f8": "tab:brown",
}
EXPERIMENT_LABELS = {
    "ess-csi": "CsI", "ess-ge": "Ge", "ess-si": "Si", "ess-ar": "Ar", "ess-xe": "Xe",
    "ess-c3f8": r"C$_3$F$_8$",
}
MODEL_TITLES = {"universal": r"universal $Z'$", "b-l": r"$B-L$", "lmu-ltau": r"$L_\mu-L_\tau$"}


def _subplots(nrows: int = 1, ncols: int = 1, **figure_kw):
    """(figure, axes) like ``pyplot.subplots``, but a plain :class:`~matplotlib.figure.Figure` (no pyplot)."""
    from matplotlib.figure import Figure

    fig = Figure(**figure_kw)
    return fig, fig.subplots(nrows, ncols)


def _colour_cycle() -> list:
    """The colours of the current ``axes.prop_cycle`` (the user's style, if any)."""
    import matplotlib

    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


class _Figures:
    """The pyplot-like object :func:`_figure` returns: ``subplots`` and ``rcParams`` without pyplot."""

    subplots = staticmethod(_subplots)

    @property
    def rcParams(self):
        import matplotlib

        return matplotlib.rcParams


def _figure() -> _Figures:
    """For callers written against pyplot (``plt = _figure(); fig, ax = plt.subplots(...)``).

    Returns an object with pyplot's ``subplots`` and ``rcParams``; it neither
    imports pyplot nor switches the backend.
    """
    return _Figures()


def _save(fig, path):
    """Lay out and write a figure; return its path."""
    fig.tight_layout()
    fig.savefig(path)
    return path


def experiment_colours(labels) -> dict:
    """A colour per label: the fixed ones of :data:`EXPERIMENT_COLOURS`, black for "combined", and for any
    other experiment the next colour of the style's cycle that no fixed one uses (distinct curves)."""
    from matplotlib.colors import to_hex

    fixed = {to_hex(c) for c in EXPERIMENT_COLOURS.values()}
    cycle = _colour_cycle()
    free = iter([c for c in cycle if to_hex(c) not in fixed] + [c for c in cycle if to_hex(c) in fixed])
    out = {}
    for label in dict.fromkeys(labels):
        if label == "combined":
            out[label] = "black"
        elif label in EXPERIMENT_COLOURS:
            out[label] = EXPERIMENT_COLOURS[label]
        else:
            out[label] = next(free, "0.3")
    return out


def blind_spot_strips(grid, level: float) -> np.ndarray:
    """Where a grid is allowed above its first excluded coupling (``[i_mass, i_coupling]``, couplings
    increasing): the blind-spot strips, where the Z' amplitude flips the sign of the weak charge."""
    excluded = np.asarray(grid.delta_chi2) >= level
    return ~excluded & (np.cumsum(excluded, axis=1) > 0)


def sensitivity_figure(path, model_name: str, cl: float, curves: dict, contours: dict,
                       grids: dict | None = None, levels: dict | None = None, overlay=None):
    """Plot the CL limits in the (m_Z' [MeV], g_Z') plane and save to ``path``.

    Args:
      curves: label -> (masses_mev, couplings) first-crossing limits.
      contours: label -> list of (n, 2) arrays (mass, coupling) of the
        Delta chi^2 = level contour (blind-spot strips included).
      grids: label -> grid (``masses_mev``, ``couplings``, ``delta_chi2``): the excluded side of the
        first of ``curves`` (the combination, or the one experiment) is shaded grey; each experiment's
        blind-spot strips are filled in its colour (closed regions, however thin; overlapping strips
        blend and keep their own edges).
      levels: label -> the Delta chi^2 level of that grid.
      overlay: label -> (masses, couplings) polygons filled in green (e.g. a paper's region).

    Curves that lie on top of each other stay visible: each experiment is drawn a little thinner than
    the one before it, every second one dashed.
    """
    from matplotlib.patches import Patch

    fig, ax = _subplots(figsize=(8.4, 4.8), dpi=120)
    labels = [*contours, *(c for c in curves if c not in contours)]
    colours = experiment_colours(labels)
    order = [lb for lb in labels if lb != "combined"]
    style = {lb: {"lw": max(1.0, 2.8 - 0.35 * k), "ls": "-" if k % 2 == 0 else (0, (4, 1.5))}
             for k, lb in enumerate(order)}
    style["combined"] = {"lw": 1.8, "ls": (0, (6, 2))}
    grids, levels = grids or {}, levels or {}
    handles = []
    headline = next(iter(curves), "combined")          # the combination, or the one experiment
    if headline in grids and headline in levels:
        g = grids[headline]
        ax.contourf(g.masses_mev, g.couplings, (np.asarray(g.delta_chi2) >= levels[headline]).T.astype(float),
                    levels=[0.5, 1.5], colors=["0.9"], zorder=0)
        handles.append(Patch(color="0.9", label=f"excluded ({EXPERIMENT_LABELS.get(headline, headline)})"))
    for label in order:
        if label in grids and label in levels:
            strips = blind_spot_strips(grids[label], levels[label])
            if strips.any():
                g = grids[label]
                ax.contourf(g.masses_mev, g.couplings, strips.T.astype(float), levels=[0.5, 1.5],
                            colors=[colours[label]], alpha=0.45, zorder=1)
                handles.append(Patch(color=colours[label], alpha=0.45,
                                     label=f"{EXPERIMENT_LABELS.get(label, label)}: blind-spot strip"))
    for label in labels:
        name = EXPERIMENT_LABELS.get(label, label)
        lines = contours.get(label)
        if lines is None:
            lines = [np.column_stack(curves[label])]
        for i, ln in enumerate(lines):
            ax.plot(ln[:, 0], ln[:, 1], color=colours[label], label=name if i == 0 else None, zorder=2,
                    **style[label])
    if overlay is not None:
        for label, (m, g) in overlay.items():
            ax.fill(m, g, color="darkgreen", alpha=0.3, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    drawn = np.concatenate([np.asarray(ln[:, 1]) for lines in contours.values() for ln in lines]
                           + [np.asarray(g, dtype=float) for _, g in curves.values()] + [np.zeros(0)])
    drawn = drawn[np.isfinite(drawn) & (drawn > 0)]
    if drawn.size:                                     # the curves, not the whole grid (the shading spans it)
        ax.set_ylim(drawn.min() / 3.0, drawn.max() * 3.0)
    ax.set_xlabel(r"$m_{Z'}$ [MeV]")
    ax.set_ylabel(r"$g_{Z'}$")
    ax.set_title(f"{MODEL_TITLES.get(model_name, model_name)}: {100 * cl:.0f}% CL sensitivity")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *handles], fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)     # beside the plot: it hides nothing
    return _save(fig, path)


def spectrum_figure(path, name: str, edges_kev, signal, background, sm=None):
    """Expected counts per bin (step plot) with the background."""
    fig, ax = _subplots(figsize=(6.4, 4.0), dpi=120)
    edges = np.asarray(edges_kev)
    ax.stairs(signal, edges, label="signal", lw=1.6)
    if sm is not None:
        ax.stairs(sm, edges, label="SM", ls="--")
    ax.stairs(background, edges, label="background", color="0.5")
    ax.set_xlabel(r"reconstructed $E_r$ [keV$_{nr}$]")
    ax.set_ylabel("counts per bin")
    ax.set_yscale("log")
    ax.set_title(name)
    ax.legend()
    return _save(fig, path)


def pressure_figure(path, scan: dict):
    """SM events versus pressure with the per-target parts (light-mediator paper Fig. 1)."""
    fig, ax = _subplots(figsize=(6.4, 4.4), dpi=120)
    p = scan["pressure_torr"]
    ax.plot(p, scan["total"], color="black", lw=1.8, label="total")
    styles = {"C12": ("tab:blue", "carbon"), "S32": ("tab:orange", "sulfur (x2 per CS$_2$)")}
    for name, counts in scan["by_target"].items():
        colour, label = styles.get(name, (None, name))
        ax.plot(p, counts, lw=1.4, color=colour, label=label)
    if scan.get("crossover_torr"):
        ax.axvline(scan["crossover_torr"], color="0.5", lw=1.0,
                   label=f"C = S at {scan['crossover_torr']:.0f} Torr")
    if scan.get("max_torr"):
        ax.axvline(scan["max_torr"], color="tab:red", lw=1.0, ls="--",
                   label=f"maximum at {scan['max_torr']:.0f} Torr")
    ax.set_xscale("log")
    ax.set_xlabel("pressure [Torr]")
    ax.set_ylabel("SM CE$\\nu$NS events (7 years)")
    ax.set_title(r"$\nu$BDX-DRIFT, CS$_2$, 10 m$^3$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


HEAVY_TITLES = {"lr": "Left-Right", "e6-chi": r"E$_6$ $\chi$", "e6-eta": r"E$_6$ $\eta$",
                "e6-psi": r"E$_6$ $\psi$", "e6": r"E$_6$"}


def mass_profile_figure(path, model_name: str, curves: dict, level: float):
    """Delta chi^2 versus M_Z' (heavy-Z' paper Fig. 1)."""
    fig, ax = _subplots(figsize=(6.4, 4.4), dpi=120)
    for label, (m, d) in curves.items():
        ax.plot(m, d, lw=1.6, ls="--" if label == "combined" else "-", label=label,
                color="black" if label == "combined" else None)
    ax.axhline(level, color="0.4", lw=1.0, ls=":", label=rf"$\Delta\chi^2$ = {level:.2f}")
    ax.set_xscale("log")
    ax.set_xlim(min(m[0] for m, _ in curves.values()), 2e3)
    ax.set_ylim(0, 10)
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(r"$\Delta\chi^2$")
    ax.set_title(HEAVY_TITLES.get(model_name, model_name))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def limit_scan_figure(path, model_name: str, parameter: str, values, limits: dict):
    """Mass limit versus sigma_stat = sigma_sys (Fig. 2) or F'/F (Fig. 3)."""
    fig, ax = _subplots(figsize=(6.4, 4.4), dpi=120)
    for label, row in limits.items():
        ax.plot(values, [np.nan if x is None else x for x in row], marker="o", ms=3, lw=1.4, label=label)
    ax.set_xscale("log")
    ax.set_xlabel(r"$\sigma_{stat} = \sigma_{sys}$" if parameter == "uncertainty"
                  else r"$\mathcal{F}'/\mathcal{F}$")
    ax.set_ylabel(r"90% CL limit on $M_{Z'}$ [GeV]")
    ax.set_title(HEAVY_TITLES.get(model_name, model_name))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def e6_plane_figure(path, cos_betas, masses_gev, maps: dict, level: float):
    """Excluded regions in the (cos beta, M_Z') plane (heavy-Z' paper Fig. 5), one per entry of ``maps``.

    ``maps``: {label: Delta chi^2 array (len(cos_betas), len(masses_gev))}; each
    region is shaded (Delta chi^2 >= level) and outlined in its own colour.
    """
    fig, ax = _subplots(figsize=(6.4, 4.4), dpi=120)
    top = masses_gev[0]
    colours = _colour_cycle()
    for i, (label, delta_chi2) in enumerate(maps.items()):
        d = np.asarray(delta_chi2)
        colour = colours[i % len(colours)]
        ax.contourf(cos_betas, masses_gev, (d >= level).T.astype(float), levels=[0.5, 1.5], colors=[colour],
                    alpha=0.25)
        ax.contour(cos_betas, masses_gev, d.T, levels=[level], colors=[colour])
        ax.plot([], [], color=colour, lw=6, alpha=0.5, label=label)
        excluded = d >= level
        top = max(top, 3.0 * masses_gev[np.nonzero(excluded.any(axis=0))[0].max()]) if excluded.any() else top
    top = min(top, masses_gev[-1]) if top > masses_gev[0] else masses_gev[-1]
    ax.set_ylim(masses_gev[0], top)
    for name, c in ((r"$\chi$", 1.0), (r"$\psi$", 0.0), (r"$\eta$", (3 / 8) ** 0.5)):
        ax.axvline(c, color="0.5", lw=0.8, ls=":")
        ax.text(c - 0.02, 0.95 * top, name, ha="right", va="top", fontsize=9)
    ax.axvline(-(5 / 32) ** 0.5, color="tab:red", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\cos\beta$")
    ax.set_ylabel(r"$M_{Z'}$ [GeV]")
    ax.set_title("90% CL excluded (shaded)")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def traced_plane_figure(path, branches: dict, mass_range_gev):
    """Traced Delta chi^2 = level contours in the (cos beta, M_Z') plane, one colour per entry of ``branches``
    ({label: sequence of (n, 2) arrays of (cos beta, M [GeV])})."""
    fig, ax = _subplots(figsize=(6.4, 4.4), dpi=120)
    colours = _colour_cycle()
    for i, (label, lines) in enumerate(branches.items()):
        for j, ln in enumerate(lines):
            ax.plot(ln[:, 0], ln[:, 1], color=colours[i % len(colours)], lw=1.6, label=label if j == 0 else None)
    for name, c in ((r"$\chi$", 1.0), (r"$\psi$", 0.0), (r"$\eta$", (3 / 8) ** 0.5)):
        ax.axvline(c, color="0.5", lw=0.8, ls=":")
        ax.text(c - 0.02, 0.9 * mass_range_gev[1], name, ha="right", va="top", fontsize=9)
    ax.axvline(-(5 / 32) ** 0.5, color="tab:red", lw=0.8, ls="--")
    ax.set_xlim(-1, 1)
    ax.set_ylim(*mass_range_gev)
    ax.set_yscale("log")
    ax.set_xlabel(r"$\cos\beta$")
    ax.set_ylabel(r"$M_{Z'}$ [GeV]")
    ax.set_title(r"90% CL contour, traced ($\Delta\chi^2$ = 2.71)")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)
