"""``zprime-jax sensitivity`` and ``zprime-jax posterior``: light Z' mediators in the (m_Z', g_Z') plane."""

from __future__ import annotations

import math
import sys

from ..io import write_csv, write_json
from .options import (
    UsageError,
    add_common,
    add_distributed,
    add_hepdata,
    add_level,
    add_pressure,
    add_sin2w,
    add_toys,
    check_data_count,
    check_pressure_used,
    check_toys,
    experiments,
    float_list,
    grid_shape,
    heavy_mass_range,
    level_of,
    light_mass_range,
    load,
    model_of,
    observed_counts,
    out_dir,
    pair,
    real,
    reject,
    whole,
)
from .shards import add_shard, split, writes
from .toys import check_toy_forms, toy_limits_of, toy_rows, toy_summary, toy_warnings

DEFAULT_MASSES_MEV = "1,3,10,30,100,300,1000"
DEFAULT_COUPLING_RANGE = "1e-8,1"
DEFAULT_GRID = "400,1200"     # spacing < the width of the blind-spot strips (~0.02 decades): they close
MAX_POSTERIOR_DRAWS = 10**7      # chains x (samples + warm-up): the samples are kept in memory


def register(subparsers) -> None:
    """Add the ``sensitivity`` and ``posterior`` subcommands."""
    sp = subparsers.add_parser("sensitivity", help="CL limits on the coupling versus mass")
    add_common(sp)
    sp.add_argument("--experiment", action="append", required=True,
                    help="preset name or .toml path; repeat to combine; 'ess-all' = six ESS detectors")
    sp.add_argument("--model", required=True, help="a light model ('zprime-jax models': universal, b-l, lmu-ltau, "
                                                   "le-lmu, ...) or a model file (.toml)")
    sp.add_argument("--masses-mev", default=DEFAULT_MASSES_MEV, help=f"masses [MeV] (default {DEFAULT_MASSES_MEV})")
    add_level(sp)
    sp.add_argument("--coupling-range", default=DEFAULT_COUPLING_RANGE,
                    help=f"LO,HI of the coupling scan (default {DEFAULT_COUPLING_RANGE}; HI <= sqrt(4 pi))")
    sp.add_argument("--grid", help=f"NM,NG: Delta chi^2 map on a log grid (default {DEFAULT_GRID} with --out)")
    sp.add_argument("--method", choices=["grid", "trace", "toys"], default="grid",
                    help="grid (default): Wilks limits and the exclusion contour from a Delta chi^2 grid; trace: "
                         "the contour by gradient-based level-set tracing (every branch, far fewer chi^2 "
                         "evaluations); toys: Feldman-Cousins limits at --masses-mev from pseudo-experiments "
                         "(coverage-correct at low counts; with --grid the Feldman-Cousins region on that "
                         "grid, else the --out contour stays Wilks)")
    add_toys(sp)
    sp.add_argument("--data", action="append",
                    help="observed counts per bin (CSV or JSON), one per --experiment in the same order: an "
                         "exclusion relative to the best fit instead of the Asimov SM")
    sp.add_argument("--mass-range-mev", help="LO,HI of the grid, the traced contour or the best fit in mass [MeV]")
    add_sin2w(sp)
    add_pressure(sp)
    sp.add_argument("--out", help="folder for the plot and CSV files")
    add_hepdata(sp)
    add_shard(sp)
    add_distributed(sp)
    sp.set_defaults(func=cmd_sensitivity)

    sp = subparsers.add_parser("posterior",
                               help="Bayesian posterior of a Z' model and every nuisance (NumPyro NUTS)")
    add_common(sp)
    sp.add_argument("--experiment", action="append", required=True,
                    help="preset name or .toml path; repeat to combine")
    sp.add_argument("--model", required=True,
                    help="light ('zprime-jax models' or a model file: log10 m, log10 g) or heavy (lr, e6-chi, "
                         "e6-psi, e6-eta: log10 M; e6: log10 M and cos beta)")
    sp.add_argument("--data", action="append", help="observed counts per bin (CSV/JSON), one per --experiment")
    sp.add_argument("--samples", type=whole(ge=4, le=10**6), default=1000,
                    help="samples per chain (default 1000; at least 4: split R-hat)")
    sp.add_argument("--warmup", type=whole(ge=1, le=10**6), default=500, help="warm-up steps per chain (default 500)")
    sp.add_argument("--chains", type=whole(ge=1, le=1024), default=4, help="chains, vectorised (default 4)")
    sp.add_argument("--seed", type=whole(ge=0, le=2**32 - 1), default=0,
                    help="random seed of the chains (default 0)")
    sp.add_argument("--slices", type=whole(ge=1, le=1000),
                    help="slices for the credible limits: in mass (light) or cos beta (e6); default 12")
    sp.add_argument("--cl", type=real(gt=0, lt=1), default=0.9, help="credible level (default 0.9)")
    sp.add_argument("--mass-range-mev", help="light models: LO,HI of the log-uniform mass prior [MeV] (default 1,1000)")
    sp.add_argument("--mass-range-gev",
                    help="heavy models: LO,HI of the log-uniform M_Z' prior [GeV] (default 10,1e5)")
    sp.add_argument("--coupling-range",
                    help="light models: LO,HI of the log-uniform coupling prior (default 1e-7,1e-2)")
    add_sin2w(sp)
    sp.add_argument("--out", help="folder for the samples (NPZ), the JSON summary and the plot")
    sp.set_defaults(func=cmd_posterior)


def _coupling_range(text: str) -> tuple[float, float]:
    """``--coupling-range``: 0 < LO < HI <= sqrt(4 pi) (perturbative)."""
    from ..physics.models import MAX_PERTURBATIVE_COUPLING

    lo, hi = pair(text, "--coupling-range")
    if hi > MAX_PERTURBATIVE_COUPLING:
        raise UsageError(f"--coupling-range: HI must be <= sqrt(4 pi) = {MAX_PERTURBATIVE_COUPLING:.4g} "
                         f"(g^2/4pi <= 1, perturbative), got {hi:g}")
    return lo, hi


def _limit_warnings(masses, lim, g_range) -> list[str]:
    """Why a mass has no limit (null), an uncertain one, or only a bound at the edge of the coupling range."""
    from ..inference.limits import STATUS_MEANING

    out = []
    for m, g, status in zip(masses, lim["coupling"], lim["status"]):
        if status == "not-reached":
            out.append(f"coupling at m = {m:g} MeV is null: {STATUS_MEANING[status]} (up to the top of "
                       f"--coupling-range, {g_range[1]:g}); no sensitivity in range")
        elif status == "undecided":
            out.append(f"coupling at m = {m:g} MeV " + ("is null" if not math.isfinite(g) else "is uncertain")
                       + f": {STATUS_MEANING[status]}")
    excluded = [float(m) for m, st in zip(masses, lim["status"]) if st == "excluded-at-start"]
    if excluded:
        out.append(f"already excluded at the lowest coupling {g_range[0]:g} for masses {excluded}: their coupling "
                   "is null (lower --coupling-range; with observed data that favour a signal, the allowed region "
                   "is the grid contour)")
    return out


def cmd_sensitivity(args):
    import numpy as np

    from ..inference import limits, scan
    from ..inference.fit import best_fit, reference_to_best_fit
    from ..kernels.rates import build_kernel, model_family
    from ..likelihood import Analysis, measurement
    from ..likelihood.measurement import declares_measurement

    model = model_of(args)
    if model_family(model) != "light":
        raise UsageError("--model: sensitivity takes a light Z' model ('zprime-jax models') or a model file; "
                         "use 'mass-limit' for lr and e6 models")
    names = experiments(args.experiment)
    check_data_count(args.data, names)
    from ..physics.models import MAX_LIGHT_MASS_MEV

    masses = float_list(args.masses_mev, "--masses-mev", gt=0, le=MAX_LIGHT_MASS_MEV)
    cl, level = level_of(args)
    g_range = _coupling_range(args.coupling_range)
    if args.method == "trace":
        reject(args, ("grid",), "to --method trace (the contour is traced, not rastered)")
        reject(args, ("shard",), "to --method trace (one contour is followed from point to point: it does not "
               "split into parts; --method grid does)")
    check_toys(args)
    with_grid = args.method in ("grid", "toys")
    grid_size = grid_shape(args.grid if args.grid is not None else DEFAULT_GRID) if with_grid else None
    m_range = None if args.mass_range_mev is None else light_mass_range(args.mass_range_mev)
    progress = None if args.quiet else sys.stderr

    specs = {n: load(n, args.pressure_torr) for n in names}
    check_pressure_used(args, specs.values())
    # observed data: --data, or a spec's own measurement (COHERENT 2017, eq. 21)
    observed = bool(args.data) or any(declares_measurement(s.statistics) for s in specs.values())
    want_grid = with_grid and (args.grid is not None or args.out is not None)
    if m_range is not None and not (want_grid or args.method == "trace" or observed):
        raise UsageError("--mass-range-mev: applies only to a grid (--grid or --out), --method trace or a best "
                         "fit to observed data; the limits are at --masses-mev")
    kernels = {n: build_kernel(s) for n, s in specs.items()}
    counts = observed_counts(args.data, names, kernels)
    analysis = Analysis(tuple(measurement(kernels[n], model, data=c) for n, c in zip(names, counts)))
    if args.method == "toys":
        check_toy_forms(analysis)
    default_range = (min(masses), max(masses)) if min(masses) < max(masses) else light_mass_range(None)
    fit = None
    if not all(m.asimov for m in analysis):
        fit = best_fit(analysis, model, mass_range=m_range or light_mass_range(None), coupling_range=g_range,
                       progress=progress)
        analysis = reference_to_best_fit(analysis, fit)
    measurements = dict(zip(names, analysis))
    combined = analysis
    lim = split(args, "limits", len(masses), lambda rows: limits.coupling_limits(
        combined, model, masses, level=level, coupling_range=g_range, progress=progress, part=rows))

    def rows(limits):
        return [{"mass_mev": float(m), "coupling": None if not np.isfinite(g) else float(g)}
                for m, g in zip(limits["mass_mev"], limits["coupling"])]

    out = {"model": model.name, "cl": cl, "delta_chi2": level, "experiments": names,
           "likelihoods": analysis.likelihoods, "limits": rows(lim), "converged": bool(np.all(lim["converged"]))}
    wilks_warnings = _limit_warnings(masses, lim, g_range)
    if args.method == "toys":
        from ..inference.limits import LIGHT_AXIS

        wilks_warnings = [f"wilks_{w}" for w in wilks_warnings]
        out["wilks_delta_chi2"] = out.pop("delta_chi2")
        # a mass outside a part has no Wilks limit there (NaN), so its toys are not run
        toy = split(args, "toys", len(masses), lambda rows: toy_limits_of(
            args, analysis, model, masses, np.log10(lim["coupling"]), cl, np.log10(g_range), LIGHT_AXIS, True,
            progress))
        out["limits"] = toy_rows(out["limits"], toy, "coupling", lambda t: 10.0 ** t)
        out["method"], out["toys"] = "toys", toy_summary(args, toy)
        lim = dict(lim, coupling=np.asarray([np.nan if r["coupling"] is None else r["coupling"]
                                             for r in out["limits"]]))
    if args.pressure_torr is not None:
        out["pressure_torr"] = args.pressure_torr
    warnings = wilks_warnings + (toy_warnings(out["limits"]) if args.method == "toys" else [])
    if fit is not None:
        out["best_fit"] = fit
        out["reference"] = "best-fit"
        if fit["at_sm"]:
            warnings.append("best_fit.mass_mev is null: the best fit is the SM (g = 0), where the mass is not "
                            "defined")
    if warnings:
        out["warnings"] = warnings
        if np.any(lim["below_range"]) and fit is not None and not fit["at_sm"]:
            out["warnings"].append(f"the data favour a signal (Delta chi2_SM = {fit['delta_chi2_sm']:.3g} at "
                                   f"m = {fit['mass_mev']:.4g} MeV, g = {fit['coupling']:.4g}): the allowed "
                                   "region is the grid contour (--out), not a one-sided limit")

    traced = None
    if args.method == "trace":
        from ..inference import contours

        m_range = m_range or default_range
        # 257 samples per seed ray: thin blind-spot strips get a seed even over the wide default g range
        traced = contours.trace_sensitivity(combined, model, mass_range_mev=m_range, coupling_range=g_range,
                                            level=level, samples=257)
        out["trace"] = {"branches": traced.n_branches, "evaluations": traced.n_evaluations,
                        "closed": [bool(c) for c in traced.closed], "converged": bool(traced.converged),
                        "wall_s": traced.trace.wall_s, "mass_range_mev": list(m_range),
                        "coupling_range": list(g_range)}
    grids, levels = {}, {}
    if want_grid and args.method == "toys" and args.grid is not None:    # the Feldman-Cousins region
        from types import SimpleNamespace

        from ..inference.toys import critical_map

        nm, ng = grid_size
        m_range = m_range or default_range
        grid_masses, grid_couplings = np.logspace(*np.log10(m_range), nm), np.logspace(*np.log10(g_range), ng)
        if progress is not None:
            progress.write(f"toys: critical map on {nm} x {ng} points x {args.toys} toys\n")
        fc = split(args, "toy-grid", nm, lambda rows: critical_map(
            combined, model, grid_masses, grid_couplings, n_toys=args.toys, cl=cl, coupling_range=g_range,
            seed=args.seed, part=rows))
        grids["combined"] = SimpleNamespace(masses_mev=grid_masses, couplings=grid_couplings,
                                            delta_chi2=fc["excess"])
        levels["combined"] = 0.0                                          # q_obs = q_c: the region's edge
        if len(names) > 1:
            out.setdefault("warnings", []).append(
                "the Feldman-Cousins region is drawn for the combination only (each experiment would need its "
                "own toys at every grid point)")
        out["toy_grid"] = {"shape": [nm, ng], "mass_range_mev": list(m_range), "coupling_range": list(g_range),
                           "mass_mev": grid_masses.tolist(), "coupling": grid_couplings.tolist(),
                           "critical_delta_chi2": fc["critical_delta_chi2"].tolist(),
                           "critical_delta_chi2_error": fc["critical_error"].tolist(),
                           "delta_chi2_obs": fc["delta_chi2_obs"].tolist(), "compile_s": fc["compile_s"],
                           "run_s": fc["run_s"], "toys_per_s": fc["toys"] / fc["run_s"]}
    elif want_grid:
        if args.method == "toys":
            out.setdefault("warnings", []).append(
                "the grid contour is Wilks' (Delta chi^2 = level); --grid NM,NG with --method toys gives the "
                "Feldman-Cousins region on that grid (every point its own toys)")
        nm, ng = grid_size
        m_range = m_range or default_range
        grid_masses = np.logspace(*np.log10(m_range), nm)
        grid_couplings = np.logspace(*np.log10(g_range), ng)
        apart = len(names) > 1 and bool(args.out or args.hepdata)     # each experiment's own contour too
        grids = {"combined": split(args, "grid:combined", nm, lambda rows: scan.delta_chi2_grid(
            combined, model, grid_masses, grid_couplings, level=level, progress=progress, part=rows,
            components=apart))}
        g = grids["combined"]
        if apart:                                       # each experiment's contour: from the same run where
            if g.component_delta_chi2 is not None:      # their nuisances are their own, else its own grid
                grids.update({n: g.component(i) for i, n in enumerate(names)})
            else:
                grids.update({n: split(args, f"grid:{n}", nm, lambda rows, ms=(m,): scan.delta_chi2_grid(
                    Analysis(ms), model, grid_masses, grid_couplings, level=level, progress=progress, part=rows))
                    for n, m in measurements.items()})
        out["grid"] = {"shape": [nm, ng], "mass_range_mev": list(m_range),
                       "coupling_range": list(g_range), "compile_s": g.compile_s, "run_s": g.run_s,
                       "converged_fraction": float(np.mean(g.converged)),
                       "decided_fraction": float(np.mean(g.decided)), "devices": g.devices}

    contours = {}
    # the key of each grid in the files (a single experiment's grid is named after it): key -> grid label
    named = {(label if len(names) > 1 or label != "combined" else names[0]): label for label in grids}
    if writes(args) or writes(args, "hepdata"):
        for key, label in named.items():
            contours[key] = scan.contour_lines(grids[label], levels.get(label, level))
        if traced is not None:
            contours["combined" if len(names) > 1 else names[0]] = list(traced.branches)
    if writes(args):
        from ..plotting import sensitivity_figure

        folder = out_dir(args.out)
        curves = {"combined" if len(names) > 1 else names[0]: (lim["mass_mev"], lim["coupling"])}
        contour_rows = [[key, i, f"{m:.8g}", f"{c:.8g}"] for key, lines in contours.items()
                        for i, ln in enumerate(lines) for m, c in ln]
        files = {
            "limits_csv": write_csv(folder / f"limits_{model.name}.csv", ["mass_mev", "coupling"],
                                     [[r["mass_mev"], "" if r["coupling"] is None else r["coupling"]]
                                      for r in out["limits"]]),
            "contour_csv": write_csv(folder / f"contour_{model.name}.csv",
                                      ["experiment", "segment", "mass_mev", "coupling"], contour_rows),
        }
        files["plot"] = str(sensitivity_figure(folder / f"sensitivity_{model.name}.png", model.name, cl, curves,
                                               contours, grids={k: grids[lb] for k, lb in named.items()},
                                               levels={k: levels.get(lb, level) for k, lb in named.items()}))
        write_json(folder / f"sensitivity_{model.name}.json", out)
        out["files"] = files
    if writes(args, "hepdata"):
        out.setdefault("files", {})["hepdata"] = _sensitivity_hepdata(args, out, contours)

    if not args.json:
        how = "Feldman-Cousins (toys)" if args.method == "toys" else f"Delta chi2 = {level:.3f}"
        print(f"{model.name}: {100 * cl:.4g}% CL ({how}), experiments: {', '.join(names)}")
        for r in out["limits"]:
            g = "no sensitivity in range" if r["coupling"] is None else f"{r['coupling']:.4e}"
            print(f"  m = {r['mass_mev']:10.4g} MeV   g > {g}")
        if "files" in out:
            print("wrote " + ", ".join(out["files"].values()))
    return out


def _sensitivity_hepdata(args, out: dict, contours: dict) -> str:
    """``sensitivity --hepdata``: the limit curve (mass -> coupling) and, where a grid was run or the contour
    traced, one table per experiment (and the combination) of its exclusion contour, the segment index an
    extra independent variable (a contour has any number of separate lines; one table per experiment keeps
    the submission's size independent of that)."""
    from .. import __version__
    from ..io.hepdata import Column, HepTable, missing_note, paper_link, qualifiers, write_submission

    names, model, cl = out["experiments"], out["model"], out["cl"]
    toys = out.get("method") == "toys"
    level = out["wilks_delta_chi2"] if toys else out["delta_chi2"]
    how = (f"Feldman-Cousins ({out['toys']['per_test_point']} pseudo-experiments per test point, seed "
           f"{out['toys']['seed']})" if toys else f"Wilks, Delta chi^2 = {level:.6g} (one parameter)")
    reference = ("the best fit to the observed data" if out.get("reference") == "best-fit"
                 else "the Asimov (SM) data")
    combined = "combined (chi^2 summed, nuisances of the same name shared)" if len(names) > 1 else "alone"
    common = dict(cl=cl, delta_chi2=None if toys else level, model=model)
    missing = [f"m_Z' = {r['mass_mev']:g} MeV" for r in out["limits"] if r["coupling"] is None]
    tables = [HepTable(
        name="Coupling limit",
        description=(f"{100 * cl:.4g}% CL sensitivity of {', '.join(names)} ({combined}) to the {model} Z' model: "
                     f"the smallest excluded coupling g_Z' (dimensionless) at each mediator mass m_Z' [MeV], "
                     f"{how}, relative to {reference}." + missing_note(out.get("warnings", []), "limit", missing)),
        independent=(Column("$m_{Z'}$", "MeV", [r["mass_mev"] for r in out["limits"]]),),
        dependent=(Column("$g_{Z'}$", "", [r["coupling"] for r in out["limits"]],
                          qualifiers=qualifiers(**common, experiments=names, likelihoods=out["likelihoods"],
                                                method="toys" if toys else "wilks")),),
        location="zprime-jax sensitivity", keywords={"phrases": ["Z' boson", "Exclusion limit", "CEvNS"]})]
    grid = out.get("toy_grid") or out.get("grid")
    for key, lines in contours.items():
        members = names if key == "combined" else [key]
        if "trace" in out:
            origin = (f"traced by gradient-based level-set tracing ({out['trace']['branches']} branches) in "
                      f"m_Z' {out['trace']['mass_range_mev'][0]:g}-{out['trace']['mass_range_mev'][1]:g} MeV")
        else:
            origin = (f"the Delta chi^2 = {level:.6g} line of the {grid['shape'][0]} x {grid['shape'][1]} log grid "
                      f"in m_Z' {grid['mass_range_mev'][0]:g}-{grid['mass_range_mev'][1]:g} MeV, g_Z' "
                      f"{grid['coupling_range'][0]:g}-{grid['coupling_range'][1]:g} (interpolated in log m, log g)")
            if "toy_grid" in out:
                origin = (f"the edge of the Feldman-Cousins region on the {grid['shape'][0]} x {grid['shape'][1]} "
                          "grid (observed Delta chi^2 equal to the critical value from the toys)")
        rows = [(i, float(m), float(g)) for i, ln in enumerate(lines) for m, g in ln]
        description = (f"{100 * cl:.4g}% CL exclusion contour of {key if key != 'combined' else ', '.join(names)}"
                       f"{' combined' if key == 'combined' else ''} for the {model} Z' model in the (m_Z' [MeV], "
                       f"g_Z') plane: {origin}. One row per point; 'segment' numbers the separate lines (points in "
                       "order along each line); excluded where Delta chi^2 exceeds the level (above the lower "
                       "line; closed lines bound islands or blind-spot strips).")
        if not rows:
            description += " No contour in the plotted range (the table is empty of points: one '-' row)."
            rows = [(None, None, None)]
        tables.append(HepTable(
            name=f"Contour {key}", description=description,
            independent=(Column("segment", "", [r[0] for r in rows]), Column("$m_{Z'}$", "MeV", [r[1] for r in rows])),
            dependent=(Column("$g_{Z'}$", "", [r[2] for r in rows],     # a Wilks contour has its level
                              qualifiers=qualifiers(**{**common, "delta_chi2": None if "toy_grid" in out else level},
                                                    experiments=members,
                                                    likelihoods={n: out["likelihoods"][n] for n in members})),),
            location="zprime-jax sensitivity", keywords={"phrases": ["Z' boson", "Exclusion contour", "CEvNS"]}))
    comment = (f"zprime_jax {__version__}: zprime-jax sensitivity --model {model} --experiment "
               f"{' --experiment '.join(names)}; {100 * cl:.4g}% CL limits on a light Z' mediator from CEvNS and "
               f"neutrino-electron scattering (light-mediator paper: {paper_link('light')[0]}).")
    return write_submission(args.hepdata, tables, comment, links=[paper_link("light")])


def cmd_posterior(args):
    from ..inference import posterior
    from ..kernels.rates import build_kernel, model_family

    model = model_of(args)
    heavy = model_family(model) == "heavy"
    if model_family(model) == "sm":
        raise UsageError("--model: the posterior needs a Z' model (light or heavy), not the SM")
    names = experiments(args.experiment)
    check_data_count(args.data, names)
    draws = args.chains * (args.samples + args.warmup)
    if draws > MAX_POSTERIOR_DRAWS:
        raise UsageError(f"--samples: --chains x (--samples + --warmup) = {draws} exceeds the limit of "
                         f"{MAX_POSTERIOR_DRAWS:.0e} (every draw is kept in memory)")
    if heavy and model.name != "e6":
        reject(args, ("slices",), f"to {model.name!r}: its credible limit is one number (slices are in cos beta, "
               "for --model e6)")
    if heavy:
        reject(args, ("mass_range_mev",), f"to the heavy model {model.name!r}; its prior range is --mass-range-gev")
        reject(args, ("coupling_range",), f"to the heavy model {model.name!r} (parameters M_Z' and cos beta)")
    else:
        reject(args, ("mass_range_gev",), f"to the light model {model.name!r}; its prior range is --mass-range-mev")
    specs = [load(n) for n in names]
    if heavy:
        mass_range = heavy_mass_range(args.mass_range_gev)
        coupling_range = None
    else:
        mass_range = light_mass_range(args.mass_range_mev)
        coupling_range = None if args.coupling_range is None else _coupling_range(args.coupling_range)
    kernels = {n: build_kernel(s) for n, s in zip(names, specs)}
    result = posterior.run_posterior(
        list(kernels.values()), model, data=observed_counts(args.data, names, kernels), mass_range=mass_range,
        **({} if coupling_range is None else {"coupling_range": coupling_range}),
        num_samples=args.samples, num_warmup=args.warmup, num_chains=args.chains, seed=args.seed,
        **({} if args.slices is None else {"n_slices": args.slices}), cred=args.cl, out_dir=args.out,
        progress=None if args.quiet else sys.stderr)
    out = posterior.summary_dict(result)
    out["files"] = result.get("files", {})
    if not args.json:
        print(f"{model.name} posterior ({', '.join(names)}): {args.chains} chains x {args.samples} samples, "
              f"max R-hat {result['max_r_hat']:.4f}, min ESS {result['min_n_eff']:.0f}, "
              f"{result['divergences']} divergences")
        cl = out["credible_limits"]
        if heavy:
            for c, m, n in zip(cl["cos_beta_center"], cl["mass_lower_gev"], cl["n_samples"]):
                lim = "none (too few samples)" if m is None else f"{m:.4g} GeV"
                print(f"  cos beta ~ {c:6.3f}   {100 * args.cl:.0f}% credible M > {lim}  ({n} samples)")
        else:
            for m, g, n in zip(cl["mass_center_mev"], cl["coupling_upper"], cl["n_samples"]):
                lim = "none (too few samples)" if g is None else f"{g:.4e}"
                print(f"  m ~ {m:10.4g} MeV   {100 * args.cl:.0f}% credible g < {lim}  ({n} samples)")
        if out["files"]:
            print("wrote " + ", ".join(out["files"].values()))
    return out
