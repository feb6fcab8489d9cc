"""Heavy-Z' paper (Miranda, Papoulias, Tortola, Valle, arXiv:2002.01482), Figs. 1-4, and the shared parts.

Fig. 1: Delta chi^2(M_Z') of each CEvNS experiment; Figs. 2 and 3: the 90% CL mass limit
versus sigma_stat = sigma_sys and versus the luminosity ratio; Fig. 4: 51Cr-LXe nu-e
Delta chi^2(M_Z'). Figs. 1-3 share one layout (:func:`_lr_e6_grid`): SNS left, reactors
right, LR lines on top, E6 chi and eta bands below. :func:`cached_mass_limit` (one
``heavy.mass_limit`` per experiments, model and setting, shared by every figure and Table III),
:func:`mass_profile_panel` and :func:`e6_band` serve Figs. 5, 6 and Table III too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import published
from .context import CL90, Context, num, stem
from .plots import draw_band, empty_panel, nan_for_none, new_figure, plain_log_ticks, style

SNS = ("coherent-csi", "coherent-lar", "coherent-ge", "coherent-nai")
REACTORS = ("conus", "connie", "miner", "texono", "red100", "nucleus", "ricochet")
CR51 = ("cr51-lxe-a", "cr51-lxe-b", "cr51-lxe-c")
HEAVY_LABELS = {"coherent-csi": "COHERENT CsI", "coherent-lar": "COHERENT LAr", "coherent-ge": "COHERENT Ge",
                "coherent-nai": "COHERENT NaI", "conus": "CONUS", "connie": "CONNIE", "miner": "MINER",
                "texono": "TEXONO", "red100": "RED100", "nucleus": "NUCLEUS", "ricochet": "RICOCHET",
                "cr51-lxe-a": r"$^{51}$Cr-LXe A", "cr51-lxe-b": r"$^{51}$Cr-LXe B",
                "cr51-lxe-c": r"$^{51}$Cr-LXe C"}
HEAVY_COLOURS = {"coherent-csi": "tab:blue", "coherent-lar": "tab:orange", "coherent-ge": "tab:green",
                 "coherent-nai": "tab:red", "conus": "tab:blue", "connie": "tab:orange", "miner": "tab:green",
                 "texono": "tab:red", "red100": "tab:purple", "nucleus": "tab:brown", "ricochet": "tab:pink",
                 "cr51-lxe-a": "tab:blue", "cr51-lxe-b": "tab:orange", "cr51-lxe-c": "tab:green"}
HEAVY_MODEL_LABELS = {"lr": "LR", "e6-chi": r"$\chi$", "e6-eta": r"$\eta$", "e6-psi": r"$\psi$"}
# heavy-Z' paper: chi red band, eta gray band (Fig. 1); Fig. 4 text: chi dashed, eta solid, psi dotted
E6_BAND_COLOURS = {"e6-chi": "tab:red", "e6-eta": "0.45"}
E6_LINESTYLES = {"e6-chi": "--", "e6-eta": "-", "e6-psi": ":"}


def heavy_measurements(ctx: Context, names, form: str | None = None):
    """heavy.measurement of each experiment (``form`` applies to the CEvNS ones; None: the preset's own)."""
    from ..inference import heavy
    from ..kernels.electron import ElectronKernel

    def one(n):
        k = ctx.kernel(n)
        return heavy.measurement(k, form=None if isinstance(k, ElectronKernel) else form)

    return tuple(ctx.cached(("measurement", n, form), lambda n=n: one(n)) for n in names)


def cached_mass_limit(ctx: Context, names, model_name: str, cos_beta: float = 0.0, form: str | None = None,
                      sigma: float | None = None, luminosity: float | None = None) -> dict:
    """heavy.mass_limit of the experiments ``names`` (chi^2 summed), once per run."""
    def make():
        from ..inference import heavy
        from ..physics.models import get_model

        ms = heavy_measurements(ctx, names, form)
        if sigma is not None:
            ms = heavy.with_uncertainty(ms, sigma)
        if luminosity is not None:
            ms = heavy.with_luminosity(ms, luminosity)
        return heavy.mass_limit(ms, get_model(model_name), cos_beta, level=CL90)

    return ctx.cached(("mass-limit", tuple(names), model_name, float(cos_beta), form, sigma, luminosity), make)


def limit_gev(ctx: Context, names, model_name: str, **kw) -> float | None:
    """The 90% CL mass limit [GeV] of :func:`cached_mass_limit` (None: no sensitivity)."""
    return cached_mass_limit(ctx, names, model_name, **kw)["mass_limit_gev"]


def heavy_groups(ctx: Context) -> dict[str, list[str]]:
    return {"SNS": ctx.pick(SNS), "reactors": ctx.pick(REACTORS)}


def mass_profile_panel(ax, *, empty: bool, mass_range_gev, title: str, cl_label=None,
                       ylabel=r"$\Delta\chi^2$", legend_fontsize=7.5, ncol=1) -> None:
    """Axes of a Delta chi^2(M_Z') panel (heavy Figs. 1, 4, 6): 90% CL line, log M [GeV], Delta chi^2 0-8."""
    if empty:
        empty_panel(ax)
    ax.axhline(CL90, color="0.3", lw=0.9, ls=":", label=cl_label)
    style(ax, logx=True, logy=False)
    plain_log_ticks(ax, "x")
    ax.set_xlim(*mass_range_gev)
    ax.set_ylim(0.0, 8.0)
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=legend_fontsize, loc="upper right", ncol=ncol)


def e6_band(ax, x, rows, model_name: str) -> None:
    """Shade the E6 band of one model (pointwise min to max over the experiments' ``rows``) with its edges."""
    draw_band(ax, x, rows, E6_BAND_COLOURS[model_name],
              f"E$_6$ {HEAVY_MODEL_LABELS[model_name]} ({len(rows)} experiments)", edge_lw=0.8)


def _lr_e6_grid(ctx: Context, curve: Callable, lr_style: dict):
    """The 2 x 2 layout of Figs. 1-3: SNS (left) and reactor (right) experiments, LR (top), E6 (bottom).

    ``curve(experiment, model) -> (x, y)``; LR: one line per experiment (``lr_style`` added to its
    plot options); E6 chi and eta: the band over the experiments. Returns (figure, panels, curves, x):
    panels = [(axes, title, experiments)], curves = {(model, experiment): y} in drawing order, x the
    last abscissa (None when no experiment is selected).
    """
    fig, axes = new_figure(ncols=2, nrows=2, width=12.0, height=9.0)
    panels, curves, x = [], {}, None
    for col, (group, names) in enumerate(heavy_groups(ctx).items()):
        ax_lr, ax_e6 = axes[0, col], axes[1, col]
        for n in names:
            ctx.progress.step(f"LR, {n}")
            x, y = curve(n, "lr")
            curves[("lr", n)] = y
            ax_lr.plot(x, nan_for_none(y), color=HEAVY_COLOURS[n], lw=1.5, label=HEAVY_LABELS[n], **lr_style)
        for model_name in ("e6-chi", "e6-eta"):
            rows = []
            for n in names:
                ctx.progress.step(f"{model_name}, {n}")
                x, y = curve(n, model_name)
                curves[(model_name, n)] = y
                rows.append(y)
            if rows:
                e6_band(ax_e6, x, rows, model_name)
        where = "SNS (COHERENT)" if group == "SNS" else "reactors"
        panels += [(ax_lr, f"Left-Right, {where}", names), (ax_e6, f"E$_6$ $\\chi$ and $\\eta$, {where}", names)]
    return fig, panels, curves, x


def heavy_fig1(ctx: Context) -> dict:
    """Delta chi^2(M_Z') of each CEvNS experiment: LR (top) and E6 chi/eta bands (bottom); SNS left, reactors right."""
    def curve(n, model_name):
        r = cached_mass_limit(ctx, (n,), model_name)
        return r["masses_gev"], r["delta_chi2"]

    fig, panels, curves, masses = _lr_e6_grid(ctx, curve, {})
    for ax, title, names in panels:
        mass_profile_panel(ax, empty=not names, mass_range_gev=(30.0, 1000.0), title=title,
                           cl_label=r"90% CL ($\Delta\chi^2$ = 2.71)")
    fig.suptitle(rf"{published.citation('heavy')}, Fig. 1: $\Delta\chi^2$ profiles of $M_{{Z'}}$ from CE$\nu$NS",
                 fontsize=11)
    limits: dict = {}
    for model_name, n in curves:
        limits.setdefault(model_name, {})[n] = num(limit_gev(ctx, (n,), model_name), 5)
    files = [ctx.save(fig, "heavy_fig1.png")]
    if masses is not None:
        files.append(ctx.write_columns("heavy_fig1.csv", "mass_gev", masses,
                                       {f"{m}:{n}": c for (m, n), c in curves.items()}))
    return {"files": files, "delta_chi2": CL90, "mass_limit_gev": limits}


def _limit_scan_figure(ctx: Context, fig_name: str, number: int, parameter: str, values) -> dict:
    """Heavy Figs. 2 and 3: the mass limit versus sigma_stat = sigma_sys or F'/F (LR lines, E6 chi/eta bands)."""
    values = list(values)
    uncertainty = parameter == "uncertainty"
    xs = np.asarray(values) * (100.0 if uncertainty else 1.0)
    fig3_sigma = published.number("heavy", "fig3_sigma")

    def curve(n, model_name):
        if uncertainty:
            row = [limit_gev(ctx, (n,), model_name, form="projection", sigma=v) for v in values]
        else:
            row = [limit_gev(ctx, (n,), model_name, form="projection", sigma=fig3_sigma, luminosity=v)
                   for v in values]
        return xs, row

    fig, panels, curves, _ = _lr_e6_grid(ctx, curve, {"marker": "o", "ms": 2.5})
    for ax, title, names in panels:
        if not names:
            empty_panel(ax)
        if uncertainty:
            style(ax, logx=False, logy=True)
            plain_log_ticks(ax, "y")
            ax.set_xlim(0.0, 100.0 * max(values))
            ax.set_xlabel(r"$\sigma_{\rm stat} = \sigma_{\rm sys}$ [%]")
        else:
            style(ax, logx=True, logy=True)
            plain_log_ticks(ax, "x", subs=(1.0, 3.0))
            plain_log_ticks(ax, "y")
            ax.set_xlim(min(values), max(values))
            ax.set_xlabel(r"luminosity ratio $\mathcal{F}'/\mathcal{F}$")
        ax.set_ylabel(r"90% CL sensitivity on $M_{Z'}$ [GeV]")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7.5, loc="upper right" if uncertainty else "lower right")
    what = (r"versus $\sigma_{\rm stat} = \sigma_{\rm sys}$" if uncertainty
            else rf"versus luminosity ($\sigma_{{\rm stat}} = \sigma_{{\rm sys}}$ = {100 * fig3_sigma:.0f}%)")
    fig.suptitle(f"{published.citation('heavy')}, Fig. {number}: 90% CL sensitivity on $M_{{Z'}}$ {what}",
                 fontsize=11)
    table: dict = {}
    for (model_name, n), row in curves.items():
        table.setdefault(model_name, {})[n] = [num(x, 5) for x in row]
    xname = "sigma" if uncertainty else "luminosity_ratio"
    files = [ctx.save(fig, f"{stem(fig_name)}.png"),
             ctx.write_columns(f"{stem(fig_name)}.csv", xname, values,
                               {f"{m}:{n}": row for m, per in table.items() for n, row in per.items()})]
    return {"files": files, xname: values, "mass_limit_gev": table,
            "chi2": "eq. 22 for every experiment (COHERENT CsI as a projection)"}


def heavy_fig2(ctx: Context) -> dict:
    """Mass limit versus sigma_stat = sigma_sys (eq. 22; COHERENT CsI as a projection): LR and E6 chi/eta bands."""
    return _limit_scan_figure(ctx, "heavy-fig2", 2, "uncertainty", ctx.settings.sigmas)


def heavy_fig3(ctx: Context) -> dict:
    """Mass limit versus the luminosity ratio F'/F at sigma_stat = sigma_sys = 5%: LR and E6 chi/eta bands."""
    return _limit_scan_figure(ctx, "heavy-fig3", 3, "luminosity", ctx.settings.luminosity_ratios)


def heavy_fig4(ctx: Context) -> dict:
    """51Cr-LXe nu-e scattering, configurations A, B, C: Delta chi^2(M_Z') for LR (left) and E6 chi/eta/psi (right)."""
    names = ctx.pick(CR51)
    fig, axes = new_figure(ncols=2, width=12.0, height=5.0)
    columns, limits = {}, {}
    masses = None
    for ax, models in zip(axes[0], (("lr",), ("e6-chi", "e6-eta", "e6-psi"))):
        for model_name in models:
            for n in names:
                ctx.progress.step(f"{model_name}, {n}")
                r = cached_mass_limit(ctx, (n,), model_name)
                masses = r["masses_gev"]
                ls = "-" if model_name == "lr" else E6_LINESTYLES[model_name]
                tag = n[-1].upper()
                label = f"{tag}" if model_name == "lr" else f"{HEAVY_MODEL_LABELS[model_name]}, {tag}"
                ax.plot(masses, r["delta_chi2"], color=HEAVY_COLOURS[n], ls=ls, lw=1.5, label=label)
                columns[f"{model_name}:{n}"] = r["delta_chi2"]
                limits.setdefault(model_name, {})[n] = num(r["mass_limit_gev"], 5)
        mass_profile_panel(ax, empty=not names, mass_range_gev=(100.0, 2000.0), cl_label=r"90% CL",
                           title="Left-Right" if models == ("lr",) else
                           r"E$_6$: $\chi$ dashed, $\eta$ solid, $\psi$ dotted",
                           ncol=1 if models == ("lr",) else 2)
    fig.suptitle(rf"{published.citation('heavy')}, Fig. 4: $\nu_e$-$e$ scattering, $^{{51}}$Cr source + LXe "
                 "(A, B, C)", fontsize=11)
    files = [ctx.save(fig, "heavy_fig4.png")]
    if masses is not None:
        files.append(ctx.write_columns("heavy_fig4.csv", "mass_gev", masses, columns))
    return {"files": files, "delta_chi2": CL90, "mass_limit_gev": limits}
