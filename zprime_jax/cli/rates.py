"""``zprime-jax experiments`` and ``zprime-jax rates``: the presets and their expected counts."""

from __future__ import annotations

import json
from pathlib import Path

from .options import _check_pressure_used, _cos_beta, _load, _model, _params, add_common


def register(subparsers) -> None:
    """Add the ``experiments`` and ``rates`` subcommands."""
    sp = subparsers.add_parser("experiments", help="list the shipped experiment presets")
    add_common(sp)
    sp.set_defaults(func=cmd_experiments)

    sp = subparsers.add_parser("rates", help="expected counts per bin, target and flavour")
    add_common(sp)
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
