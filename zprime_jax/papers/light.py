"""Light-mediator paper (Bertuzzo, Grilli di Cortona, Magno Dantas Ramos, arXiv:2112.04020), Figs. 1-5.

Fig. 1: SM CEvNS events in nuBDX-DRIFT versus the CS2 pressure. Figs. 2-5: the 90% CL
(m_Z', g_Z') sensitivity of nuBDX-DRIFT (at the paper's two pressures) and of the six ESS
detectors, traced as level sets of Delta chi^2 (universal Z', B-L twice, L_mu - L_tau).
Each figure function takes the run :class:`~.context.Context` and returns its JSON summary.
"""

from __future__ import annotations

import numpy as np

from . import published
from .context import CL90, Context, cell, num, stem
from .overlays import draw_overlays, overlays_for
from .plots import new_figure, plain_log_ticks, style

ESS = ("ess-csi", "ess-si", "ess-xe", "ess-ge", "ess-ar", "ess-c3f8")
# Light-mediator paper, sec. 4.1: CsI (blue), Ge (purple), Si (orange), Ar (green), Xe (red), C3F8 (brown);
# nuBDX-DRIFT at 60 Torr (blue) and 411 Torr (orange), in published.numbers("light", "drift_figure_pressures_torr").
ESS_COLOURS = {"ess-csi": "tab:blue", "ess-ge": "tab:purple", "ess-si": "tab:orange", "ess-ar": "tab:green",
               "ess-xe": "tab:red", "ess-c3f8": "tab:brown"}
ESS_LABELS = {"ess-csi": "CsI", "ess-ge": "Ge", "ess-si": "Si", "ess-ar": "Ar", "ess-xe": "Xe",
              "ess-c3f8": r"C$_3$F$_8$"}
DRIFT_COLOURS = ("tab:blue", "tab:orange")         # the lower and the higher of the paper's two pressures
LIGHT_TITLES = {"universal": r"universal $Z'$", "b-l": r"$B-L$", "lmu-ltau": r"$L_\mu-L_\tau$"}
# (m_Z' [MeV], g) ranges of the light-mediator planes
LIGHT_RANGES = {"universal": ((1.0, 1.0e5), (1.0e-6, 1.0)), "b-l": ((1.0, 1.0e5), (1.0e-6, 1.0)),
                "lmu-ltau": ((1.0, 1.0e4), (1.0e-5, 1.0))}
LIGHT_KEY_MASSES_MEV = (1.0, 10.0, 100.0, 1000.0)


def drift_pressures() -> dict[float, str]:
    """{pressure [Torr]: colour} of the nuBDX-DRIFT curves of Figs. 2-5 (the paper's 60 and 411 Torr)."""
    return dict(zip(published.numbers("light", "drift_figure_pressures_torr"), DRIFT_COLOURS, strict=True))


def light_fig1(ctx: Context) -> dict:
    """SM CEvNS events in nuBDX-DRIFT versus pressure (7 years), carbon and sulfur parts, no recoil cut."""
    from ..design import pressure
    from ..spec import load_experiment

    # Fig. 1 has no cut on the maximum recoil energy: 100 MeV stands in for none (as `pressure-scan
    # --no-window-cut`; the Helm form factor makes recoils above a few MeV negligible).
    spec = load_experiment("nubdx-drift", window_max_kev=1.0e5)
    p = np.geomspace(1.0, 1000.0, ctx.settings.pressure_points)
    ctx.progress.step("SM counts versus pressure")
    res = pressure.pressure_scan(spec, p)
    max_events = float(np.sum(np.asarray(pressure.sm_events(res["max_torr"], spec))))
    fig, axes = new_figure(width=6.4, height=4.6)
    ax = axes[0, 0]
    ax.plot(p, res["total"], color="black", lw=1.8, label=r"total: C + 2 S per CS$_2$")
    names = {"C12": ("tab:blue", "carbon"), "S32": ("tab:orange", "sulfur (2 per CS$_2$)")}
    for t, counts in res["by_target"].items():
        colour, label = names.get(t, (None, t))
        ax.plot(p, counts, color=colour, lw=1.4, label=label)
    if res["crossover_torr"]:
        ax.axvline(res["crossover_torr"], color="0.55", lw=1.2,
                   label=f"carbon overtakes sulfur: {res['crossover_torr']:.0f} Torr")
    ax.plot([res["max_torr"]], [max_events], "v", color="tab:red", ms=6,
            label=f"maximum: {res['max_torr']:.1f} Torr, {max_events:.1f} events")
    style(ax, logx=True, logy=False)
    plain_log_ticks(ax, "x", subs=(1.0,))
    ax.set_xlim(p[0], p[-1])
    ax.set_ylim(0, 1.1 * float(np.max(res["total"])))
    ax.set_xlabel("CS$_2$ pressure [Torr]")
    ax.set_ylabel(r"SM CE$\nu$NS events (7 years)")
    ax.set_title(r"$\nu$BDX-DRIFT, 10 m$^3$ CS$_2$, no recoil-energy cut", fontsize=10)
    fig.suptitle(f"{published.citation('light')}, Fig. 1", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    files = [ctx.save(fig, "light_fig1.png"),
             ctx.write_columns("light_fig1.csv", "pressure_torr", p,
                               {k: np.asarray(v, dtype=float) for k, v in {"total": res["total"],
                                                                           **res["by_target"]}.items()})]
    return {"files": files, "max_torr": num(res["max_torr"]), "max_sm_events": num(max_events),
            "crossover_torr": num(res["crossover_torr"])}


def _light_contour(ctx: Context, name: str, model_name: str, pressure_torr: float | None = None):
    """The traced 90% CL contour of one detector for a light model (cached: Figs. 3 and 4 share B-L).

    :func:`contours.trace_sensitivity` follows every branch of Delta chi^2 = 2.71, the thin blind-spot
    strip included (a grid would need ~10^3 couplings per decade to resolve it).
    """
    def make():
        from ..inference import contours
        from ..likelihood import asimov_measurement
        from ..physics.models import get_model

        overrides = {} if pressure_torr is None else {"pressure_torr": float(pressure_torr)}
        kernel = ctx.kernel(name, **overrides)
        m_range, g_range = LIGHT_RANGES[model_name]
        return contours.trace_sensitivity((asimov_measurement(kernel),), get_model(model_name),
                                          mass_range_mev=m_range, coupling_range=g_range, level=CL90,
                                          samples=ctx.settings.trace_samples)

    return ctx.cached(("light-contour", name, model_name, pressure_torr), make)


def _first_crossing(contour, mass_mev: float):
    """Smallest excluded coupling at ``mass_mev`` (the lowest crossing of the traced contour); None if none."""
    c = contour.crossings([mass_mev])[0]
    return float(c[0]) if c.size else None


def _light_sensitivity(ctx: Context, fig_name: str, number: int, model_name: str, note: str = "") -> dict:
    """Figs. 2-5: nuBDX-DRIFT (left) and ESS (right) 90% CL contours of ``model_name``, with overlays."""
    (m_lo, m_hi), (g_lo, g_hi) = LIGHT_RANGES[model_name]
    panels = {
        "drift": [(f"{p:.0f} Torr", "nubdx-drift", p, colour) for p, colour in drift_pressures().items()],
        "ess": [(ESS_LABELS[n], n, None, ESS_COLOURS[n]) for n in ESS],
    }
    fig, axes = new_figure(ncols=2, width=12.0, height=5.0)
    rows, limits, traces = [], {}, {}
    for ax, (panel, entries) in zip(axes[0], panels.items()):
        for label, name, pressure_torr, colour in entries:
            ctx.progress.step(f"{name}{'' if pressure_torr is None else f' at {pressure_torr:.0f} Torr'}")
            key = name if pressure_torr is None else f"{name}@{pressure_torr:g}torr"
            traced = _light_contour(ctx, name, model_name, pressure_torr)
            for i, ln in enumerate(traced.branches):
                # CsI and Xe nearly coincide: CsI drawn wider underneath so that both stay visible
                ax.plot(ln[:, 0], ln[:, 1], color=colour, lw=2.6 if name == "ess-csi" else 1.5,
                        label=label if i == 0 else None, zorder=3)
                rows += [[panel, key, i, cell(m), cell(g)] for m, g in ln]
            limits[key] = {f"{m:g}": num(_first_crossing(traced, m), 4) for m in LIGHT_KEY_MASSES_MEV
                           if m_lo <= m <= m_hi}
            traces[key] = {"branches": traced.n_branches, "evaluations": traced.n_evaluations,
                           "converged": bool(traced.converged)}
        draw_overlays(ax, ctx.overlays, fig_name)
        style(ax)
        ax.set_xlim(m_lo, m_hi)
        ax.set_ylim(g_lo, g_hi)
        ax.set_xlabel(r"$m_{Z'}$ [MeV]")
        ax.set_ylabel(r"$g_{Z'}$")
        ax.set_title(r"$\nu$BDX-DRIFT (CS$_2$, 10 m$^3$, 7 years)" if panel == "drift"
                     else "ESS (20 m, 3 years)", fontsize=10)
        ax.legend(fontsize=8, loc="lower right", title="90% CL", title_fontsize=8)
    fig.suptitle(f"{published.citation('light')}, Fig. {number}: {LIGHT_TITLES[model_name]}, "
                 f"90% CL sensitivity{note}", fontsize=11)
    files = [ctx.save(fig, f"{stem(fig_name)}.png"),
             ctx.write_csv(f"{stem(fig_name)}.csv", ["panel", "experiment", "branch", "mass_mev", "coupling"], rows)]
    return {"files": files, "model": model_name, "delta_chi2": CL90,
            "coupling_limit_at_mass_mev": limits, "trace": traces,
            "overlays": sorted({o.label for o in overlays_for(ctx.overlays, fig_name)})}


def light_fig2(ctx: Context) -> dict:
    """Universal Z': 90% CL (m, g) sensitivity of nuBDX-DRIFT at 60 and 411 Torr and of the six ESS detectors."""
    return _light_sensitivity(ctx, "light-fig2", 2, "universal")


def light_fig3(ctx: Context) -> dict:
    """B-L: 90% CL (m, g) sensitivity of nuBDX-DRIFT (60, 411 Torr) and the ESS detectors (visible-decay bounds)."""
    return _light_sensitivity(ctx, "light-fig3", 3, "b-l")


def light_fig4(ctx: Context) -> dict:
    """B-L: the same sensitivities as Fig. 3, for comparison with invisible-decay bounds (--overlay)."""
    return _light_sensitivity(ctx, "light-fig4", 4, "b-l", note=" (bounds for invisible decays: --overlay)")


def light_fig5(ctx: Context) -> dict:
    """L_mu - L_tau: 90% CL (m, g) sensitivity of nuBDX-DRIFT (60, 411 Torr) and the six ESS detectors."""
    return _light_sensitivity(ctx, "light-fig5", 5, "lmu-ltau")
