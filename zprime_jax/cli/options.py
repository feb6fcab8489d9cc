"""Shared option parsing and checking for the ``zprime-jax`` commands: validation at the boundary, once.

Every number that comes from the command line is parsed by an argparse type
of this module (:func:`real`, :func:`whole`) or a list parser
(:func:`float_list`, :func:`pair`, :func:`grid_shape`): finite, in range,
bounded in size. Every bad value raises :class:`UsageError` with a message that
starts with the option's name, which :func:`zprime_jax.cli.main.main` reports
(exit status 2, one JSON object with ``--json``); argparse's own errors take
the same road through :class:`Parser`. The checks run before any kernel is
built or compiled; an option that does not apply to the chosen model,
experiment or method is an error (:func:`reject`), never silently ignored.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
from pathlib import Path

from ..errors import InputError, ZPrimeError
from ..spec.groups import EXPERIMENT_GROUPS

# size bounds of the command line (the library has its own where it allocates: inference.scan.MAX_GRID_POINTS)
MAX_LIST = 10_000           # values in one comma-separated list (each is a limit or a scan point)
MAX_AXIS = 100_000          # points along one grid axis or scan


class UsageError(InputError):
    """Bad command-line input (the message names the option)."""


class Parser(argparse.ArgumentParser):
    """argparse with four changes: errors raise :class:`UsageError`; negative numbers are values; a
    single-valued option given twice is an error; options are never abbreviated.

    argparse reads ``--coupling -1e-3`` or ``--mass-range-mev -1,10`` as a
    second option and fails with "expected one argument"; here anything that
    starts like a number (``-1``, ``-.5``, ``-1e-3``, ``-inf``) is a value,
    so the option's own check reports it ("must be > 0").
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)        # "--mass" is not "--mass-mev" (nor ambiguous)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    def add_argument(self, *args, **kwargs):
        """As argparse's, but a single-valued option given twice is an error (not "the last one wins")."""
        if kwargs.get("action") in (None, "store"):
            kwargs["action"] = _StoreOnce
        return super().add_argument(*args, **kwargs)

    def error(self, message: str):
        raise UsageError(_argparse_message(message))


class _StoreOnce(argparse._StoreAction):
    """argparse's "store", refusing a second value for the same option."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_options_given", set())
        if self.dest in seen:
            raise argparse.ArgumentError(self, "given more than once (repeat only options that say so)")
        seen.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


def _argparse_message(message: str) -> str:
    """argparse's message with the option first (``--cl: ...``), so that it names the field."""
    m = re.match(r"argument ([^:]+): (.*)", message, re.DOTALL)
    if m:
        option = m.group(1).split("/")[-1].strip()
        return f"{option}: {m.group(2)}"
    m = re.match(r"the following arguments are required: (.*)", message)
    if m:
        first = m.group(1).split(",")[0].strip()
        return f"{first}: required option missing ({message})"
    m = re.match(r"unrecognized arguments: (.*)", message)
    if m:
        first = m.group(1).split()[0]
        return f"{first.split('=')[0]}: unrecognized argument ({message}; see --help)"
    m = re.match(r"one of the arguments (\S+)", message)
    if m:
        return f"{m.group(1)}: {message}"
    return f"command: {message}"


def real(*, gt: float | None = None, ge: float | None = None, lt: float | None = None,
         le: float | None = None):
    """An argparse type: a finite float with the given bounds (``gt`` means >, ``ge`` >=, ...)."""

    def parse(text: str) -> float:
        return _real(text, gt=gt, ge=ge, lt=lt, le=le)

    return parse


def _real(text: str, *, gt=None, ge=None, lt=None, le=None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    for bound, ok, sign in ((gt, lambda v, b: v > b, ">"), (ge, lambda v, b: v >= b, ">="),
                            (lt, lambda v, b: v < b, "<"), (le, lambda v, b: v <= b, "<=")):
        if bound is not None and not ok(value, bound):
            raise argparse.ArgumentTypeError(f"must be {sign} {bound:g}, got {value:g}")
    return value


def whole(*, ge: int, le: int):
    """An argparse type: an integer in [ge, le]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not ge <= value <= le:
            raise argparse.ArgumentTypeError(f"must be in [{ge}, {le:g}], got {value}")
        return value

    return parse


def add_sin2w(sp, help_text: str = "sin^2 theta_W (default: the model's SM coupling set)") -> None:
    """``--sin2w``: sin^2 theta_W in (0, 1)."""
    sp.add_argument("--sin2w", type=real(gt=0, lt=1), help=help_text)


def add_mixing_angle(sp) -> None:
    """``--beta`` [rad, in [0, pi]] and ``--cos-beta`` [in [-1, 1]] of the generic E6 model (:func:`cos_beta_of`)."""
    sp.add_argument("--beta", type=real(ge=0, le=math.pi), help="E6 mixing angle beta [rad] in [0, pi] (--model e6)")
    sp.add_argument("--cos-beta", type=real(ge=-1, le=1), help="cos beta of --model e6, in [-1, 1]")


def add_pressure(sp, help_text: str = "gas pressure of gas-TPC experiments [Torr]") -> None:
    """``--pressure-torr`` > 0 (gas-TPC experiments only: :func:`check_pressure_used`)."""
    sp.add_argument("--pressure-torr", type=real(gt=0), help=help_text)


def add_common(sp) -> None:
    """The options every command takes: ``--json`` and ``--quiet``."""
    sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sp.add_argument("--quiet", action="store_true", help="no progress on stderr")


def add_distributed(sp) -> None:
    """``--coordinator/--num-processes/--process-id``: one process of a multi-process run (``jax.distributed``)."""
    sp.add_argument("--coordinator", metavar="HOST:PORT",
                    help="multi-process run: the coordinator (process 0's host and a free port; default "
                         "$JAX_COORDINATOR_ADDRESS; under 'srun' with several tasks it is detected)")
    sp.add_argument("--num-processes", type=whole(ge=1, le=100_000), help="multi-process run: the process count")
    sp.add_argument("--process-id", type=whole(ge=0, le=99_999), help="multi-process run: this process (0-based)")


def float_list(text: str, option: str, *, gt: float | None = None, ge: float | None = None,
               le: float | None = None, max_len: int = MAX_LIST) -> list[float]:
    """Comma-separated finite numbers (no empty items), each within the bounds, at most ``max_len``."""
    items = [x.strip() for x in text.split(",")]
    if not text.strip():
        raise UsageError(f"{option}: empty list")
    if any(not x for x in items):
        raise UsageError(f"{option}: empty item in the list {text!r}")
    if len(items) > max_len:
        raise UsageError(f"{option}: {len(items)} values exceed the limit of {max_len} (each is a separate "
                         "computation)")
    try:
        return [_real(x, gt=gt, ge=ge, le=le) for x in items]
    except argparse.ArgumentTypeError as err:
        raise UsageError(f"{option}: {err} (in {text!r})") from None


def pair(text: str, option: str, *, positive: bool = True, le: float | None = None) -> tuple[float, float]:
    """``LO,HI``: two finite numbers with LO < HI (and 0 < LO where ``positive``, both <= ``le``)."""
    values = float_list(text, option, le=le)
    if len(values) != 2:
        raise UsageError(f"{option}: expected two numbers LO,HI, got {text!r}")
    lo, hi = values
    if positive and not lo > 0:
        raise UsageError(f"{option}: need 0 < LO < HI, got LO = {lo:g}")
    if not lo < hi:
        raise UsageError(f"{option}: need LO < HI, got {lo:g}, {hi:g}")
    return lo, hi


def grid_shape(text: str, option: str = "--grid") -> tuple[int, int]:
    """``N1,N2``: two whole numbers >= 2, each at most :data:`MAX_AXIS`, bounded in product."""
    from ..inference.scan import MAX_GRID_POINTS

    try:
        a, b = (int(x) for x in text.split(","))
    except ValueError:
        raise UsageError(f"{option}: expected two whole numbers N1,N2, got {text!r}") from None
    if a < 2 or b < 2:
        raise UsageError(f"{option}: need at least 2 points per axis, got {a},{b}")
    if max(a, b) > MAX_AXIS or a * b > MAX_GRID_POINTS:
        raise UsageError(f"{option}: {a} x {b} points exceed the limit of {MAX_AXIS} per axis and "
                         f"{MAX_GRID_POINTS:.0e} in all (the results alone would not fit in memory)")
    return a, b


def light_mass_range(text: str | None, option: str = "--mass-range-mev") -> tuple[float, float]:
    """``LO,HI`` of a light-mediator mass range [MeV]: 0 < LO < HI <= 1e7 MeV (default: the figures' range)."""
    from ..inference.planes import LIGHT_MASS_RANGE_MEV
    from ..physics.models import MAX_LIGHT_MASS_MEV

    return LIGHT_MASS_RANGE_MEV if text is None else pair(text, option, le=MAX_LIGHT_MASS_MEV)


def heavy_mass_range(text: str | None, option: str = "--mass-range-gev") -> tuple[float, float]:
    """``LO,HI`` of a heavy-Z' mass range [GeV]: LO at least the contact-limit mass (default: the figures')."""
    from ..inference.planes import HEAVY_MASS_RANGE_GEV
    from ..physics.heavy_models import MIN_CONTACT_MASS_GEV

    if text is None:
        return HEAVY_MASS_RANGE_GEV
    lo, hi = pair(text, option)
    if lo < MIN_CONTACT_MASS_GEV:
        raise UsageError(f"{option}: LO must be >= {MIN_CONTACT_MASS_GEV:g} GeV (the heavy models are the "
                         f"contact limit M_Z' >> |q|), got {lo:g}")
    return lo, hi


DEFAULT_TOYS = 2000


def add_toys(sp) -> None:
    """``--toys`` and ``--seed`` of ``--method toys`` (Feldman-Cousins limits)."""
    sp.add_argument("--toys", type=whole(ge=100, le=10**6),
                    help=f"--method toys: pseudo-experiments per test point (default {DEFAULT_TOYS}; the "
                         "critical value's Monte-Carlo error falls as 1/sqrt(N))")
    sp.add_argument("--seed", type=whole(ge=0, le=2**32 - 1),
                    help="--method toys: seed of the pseudo-experiments (default 0)")


def check_toys(args) -> None:
    """``--toys``/``--seed`` need ``--method toys``, which takes its level from ``--cl``; with it, their
    defaults are filled in (so every reader takes ``args.toys`` and ``args.seed`` as they are)."""
    if args.method != "toys":
        reject(args, ("toys", "seed"), "without --method toys")
        return
    if getattr(args, "delta_chi2", None) is not None:
        raise UsageError("--delta-chi2: does not apply to --method toys (the critical values come from the toys "
                         "at --cl)")
    args.toys = DEFAULT_TOYS if args.toys is None else args.toys
    args.seed = 0 if args.seed is None else args.seed


def reject(args, options: tuple[str, ...], reason: str) -> None:
    """An error for the first of ``options`` (dest names) given on the command line: it does not apply."""
    for dest in options:
        if getattr(args, dest, None) not in (None, False):
            raise UsageError(f"--{dest.replace('_', '-')}: does not apply {reason}")


def level_of(args) -> tuple[float, float]:
    """(confidence level, Delta chi^2) from ``--cl`` or ``--delta-chi2`` (one of them; default CL 0.9).

    With ``--delta-chi2`` the CL reported is the one-parameter CL of that level.
    """
    from ..likelihood.levels import cl_for_delta_chi2, delta_chi2_for_cl

    if args.cl is not None and args.delta_chi2 is not None:
        raise UsageError("--delta-chi2: give --cl or --delta-chi2, not both")
    if args.delta_chi2 is not None:
        return cl_for_delta_chi2(args.delta_chi2), args.delta_chi2
    cl = 0.9 if args.cl is None else args.cl
    return cl, delta_chi2_for_cl(cl)


def add_level(sp) -> None:
    """``--cl`` and ``--delta-chi2`` (exclusive; see :func:`level_of`)."""
    sp.add_argument("--cl", type=real(gt=0, lt=1), help="confidence level (default 0.9)")
    sp.add_argument("--delta-chi2", type=real(gt=0, le=1e4),
                    help="the Delta chi^2 level instead of --cl (one-parameter CL reported)")


def experiments(names: list[str] | None, option: str = "--experiment") -> list[str]:
    """Expand groups (``ess-all``) and check every name: a preset, a group or an existing spec file."""
    from ..spec.loader import experiment_path

    if not names:
        raise UsageError(f"{option}: required option missing (a preset name or a .toml path)")
    out = []
    for n in names:
        if n in EXPERIMENT_GROUPS:
            out.extend(EXPERIMENT_GROUPS[n])
            continue
        try:
            experiment_path(n)
        except ZPrimeError as err:
            raise UsageError(f"{option}: {str(err).removeprefix('experiment: ')}"
                             + (f"; or a group {sorted(EXPERIMENT_GROUPS)}" if "unknown" in str(err) else "")) from None
        out.append(n)
    repeated = sorted({n for n in out if out.count(n) > 1})
    if repeated:
        raise UsageError(f"{option}: {', '.join(repeated)} given more than once (directly or through a group); "
                         "an experiment enters an analysis once")
    return out


def one_experiment(name: str, option: str = "--experiment") -> str:
    """A single experiment (not a group), checked as :func:`experiments` checks it."""
    if name in EXPERIMENT_GROUPS:
        raise UsageError(f"{option}: {name!r} is a group of experiments ({', '.join(EXPERIMENT_GROUPS[name])}); "
                         "this command takes one")
    return experiments([name], option)[0]


def load(name: str, pressure_torr: float | None = None, option: str = "--pressure-torr", **overrides):
    """Load a preset/spec; ``pressure_torr`` applies to gas-TPC detectors only (an error there names ``option``)."""
    from ..spec import load_experiment

    spec = load_experiment(name, **overrides)
    if pressure_torr is not None and spec.detector.kind == "gas-tpc":
        try:
            spec = load_experiment(name, pressure_torr=pressure_torr, **overrides)
        except ZPrimeError as err:
            raise UsageError(f"{option}: {err}") from None
    return spec


def check_pressure_used(args, specs) -> None:
    """``--pressure-torr`` needs a gas-TPC experiment."""
    if getattr(args, "pressure_torr", None) is not None and not any(
            s.detector.kind == "gas-tpc" for s in specs):
        raise UsageError("--pressure-torr: applies only to gas-TPC experiments (e.g. nubdx-drift)")


def check_lr_reading_used(args, specs) -> None:
    """``--lr-electron-reading`` reads eq. 10 for nu-e: it needs a nu-e experiment."""
    if getattr(args, "lr_electron_reading", None) is not None and not any(
            s.detector.kind == "electron-scattering" for s in specs):
        raise UsageError("--lr-electron-reading: applies only to nu-e experiments (e.g. cr51-lxe-a, connie is "
                         "CEvNS); none is given")


def model_of(args):
    """The model of ``--model`` (with ``--sin2w`` and ``--lr-electron-reading``); errors name ``--model``."""
    from dataclasses import replace

    from ..physics.models import get_model

    try:
        model = get_model(args.model, getattr(args, "sin2w", None))
    except ZPrimeError as err:
        raise UsageError(f"--model: {str(err).removeprefix('model: ')}") from None
    reading = getattr(args, "lr_electron_reading", None)
    if reading is not None:
        if model.name != "lr":
            raise UsageError(f"--lr-electron-reading: applies to --model lr only, got {model.name!r}")
        model = replace(model, electron_lr_reading=reading)
    return model


def cos_beta_of(args, model) -> float | None:
    """cos beta from --cos-beta or --beta [rad, in [0, pi]]: only for the generic ``e6`` model.

    Returns None where neither is given.
    """
    given = getattr(args, "beta", None) is not None or getattr(args, "cos_beta", None) is not None
    if given and model.name != "e6":
        opt = "--beta" if getattr(args, "beta", None) is not None else "--cos-beta"
        raise UsageError(f"{opt}: applies to --model e6 only; {model.name!r} has its own fixed mixing"
                         + (" angle" if model.name.startswith("e6-") else " (not an E6 model)"))
    if getattr(args, "beta", None) is not None:
        if getattr(args, "cos_beta", None) is not None:
            raise UsageError("--beta: give --beta or --cos-beta, not both")
        return math.cos(args.beta)
    return getattr(args, "cos_beta", None)


def params_of(args, model):
    """The Z' parameters of ``rates``: light (--mass-mev, --coupling) or heavy (--mass-gev[, cos beta])."""
    from ..kernels.rates import model_family
    from ..physics.models import HeavyZPrime, LightZPrime

    family = model_family(model)
    light_opts, heavy_opts = ("mass_mev", "coupling"), ("mass_gev", "beta", "cos_beta")
    if family == "sm":
        reject(args, light_opts + heavy_opts, "to --model sm (no Z')")
        return None
    if family == "heavy":
        reject(args, light_opts, f"to the heavy model {model.name!r} (its parameters: --mass-gev"
               + (", --cos-beta or --beta)" if model.name == "e6" else ")"))
        cb = cos_beta_of(args, model)
        if args.mass_gev is None:
            raise UsageError(f"--mass-gev: required for --model {model.name}")
        if model.name == "e6" and cb is None:
            raise UsageError("--cos-beta: required for --model e6 (or --beta)")
        return HeavyZPrime(args.mass_gev, float("nan") if cb is None else cb)
    reject(args, heavy_opts, f"to the light model {model.name!r} (its parameters: --mass-mev, --coupling)")
    for dest in light_opts:
        if getattr(args, dest) is None:
            raise UsageError(f"--{dest.replace('_', '-')}: required for --model {model.name}")
    return LightZPrime(args.mass_mev, args.coupling)


def output_folder(text: str, option: str = "--out") -> Path:
    """Prove the output folder can be created and written, before any work, leaving nothing behind.

    The folder itself is made when the first file is written (:func:`out_dir`).
    """
    if not text.strip():
        raise UsageError(f"{option}: empty path (give a folder)")
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option}: {text} exists and is not a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option}: cannot create {text}: {existing} is not a folder")
    try:
        tempfile.TemporaryDirectory(dir=existing, prefix=".zprime-jax-write-test").cleanup()
    except OSError as err:
        raise UsageError(f"{option}: cannot write to {text} ({err.strerror or err})") from None
    return folder


def out_dir(text: str) -> Path:
    """The ``--out`` folder, created (checked by :func:`output_folder` before the work)."""
    folder = Path(text)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def add_lr_electron_reading(sp) -> None:
    """``--lr-electron-reading``: how eq. (10) of the heavy-Z' paper is read for nu-e scattering (lr model)."""
    sp.add_argument("--lr-electron-reading", choices=["as-printed", "nc-only"],
                    help="eq. 10 of the heavy-Z' paper for nu-e with --model lr: as-printed (default; A and B act on "
                         "g_e^L with the charged-current +1, which reproduces the paper's Table III) or nc-only "
                         "(on the neutral-current couplings alone)")


def add_hepdata(sp) -> None:
    """``--hepdata DIR``: also write the results as a HEPData submission (:mod:`zprime_jax.io.hepdata`)."""
    sp.add_argument("--hepdata", metavar="DIR",
                    help="also write the results as a HEPData submission into the folder DIR (submission.yaml and "
                         "one YAML table per curve or table, with units, CL, Delta chi^2 level, model, experiments, "
                         "likelihoods and the zprime-jax version as qualifiers); DIR must be new, empty or an "
                         "earlier submission, which is replaced; works with or without --out")


def check_hepdata(args) -> None:
    """``--hepdata``: a folder of its own (new, empty or an earlier submission), writable, apart from --out."""
    from ..io.hepdata import check_folder

    text = getattr(args, "hepdata", None)
    if text is None:
        return
    folder = check_folder(text, "--hepdata")
    output_folder(text, "--hepdata")
    out = getattr(args, "out", None)
    if out is not None:
        a, b = folder.resolve(), Path(out).resolve()
        if a == b or a in b.parents:
            raise UsageError(f"--hepdata: {text} must be a folder of its own, not --out {out} or a folder holding "
                             "it (a HEPData submission holds only its own files; e.g. --hepdata OUT/hepdata)")
    args.hepdata = str(folder)


def check_inputs(args) -> None:
    """Before any work: the output folders are writable and the input files exist."""
    if getattr(args, "out", None) is not None:
        args.out = str(output_folder(args.out))
    check_hepdata(args)
    input_files(getattr(args, "data", None), "--data")
    input_files(getattr(args, "overlay", None), "--overlay")
    if getattr(args, "shard", None) is not None and args.out is None:
        raise UsageError("--shard: needs --out (the folder for the part's files)")


def input_files(paths: list[str] | None, option: str) -> None:
    """Every file of a repeatable file option exists and is readable."""
    for p in paths or ():
        path = Path(p)
        if not path.is_file():
            raise UsageError(f"{option}: file not found: {p}")
        if not os.access(path, os.R_OK):
            raise UsageError(f"{option}: file not readable: {p}")


def check_data_count(paths: list[str] | None, names: list[str]) -> None:
    """``--data``: none, or one file per experiment."""
    if paths and len(paths) != len(names):
        raise UsageError(f"--data: give one file per --experiment ({len(names)}: {', '.join(names)}), "
                         f"got {len(paths)}")


def observed_counts(paths: list[str] | None, names: list[str], kernels: dict) -> list:
    """The ``--data`` counts, one file per experiment in order (None per experiment without ``--data``)."""
    from ..likelihood.observed import load_observed_counts

    check_data_count(paths, names)
    if not paths:
        return [None] * len(names)
    try:
        return [load_observed_counts(p, kernels[n]) for n, p in zip(names, paths)]
    except ZPrimeError as err:
        raise UsageError(f"--data: {err}") from None
