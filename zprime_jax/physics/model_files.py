"""U(1)' models as data: TOML files of per-fermion charges, validated into :class:`models.VectorMediator`.

A model file (the shipped presets are in ``physics/model_files/``; ``--model
PATH`` takes a user's):

    name = "le-lmu"
    description = "U(1)_{Le-Lmu}, quarks via the e/mu loop"
    reference = "..."                      # optional
    [charges]                              # every one of the eight, in units of the coupling g
    u = 0.0   d = 0.0   e = 1.0   mu = -1.0   tau = 0.0
    nu_e = 1.0   nu_mu = -1.0   nu_tau = 0.0
    [kinetic_mixing]                       # optional
    epsilon_per_coupling = 0.0             # tree-level photon-Z' mixing eps = epsilon_per_coupling * g
    loop = true                            # the photon-Z' mixing of the charged-lepton loop (eq. 2.5, general)
    renormalization_scale_mev = 1000.0     # needed only where sum_l Q_l Q'_l != 0 (a divergent loop)

Antineutrinos carry their neutrino's vector charge. A model must charge at
least one neutrino -- CEvNS and nu-e scattering see a Z' through its
neutrino coupling -- except a pure dark photon (every charge 0,
``epsilon_per_coupling`` != 0), seen at O(eps^2) through its mixing with the
Z (:class:`models.VectorMediator`). Errors name the field (``charges.mu``,
``kinetic_mixing.loop``).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from ..errors import InputError
from ..toml_files import preset_or_path, shipped

CHARGE_KEYS = ("u", "d", "e", "mu", "tau", "nu_e", "nu_mu", "nu_tau")
TOP_KEYS = ("name", "description", "reference", "charges", "kinetic_mixing")
MIXING_KEYS = ("epsilon_per_coupling", "loop", "renormalization_scale_mev")
TEXT_KEYS = ("name", "description")      # required, non-empty strings


def _preset_files() -> dict[str, Path]:
    return shipped(__package__, "model_files")


def preset_model_names() -> tuple[str, ...]:
    """The shipped model files, sorted."""
    return tuple(sorted(_preset_files()))


def model_path(name_or_path: str) -> Path | None:
    """The file of a preset model name or of a path (``.toml`` suffix or a ``/``); None for neither."""
    return preset_or_path(name_or_path, _preset_files(), InputError, "model", "model")


def _number(field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise InputError(f"{field}: must be a finite number, got {value!r}")
    return float(value)


def parse_model(data: dict, origin: str = "model file"):
    """A :class:`models.VectorMediator` from the parsed TOML ``data`` (module docstring); errors name the field."""
    from .models import VectorMediator

    if not isinstance(data, dict):
        raise InputError(f"model: {origin} must be a TOML table")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise InputError(f"{unknown[0]}: unknown key in {origin}; allowed: {list(TOP_KEYS)}")
    for key in TEXT_KEYS:
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise InputError(f"{key}: {origin} needs a non-empty string")
    charges = data.get("charges")
    if not isinstance(charges, dict):
        raise InputError(f"charges: {origin} needs a [charges] table with {list(CHARGE_KEYS)}")
    unknown = sorted(set(charges) - set(CHARGE_KEYS))
    if unknown:
        raise InputError(f"charges.{unknown[0]}: unknown fermion; allowed: {list(CHARGE_KEYS)}")
    missing = [k for k in CHARGE_KEYS if k not in charges]
    if missing:
        raise InputError(f"charges.{missing[0]}: missing (give every one of {list(CHARGE_KEYS)}; 0 for none)")
    q = {k: _number(f"charges.{k}", charges[k]) for k in CHARGE_KEYS}
    neutrinos = (q["nu_e"], q["nu_mu"], q["nu_tau"])
    mixing = data.get("kinetic_mixing", {})
    if not isinstance(mixing, dict):
        raise InputError("kinetic_mixing: must be a table")
    unknown = sorted(set(mixing) - set(MIXING_KEYS))
    if unknown:
        raise InputError(f"kinetic_mixing.{unknown[0]}: unknown key; allowed: {list(MIXING_KEYS)}")
    epsilon = _number("kinetic_mixing.epsilon_per_coupling", mixing.get("epsilon_per_coupling", 0.0))
    if not any(neutrinos):
        charged = [k for k in CHARGE_KEYS if q[k] != 0]
        if not epsilon:
            raise InputError("charges.nu_e: every neutrino charge is 0; CEvNS and nu-e scattering see a Z' "
                             "through its neutrino coupling (or, for a dark photon, through "
                             "kinetic_mixing.epsilon_per_coupling with every charge 0)")
        if charged:
            raise InputError(f"charges.{charged[0]}: a model with kinetic mixing and no neutrino charge must "
                             "be a pure dark photon (every charge 0): its leading nu coupling to charged "
                             "fermions is an O(eps g q^2/m_Z^2) Z-exchange term this package does not compute")
    loop = mixing.get("loop", False)
    if not isinstance(loop, bool):
        raise InputError(f"kinetic_mixing.loop: must be true or false, got {loop!r}")
    scale = mixing.get("renormalization_scale_mev")
    if scale is not None:
        scale = _number("kinetic_mixing.renormalization_scale_mev", scale)
        if scale <= 0:
            raise InputError(f"kinetic_mixing.renormalization_scale_mev: must be > 0, got {scale:g}")
        if not loop:
            raise InputError("kinetic_mixing.renormalization_scale_mev: applies only with loop = true")
    leptons = (q["e"], q["mu"], q["tau"])
    if loop and sum(leptons) != 0 and scale is None:      # Q_l = -1: sum_l Q_l Q'_l = -sum_l Q'_l
        raise InputError("kinetic_mixing.renormalization_scale_mev: the charged-lepton loop diverges "
                         f"(sum of Q'_e, Q'_mu, Q'_tau = {sum(leptons):g}, not 0): give the scale [MeV]")
    return VectorMediator(data["name"], data["description"], (q["u"], q["d"]), neutrinos * 2,
                          kinetic_loop=loop, lepton_charges=leptons, loop_scale_mev=scale,
                          epsilon_per_coupling=epsilon)


def load_model(name_or_path: str):
    """The model of a preset model file (``"le-lmu"``) or a TOML file by path, validated."""
    path = model_path(name_or_path)
    if path is None:
        raise InputError(f"model: no model file {name_or_path!r}; presets: {list(preset_model_names())}")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"model: {path} is not valid TOML ({err})") from None
    origin = "the model file" if path in _preset_files().values() else str(path)
    try:
        return parse_model(data, origin)
    except InputError as err:
        if origin != "the model file" and str(path) not in str(err):
            raise InputError(f"{err} ({path})") from None
        raise


def list_models() -> list[dict]:
    """Name, description and charges of every shipped model file, sorted by name (from the models the
    registry already read, :data:`models.MODELS`)."""
    from .models import MODELS

    out = []
    for name in preset_model_names():
        m = MODELS[name]
        values = (*m.quark_charges, *m.lepton_charges, *m.neutrino_charges[:3])
        out.append({"name": name, "description": m.description, "charges": dict(zip(CHARGE_KEYS, values)),
                    "kinetic_loop": m.kinetic_loop, "epsilon_per_coupling": m.epsilon_per_coupling})
    return out
