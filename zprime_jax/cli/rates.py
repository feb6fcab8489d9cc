"""``zprime-jax experiments`` and ``zprime-jax rates``: the presets and their expected counts."""

from __future__ import annotations

from ..io import write_json
from .options import (
    add_common,
    add_lr_electron_reading,
    add_mixing_angle,
    add_pressure,
    add_sin2w,
    check_lr_reading_used,
    check_pressure_used,
    load,
    model_of,
    one_experiment,
    out_dir,
    params_of,
    real,
)


def add_model_options(sp) -> None:
    """``--sin2w`` and the options of the light (``--mass-mev``, ``--coupling``) and heavy Z' parameters."""
    from ..physics.heavy_models import MIN_CONTACT_MASS_GEV
    from ..physics.models import MAX_LIGHT_MASS_MEV, MAX_PERTURBATIVE_COUPLING

    sp.add_argument("--mass-mev", type=real(gt=0, le=MAX_LIGHT_MASS_MEV),
                    help=f"light Z' mass [MeV] (vector mediators: 'zprime-jax models'), at most {MAX_LIGHT_MASS_MEV:g}")
    sp.add_argument("--coupling", type=real(ge=0, le=MAX_PERTURBATIVE_COUPLING),
                    help=f"light Z' coupling g, in [0, sqrt(4 pi) = {MAX_PERTURBATIVE_COUPLING:.3f}]")
    sp.add_argument("--mass-gev", type=real(ge=MIN_CONTACT_MASS_GEV),
                    help=f"heavy Z' mass [GeV] (lr, e6-*), >= {MIN_CONTACT_MASS_GEV:g} (contact limit)")
    add_mixing_angle(sp)
    add_sin2w(sp)


def register(subparsers) -> None:
    """Add the ``experiments`` and ``rates`` subcommands."""
    sp = subparsers.add_parser("experiments", help="list the shipped experiment presets")
    add_common(sp)
    sp.set_defaults(func=cmd_experiments)

    sp = subparsers.add_parser("models", help="list the shipped Z' models (charge files) and the heavy ones")
    add_common(sp)
    sp.set_defaults(func=cmd_models)

    sp = subparsers.add_parser("rates", help="expected counts per bin, target and flavour")
    add_common(sp)
    sp.add_argument("--experiment", required=True, help="preset name or path to a .toml spec")
    sp.add_argument("--model", default="sm", help="sm (default), a light model (see 'zprime-jax models') or "
                                                  "a model file (.toml), lr, e6-chi, e6-psi, e6-eta or e6")
    add_model_options(sp)
    add_lr_electron_reading(sp)
    add_pressure(sp, "gas pressure of a gas-TPC experiment [Torr]")
    sp.add_argument("--out", help="folder for a spectrum plot and JSON")
    sp.set_defaults(func=cmd_rates)


def cmd_experiments(args):
    from ..spec import list_experiments

    exps = list_experiments()
    if not args.json:
        for e in exps:
            print(f"{e['name']:<12} {e['description']}")
    return {"experiments": exps}


def cmd_models(args):
    from ..physics.model_files import list_models
    from ..physics.models import HEAVY_MODELS, MODELS

    light = list_models()
    heavy = [{"name": n, "description": MODELS[n].description} for n in HEAVY_MODELS]
    if not args.json:
        for m in light:
            charges = " ".join(f"{k}={v:.4g}" for k, v in m["charges"].items())
            extra = ("  + lepton loop" if m["kinetic_loop"] else "") + (
                f"  + eps = {m['epsilon_per_coupling']:g} g" if m["epsilon_per_coupling"] else "")
            print(f"{m['name']:<12} {m['description']}\n{'':<12} {charges}{extra}")
        for m in heavy:
            print(f"{m['name']:<10} {m['description']}")
    return {"light": light, "heavy": heavy}


def cmd_rates(args):
    import dataclasses

    import numpy as np

    from ..kernels.rates import build_kernel, expected_counts
    from ..physics.models import MODELS

    model = model_of(args)
    params = params_of(args, model)
    spec = load(one_experiment(args.experiment), args.pressure_torr)
    check_pressure_used(args, [spec])
    check_lr_reading_used(args, [spec])
    kernel = build_kernel(spec)
    per = np.asarray(expected_counts(params, kernel, model, breakdown=True))   # (F, T, B)
    # the SM reference in the model's own coupling set (radiative for lr/e6, eqs. 3 and 7)
    sm_model = dataclasses.replace(MODELS["sm"], sm=model.sm) if hasattr(model, "sm") else MODELS["sm"]
    sm = np.asarray(expected_counts(None, kernel, sm_model))
    sm = sm[0] if sm.ndim == 2 else sm                       # a kernel with shape variants: the nominal row
    signal = per.sum(axis=(0, 1))
    out = {
        "experiment": kernel.name,
        "model": model.name,
        "total": float(signal.sum()),
        "sm_total": float(sm.sum()),
        "background_total": float(np.sum(kernel.background)),
        "bins": {"edges_kev": np.asarray(kernel.edges_kev).tolist(), "signal": signal.tolist(),
                 "background": np.asarray(kernel.background).tolist()},
        "by_target": {t: float(per[:, i].sum()) for i, t in enumerate(kernel.targets)},
        "by_flavour": {f: float(per[i].sum()) for i, f in enumerate(kernel.flavours)},
    }
    # keys that apply only to some inputs are present only there (no null without a reason)
    if getattr(kernel, "axes", ()):   # energy x [F90 x] time cells (flattened, energy slowest); edges_kev in keVee
        out["bins"]["axes"] = [{"name": n, "unit": u, "edges": list(e)} for n, u, e in kernel.axes]
    if spec.detector.kind == "gas-tpc":
        out["pressure_torr"] = spec.detector.pressure_torr
    if params is not None:
        out["params"] = ({"mass_mev": args.mass_mev, "coupling": args.coupling} if args.mass_mev is not None
                         else {"mass_gev": args.mass_gev} | ({"cos_beta": float(params.cos_beta)}
                                                             if model.name == "e6" else {}))
    if args.out:
        from ..plotting import spectrum_figure

        folder = out_dir(args.out)
        n_e = len(kernel.edges_kev) - 1                 # project energy x time cells onto the energy axis
        out["plot"] = str(spectrum_figure(folder / f"rates_{kernel.name}.png", kernel.name, kernel.edges_kev,
                                          signal.reshape(n_e, -1).sum(1),
                                          np.asarray(kernel.background).reshape(n_e, -1).sum(1),
                                          sm.reshape(n_e, -1).sum(1)))
        write_json(folder / f"rates_{kernel.name}.json", out)
    if not args.json:
        print(f"{kernel.name}: expected signal {out['total']:.2f} (SM {out['sm_total']:.2f}), "
              f"background {out['background_total']:.2f} in {len(signal)} bins")
        for k, v in out["by_target"].items():
            print(f"  target {k:<8} {v:12.3f}")
        for k, v in out["by_flavour"].items():
            print(f"  flavour {k:<9} {v:12.3f}")
    return out
