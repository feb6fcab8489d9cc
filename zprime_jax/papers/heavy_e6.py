"""Heavy-Z' paper (arXiv:2002.01482), the E6 family: Fig. 5 (cos beta, M_Z') plane, Fig. 6 combined analysis.

Fig. 5: the 90% CL mass limit per cos beta of the E6 family, CEvNS experiments as SNS and
reactor bands (left) and 51Cr-LXe A, B, C (right). Fig. 6: COHERENT CsI + CONNIE + 51Cr-LXe C
combined (sec. 4.3), chi and eta, with the CEvNS uncertainties from 20% to zero.
"""

from __future__ import annotations

import math

import numpy as np

from . import published
from .context import FIG6_SIGMAS, Context, num
from .heavy import (
    CR51,
    E6_LINESTYLES,
    HEAVY_COLOURS,
    HEAVY_LABELS,
    HEAVY_MODEL_LABELS,
    cached_mass_limit,
    heavy_groups,
    limit_gev,
    mass_profile_panel,
)
from .plots import draw_band, empty_panel, nan_for_none, new_figure, plain_log_ticks, style

COMBINED = ("coherent-csi", "connie", "cr51-lxe-c")    # heavy-Z' paper sec. 4.3 (Fig. 6)
GROUP_COLOURS = {"SNS": "tab:blue", "reactors": "tab:green"}      # Fig. 5 left: SNS blue, reactors green


def _e6_markers(ax, top: float) -> None:
    """The chi, psi, eta models (cos beta = 1, 0, sqrt(3/8); sec. 4) as dotted lines."""
    for name, c in ((r"$\chi$", 1.0), (r"$\psi$", 0.0), (r"$\eta$", math.sqrt(3.0 / 8.0))):
        ax.axvline(c, color="0.5", lw=0.8, ls=":")
        ax.text(c - 0.015, 0.93 * top, name, ha="right", va="top", fontsize=9)


def heavy_fig5(ctx: Context) -> dict:
    """E6 (cos beta, M_Z') plane: 90% CL limit per cos beta; CEvNS SNS/reactor bands (left), 51Cr A, B, C (right)."""
    cos_betas = np.linspace(-1.0, 1.0, ctx.settings.cos_betas)
    groups = {**heavy_groups(ctx), "cr51": ctx.pick(CR51)}
    per: dict = {}
    for names in groups.values():
        for n in names:
            ctx.progress.step(f"e6 plane, {n}")
            per[n] = [limit_gev(ctx, (n,), "e6", cos_beta=float(cb)) for cb in cos_betas]
    fig, axes = new_figure(ncols=2, width=12.0, height=5.0)
    top = 3000.0
    ax = axes[0, 0]
    drawn = False
    for group in ("SNS", "reactors"):
        names = groups[group]
        if names:
            draw_band(ax, cos_betas, [per[n] for n in names], GROUP_COLOURS[group],
                      f"{'SNS (COHERENT)' if group == 'SNS' else 'reactors'}: {len(names)} experiments", edge_lw=0.9)
            drawn = True
    if not drawn:
        empty_panel(ax)
    ax.set_title(r"CE$\nu$NS: band = weakest to strongest experiment", fontsize=10)
    ax = axes[0, 1]
    for n in groups["cr51"]:
        ax.plot(cos_betas, np.asarray(nan_for_none(per[n])), color=HEAVY_COLOURS[n], lw=1.6,
                label=f"configuration {n[-1].upper()}")
    if not groups["cr51"]:
        empty_panel(ax)
    ax.axvline(-math.sqrt(5.0 / 32.0), color="tab:red", lw=0.8, ls="--",
               label=r"$\nu$-$e$ blind: $\cos\beta = -\sqrt{5/32}$")
    ax.set_title(r"$\nu_e$-$e$ scattering, $^{51}$Cr + LXe", fontsize=10)
    for ax in axes[0]:
        _e6_markers(ax, top)
        style(ax, logx=False, logy=True)
        plain_log_ticks(ax, "y")
        ax.set_xlim(-1.0, 1.0)
        ax.set_ylim(10.0, top)
        ax.set_xlabel(r"$\cos\beta$")
        ax.set_ylabel(r"$M_{Z'}$ [GeV]")
        ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle(rf"{published.citation('heavy')}, Fig. 5: E$_6$ models, 90% CL in the ($\cos\beta$, $M_{{Z'}}$) "
                 "plane (excluded below the curves, allowed above)", fontsize=11)
    files = [ctx.save(fig, "heavy_fig5.png"),
             ctx.write_columns("heavy_fig5.csv", "cos_beta", cos_betas,
                               {f"mass_limit_gev:{n}": v for n, v in per.items()})]
    strongest = {n: num(max((x for x in v if x is not None), default=None), 5) for n, v in per.items()}
    return {"files": files, "cos_beta_points": len(cos_betas), "strongest_mass_limit_gev": strongest}


def heavy_fig6(ctx: Context) -> dict:
    """Combined COHERENT CsI + CONNIE + 51Cr-LXe C, sigma_stat = sigma_sys from 20% to 0: E6 chi and eta."""
    names = ctx.pick(COMBINED)
    fig, axes = new_figure(ncols=2, width=12.0, height=5.0)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    ax = axes[0, 0]
    profiles: dict = {}
    masses = None
    for i, s in enumerate(FIG6_SIGMAS):
        colour = cmap(i / max(1, len(FIG6_SIGMAS) - 1) * 0.9)
        for model_name in ("e6-chi", "e6-eta"):
            if not names:
                continue
            ctx.progress.step(f"{model_name}, sigma = {s:g}")
            r = cached_mass_limit(ctx, tuple(names), model_name, form="projection", sigma=s)
            masses = r["masses_gev"]
            ax.plot(masses, r["delta_chi2"], color=colour, ls=E6_LINESTYLES[model_name], lw=1.4,
                    label=rf"{HEAVY_MODEL_LABELS[model_name]}, $\sigma$ = {100 * s:g}%")
            profiles[f"{model_name}:sigma={s:g}"] = r["delta_chi2"]
    mass_profile_panel(ax, empty=not names, mass_range_gev=(200.0, 3000.0),
                       title=r"combined $\Delta\chi^2$: $\chi$ dashed, $\eta$ solid",
                       ylabel=r"$\Delta\chi^2$ (combined)", legend_fontsize=7, ncol=2)

    ax = axes[0, 1]
    sigmas = list(ctx.settings.fig6_sigmas)
    xs = 100.0 * np.asarray(sigmas)
    scan_rows: dict = {}
    lines = [(n, HEAVY_COLOURS[n], HEAVY_LABELS[n], {"lw": 1.0, "alpha": 0.8}) for n in names]
    if len(names) > 1:
        lines.append(("combined", "black", "combined", {"lw": 2.2, "marker": "o", "ms": 3}))
    for model_name in ("e6-chi", "e6-eta"):
        for key, colour, label, kw in lines:
            ctx.progress.step(f"{model_name}, {key} versus sigma")
            which = tuple(names) if key == "combined" else (key,)
            row = [limit_gev(ctx, which, model_name, form="projection", sigma=s) for s in sigmas]
            scan_rows[f"{model_name}:{key}"] = row
            ax.plot(xs, nan_for_none(row), color=colour, ls=E6_LINESTYLES[model_name],
                    label=f"{HEAVY_MODEL_LABELS[model_name]}, {label}", **kw)
    if not names:
        empty_panel(ax)
    style(ax, logx=False, logy=True)
    plain_log_ticks(ax, "y")
    ax.set_xlim(0.0, 100.0 * max(sigmas))
    finite = [x for r in scan_rows.values() for x in r if x is not None]
    if finite:
        ax.set_ylim(0.8 * min(finite), 1.8 * max(finite))
    ax.set_xlabel(r"$\sigma_{\rm stat} = \sigma_{\rm sys}$ of the CE$\nu$NS experiments [%]")
    ax.set_ylabel(r"90% CL sensitivity on $M_{Z'}$ [GeV]")
    ax.set_title(r"limit versus uncertainty ($^{51}$Cr C unchanged)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    fig.suptitle(rf"{published.citation('heavy')}, Fig. 6: combined CE$\nu$NS + $\nu_e$-$e$ (COHERENT CsI + "
                 r"CONNIE + $^{51}$Cr-LXe C), E$_6$ $\chi$ and $\eta$", fontsize=11)
    files = [ctx.save(fig, "heavy_fig6.png")]
    if masses is not None:
        files.append(ctx.write_columns("heavy_fig6_profiles.csv", "mass_gev", masses, profiles))
    files.append(ctx.write_columns("heavy_fig6.csv", "sigma", sigmas, scan_rows))
    return {"files": files, "experiments": names, "sigma": sigmas,
            "mass_limit_gev": {k: [num(x, 5) for x in v] for k, v in scan_rows.items()},
            "chi2": "COHERENT CsI as an eq. 22 projection, CONNIE eq. 22, 51Cr C eq. 23 (unchanged)"}
