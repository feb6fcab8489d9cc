"""``zprime-jax mass-limit``, ``limit-scan`` and ``e6-plane``: heavy Z' models (lr, E6)."""

from __future__ import annotations

import math
import sys

from ..errors import ZPrimeError
from ..io import write_csv
from .options import (
    UsageError,
    add_common,
    add_distributed,
    add_hepdata,
    add_level,
    add_lr_electron_reading,
    add_mixing_angle,
    add_sin2w,
    add_toys,
    check_lr_reading_used,
    check_toys,
    cos_beta_of,
    experiments,
    float_list,
    grid_shape,
    heavy_mass_range,
    level_of,
    load,
    model_of,
    out_dir,
    real,
    reject,
)
from .shards import add_shard, split, writes
from .toys import check_toy_forms, toy_limits_of, toy_rows, toy_summary, toy_warnings

DEFAULT_PLANE_GRID = "201,201"
MAX_LUMINOSITY_RATIO = 1e6      # F'/F: beyond a million times the exposure the statistics are not the paper's
MAX_SIGMA = 100.0               # sigma_stat, sigma_sys of eq. 22: 10^4 % is no measurement


def _heavy_common(sp, model=True):
    """The options shared by the heavy-Z' commands."""
    sp.add_argument("--experiment", action="append", required=True,
                    help="preset name or .toml path; repeat to combine (chi^2 summed); "
                    "'combined-cevns-nue' = coherent-csi + connie + cr51-lxe-c (sec. 4.3)")
    if model:
        sp.add_argument("--model", required=True, help="lr, e6-chi, e6-eta, e6-psi or e6")
        add_mixing_angle(sp)
        add_lr_electron_reading(sp)
    add_level(sp)
    sp.add_argument("--chi2", choices=["coherent-2017", "projection", "projection-alt"],
                    help="chi^2 form of the CEvNS experiments: coherent-2017 (eq. 21, the measured 142 events), "
                         "projection (eq. 22, variance (1 + sigma_stat) N as printed) or projection-alt (eq. 22, "
                         "variance sigma_stat^2 N^2 + N); default: each preset's own")
    sp.add_argument("--sigma-stat", type=real(ge=0, le=MAX_SIGMA), help="sigma_stat of eq. 22 (default 0.2)")
    sp.add_argument("--sigma-sys", type=real(ge=0, le=MAX_SIGMA), help="sigma_sys of eq. 22 (default 0.2)")
    sp.add_argument("--luminosity-ratio", type=real(gt=0, le=MAX_LUMINOSITY_RATIO), help="F'/F (default 1)")
    sp.add_argument("--mass-range-gev", help="LO,HI of the mass scan [GeV] (default 10,1e5; LO >= 1)")
    add_sin2w(sp, "sin^2 theta_W (default: the radiative set, eq. 3)")
    sp.add_argument("--out", help="folder for plots and CSV")
    add_distributed(sp)


def register(subparsers) -> None:
    """Add the ``mass-limit``, ``limit-scan`` and ``e6-plane`` subcommands."""
    sp = subparsers.add_parser("mass-limit", help="lower limit on a heavy Z' mass (heavy-Z' paper Table III)")
    add_common(sp)
    _heavy_common(sp)
    sp.add_argument("--separate", action="store_true",
                    help="with --out, plot each --experiment alone without the combined curve (Fig. 4: A, B, C)")
    sp.add_argument("--method", choices=["wilks", "toys"], default="wilks",
                    help="wilks (default): the limit where Delta chi^2 = the --cl level; toys: the Feldman-Cousins "
                         "limit from pseudo-experiments (Poisson forms: templates-poisson, pulls-poisson); "
                         "per_experiment and the --out Delta chi^2 profiles stay Wilks")
    add_toys(sp)
    add_hepdata(sp)
    sp.set_defaults(func=cmd_mass_limit)

    sp = subparsers.add_parser("limit-scan", help="mass limit versus uncertainty or luminosity (Figs. 2, 3)")
    add_common(sp)
    _heavy_common(sp)
    sp.add_argument("--parameter", choices=["uncertainty", "luminosity"], required=True,
                    help="what --values are: uncertainty (sigma_stat = sigma_sys of eq. 22, Fig. 2) or luminosity "
                         "(F'/F, Fig. 3)")
    sp.add_argument("--values", required=True, help="comma-separated sigma_stat = sigma_sys or F'/F values")
    sp.add_argument("--combined", action="store_true",
                    help="also the combined analysis of all --experiment (chi^2 summed; Fig. 6)")
    add_shard(sp)
    sp.set_defaults(func=cmd_limit_scan)

    sp = subparsers.add_parser("e6-plane", help="90%% CL region in the (cos beta, M_Z') plane (Fig. 5)")
    add_common(sp)
    _heavy_common(sp, model=False)
    sp.add_argument("--grid", help=f"NC,NM grid in cos beta and log M (default {DEFAULT_PLANE_GRID})")
    sp.add_argument("--separate", action="store_true",
                    help="one region per --experiment, overlaid (Fig. 5 right: A, B, C), instead of combining")
    sp.add_argument("--method", choices=["grid", "trace"], default="grid",
                    help="grid (default): a vmapped Delta chi^2 grid; trace: gradient-based tracing of the contour")
    add_hepdata(sp)
    add_shard(sp)
    sp.set_defaults(func=cmd_e6_plane, model="e6", cos_beta=None, beta=None)


def _heavy_setup(args, before_kernels=None):
    """Model, cos beta, experiment names, their measurements, the CL, the level and the mass range.

    Every option is checked against the specs before a kernel is built; ``before_kernels(specs, forms)``
    adds a command's own checks there (``forms``: each experiment's chi^2 form).
    """
    from ..inference import heavy
    from ..kernels.rates import build_kernel
    from ..likelihood.measurement import PROJECTION_FORMS, chosen_form
    from ..physics.models import HEAVY_MODELS

    model = model_of(args)
    if model.name not in HEAVY_MODELS:
        raise UsageError(f"--model: must be one of {HEAVY_MODELS}, got {model.name!r}")
    cb = cos_beta_of(args, model)
    if model.name == "e6" and cb is None and not getattr(args, "plane", False):
        raise UsageError("--cos-beta: required for --model e6 (or --beta)")
    names = experiments(args.experiment)
    cl, level = level_of(args)
    mass_range = heavy_mass_range(args.mass_range_gev)
    specs = {n: load(n) for n in names}
    check_lr_reading_used(args, specs.values())
    # --chi2/--sigma-* set the CEvNS total-count chi^2 (eqs. 21-22); nu-e keeps eq. 23
    cevns = {n for n, s in specs.items() if s.detector.kind != "electron-scattering"}
    if not cevns:
        reject(args, ("chi2", "sigma_stat", "sigma_sys"),
               f"to nu-e experiments ({', '.join(names)} use eq. 23 only): it sets the CEvNS chi^2 (eqs. 21-22)")
    forms = {n: chosen_form(s.statistics, args.chi2 if n in cevns else None) for n, s in specs.items()}
    if not any(f in PROJECTION_FORMS for f in forms.values()):
        reject(args, ("sigma_stat", "sigma_sys"), f"to {', '.join(f'{n} ({f})' for n, f in forms.items())}: "
               "sigma_stat and sigma_sys are the uncertainties of eq. 22 (--chi2 projection)")
    if before_kernels is not None:
        before_kernels(specs, forms)
    ms = {}
    for n, s in specs.items():
        projection = forms[n] in PROJECTION_FORMS
        try:
            ms[n] = heavy.measurement(build_kernel(s), form=args.chi2 if n in cevns else None,
                                      sigma_stat=args.sigma_stat if projection else None,
                                      sigma_sys=args.sigma_sys if projection else None,
                                      luminosity_ratio=args.luminosity_ratio or 1.0, model=model)
        except ZPrimeError as err:      # a setting the experiment's form does not take: name the option
            option = "--" + (err.field or "chi2").replace("_", "-")
            raise UsageError(f"{option}: {str(err).partition(': ')[2] or err}") from None
    return model, (0.0 if cb is None else cb), names, ms, cl, level, mass_range


def _form_warnings(args, ms) -> list[str]:
    """``--chi2`` and ``--sigma-*`` apply to some experiments only: say which keep their own form."""
    from ..likelihood.measurement import PROJECTION_FORMS

    out = []
    if args.chi2 is not None:
        kept = [f"{n} ({m.likelihood.form})" for n, m in ms.items() if m.likelihood.form != args.chi2]
        if kept:
            out.append(f"--chi2 {args.chi2} applies to the CEvNS experiments; {', '.join(kept)} keep their own form")
    if args.sigma_stat is not None or args.sigma_sys is not None:
        other = [f"{n} ({m.likelihood.form})" for n, m in ms.items() if m.likelihood.form not in PROJECTION_FORMS]
        if other:
            out.append(f"--sigma-stat/--sigma-sys set eq. 22 only; {', '.join(other)} keep their own uncertainties")
    return out


def _null_reason(label: str, res: dict, mass_range) -> str | None:
    """Why a mass limit is null (None where it is not)."""
    from ..inference.limits import STATUS_MEANING

    if res["mass_limit_gev"] is not None:
        return None
    if res["status"] == "undecided":
        return f"{label} is null: {STATUS_MEANING['undecided']}"
    return (f"{label} is null: {STATUS_MEANING['not-reached']} (down to the lowest mass of --mass-range-gev, "
            f"{mass_range[0]:g} GeV); no sensitivity in range")


def cmd_mass_limit(args):
    from ..inference import heavy

    if args.separate and args.out is None:
        raise UsageError("--separate: applies only with --out (it chooses the curves of the plot)")
    check_toys(args)
    model, cb, names, ms, cl, level, mass_range = _heavy_setup(args)
    if args.method == "toys":
        check_toy_forms(tuple(ms.values()))
    res = heavy.mass_limit(tuple(ms.values()), model, cb, level=level, mass_range_gev=mass_range)
    out = {"model": model.name, "cl": cl, "delta_chi2": level, "mass_limit_gev": res["mass_limit_gev"],
           "experiments": names, "chi2_forms": {n: m.likelihood.form for n, m in ms.items()},
           "likelihoods": {n: m.likelihood.form for n, m in ms.items()}}
    if model.name == "e6":
        out["cos_beta"] = cb
    warnings = _form_warnings(args, ms)
    wilks = "wilks_mass_limit_gev" if args.method == "toys" else "mass_limit_gev"
    if res["above_range"]:
        warnings.append(f"{wilks}: excluded up to the top of the mass range {mass_range[1]:g} GeV (the limit "
                        "reported is that mass: raise --mass-range-gev)")
    warnings += [w for w in [_null_reason(wilks, res, mass_range)] if w]
    if args.method == "toys":
        from ..inference.limits import HEAVY_AXIS

        wilks_limit = res["mass_limit_gev"]
        toy = toy_limits_of(args, tuple(ms.values()), model, [cb],
                            [math.log10(wilks_limit) if wilks_limit is not None else math.nan], cl,
                            [math.log10(m) for m in mass_range], HEAVY_AXIS, False, None if args.quiet else sys.stderr)
        row = toy_rows([{"mass_limit_gev": wilks_limit}], toy, "mass_limit_gev", lambda t: 10.0**t)[0]
        out.update(row)
        out["wilks_delta_chi2"] = out.pop("delta_chi2")
        out["method"], out["toys"] = "toys", toy_summary(args, toy)
        warnings += [w.replace("limits[0]", "mass_limit_gev") for w in toy_warnings([row])]
        if args.out:
            warnings.append("the --out Delta chi^2 profiles and their level line are Wilks'; the Feldman-Cousins "
                            "critical values are in toys.test_points")
    per = {}
    if len(names) > 1 or args.out:
        per = {n: heavy.mass_limit((m,), model, cb, level=level, mass_range_gev=mass_range) for n, m in ms.items()}
        out["per_experiment"] = {n: r["mass_limit_gev"] for n, r in per.items()}
        warnings += [w for n, r in per.items() if (w := _null_reason(f"per_experiment.{n}", r, mass_range))]
    if warnings:
        out["warnings"] = warnings
    if writes(args):
        from ..plotting import mass_profile_figure

        folder = out_dir(args.out)
        curves = {n: (r["masses_gev"], r["delta_chi2"]) for n, r in per.items()}
        if len(names) > 1 and not args.separate:
            curves["combined"] = (res["masses_gev"], res["delta_chi2"])
        out["plot"] = str(mass_profile_figure(folder / f"mass_profile_{model.name}.png", model.name, curves, level))
        rows = [[f"{m:.8g}", *[f"{c[1][i]:.8g}" for c in curves.values()]]
                for i, m in enumerate(res["masses_gev"])]
        out["csv"] = write_csv(folder / f"mass_profile_{model.name}.csv", ["mass_gev", *curves], rows)
    if writes(args, "hepdata"):
        out.setdefault("files", {})["hepdata"] = _mass_limit_hepdata(args, out, res, per)
    if not args.json:
        lim = out["mass_limit_gev"]
        print(f"{model.name}: {100 * cl:.4g}% CL lower limit on M_Z' "
              f"{'none (no sensitivity)' if lim is None else f'{lim:.1f} GeV'} ({', '.join(names)})")
        for n, v in out.get("per_experiment", {}).items():
            print(f"  {n:<14} {'-' if v is None else f'{v:.1f} GeV'}")
    return out


def cmd_limit_scan(args):
    from ..inference import heavy
    from ..likelihood.measurement import PROJECTION_FORMS

    if args.parameter == "uncertainty":
        reject(args, ("sigma_stat", "sigma_sys"), "with --parameter uncertainty (the scan sets sigma_stat = "
               "sigma_sys = each of --values)")
        values = float_list(args.values, "--values", ge=0, le=MAX_SIGMA)
    else:
        reject(args, ("luminosity_ratio",), "with --parameter luminosity (the scan sets F'/F to each of --values)")
        values = float_list(args.values, "--values", gt=0, le=MAX_LUMINOSITY_RATIO)

    def scanned(specs, forms):
        if args.combined and len(specs) < 2:
            raise UsageError("--combined: needs at least two --experiment")
        if args.parameter == "uncertainty" and not any(f in PROJECTION_FORMS for f in forms.values()):
            raise UsageError(f"--parameter: uncertainty scans sigma_stat = sigma_sys of eq. 22, which "
                             f"{', '.join(f'{n} ({f})' for n, f in forms.items())} do not have; use "
                             "--chi2 projection")

    model, cb, names, ms, cl, level, mass_range = _heavy_setup(args, before_kernels=scanned)
    warnings = _form_warnings(args, ms)
    if args.parameter == "uncertainty":
        fixed = [f"{n} ({m.likelihood.form})" for n, m in ms.items() if m.likelihood.form not in PROJECTION_FORMS]
        if fixed:
            warnings.append(f"--parameter uncertainty varies eq. 22 only; {', '.join(fixed)} keep their own")
    groups = {n: (m,) for n, m in ms.items()}
    if args.combined:
        groups["combined"] = tuple(ms.values())
    def limits_at(group, n, rows):
        """{limit, reason} at each of ``values`` in ``rows`` (all: None), None at the others (a --shard part)."""
        out = [None] * len(values)
        for i in range(*(slice(None) if rows is None else rows).indices(len(values))):
            v = values[i]
            mm = heavy.with_uncertainty(group, v) if args.parameter == "uncertainty" else \
                heavy.with_luminosity(group, v)
            res = heavy.mass_limit(mm, model, cb, level=level, mass_range_gev=mass_range)
            out[i] = {"limit": res["mass_limit_gev"],
                      "reason": _null_reason(f"mass_limit_gev.{n} at {args.parameter} {v:g}", res, mass_range)}
        return out

    limits = {}
    for n, group in groups.items():
        row = split(args, f"limit-scan:{n}", len(values), lambda rows, group=group, n=n: limits_at(group, n, rows))
        limits[n] = [None if r is None else r["limit"] for r in row]
        warnings += [r["reason"] for r in row if r and r["reason"]]
    out = {"model": model.name, "parameter": args.parameter, "values": values, "mass_limit_gev": limits,
           "cl": cl, "delta_chi2": level}
    if warnings:
        out["warnings"] = warnings
    if writes(args):
        from ..plotting import limit_scan_figure

        folder = out_dir(args.out)
        out["plot"] = str(limit_scan_figure(folder / f"limit_vs_{args.parameter}_{model.name}.png",
                                            model.name, args.parameter, values, limits))
        out["csv"] = write_csv(folder / f"limit_vs_{args.parameter}_{model.name}.csv", [args.parameter, *limits],
                               [[v, *["" if limits[n][i] is None else limits[n][i] for n in limits]]
                                for i, v in enumerate(values)])
    if not args.json:
        for n, row in limits.items():
            print(f"{n:<14} " + "  ".join("-" if x is None else f"{x:.1f}" for x in row))
    return out


def cmd_e6_plane(args):
    import time

    import numpy as np

    from ..inference import heavy
    from ..physics.models import get_model

    args.model = "e6"
    args.plane = True
    if args.method == "trace":
        reject(args, ("grid",), "to --method trace (the contour is traced, not rastered)")
        reject(args, ("shard",), "to --method trace (one contour is followed from point to point: it does not "
               "split into parts; --method grid does)")
    nc, nm = grid_shape(args.grid if args.grid is not None else DEFAULT_PLANE_GRID)
    model, _cb, names, ms, cl, level, mass_range = _heavy_setup(args)
    cos_betas = np.linspace(-1.0, 1.0, nc)
    masses = np.logspace(*np.log10(mass_range), nm)
    if args.separate:
        groups = {n: (m,) for n, m in ms.items()}
    else:
        groups = {"+".join(names) if len(names) <= 3 else f"{len(names)} experiments": tuple(ms.values())}
    if args.method == "trace":
        return _e6_plane_traced(args, groups, ms, cl, level, mass_range)
    e6 = get_model("e6")
    planes = {label: split(args, f"plane:{label}", nc, lambda rows, group=group: heavy.absolute_plane(
        group, e6, cos_betas, masses, part=rows)) for label, group in groups.items()}
    t0 = time.perf_counter()
    maps = {label: heavy.relative_to_minimum(planes[label].delta_chi2, group, e6) for label, group in groups.items()}
    # the planes' compilation and run (summed over the parts by a merge) and the minimum search (every run)
    run_s = time.perf_counter() - t0 + sum(p.compile_s + p.run_s for p in planes.values())

    def limits(d):
        """The mass limit at each cos beta: the largest excluded mass on the grid."""
        return [float(masses[np.nonzero(row)[0].max()]) if row.any() else None for row in d >= level]

    per = {label: limits(d) for label, d in maps.items()}
    out = {"model": "e6", "experiments": names, "cl": cl, "delta_chi2": level, "grid": [nc, nm],
           "cos_beta": cos_betas.tolist(), "seconds": run_s,
           "likelihoods": {n: m.likelihood.form for n, m in ms.items()}}
    if args.separate:
        out["mass_limit_gev"] = per
    else:
        out["mass_limit_gev"] = next(iter(per.values()))
    warnings = _form_warnings(args, ms) + _plane_null_warnings(per, cos_betas, mass_range, args.separate)
    if warnings:
        out["warnings"] = warnings
    if writes(args):
        from ..plotting import e6_plane_figure

        folder = out_dir(args.out)
        out["plot"] = str(e6_plane_figure(folder / "e6_plane.png", cos_betas, masses, maps, level))
        out["csv"] = write_csv(folder / "e6_plane_limits.csv", ["cos_beta", *[f"mass_limit_gev:{k}" for k in per]],
                                [[c, *["" if per[k][i] is None else per[k][i] for k in per]]
                                 for i, c in enumerate(cos_betas)])
    if writes(args, "hepdata"):
        members = {label: [label] if args.separate else names for label in per}
        origin = (f"the largest M_Z' of the {nc} x {nm} grid (cos beta linear in [-1, 1], M_Z' log-spaced in "
                  f"{mass_range[0]:g}-{mass_range[1]:g} GeV: a step of a factor "
                  f"{(mass_range[1] / mass_range[0]) ** (1 / (nm - 1)):.4g}) with Delta chi^2 >= {level:.6g}, "
                  "Delta chi^2 relative to its minimum over the plane")
        out.setdefault("files", {})["hepdata"] = _plane_hepdata(args, out, cos_betas, per, members, origin)
    if not args.json:
        for label, lim in per.items():
            print(f"E6 (cos beta, M) plane on {nc}x{nm} ({label}): strongest limit "
                  f"{max((x for x in lim if x), default=float('nan')):.0f} GeV")
        print(f"  {run_s:.2f} s")
    return out


def _plane_null_warnings(per: dict, cos_betas, mass_range, separate: bool) -> list[str]:
    """One line per group: the cos beta values where the mass limit is null, and why."""
    out = []
    for label, lim in per.items():
        nulls = [float(c) for c, x in zip(cos_betas, lim) if x is None]
        if nulls:
            shown = ", ".join(f"{c:.4g}" for c in nulls[:8]) + (f", ... ({len(nulls)} in all)" if len(nulls) > 8
                                                                else "")
            out.append(f"mass_limit_gev{'.' + label if separate else ''} is null at cos beta = {shown}: no mass "
                       f"in {mass_range[0]:g}-{mass_range[1]:g} GeV is excluded there (CEvNS is blind at cos beta "
                       "= 0 and -sqrt(5/32), nu-e at -sqrt(5/32): eqs. 13, 15)")
    return out


def _e6_plane_traced(args, groups: dict, ms: dict, cl: float, level: float, mass_range) -> dict:
    """e6-plane --method trace: the Delta chi^2 = level contour of each group by level-set tracing."""
    import numpy as np

    from ..inference import contours

    traces = {label: contours.trace_e6_plane(group, mass_range_gev=mass_range, level=level)
              for label, group in groups.items()}
    cos_betas = np.linspace(-0.995, 0.995, 201)
    out = {"model": "e6", "experiments": list(ms), "cl": cl, "delta_chi2": level, "method": "trace",
           "cos_beta": cos_betas.tolist(), "likelihoods": {n: m.likelihood.form for n, m in ms.items()},
           "trace": {label: {"branches": t.n_branches, "evaluations": t.n_evaluations,
                             "closed": [bool(c) for c in t.closed], "wall_s": t.trace.wall_s}
                     for label, t in traces.items()}}
    # the mass limit at each cos beta: the largest crossing of the traced contour
    limits = {label: [float(c.max()) if c.size else None for c in t.crossings(cos_betas)]
              for label, t in traces.items()}
    out["mass_limit_gev"] = limits if args.separate else next(iter(limits.values()))
    warnings = _form_warnings(args, ms) + _plane_null_warnings(limits, cos_betas, mass_range, args.separate)
    if warnings:
        out["warnings"] = warnings
    if writes(args):
        from ..plotting import traced_plane_figure

        folder = out_dir(args.out)
        out["plot"] = str(traced_plane_figure(folder / "e6_plane_traced.png",
                                              {label: t.branches for label, t in traces.items()}, mass_range))
        rows = [[label, i, f"{c:.10g}", f"{m:.8g}"] for label, t in traces.items()
                for i, b in enumerate(t.branches) for c, m in b]
        out["csv"] = write_csv(folder / "e6_plane_contour.csv", ["experiments", "branch", "cos_beta", "mass_gev"],
                                rows)
    if writes(args, "hepdata"):
        members = {label: [label] if args.separate else list(ms) for label in limits}
        origin = ("the largest M_Z' where the traced Delta chi^2 = level contour crosses the line of fixed cos beta "
                  "(level-set tracing, no grid)")
        out.setdefault("files", {})["hepdata"] = _plane_hepdata(
            args, out, cos_betas, limits, members, origin, {label: t.branches for label, t in traces.items()})
    if not args.json:
        for label, t in traces.items():
            print(f"E6 (cos beta, M) contour ({label}): {t.n_branches} branches, {t.n_evaluations} chi^2 "
                  f"evaluations, strongest limit {max((x for x in limits[label] if x), default=float('nan')):.0f} GeV")
    return out


def _heavy_qualifiers(out: dict, experiments: list[str], **extra):
    from ..io.hepdata import qualifiers

    toys = out.get("method") == "toys"
    forms = out.get("likelihoods") or {}
    return qualifiers(cl=out["cl"], delta_chi2=out["wilks_delta_chi2"] if toys else out["delta_chi2"],
                      model=out["model"], experiments=experiments,
                      likelihoods={n: forms[n] for n in experiments if n in forms}, **extra)


def _heavy_comment(command: str, out: dict, names: list[str]) -> str:
    from .. import __version__
    from ..io.hepdata import paper_link

    return (f"zprime_jax {__version__}: zprime-jax {command} --experiment {' --experiment '.join(names)}; "
            f"{100 * out['cl']:.4g}% CL limits on a heavy Z' (LR and E6 models, contact limit) from CEvNS and "
            f"neutrino-electron scattering (heavy-Z' paper: {paper_link('heavy')[0]}).")


def _mass_limit_hepdata(args, out: dict, res: dict, per: dict) -> str:
    """``mass-limit --hepdata``: the lower mass limit of each experiment and of their combination (one table,
    the analysis a text-valued independent variable), and the Delta chi^2(M_Z') profiles behind them."""
    import numpy as np

    from ..io.hepdata import Column, HepTable, missing_note, paper_link, write_submission

    names, model, cl = out["experiments"], out["model"], out["cl"]
    toys = out.get("method") == "toys"
    level = out["wilks_delta_chi2"] if toys else out["delta_chi2"]
    rows = [(n, out["per_experiment"][n]) for n in names] if len(names) > 1 else []
    rows.append(("combined: " + " + ".join(names) if len(names) > 1 else names[0], out["mass_limit_gev"]))
    extra = {"cos_beta": out["cos_beta"]} if "cos_beta" in out else {}
    where = f" at cos beta = {out['cos_beta']:g}" if "cos_beta" in out else ""
    how = ("Feldman-Cousins (pseudo-experiments) for the " + ("combination; each experiment alone: Wilks"
                                                             if len(names) > 1 else "limit")
           if toys else f"Wilks, Delta chi^2 = {level:.6g} (one parameter)")
    missing = [a for a, v in rows if v is None]
    tables = [HepTable(
        name="Mass limit",
        description=(f"{100 * cl:.4g}% CL lower limit on the Z' mass M_Z' [GeV] of the {model} model{where}: the "
                     f"mass where Delta chi^2 (relative to the SM) falls to the level coming from above ({how}), "
                     "for each experiment alone and for their combination (chi^2 summed)."
                     + missing_note(out.get("warnings", []), "limit", missing, "for")),
        independent=(Column("analysis", "", [a for a, _ in rows]),),
        dependent=(Column("$M_{Z'}$ lower limit", "GeV", [v for _, v in rows],
                          qualifiers=_heavy_qualifiers(out, names, method="toys" if toys else "wilks", **extra)),),
        location="zprime-jax mass-limit", keywords={"phrases": ["Z' boson", "Mass limit", "CEvNS"]})]
    curves = {n: r["delta_chi2"] for n, r in per.items()}
    if len(names) > 1 or not curves:
        curves["combined" if len(names) > 1 else names[0]] = res["delta_chi2"]
    columns, bad = [], False
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        bad = bad or not np.all(np.isfinite(y))
        members = names if label == "combined" else [label]
        columns.append(Column("$\\Delta\\chi^2$", "", [float(v) if np.isfinite(v) else None for v in y],
                              qualifiers=_heavy_qualifiers(out, members, **extra)))
    tables.append(HepTable(
        name="Delta chi2 profile",
        description=(f"Delta chi^2(M_Z') of the {model} model{where} relative to the SM (nuisances profiled), for "
                     f"each experiment alone and combined: the {100 * cl:.4g}% CL limit is where it crosses "
                     f"{level:.6g} (Wilks)." + (" '-': the profile has no finite value there." if bad else "")),
        independent=(Column("$M_{Z'}$", "GeV", [float(m) for m in res["masses_gev"]]),),
        dependent=tuple(columns), location="zprime-jax mass-limit",
        keywords={"phrases": ["Z' boson", "Delta chi2 profile"]}))
    return write_submission(args.hepdata, tables, _heavy_comment("mass-limit --model " + model, out, names),
                            links=[paper_link("heavy")])


def _plane_hepdata(args, out: dict, cos_betas, per: dict, members: dict, origin: str,
                   branches: dict | None = None) -> str:
    """``e6-plane --hepdata``: the 90% CL mass limit versus cos beta (one table, a column per region: the upper
    edge of the excluded region in the (cos beta, M_Z') plane) and, for ``--method trace``, each traced
    contour (one table per region, the branch index an extra independent variable)."""
    from ..io.hepdata import Column, HepTable, missing_note, paper_link, write_submission

    names, cl = out["experiments"], out["cl"]
    missing = sorted({f"cos beta = {c:.4g}" for lim in per.values() for c, x in zip(cos_betas, lim) if x is None})
    note = missing_note(out.get("warnings", []), "limit", missing[:8], "for")
    columns = [Column("$M_{Z'}$ lower limit", "GeV", list(lim), qualifiers=_heavy_qualifiers(out, members[label]))
               for label, lim in per.items()]
    tables = [HepTable(
        name="Mass limit versus cos beta",
        description=(f"{100 * cl:.4g}% CL region of the E6 Z' models in the (cos beta, M_Z' [GeV]) plane, "
                     f"{'each experiment alone' if len(per) > 1 else 'experiments combined (chi^2 summed)'}: at "
                     f"each cos beta the lower limit on M_Z', {origin} (excluded below, allowed above; "
                     "cos beta = 1 is E6 chi, 0 psi, sqrt(3/8) eta)." + note),
        independent=(Column("$\\cos\\beta$", "", [float(c) for c in cos_betas]),),
        dependent=tuple(columns), location="zprime-jax e6-plane",
        keywords={"phrases": ["Z' boson", "E6", "Exclusion contour"]})]
    for label, lines in (branches or {}).items():
        rows = [(i, float(c), float(m)) for i, b in enumerate(lines) for c, m in b] or [(None, None, None)]
        tables.append(HepTable(
            name=f"Contour {label}",
            description=(f"{100 * cl:.4g}% CL contour Delta chi^2 = {out['delta_chi2']:.6g} of {label} in the "
                         "(cos beta, M_Z' [GeV]) plane of the E6 models, by level-set tracing. One row per point; "
                         "'branch' numbers the separate lines (points in order along each)."
                         + (" No contour found (one '-' row)." if rows[0][0] is None else "")),
            independent=(Column("branch", "", [r[0] for r in rows]),
                         Column("$\\cos\\beta$", "", [r[1] for r in rows])),
            dependent=(Column("$M_{Z'}$", "GeV", [r[2] for r in rows],
                              qualifiers=_heavy_qualifiers(out, members[label])),),
            location="zprime-jax e6-plane --method trace",
            keywords={"phrases": ["Z' boson", "E6", "Exclusion contour"]}))
    return write_submission(args.hepdata, tables, _heavy_comment("e6-plane", out, names), links=[paper_link("heavy")])
