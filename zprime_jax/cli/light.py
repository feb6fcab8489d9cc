"""``zprime-jax sensitivity`` and ``zprime-jax posterior``: light Z' mediators in the (m_Z', g_Z') plane."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from .options import (
    UsageError,
    _check_pressure_used,
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


def register(subparsers) -> None:
    """Add the ``sensitivity`` and ``posterior`` subcommands."""
    sp = subparsers.add_parser("sensitivity", help="CL limits on the coupling versus mass")
    add_common(sp)
    sp.add_argument("--experiment", action="append",
                    help="preset name or .toml path; repeat to combine; 'ess-all' = six ESS detectors")
    sp.add_argument("--model", required=True)
    sp.add_argument("--masses-mev", default="1,3,10,30,100,300,1000")
    sp.add_argument("--cl", type=float, default=0.9)
    sp.add_argument("--delta-chi2", type=float, help="override the Delta chi^2 level")
    sp.add_argument("--coupling-range", default="1e-8,1", help="LO,HI of the coupling scan")
    sp.add_argument("--grid", help="NM,NG: Delta chi^2 map on a log grid (default 100,300 with --out)")
    sp.add_argument("--method", choices=["grid", "trace"], default="grid",
                    help="the exclusion contour from a Delta chi^2 grid (default) or by gradient-based level-set "
                         "tracing (zprime_jax.contours; every branch, far fewer chi^2 evaluations)")
    sp.add_argument("--data", action="append",
                    help="observed counts per bin (CSV or JSON), one per --experiment in the same order: an "
                         "exclusion relative to the best fit instead of the Asimov SM")
    sp.add_argument("--mass-range-mev", help="LO,HI of the grid in mass")
    sp.add_argument("--sin2w", type=float)
    sp.add_argument("--pressure-torr", type=float, help="gas pressure of gas-TPC experiments [Torr]")
    sp.add_argument("--out", help="folder for the plot and CSV files")
    sp.set_defaults(func=cmd_sensitivity)

    sp = subparsers.add_parser("posterior",
                               help="Bayesian posterior of a Z' model and every nuisance (NumPyro NUTS)")
    add_common(sp)
    sp.add_argument("--experiment", action="append", required=True,
                    help="preset name or .toml path; repeat to combine")
    sp.add_argument("--model", required=True,
                    help="light (universal, b-l, lmu-ltau: log10 m, log10 g) or heavy (lr, e6-chi, e6-psi, e6-eta: "
                         "log10 M; e6: log10 M and cos beta)")
    sp.add_argument("--data", action="append", help="observed counts per bin (CSV/JSON), one per --experiment")
    sp.add_argument("--samples", type=int, default=1000, help="samples per chain")
    sp.add_argument("--warmup", type=int, default=500, help="warm-up steps per chain")
    sp.add_argument("--chains", type=int, default=4, help="chains, vectorised")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--slices", type=int, default=12,
                    help="slices for the credible limits: in mass (light) or cos beta (e6); default 12")
    sp.add_argument("--cl", type=float, default=0.9, help="credible level")
    sp.add_argument("--mass-range-mev", help="light models: LO,HI of the log-uniform mass prior [MeV] (default 1,1000)")
    sp.add_argument("--mass-range-gev",
                    help="heavy models: LO,HI of the log-uniform M_Z' prior [GeV] (default 10,1e5)")
    sp.add_argument("--coupling-range",
                    help="light models: LO,HI of the log-uniform coupling prior (default 1e-7,1e-2)")
    sp.add_argument("--sin2w", type=float)
    sp.add_argument("--out", help="folder for the samples (NPZ), the JSON summary and the plot")
    sp.set_defaults(func=cmd_posterior)


def cmd_sensitivity(args):
    import numpy as np

    from ..inference import limits, scan
    from ..inference.fit import best_fit, reference_to_best_fit
    from ..kernels.rates import build_kernel
    from ..likelihood import Analysis, measurement
    from ..likelihood.observed import load_observed_counts

    model = _model(args)
    from ..physics.models import LIGHT_MODELS

    if model.name not in LIGHT_MODELS:
        raise UsageError(f"--model: sensitivity takes a light Z' model {LIGHT_MODELS}; "
                         "use 'mass-limit' for lr and e6 models")
    names = _experiments(args.experiment)
    masses = _float_list(args.masses_mev, "--masses-mev")
    if any(not (math.isfinite(m) and m > 0) for m in masses):
        raise UsageError(f"--masses-mev: every mass must be > 0, got {masses}")
    level = args.delta_chi2 if args.delta_chi2 is not None else delta_chi2_for_cl(args.cl)
    g_range = _pair(args.coupling_range, "--coupling-range")
    progress = None if args.quiet else sys.stderr

    specs = {n: _load(n, args.pressure_torr) for n in names}
    _check_pressure_used(args, specs.values())
    nue = [n for n, s in specs.items() if s.detector.kind == "electron-scattering"]
    if nue:
        raise UsageError(f"--experiment: {', '.join(nue)} measure nu-e scattering, implemented for the heavy "
                         "Z' models (use 'mass-limit', 'limit-scan' or 'e6-plane'); 'sensitivity' scans light "
                         "mediators in CEvNS")
    kernels = {n: build_kernel(s) for n, s in specs.items()}
    if args.data and len(args.data) != len(names):
        raise UsageError(f"--data: give one file per --experiment ({len(names)}: {', '.join(names)}), "
                         f"got {len(args.data)}")
    counts = [load_observed_counts(d, kernels[n]) for n, d in zip(names, args.data)] if args.data else \
        [None] * len(names)
    analysis = Analysis(tuple(measurement(kernels[n], model, data=c) for n, c in zip(names, counts)))
    fit = None
    if not all(m.asimov for m in analysis):        # observed data (--data, or a spec's declared measurement)
        m_fit = _pair(args.mass_range_mev, "--mass-range-mev") if args.mass_range_mev else (1.0, 1e3)
        fit = best_fit(analysis, model, mass_range=m_fit, coupling_range=g_range, progress=progress)
        analysis = reference_to_best_fit(analysis, fit)
    measurements = dict(zip(names, analysis))
    combined = analysis
    lim = limits.coupling_limits(combined, model, masses, level=level, coupling_range=g_range,
                                 progress=progress)

    def rows(limits):
        return [{"mass_mev": float(m), "coupling": None if not np.isfinite(g) else float(g)}
                for m, g in zip(limits["mass_mev"], limits["coupling"])]

    out = {"model": model.name, "cl": args.cl, "delta_chi2": level, "experiments": names,
           "likelihoods": analysis.likelihoods, "pressure_torr": args.pressure_torr,
           "limits": rows(lim), "converged": bool(np.all(lim["converged"]))}
    if fit is not None:
        out["best_fit"] = fit
        out["reference"] = "best-fit"
    if np.any(lim["below_range"]):
        out["warnings"] = [f"already excluded at the lowest coupling {g_range[0]} for masses "
                           f"{[float(m) for m in np.asarray(masses)[lim['below_range']]]}"]
        if fit is not None and not fit["at_sm"]:
            out["warnings"].append(f"the data favour a signal (Delta chi2_SM = {fit['delta_chi2_sm']:.3g} at "
                                   f"m = {fit['mass_mev']:.4g} MeV, g = {fit['coupling']:.4g}): the allowed "
                                   "region is the grid contour (--out), not a one-sided limit")

    traced = None
    if args.method == "trace":
        from ..inference import contours

        m_range = _pair(args.mass_range_mev, "--mass-range-mev") if args.mass_range_mev else \
            (min(masses), max(masses)) if len(masses) > 1 and min(masses) < max(masses) else (1.0, 1e3)
        # 257 samples per seed ray: thin blind-spot strips get a seed even over the wide default g range
        traced = contours.trace_sensitivity(combined, model, mass_range_mev=m_range, coupling_range=g_range,
                                            level=level, samples=257)
        out["trace"] = {"branches": traced.n_branches, "evaluations": traced.n_evaluations,
                        "closed": [bool(c) for c in traced.closed], "converged": bool(traced.converged),
                        "wall_s": traced.trace.wall_s, "mass_range_mev": list(m_range),
                        "coupling_range": list(g_range)}
    want_grid = args.method == "grid" and (args.grid is not None or args.out is not None)
    grids = {}
    if want_grid:
        nm, ng = _grid_shape(args.grid or "100,300")
        m_range = _pair(args.mass_range_mev, "--mass-range-mev") if args.mass_range_mev else \
            (min(masses), max(masses)) if len(masses) > 1 and min(masses) < max(masses) else (1.0, 1e3)
        grid_masses = np.logspace(*np.log10(m_range), nm)
        grid_couplings = np.logspace(*np.log10(g_range), ng)
        targets = {"combined": combined}
        if len(names) > 1 and args.out is not None:
            targets.update({n: Analysis((m,)) for n, m in measurements.items()})
        grids = {label: scan.delta_chi2_grid(ms, model, grid_masses, grid_couplings, level=level,
                                             progress=progress)
                 for label, ms in targets.items()}
        g = grids["combined"]
        out["grid"] = {"shape": [nm, ng], "mass_range_mev": list(m_range),
                       "coupling_range": list(g_range), "compile_s": g.compile_s, "run_s": g.run_s,
                       "converged_fraction": float(np.mean(g.converged)),
                       "decided_fraction": float(np.mean(g.decided)), "devices": g.devices}

    if args.out is not None:
        from ..plotting import sensitivity_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        curves = {"combined" if len(names) > 1 else names[0]: (lim["mass_mev"], lim["coupling"])}
        contours = {}
        contour_rows = []
        for label, grid in grids.items():
            key = label if (len(names) > 1 or label != "combined") else names[0]
            lines = scan.contour_lines(grid, level)
            contours[key] = lines
            for i, ln in enumerate(lines):
                contour_rows += [[key, i, f"{m:.8g}", f"{c:.8g}"] for m, c in ln]
        if traced is not None:
            key = "combined" if len(names) > 1 else names[0]
            contours[key] = list(traced.branches)
            for i, b in enumerate(traced.branches):
                contour_rows += [[key, i, f"{m:.8g}", f"{c:.8g}"] for m, c in b]
        files = {
            "limits_csv": _write_csv(folder / f"limits_{model.name}.csv", ["mass_mev", "coupling"],
                                     [[r["mass_mev"], "" if r["coupling"] is None else r["coupling"]]
                                      for r in out["limits"]]),
            "contour_csv": _write_csv(folder / f"contour_{model.name}.csv",
                                      ["experiment", "segment", "mass_mev", "coupling"], contour_rows),
        }
        files["plot"] = str(sensitivity_figure(folder / f"sensitivity_{model.name}.png", model.name,
                                               args.cl, curves, contours))
        (folder / f"sensitivity_{model.name}.json").write_text(json.dumps(out, indent=1))
        out["files"] = files

    if not args.json:
        print(f"{model.name}: {100 * args.cl:.0f}% CL (Delta chi2 = {level:.3f}), "
              f"experiments: {', '.join(names)}")
        for r in out["limits"]:
            g = "no sensitivity in range" if r["coupling"] is None else f"{r['coupling']:.4e}"
            print(f"  m = {r['mass_mev']:10.4g} MeV   g > {g}")
        if "files" in out:
            print("wrote " + ", ".join(out["files"].values()))
    return out


def cmd_posterior(args):
    from ..inference import posterior
    from ..kernels.rates import build_kernel, model_family

    model = _model(args)
    heavy = model_family(model) == "heavy"
    if model_family(model) == "sm":
        raise UsageError("--model: the posterior needs a Z' model (light or heavy), not the SM")
    names = _experiments(args.experiment)
    if args.data and len(args.data) != len(names):
        raise UsageError(f"--data: give one file per --experiment ({len(names)}), got {len(args.data)}")
    for opt in ("samples", "warmup", "chains", "slices"):
        if getattr(args, opt) < 1:
            raise UsageError(f"--{opt}: must be >= 1, got {getattr(args, opt)}")
    if heavy and args.mass_range_mev is not None:
        raise UsageError(f"--mass-range-mev: {model.name} is a heavy model; its prior range is --mass-range-gev")
    if not heavy and args.mass_range_gev is not None:
        raise UsageError(f"--mass-range-gev: {model.name} is a light model; its prior range is --mass-range-mev")
    if heavy and args.coupling_range is not None:
        raise UsageError(f"--coupling-range: {model.name} is a heavy model (parameters M_Z' and cos beta)")
    specs = [_load(n) for n in names]
    if not heavy:
        nue = [s.name for s in specs if s.detector.kind == "electron-scattering"]
        if nue:
            raise UsageError(f"--experiment: {', '.join(nue)}: nu-e scattering is implemented for the heavy "
                             "models (lr, e6-*) only")
    if heavy:
        mass_range = _pair(args.mass_range_gev or "10,1e5", "--mass-range-gev")
    else:
        mass_range = _pair(args.mass_range_mev or "1,1000", "--mass-range-mev")
    result = posterior.run_posterior(
        [build_kernel(s) for s in specs], model, data=list(args.data) if args.data else None,
        mass_range=mass_range, coupling_range=_pair(args.coupling_range or "1e-7,1e-2", "--coupling-range"),
        num_samples=args.samples, num_warmup=args.warmup, num_chains=args.chains, seed=args.seed,
        n_slices=args.slices, cred=args.cl, out_dir=args.out, progress=None if args.quiet else sys.stderr)
    out = posterior.summary_dict(result)
    out["files"] = result.get("files", {})
    if not args.json:
        print(f"{model.name} posterior ({', '.join(names)}): {args.chains} chains x {args.samples} samples, "
              f"max R-hat {result['max_r_hat']:.4f}, min ESS {result['min_n_eff']:.0f}, "
              f"{result['divergences']} divergences")
        cl = result["credible_limits"]
        if heavy:
            for c, m, n in zip(cl["cos_beta_center"], cl["mass_lower_gev"], cl["n_samples"]):
                print(f"  cos beta ~ {c:6.3f}   {100 * args.cl:.0f}% credible M > {m:.4g} GeV  ({n} samples)")
        else:
            for m, g, n in zip(cl["mass_center_mev"], cl["coupling_upper"], cl["n_samples"]):
                print(f"  m ~ {m:10.4g} MeV   {100 * args.cl:.0f}% credible g < {g:.4e}  ({n} samples)")
        if out["files"]:
            print("wrote " + ", ".join(out["files"].values()))
    return out
