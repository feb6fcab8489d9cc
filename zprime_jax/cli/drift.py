"""``zprime-jax optimize-pressure`` and ``zprime-jax pressure-scan``: the gas TPC versus its pressure."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from .options import UsageError, _load, _model, _pair, _write_csv, add_common

# "No cut" on the recoil energy for Fig. 1: the Helm form factor makes recoils
# above a few MeV negligible (F^2 < 1e-10 at 100 MeV for carbon), so 100 MeV
# stands in for infinity.
NO_WINDOW_CUT_KEV = 1.0e5


def register(subparsers) -> None:
    """Add the ``optimize-pressure`` and ``pressure-scan`` subcommands."""
    sp = subparsers.add_parser("optimize-pressure", help="gradient-based optimal pressure of a gas TPC")
    add_common(sp)
    sp.add_argument("--experiment", default="nubdx-drift")
    sp.add_argument("--objective", choices=["sm-events", "limit"], required=True)
    sp.add_argument("--model", help="Z' model for the 'limit' objective")
    sp.add_argument("--mass-mev", type=float, help="Z' mass for the 'limit' objective")
    sp.add_argument("--start-torr", type=float, default=100.0)
    sp.add_argument("--steps", type=int, default=150)
    sp.add_argument("--sin2w", type=float)
    sp.set_defaults(func=cmd_optimize_pressure)

    sp = subparsers.add_parser("pressure-scan", help="SM counts versus pressure (light-mediator paper Fig. 1)")
    add_common(sp)
    sp.add_argument("--experiment", default="nubdx-drift")
    sp.add_argument("--pressures-torr", default="1,1000", help="LO,HI (log-spaced)")
    sp.add_argument("--points", type=int, default=121)
    sp.add_argument("--no-window-cut", action="store_true",
                    help="no upper recoil cut (as in the paper's Fig. 1): window edge 100 MeV")
    sp.add_argument("--out", help="folder for the plot and CSV")
    sp.set_defaults(func=cmd_pressure_scan)


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
