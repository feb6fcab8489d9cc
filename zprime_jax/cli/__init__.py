"""The ``zprime-jax`` command line (contract: shared design.md).

Every command accepts ``--json`` and then prints exactly one JSON object on
stdout; progress and logs go to stderr. Errors exit with status 2 and a
message naming the offending field (with ``--json``: ``{"error": ...}``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path
from statistics import NormalDist

from ..spec.groups import ESS_DETECTORS, EXPERIMENT_GROUPS  # noqa: F401  (ESS_DETECTORS: tests, reproduce)

# "No cut" on the recoil energy for Fig. 1: the Helm form factor makes recoils
# above a few MeV negligible (F^2 < 1e-10 at 100 MeV for carbon), so 100 MeV
# stands in for infinity.
NO_WINDOW_CUT_KEV = 1.0e5


class UsageError(ValueError):
    """Bad command-line input (the message names the option)."""


def _float_list(text: str, option: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"{option}: expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise UsageError(f"{option}: empty list")
    return values


def _pair(text: str, option: str, positive: bool = True) -> tuple[float, float]:
    values = _float_list(text, option)
    if len(values) != 2:
        raise UsageError(f"{option}: expected two numbers LO,HI, got {text!r}")
    lo, hi = values
    if positive and not (0 < lo < hi):
        raise UsageError(f"{option}: need 0 < LO < HI, got {lo}, {hi}")
    return lo, hi


def _grid_shape(text: str, option: str = "--grid") -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError:
        raise UsageError(f"{option}: expected two integers N1,N2, got {text!r}") from None
    if a < 2 or b < 2:
        raise UsageError(f"{option}: need at least 2 points per axis, got {a},{b}")
    return a, b


def delta_chi2_for_cl(cl: float) -> float:
    """Delta chi^2 for a two-sided CL with one parameter (0.9 -> 2.7055)."""
    if not 0 < cl < 1:
        raise UsageError(f"--cl: must be in (0, 1), got {cl}")
    return NormalDist().inv_cdf(0.5 * (1.0 + cl)) ** 2


def _experiments(names: list[str] | None) -> list[str]:
    names = names or ["ess-csi"]
    out = []
    for n in names:
        out.extend(EXPERIMENT_GROUPS.get(n, (n,)))
    return list(dict.fromkeys(out))


def _load(name: str, pressure_torr: float | None = None, **overrides):
    """Load a preset/spec; ``pressure_torr`` applies to gas-TPC detectors only."""
    from ..spec import load_experiment

    spec = load_experiment(name, **overrides)
    if pressure_torr is not None and spec.detector.kind == "gas-tpc":
        if not (math.isfinite(pressure_torr) and pressure_torr > 0):
            raise UsageError(f"--pressure-torr: must be > 0, got {pressure_torr}")
        spec = load_experiment(name, pressure_torr=pressure_torr, **overrides)
    return spec


def _check_pressure_used(args, specs) -> None:
    if getattr(args, "pressure_torr", None) is not None and not any(
            s.detector.kind == "gas-tpc" for s in specs):
        raise UsageError("--pressure-torr: applies only to gas-TPC experiments (e.g. nubdx-drift)")


def _model(args):
    from dataclasses import replace

    from ..physics.models import get_model

    model = get_model(args.model, getattr(args, "sin2w", None))
    reading = getattr(args, "lr_electron_reading", None)
    if reading is not None:
        if model.name != "lr":
            raise UsageError(f"--lr-electron-reading: applies to --model lr only, got {model.name!r}")
        model = replace(model, electron_lr_reading=reading)
    return model


def _cos_beta(args):
    """cos beta from --cos-beta or --beta [rad, in [0, pi]] (None if neither)."""
    if getattr(args, "beta", None) is not None:
        if getattr(args, "cos_beta", None) is not None:
            raise UsageError("--beta and --cos-beta: give one of them")
        if not 0.0 <= args.beta <= math.pi:
            raise UsageError(f"--beta: must lie in [0, pi] (sin beta >= 0), got {args.beta}")
        return math.cos(args.beta)
    c = getattr(args, "cos_beta", None)
    if c is not None and not -1.0 <= c <= 1.0:
        raise UsageError(f"--cos-beta: must lie in [-1, 1], got {c}")
    return c


def _params(args, model):
    from ..physics.models import HEAVY_MODELS, HeavyZPrime, LightZPrime

    if model.name == "sm":
        return None
    if model.name in HEAVY_MODELS:
        if args.mass_gev is None or not (math.isfinite(args.mass_gev) and args.mass_gev > 0):
            raise UsageError(f"--mass-gev: must be > 0 for --model {model.name}, got {args.mass_gev}")
        cb = _cos_beta(args)
        if model.name == "e6" and cb is None:
            raise UsageError("--cos-beta (or --beta): required for --model e6")
        return HeavyZPrime(args.mass_gev, float("nan") if cb is None else cb)
    if args.mass_mev is None or args.coupling is None:
        raise UsageError(f"--mass-mev and --coupling are required for --model {model.name}")
    if not (math.isfinite(args.mass_mev) and args.mass_mev > 0):
        raise UsageError(f"--mass-mev: must be > 0, got {args.mass_mev}")
    if not (math.isfinite(args.coupling) and args.coupling >= 0):
        raise UsageError(f"--coupling: must be >= 0, got {args.coupling}")
    return LightZPrime(args.mass_mev, args.coupling)


def cmd_experiments(args):
    from ..spec import list_experiments

    exps = list_experiments()
    if not args.json:
        for e in exps:
            print(f"{e['name']:<12} {e['description']}")
    return {"experiments": exps}


def cmd_rates(args):
    import dataclasses

    import numpy as np

    from ..kernels.rates import build_kernel, expected_counts
    from ..physics.models import MODELS

    model = _model(args)
    params = _params(args, model)
    spec = _load(args.experiment, args.pressure_torr)
    _check_pressure_used(args, [spec])
    kernel = build_kernel(spec)
    per = np.asarray(expected_counts(params, kernel, model, breakdown=True))   # (F, T, B)
    # the SM reference in the model's own coupling set (radiative for lr/e6, eqs. 3 and 7)
    sm_model = dataclasses.replace(MODELS["sm"], sm=model.sm) if hasattr(model, "sm") else MODELS["sm"]
    sm = np.asarray(expected_counts(None, kernel, sm_model))
    signal = per.sum(axis=(0, 1))
    out = {
        "experiment": kernel.name,
        "model": model.name,
        "pressure_torr": getattr(spec.detector, "pressure_torr", None),
        "params": None if params is None else (
            {"mass_mev": args.mass_mev, "coupling": args.coupling} if args.mass_mev is not None
            else {"mass_gev": args.mass_gev, "cos_beta": _cos_beta(args)}),
        "total": float(signal.sum()),
        "sm_total": float(sm.sum()),
        "background_total": float(np.sum(kernel.background)),
        "bins": {"edges_kev": np.asarray(kernel.edges_kev).tolist(), "signal": signal.tolist(),
                 "background": np.asarray(kernel.background).tolist()},
        "by_target": {t: float(per[:, i].sum()) for i, t in enumerate(kernel.targets)},
        "by_flavour": {f: float(per[i].sum()) for i, f in enumerate(kernel.flavours)},
    }
    if args.out:
        from ..plotting import spectrum_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        out["plot"] = str(spectrum_figure(folder / f"rates_{kernel.name}.png", kernel.name,
                                          kernel.edges_kev, signal, kernel.background, sm))
        (folder / f"rates_{kernel.name}.json").write_text(json.dumps(out, indent=1))
    if not args.json:
        print(f"{kernel.name}: expected signal {out['total']:.2f} (SM {out['sm_total']:.2f}), "
              f"background {out['background_total']:.2f} in {len(signal)} bins")
        for k, v in out["by_target"].items():
            print(f"  target {k:<8} {v:12.3f}")
        for k, v in out["by_flavour"].items():
            print(f"  flavour {k:<9} {v:12.3f}")
    return out


def _write_csv(path: Path, header: list[str], rows) -> str:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def cmd_sensitivity(args):
    import numpy as np

    from ..inference import scan
    from ..kernels.rates import build_kernel
    from ..likelihood import stats

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
    fit = None
    if args.data:
        from ..likelihood import observed

        if len(args.data) != len(names):
            raise UsageError(f"--data: give one file per --experiment ({len(names)}: {', '.join(names)}), "
                             f"got {len(args.data)}")
        m_fit = _pair(args.mass_range_mev, "--mass-range-mev") if args.mass_range_mev else (1.0, 1e3)
        ms, fit = observed.observed_analysis(list(kernels.values()), list(args.data), model,
                                             mass_range_mev=m_fit, coupling_range=g_range, progress=progress)
        measurements = dict(zip(names, ms))
    else:
        measurements = {n: stats.asimov_measurement(k) for n, k in kernels.items()}
    combined = tuple(measurements.values())
    lim = scan.coupling_limits(combined, model, masses, level=level, coupling_range=g_range,
                               progress=progress)

    def rows(limits):
        return [{"mass_mev": float(m), "coupling": None if not np.isfinite(g) else float(g)}
                for m, g in zip(limits["mass_mev"], limits["coupling"])]

    out = {"model": model.name, "cl": args.cl, "delta_chi2": level, "experiments": names,
           "pressure_torr": args.pressure_torr,
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
            targets.update({n: (m,) for n, m in measurements.items()})
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
    from ..inference import posterior as inference
    from ..physics.models import LIGHT_MODELS

    model = _model(args)
    if model.name not in LIGHT_MODELS:
        raise UsageError(f"--model: the posterior mode takes a light Z' model {LIGHT_MODELS}, got {model.name!r}")
    names = _experiments(args.experiment)
    if args.data and len(args.data) != len(names):
        raise UsageError(f"--data: give one file per --experiment ({len(names)}), got {len(args.data)}")
    for opt in ("samples", "warmup", "chains", "slices"):
        if getattr(args, opt) < 1:
            raise UsageError(f"--{opt}: must be >= 1, got {getattr(args, opt)}")
    specs = [_load(n) for n in names]
    nue = [s.name for s in specs if s.detector.kind == "electron-scattering"]
    if nue:
        raise UsageError(f"--experiment: {', '.join(nue)}: the posterior mode covers light mediators in CEvNS")
    from ..kernels.rates import build_kernel

    result = inference.run_posterior(
        [build_kernel(s) for s in specs], model, data=list(args.data) if args.data else None,
        mass_range_mev=_pair(args.mass_range_mev, "--mass-range-mev"),
        coupling_range=_pair(args.coupling_range, "--coupling-range"), num_samples=args.samples,
        num_warmup=args.warmup, num_chains=args.chains, seed=args.seed, n_slices=args.slices, cred=args.cl,
        out_dir=args.out, progress=not args.quiet)
    out = inference.summary_dict(result)
    out["files"] = result.get("files", {})
    if not args.json:
        print(f"{model.name} posterior ({', '.join(names)}): {args.chains} chains x {args.samples} samples, "
              f"max R-hat {result['max_r_hat']:.4f}, min ESS {result['min_n_eff']:.0f}, "
              f"{result['divergences']} divergences")
        cl = result["credible_limits"]
        for m, g, n in zip(cl["mass_center_mev"], cl["coupling_upper"], cl["n_samples"]):
            print(f"  m ~ {m:10.4g} MeV   {100 * args.cl:.0f}% credible g < {g:.4e}  ({n} samples)")
        if out["files"]:
            print("wrote " + ", ".join(out["files"].values()))
    return out


def cmd_optimize_pressure(args):
    from ..design.pressure import optimize_pressure

    spec = _load(args.experiment)
    if spec.detector.kind != "gas-tpc":
        raise UsageError(f"--experiment: {args.experiment} is not a gas-TPC experiment")
    model = None
    if args.objective == "limit":
        if args.model is None or args.model == "sm":
            raise UsageError("--model: the 'limit' objective needs a Z' model (universal, b-l, lmu-ltau)")
        if args.mass_mev is None or not (math.isfinite(args.mass_mev) and args.mass_mev > 0):
            raise UsageError(f"--mass-mev: the 'limit' objective needs a mass > 0, got {args.mass_mev}")
        model = _model(args)
    if not args.start_torr > 0:
        raise UsageError(f"--start-torr: must be > 0, got {args.start_torr}")
    res = optimize_pressure(spec, args.objective, model=model, mass_mev=args.mass_mev,
                            start_torr=args.start_torr, steps=args.steps,
                            progress=None if args.quiet else sys.stderr)
    out = {"objective": args.objective, "model": None if model is None else model.name,
           "mass_mev": args.mass_mev if args.objective == "limit" else None,
           "pressure_torr": res["pressure_torr"], "coupling": res.get("coupling"),
           "sm_events": res["sm_events"], "steps": args.steps,
           "start_torr": args.start_torr}
    if not args.json:
        extra = f", g* = {out['coupling']:.4e}" if out["coupling"] is not None else ""
        print(f"optimal pressure ({args.objective}): {out['pressure_torr']:.2f} Torr, "
              f"SM events {out['sm_events']:.2f}{extra}")
    return out


def cmd_pressure_scan(args):
    import numpy as np

    from ..design.pressure import pressure_scan

    overrides = {"window_max_kev": NO_WINDOW_CUT_KEV} if args.no_window_cut else {}
    spec = _load(args.experiment, **overrides)
    if spec.detector.kind != "gas-tpc":
        raise UsageError(f"--experiment: {args.experiment} is not a gas-TPC experiment")
    lo, hi = _pair(args.pressures_torr, "--pressures-torr")
    if args.points < 3:
        raise UsageError(f"--points: need at least 3, got {args.points}")
    res = pressure_scan(spec, np.geomspace(lo, hi, args.points))
    out = {"experiment": spec.name, "window_max_kev": spec.detector.window_max_kev,
           "pressure_torr": res["pressure_torr"].tolist(), "sm_events": res["total"].tolist(),
           "by_target": {k: v.tolist() for k, v in res["by_target"].items()},
           "crossover_torr": res["crossover_torr"], "max_torr": res["max_torr"],
           "max_sm_events": float(res["total"].max())}
    if args.out:
        from ..plotting import pressure_figure

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        out["plot"] = str(pressure_figure(folder / f"pressure_scan_{spec.name}.png", res))
        out["csv"] = _write_csv(folder / f"pressure_scan_{spec.name}.csv",
                                ["pressure_torr", "total", *res["by_target"]],
                                np.column_stack([res["pressure_torr"], res["total"],
                                                 *res["by_target"].values()]).tolist())
    if not args.json:
        print(f"{spec.name}: SM events maximal at {out['max_torr']:.1f} Torr; "
              f"crossover at {out['crossover_torr']} Torr")
    return out


def _heavy_setup(args):
    """Model, cos beta, experiment names and their measurements for heavy-Z' commands."""
    from ..inference import heavy
    from ..kernels.rates import build_kernel
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
    cevns = {n for n, k in kernels.items() if k.chi2_form != "gaussian-sm"}
    if not cevns and (args.chi2 or args.sigma_stat is not None or args.sigma_sys is not None):
        raise UsageError("--chi2, --sigma-stat, --sigma-sys: set the CEvNS chi^2 (eqs. 21-22); "
                         f"{', '.join(names)} use eq. 23 only")
    ms = {n: heavy.measurement(k, form=args.chi2 if n in cevns else None,
                               sigma_stat=args.sigma_stat if n in cevns else None,
                               sigma_sys=args.sigma_sys if n in cevns else None,
                               luminosity_ratio=args.luminosity_ratio or 1.0)
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
           "chi2_forms": {n: m.form for n, m in ms.items()}}
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zprime-jax", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        sp.add_argument("--quiet", action="store_true", help="no progress on stderr")

    sp = sub.add_parser("experiments", help="list the shipped experiment presets")
    common(sp)
    sp.set_defaults(func=cmd_experiments)

    sp = sub.add_parser("rates", help="expected counts per bin, target and flavour")
    common(sp)
    sp.add_argument("--experiment", required=True, help="preset name or path to a .toml spec")
    sp.add_argument("--model", default="sm")
    sp.add_argument("--mass-mev", type=float)
    sp.add_argument("--coupling", type=float)
    sp.add_argument("--mass-gev", type=float, help="heavy Z' mass [GeV] (lr, e6-*)")
    sp.add_argument("--beta", type=float, help="E6 mixing angle beta [rad] in [0, pi]")
    sp.add_argument("--cos-beta", type=float, help="cos beta of the E6 model")
    sp.add_argument("--sin2w", type=float, help="sin^2 theta_W (default 0.23857)")
    sp.add_argument("--lr-electron-reading", choices=["as-printed", "nc-only"],
                    help="eq. 10 for nu-e with --model lr (default as-printed; docs/conventions.md)")
    sp.add_argument("--pressure-torr", type=float, help="gas pressure of a gas-TPC experiment [Torr]")
    sp.add_argument("--out", help="folder for a spectrum plot and JSON")
    sp.set_defaults(func=cmd_rates)

    sp = sub.add_parser("sensitivity", help="CL limits on the coupling versus mass")
    common(sp)
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

    def heavy_common(sp, model=True):
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

    sp = sub.add_parser("mass-limit", help="lower limit on a heavy Z' mass (heavy-Z' paper Table III)")
    common(sp)
    heavy_common(sp)
    sp.add_argument("--separate", action="store_true",
                    help="with --out, plot each --experiment alone without the combined curve (Fig. 4: A, B, C)")
    sp.set_defaults(func=cmd_mass_limit)

    sp = sub.add_parser("limit-scan", help="mass limit versus uncertainty or luminosity (Figs. 2, 3)")
    common(sp)
    heavy_common(sp)
    sp.add_argument("--parameter", choices=["uncertainty", "luminosity"], required=True)
    sp.add_argument("--values", required=True, help="comma-separated sigma_stat = sigma_sys or F'/F values")
    sp.add_argument("--combined", action="store_true",
                    help="also the combined analysis of all --experiment (chi^2 summed; Fig. 6)")
    sp.set_defaults(func=cmd_limit_scan)

    sp = sub.add_parser("e6-plane", help="90%% CL region in the (cos beta, M_Z') plane (Fig. 5)")
    common(sp)
    heavy_common(sp, model=False)
    sp.add_argument("--grid", default="201,201", help="NC,NM grid in cos beta and log M")
    sp.add_argument("--separate", action="store_true",
                    help="one region per --experiment, overlaid (Fig. 5 right: A, B, C), instead of combining")
    sp.add_argument("--method", choices=["grid", "trace"], default="grid",
                    help="a vmapped Delta chi^2 grid (default) or gradient-based tracing of the contour")
    sp.set_defaults(func=cmd_e6_plane, model="e6", cos_beta=None, beta=None)

    sp = sub.add_parser("posterior", help="Bayesian posterior of a light Z' (m, g) and the pulls (NumPyro NUTS)")
    common(sp)
    sp.add_argument("--experiment", action="append", required=True,
                    help="preset name or .toml path; repeat to combine")
    sp.add_argument("--model", required=True, help="universal, b-l or lmu-ltau")
    sp.add_argument("--data", action="append", help="observed counts per bin (CSV/JSON), one per --experiment")
    sp.add_argument("--samples", type=int, default=1000, help="samples per chain")
    sp.add_argument("--warmup", type=int, default=500, help="warm-up steps per chain")
    sp.add_argument("--chains", type=int, default=4, help="chains, vectorised")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--slices", type=int, default=12, help="mass slices for the credible limits")
    sp.add_argument("--cl", type=float, default=0.9, help="credible level")
    sp.add_argument("--mass-range-mev", default="1,1000", help="LO,HI of the log-uniform mass prior")
    sp.add_argument("--coupling-range", default="1e-7,1e-2", help="LO,HI of the log-uniform coupling prior")
    sp.add_argument("--sin2w", type=float)
    sp.add_argument("--out", help="folder for the samples (NPZ), the JSON summary and the plot")
    sp.set_defaults(func=cmd_posterior)

    from ..papers import reproduce

    sp = sub.add_parser("reproduce", help="regenerate the papers' figures and the heavy-Z' Table III")
    common(sp)
    reproduce.add_arguments(sp)

    sp = sub.add_parser("optimize-pressure", help="gradient-based optimal pressure of a gas TPC")
    common(sp)
    sp.add_argument("--experiment", default="nubdx-drift")
    sp.add_argument("--objective", choices=["sm-events", "limit"], required=True)
    sp.add_argument("--model", help="Z' model for the 'limit' objective")
    sp.add_argument("--mass-mev", type=float, help="Z' mass for the 'limit' objective")
    sp.add_argument("--start-torr", type=float, default=100.0)
    sp.add_argument("--steps", type=int, default=150)
    sp.add_argument("--sin2w", type=float)
    sp.set_defaults(func=cmd_optimize_pressure)

    sp = sub.add_parser("pressure-scan", help="SM counts versus pressure (light-mediator paper Fig. 1)")
    common(sp)
    sp.add_argument("--experiment", default="nubdx-drift")
    sp.add_argument("--pressures-torr", default="1,1000", help="LO,HI (log-spaced)")
    sp.add_argument("--points", type=int, default=121)
    sp.add_argument("--no-window-cut", action="store_true",
                    help="no upper recoil cut (as in the paper's Fig. 1): window edge 100 MeV")
    sp.add_argument("--out", help="folder for the plot and CSV")
    sp.set_defaults(func=cmd_pressure_scan)
    return p


def _persistent_cache() -> None:
    """Keep compiled XLA programs between runs (ZPRIME_JAX_CACHE_DIR; empty disables)."""
    import jax

    folder = os.environ.get("ZPRIME_JAX_CACHE_DIR",
                            os.path.join(os.path.expanduser("~"), ".cache", "zprime_jax", "xla"))
    if folder:
        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def _use_every_core() -> None:
    """Give JAX one CPU device per usable core, so grid scans shard over all of them.

    XLA:CPU runs one device's program largely on one core; the Delta chi^2 grids
    and limit scans of ``zprime_jax.scan`` are split over ``jax.local_devices()``
    (``zprime_jax.sharding``), bit-identical to one device. The count can only be set before JAX starts
    its backend, so this runs first thing in :func:`main` and does nothing when
    the backend is already up (the CLI called from Python), when ``XLA_FLAGS``
    already sets a device count, or when ``ZPRIME_JAX_HOST_DEVICES`` is set
    (its value is used instead; ``1`` for a single device). GPU runs are not
    affected: the flag concerns the host platform only.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return
    try:
        from jax._src import xla_bridge

        if xla_bridge.backends_are_initialized():
            return
    except (ImportError, AttributeError):          # private API moved: leave JAX's default
        return
    requested = os.environ.get("ZPRIME_JAX_HOST_DEVICES", "").strip()
    if requested:
        if not requested.isdigit() or int(requested) < 1:
            raise UsageError(f"ZPRIME_JAX_HOST_DEVICES: need a positive integer, got {requested!r}")
        n = int(requested)
    else:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n > 1:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _use_every_core()
    except UsageError as err:
        print(f"zprime-jax: error: {err}", file=sys.stderr)
        return 2
    from .. import enable_x64

    enable_x64()
    _persistent_cache()
    from ..spec import SpecError

    try:
        out = args.func(args)
    except (UsageError, SpecError, ValueError) as err:
        msg = str(err)
        if args.json:
            print(json.dumps({"error": msg}))
        print(f"zprime-jax: error: {msg}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
