"""``zprime-jax optimize-pressure`` and ``zprime-jax pressure-scan``: the gas TPC versus its pressure."""

from __future__ import annotations

import sys

from ..io import write_csv
from .options import (
    MAX_AXIS,
    UsageError,
    add_common,
    add_sin2w,
    load,
    model_of,
    one_experiment,
    out_dir,
    pair,
    real,
    reject,
    whole,
)

# "No cut" on the recoil energy for Fig. 1: the Helm form factor makes recoils
# above a few MeV negligible (F^2 < 1e-10 at 100 MeV for carbon), so 100 MeV
# stands in for infinity.
NO_WINDOW_CUT_KEV = 1.0e5


def register(subparsers) -> None:
    """Add the ``optimize-pressure`` and ``pressure-scan`` subcommands."""
    from ..physics.models import MAX_LIGHT_MASS_MEV

    sp = subparsers.add_parser("optimize-pressure", help="gradient-based optimal pressure of a gas TPC")
    add_common(sp)
    sp.add_argument("--experiment", default="nubdx-drift",
                    help="a gas-TPC preset or .toml path (default nubdx-drift, the one shipped gas TPC)")
    sp.add_argument("--objective", choices=["sm-events", "limit"], required=True,
                    help="what the pressure maximises: sm-events (the SM CEvNS events) or limit (the sensitivity "
                         "to --model at --mass-mev: the smallest excluded coupling)")
    sp.add_argument("--model", help="light Z' model for the 'limit' objective ('zprime-jax models', or a model file)")
    sp.add_argument("--mass-mev", type=real(gt=0, le=MAX_LIGHT_MASS_MEV),
                    help="Z' mass [MeV] for the 'limit' objective")
    sp.add_argument("--start-torr", type=real(gt=0), default=100.0, help="starting pressure [Torr] (default 100)")
    sp.add_argument("--steps", type=whole(ge=1, le=100_000), default=150, help="Adam steps (default 150)")
    add_sin2w(sp, "sin^2 theta_W of the 'limit' objective's model")
    sp.set_defaults(func=cmd_optimize_pressure)

    sp = subparsers.add_parser("pressure-scan", help="SM counts versus pressure (light-mediator paper Fig. 1)")
    add_common(sp)
    sp.add_argument("--experiment", default="nubdx-drift",
                    help="a gas-TPC preset or .toml path (default nubdx-drift, the one shipped gas TPC)")
    sp.add_argument("--pressures-torr", default="1,1000", help="LO,HI [Torr] (log-spaced; default 1,1000)")
    sp.add_argument("--points", type=whole(ge=3, le=MAX_AXIS), default=121, help="pressures (default 121)")
    sp.add_argument("--no-window-cut", action="store_true",
                    help="no upper recoil cut (as in the paper's Fig. 1): window edge 100 MeV")
    sp.add_argument("--out", help="folder for the plot and CSV")
    sp.set_defaults(func=cmd_pressure_scan)


def _gas_tpc(name: str, **overrides):
    """The spec of a gas-TPC ``--experiment``."""
    spec = load(one_experiment(name), **overrides)
    if spec.detector.kind != "gas-tpc":
        raise UsageError(f"--experiment: {name} is not a gas-TPC experiment")
    return spec


def cmd_optimize_pressure(args):
    from ..design.pressure import optimize_pressure
    from ..kernels.rates import model_family

    model = None
    if args.objective == "limit":
        if args.model is None:
            raise UsageError("--model: the 'limit' objective needs a light Z' model ('zprime-jax models')")
        if args.mass_mev is None:
            raise UsageError("--mass-mev: the 'limit' objective needs a Z' mass [MeV]")
        model = model_of(args)
        if model_family(model) != "light":
            raise UsageError(f"--model: the 'limit' objective needs a light Z' model ('zprime-jax models'), "
                             f"got {model.name!r}")
    else:
        reject(args, ("model", "mass_mev", "sin2w"), "to --objective sm-events (the SM rate)")
    spec = _gas_tpc(args.experiment)
    load(args.experiment, args.start_torr, "--start-torr")       # valid there (thresholds scale, eq. 3.4)
    res = optimize_pressure(spec, args.objective, model=model, mass_mev=args.mass_mev,
                            start_torr=args.start_torr, steps=args.steps,
                            progress=None if args.quiet else sys.stderr)
    out = {"objective": args.objective, "experiment": spec.name, "pressure_torr": res["pressure_torr"],
           "sm_events": res["sm_events"], "steps": args.steps, "start_torr": args.start_torr}
    if model is not None:       # the 'limit' objective's keys
        out.update({"model": model.name, "mass_mev": args.mass_mev, "coupling": res.get("coupling")})
    if not args.json:
        extra = f", g* = {out['coupling']:.4e}" if out.get("coupling") is not None else ""
        print(f"optimal pressure ({args.objective}): {out['pressure_torr']:.2f} Torr, "
              f"SM events {out['sm_events']:.2f}{extra}")
    return out


def cmd_pressure_scan(args):
    import numpy as np

    from ..design.pressure import pressure_scan

    overrides = {"window_max_kev": NO_WINDOW_CUT_KEV} if args.no_window_cut else {}
    lo, hi = pair(args.pressures_torr, "--pressures-torr")
    spec = _gas_tpc(args.experiment, **overrides)
    for p in (lo, hi):                  # valid at both ends (thresholds scale with the pressure, eq. 3.4)
        load(args.experiment, p, "--pressures-torr", **overrides)
    res = pressure_scan(spec, np.geomspace(lo, hi, args.points))
    out = {"experiment": spec.name, "window_max_kev": spec.detector.window_max_kev,
           "pressure_torr": res["pressure_torr"].tolist(), "sm_events": res["total"].tolist(),
           "by_target": {k: v.tolist() for k, v in res["by_target"].items()},
           "crossover_torr": res["crossover_torr"], "max_torr": res["max_torr"],
           "max_sm_events": float(res["total"].max())}
    warnings = []
    if res["crossover_torr"] is None:
        n_targets = len(res["by_target"])
        warnings.append(f"crossover_torr is null: the {n_targets} targets' counts do not cross between {lo:g} "
                        f"and {hi:g} Torr" if n_targets == 2 else
                        f"crossover_torr is null: defined for two targets, {spec.name} has {n_targets}")
    if not lo <= res["max_torr"] <= hi:     # the Newton step left the scan: the counts peak beyond it
        warnings.append(f"max_torr is null: the SM counts have no maximum between {lo:g} and {hi:g} Torr (the "
                        f"stationary point is at {res['max_torr']:.4g} Torr); max_sm_events is the scan's largest")
        out["max_torr"] = None
    if warnings:
        out["warnings"] = warnings
    if args.out:
        from ..plotting import pressure_figure

        folder = out_dir(args.out)
        out["plot"] = str(pressure_figure(folder / f"pressure_scan_{spec.name}.png", res))
        out["csv"] = write_csv(folder / f"pressure_scan_{spec.name}.csv",
                                ["pressure_torr", "total", *res["by_target"]],
                                np.column_stack([res["pressure_torr"], res["total"],
                                                 *res["by_target"].values()]).tolist())
    if not args.json:
        peak = "beyond the range" if out["max_torr"] is None else f"{out['max_torr']:.1f} Torr"
        print(f"{spec.name}: SM events maximal at {peak}; crossover at {out['crossover_torr']} Torr")
    return out
