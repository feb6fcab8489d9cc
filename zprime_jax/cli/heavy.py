"""``zprime-jax mass-limit``, ``limit-scan`` and ``e6-plane``: heavy Z' models (lr, E6)."""

from __future__ import annotations

from pathlib import Path

from .options import (
    UsageError,
    _cos_beta,
    _experiments,
    _float_list,
    _grid_shape,
    _load,
    _model,
    _pair,
    _write_csv,
    add_common,
    delta_chi2_for_cl,
)


def _heavy_common(sp, model=True):
    """The options shared by the heavy-Z' commands."""
    sp.add_argument("--experiment", action="append", required=True,
                    help="preset name or .toml path; repeat to combine (chi^2 summed); "
                    "'combined-cevns-nue' = coherent-csi + connie + cr51-lxe-c (sec. 4.3)")
    if model:
        sp.add_argument("--model", required=True, help="lr, e6-chi, e6-eta, e6-psi or e6")
        sp.add_argument("--cos-beta", type=float, help="cos beta for --model e6")
        sp.add_argument("--beta", type=float, help="beta [rad] in [0, pi] for --model e6")
        sp.add_argument("--lr-electron-reading", choices=["as-printed", "nc-only"],
                        help="eq. 10 for nu-e with --model lr (default as-printed; docs/conventions.md)")
    sp.add_argument("--cl", type=float, default=0.9)
    sp.add_argument("--delta-chi2", type=float, help="override the Delta chi^2 level")
    sp.add_argument("--chi2", choices=["coherent-2017", "projection", "projection-alt"],
                    help="chi^2 form (default: the preset's own)")
    sp.add_argument("--sigma-stat", type=float, help="sigma_stat of eq. 22 (default 0.2; CEvNS only)")
    sp.add_argument("--sigma-sys", type=float, help="sigma_sys of eq. 22 (default 0.2; CEvNS only)")
    sp.add_argument("--luminosity-ratio", type=float, help="F'/F (default 1)")
    sp.add_argument("--mass-range-gev", default="10,100000", help="LO,HI of the mass scan")
    sp.add_argument("--sin2w", type=float)
    sp.add_argument("--out", help="folder for plots and CSV")


def register(subparsers) -> None:
    """Add the ``mass-limit``, ``limit-scan`` and ``e6-plane`` subcommands."""
    sp = subparsers.add_parser("mass-limit", help="lower limit on a heavy Z' mass (heavy-Z' paper Table III)")
    add_common(sp)
    _heavy_common(sp)
    sp.add_argument("--separate", action="store_true",
                    help="with --out, plot each --experiment alone without the combined curve (Fig. 4: A, B, C)")
    sp.set_defaults(func=cmd_mass_limit)

    sp = subparsers.add_parser("limit-scan", help="mass limit versus uncertainty or luminosity (Figs. 2, 3)")
    add_common(sp)
    _heavy_common(sp)
    sp.add_argument("--parameter", choices=["uncertainty", "luminosity"], required=True)
    sp.add_argument("--values", required=True, help="comma-separated sigma_stat = sigma_sys or F'/F values")
    sp.add_argument("--combined", action="store_true",
                    help="also the combined analysis of all --experiment (chi^2 summed; Fig. 6)")
    sp.set_defaults(func=cmd_limit_scan)

    sp = subparsers.add_parser("e6-plane", help="90%% CL region in the (cos beta, M_Z') plane (Fig. 5)")
    add_common(sp)
    _heavy_common(sp, model=False)
    sp.add_argument("--grid", default="201,201", help="NC,NM grid in cos beta and log M")
    sp.add_argument("--separate", action="store_true",
                    help="one region per --experiment, overlaid (Fig. 5 right: A, B, C), instead of combining")
    sp.add_argument("--method", choices=["grid", "trace"], default="grid",
                    help="a vmapped Delta chi^2 grid (default) or gradient-based tracing of the contour")
    sp.set_defaults(func=cmd_e6_plane, model="e6", cos_beta=None, beta=None)


def _heavy_setup(args):
    """Model, cos beta, experiment names and their measurements for heavy-Z' commands."""
    from ..inference import heavy
    from ..kernels.rates import RateKernel, build_kernel
    from ..physics.models import HEAVY_MODELS

    model = _model(args)
    if model.name not in HEAVY_MODELS:
        raise UsageError(f"--model: must be one of {HEAVY_MODELS}, got {model.name!r}")
    cb = _cos_beta(args)
    if model.name == "e6" and cb is None and not getattr(args, "plane", False):
        raise UsageError("--cos-beta (or --beta): required for --model e6")
    names = _experiments(args.experiment)
    if args.luminosity_ratio is not None and not args.luminosity_ratio > 0:
        raise UsageError(f"--luminosity-ratio: must be > 0, got {args.luminosity_ratio}")
    for opt in ("sigma_stat", "sigma_sys"):
        v = getattr(args, opt)
        if v is not None and not v >= 0:
            raise UsageError(f"--{opt.replace('_', '-')}: must be >= 0, got {v}")
    kernels = {n: build_kernel(_load(n)) for n in names}
    # --chi2/--sigma-* set the CEvNS total-count chi^2 (eqs. 21-22); nu-e keeps eq. 23
    cevns = {n for n, k in kernels.items() if isinstance(k, RateKernel)}
    if not cevns and (args.chi2 or args.sigma_stat is not None or args.sigma_sys is not None):
        raise UsageError("--chi2, --sigma-stat, --sigma-sys: set the CEvNS chi^2 (eqs. 21-22); "
                         f"{', '.join(names)} use eq. 23 only")
    ms = {n: heavy.measurement(k, form=args.chi2 if n in cevns else None,
                               sigma_stat=args.sigma_stat if n in cevns else None,
                               sigma_sys=args.sigma_sys if n in cevns else None,
                               luminosity_ratio=args.luminosity_ratio or 1.0, model=model)
          for n, k in kernels.items()}
    level = args.delta_chi2 if args.delta_chi2 is not None else delta_chi2_for_cl(args.cl)
    mass_range = _pair(args.mass_range_gev, "--mass-range-gev")
    return model, (0.0 if cb is None else cb), names, ms, level, mass_range


def cmd_mass_limit(args):
    from ..inference import heavy

    model, cb, names, ms, level, mass_range = _heavy_setup(args)
    res = heavy.mass_limit(tuple(ms.values()), model, cb, level=level, mass_range_gev=mass_range)
    out = {"model": model.name, "cl": args.cl, "delta_chi2": level, "mass_limit_gev": res["mass_limit_gev"],
           "experiments": names, "cos_beta": cb if model.name == "e6" else None,
           "chi2_forms": {n: m.likelihood.form for n, m in ms.items()},
           "likelihoods": {n: m.likelihood.form for n, m in ms.items()}}
    if res["above_range"]:
        out["warnings"] = [f"excluded up to the top of the mass range {mass_range[1]} GeV"]
    per = {}
    if len(names) > 1 or args.out:
        per = {n: heavy.mass_limit((m,), model, cb, level=level, mass_range_gev=mass_range) for n, m in ms.items()}
        out["per_experiment"] = {n: r["mass_limit_gev"] for n, r in per.items()}
    if args.out:
        from ..plotting import mass_profile_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        curves = {n: (r["masses_gev"], r["delta_chi2"]) for n, r in per.items()}
        if len(names) > 1 and not args.separate:
            curves["combined"] = (res["masses_gev"], res["delta_chi2"])
        out["plot"] = str(mass_profile_figure(folder / f"mass_profile_{model.name}.png", model.name, curves, level))
        rows = [[f"{m:.8g}", *[f"{c[1][i]:.8g}" for c in curves.values()]]
                for i, m in enumerate(res["masses_gev"])]
        out["csv"] = _write_csv(folder / f"mass_profile_{model.name}.csv", ["mass_gev", *curves], rows)
    if not args.json:
        lim = out["mass_limit_gev"]
        print(f"{model.name}: {100 * args.cl:.0f}% CL lower limit on M_Z' "
              f"{'none (no sensitivity)' if lim is None else f'{lim:.1f} GeV'} ({', '.join(names)})")
        for n, v in out.get("per_experiment", {}).items():
            print(f"  {n:<14} {'-' if v is None else f'{v:.1f} GeV'}")
    return out


def cmd_limit_scan(args):
    from ..inference import heavy

    model, cb, names, ms, level, mass_range = _heavy_setup(args)
    values = _float_list(args.values, "--values")
    smallest_ok = 0.0 if args.parameter == "uncertainty" else None
    if any(not (v >= 0 if smallest_ok == 0.0 else v > 0) for v in values):
        raise UsageError(f"--values: every value must be {'>= 0' if smallest_ok == 0.0 else '> 0'}, got {values}")
    groups = {n: (m,) for n, m in ms.items()}
    if args.combined:
        if len(ms) < 2:
            raise UsageError("--combined: needs at least two --experiment")
        groups["combined"] = tuple(ms.values())
    limits = {}
    for n, group in groups.items():
        row = []
        for v in values:
            mm = heavy.with_uncertainty(group, v) if args.parameter == "uncertainty" else \
                heavy.with_luminosity(group, v)
            row.append(heavy.mass_limit(mm, model, cb, level=level, mass_range_gev=mass_range)["mass_limit_gev"])
        limits[n] = row
    out = {"model": model.name, "parameter": args.parameter, "values": values, "mass_limit_gev": limits,
           "cl": args.cl, "delta_chi2": level}
    if args.out:
        from ..plotting import limit_scan_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        out["plot"] = str(limit_scan_figure(folder / f"limit_vs_{args.parameter}_{model.name}.png",
                                            model.name, args.parameter, values, limits))
        out["csv"] = _write_csv(folder / f"limit_vs_{args.parameter}_{model.name}.csv", [args.parameter, *limits],
                                [[v, *["" if limits[n][i] is None else limits[n][i] for n in limits]]
                                 for i, v in enumerate(values)])
    if not args.json:
        for n, row in limits.items():
            print(f"{n:<14} " + "  ".join("-" if x is None else f"{x:.1f}" for x in row))
    return out


def cmd_e6_plane(args):
    import time

    import jax.numpy as jnp
    import numpy as np

    from ..inference import heavy
    from ..physics.models import get_model

    args.model = "e6"
    args.plane = True
    model, _cb, names, ms, level, mass_range = _heavy_setup(args)
    nc, nm = _grid_shape(args.grid)
    cos_betas = np.linspace(-1.0, 1.0, nc)
    masses = np.logspace(*np.log10(mass_range), nm)
    if args.separate:
        groups = {n: (m,) for n, m in ms.items()}
    else:
        groups = {"+".join(names) if len(names) <= 3 else f"{len(names)} experiments": tuple(ms.values())}
    if args.method == "trace":
        return _e6_plane_traced(args, groups, names, level, mass_range)
    t0 = time.perf_counter()
    maps = {label: np.asarray(heavy.delta_chi2_plane(group, get_model("e6"), jnp.asarray(cos_betas),
                                                     jnp.asarray(masses)))
            for label, group in groups.items()}
    run_s = time.perf_counter() - t0

    def limits(d):
        """The mass limit at each cos beta: the largest excluded mass on the grid."""
        return [float(masses[np.nonzero(row)[0].max()]) if row.any() else None for row in d >= level]

    per = {label: limits(d) for label, d in maps.items()}
    out = {"model": "e6", "experiments": names, "cl": args.cl, "delta_chi2": level, "grid": [nc, nm],
           "cos_beta": cos_betas.tolist(), "seconds": run_s}
    if args.separate:
        out["mass_limit_gev"] = per
    else:
        out["mass_limit_gev"] = next(iter(per.values()))
    if args.out:
        from ..plotting import e6_plane_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        out["plot"] = str(e6_plane_figure(folder / "e6_plane.png", cos_betas, masses, maps, level))
        out["csv"] = _write_csv(folder / "e6_plane_limits.csv", ["cos_beta", *[f"mass_limit_gev:{k}" for k in per]],
                                [[c, *["" if per[k][i] is None else per[k][i] for k in per]]
                                 for i, c in enumerate(cos_betas)])
    if not args.json:
        for label, lim in per.items():
            print(f"E6 (cos beta, M) plane on {nc}x{nm} ({label}): strongest limit "
                  f"{max((x for x in lim if x), default=float('nan')):.0f} GeV")
        print(f"  {run_s:.2f} s")
    return out


def _e6_plane_traced(args, groups: dict, names, level: float, mass_range) -> dict:
    """e6-plane --method trace: the Delta chi^2 = level contour of each group by level-set tracing."""
    import numpy as np

    from ..inference import contours

    traces = {label: contours.trace_e6_plane(group, mass_range_gev=mass_range, level=level)
              for label, group in groups.items()}
    cos_betas = np.linspace(-0.995, 0.995, 201)
    out = {"model": "e6", "experiments": names, "cl": args.cl, "delta_chi2": level, "method": "trace",
           "cos_beta": cos_betas.tolist(),
           "trace": {label: {"branches": t.n_branches, "evaluations": t.n_evaluations,
                             "closed": [bool(c) for c in t.closed], "wall_s": t.trace.wall_s}
                     for label, t in traces.items()}}
    # the mass limit at each cos beta: the largest crossing of the traced contour
    limits = {label: [float(c.max()) if c.size else None for c in t.crossings(cos_betas)]
              for label, t in traces.items()}
    out["mass_limit_gev"] = limits if args.separate else next(iter(limits.values()))
    if args.out:
        from ..plotting import traced_plane_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        out["plot"] = str(traced_plane_figure(folder / "e6_plane_traced.png",
                                              {label: t.branches for label, t in traces.items()}, mass_range))
        rows = [[label, i, f"{c:.10g}", f"{m:.8g}"] for label, t in traces.items()
                for i, b in enumerate(t.branches) for c, m in b]
        out["csv"] = _write_csv(folder / "e6_plane_contour.csv", ["experiments", "branch", "cos_beta", "mass_gev"],
                                rows)
    if not args.json:
        for label, t in traces.items():
            print(f"E6 (cos beta, M) contour ({label}): {t.n_branches} branches, {t.n_evaluations} chi^2 "
                  f"evaluations, strongest limit {max((x for x in limits[label] if x), default=float('nan')):.0f} GeV")
    return out
