"""Shared option parsing and writing for the ``zprime-jax`` commands.

The command modules (:mod:`.rates`, :mod:`.light`, :mod:`.drift`, :mod:`.heavy`,
:mod:`.reproduce`) parse and validate their options with these helpers; every
bad value raises :class:`UsageError` with a message that starts with the
option's name, which :func:`zprime_jax.cli.main.main` reports (exit status 2).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from statistics import NormalDist

from ..errors import InputError
from ..spec.groups import EXPERIMENT_GROUPS


class UsageError(InputError):
    """Bad command-line input (the message names the option)."""


def add_common(sp) -> None:
    """The options every command takes: ``--json`` and ``--quiet``."""
    sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sp.add_argument("--quiet", action="store_true", help="no progress on stderr")


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


def _write_csv(path: Path, header: list[str], rows) -> str:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return str(path)

