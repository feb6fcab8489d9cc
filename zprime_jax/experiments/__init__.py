"""Experiments declared as data: TOML presets, a schema, and a validating loader.

A preset file has four tables. Unknown keys, missing required keys, wrong
types and out-of-range values raise :class:`SpecError` naming the field
(e.g. ``detector.threshold_kev``) before anything is compiled. A user adds a
detector by writing a TOML file and passing its path wherever a preset name
is accepted.

    name = "ess-csi"
    description = "..."
    [source]      kind = "pion-dar", ...
    [detector]    material, mass_kg, threshold_kev, window_max_kev, ...
    [statistics]  sigma_signal, sigma_background
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, fields
from importlib import resources
from pathlib import Path


class SpecError(ValueError):
    """An experiment specification is malformed; the message names the field."""


@dataclass(frozen=True)
class PionDARSource:
    """Pion decay at rest (light-mediator paper eqs. 3.6-3.7)."""

    nu_per_proton_per_flavour: float
    protons_per_year: float
    distance_m: float
    kind: str = "pion-dar"


@dataclass(frozen=True)
class LBNFBeamDumpSource:
    """LBNF beam-dump flux at the near-detector site (light-mediator paper sec. 3.1).

    ``flavours``: "nu_mu" (the paper's pure nu_mu beam) or "all" (the four
    columns of the packaged table). ``max_energy_gev``: upper end (paper: 5).
    """

    protons_per_year: float
    max_energy_gev: float = 5.0
    flavours: str = "nu_mu"
    flux_table: str = "lbnf_nd_flux.csv"
    kind: str = "lbnf-beam-dump"


@dataclass(frozen=True)
class GasTPCDetectorSpec:
    """A gas TPC whose targets and thresholds follow the pressure (eqs. 3.3-3.5).

    N_molecules = density_coefficient[kg/m^3 per (g/mol) per Torr] * 1e3 * P * V * N_A
    (eq. 3.3), thresholds E_th,i = f_i * P / reference_pressure_torr keV (eq. 3.4),
    one total-rate bin up to ``window_max_kev`` without smearing, the
    stoichiometry of ``material`` giving R = R(C) + 2 R(S) for CS2 (eq. 3.5).
    The background is ``background_fraction`` of the expected SM count.
    """

    material: str
    volume_m3: float
    pressure_torr: float
    thresholds_kev_at_reference: tuple
    window_max_kev: float
    exposure_years: float
    reference_pressure_torr: float = 40.0
    density_coefficient: float = 5.5e-5
    acceptance: float = 1.0
    background_fraction: float = 0.25
    isotopes: str = "paper"
    form_factor: str = "helm"
    kind: str = "gas-tpc"


@dataclass(frozen=True)
class DetectorSpec:
    """A detector: target material, exposure, threshold, window, response, background.

    Energies in keV of nuclear recoil (keVnr), as in the paper's Table 2.
    """

    material: str
    mass_kg: float
    exposure_years: float
    threshold_kev: float
    window_max_kev: float
    resolution_at_threshold: float = 0.0
    smearing: bool = True
    binning: str = "resolution"
    acceptance: float = 1.0
    background_per_day: float = 0.0
    isotopes: str = "paper"
    form_factor: str = "helm"
    kind: str = "standard"


@dataclass(frozen=True)
class StatisticsSpec:
    """Pull-term uncertainties of eq. 4.1 (fractions)."""

    sigma_signal: float = 0.10
    sigma_background: float = 0.01


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    description: str
    source: PionDARSource
    detector: DetectorSpec
    statistics: StatisticsSpec
    reference: str = ""


SOURCE_KINDS = {"pion-dar": PionDARSource, "lbnf-beam-dump": LBNFBeamDumpSource}
DETECTOR_KINDS = {"standard": DetectorSpec, "gas-tpc": GasTPCDetectorSpec}
BINNINGS = ("resolution", "single")


def _check_table(table: dict, cls, path: str, skip=()) -> dict:
    """Check keys against the dataclass ``cls``: unknown, missing and types."""
    allowed = {f.name: f for f in fields(cls) if f.name not in skip}
    if not isinstance(table, dict):
        raise SpecError(f"{path}: must be a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            raise SpecError(f"{path}.{key}: unknown key; allowed: {sorted(allowed)}")
    out = {}
    for name, f in allowed.items():
        if name not in table:
            if f.default is MISSING and f.default_factory is MISSING:
                raise SpecError(f"{path}.{name}: required key is missing")
            continue
        value = table[name]
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(f"{path}.{name}: must be a number, got {value!r}")
            value = float(value)
        elif kind == "bool" and not isinstance(value, bool):
            raise SpecError(f"{path}.{name}: must be true or false, got {value!r}")
        elif kind == "str" and not isinstance(value, str):
            raise SpecError(f"{path}.{name}: must be a string, got {value!r}")
        elif kind == "tuple":       # a TOML table of numbers, stored hashable
            if not isinstance(value, dict) or not value or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()):
                raise SpecError(f"{path}.{name}: must be a table of numbers, got {value!r}")
            value = tuple(sorted((str(k), float(v)) for k, v in value.items()))
        out[name] = value
    return out


def _positive(path: str, value: float, strict: bool = True) -> None:
    if not (value > 0 if strict else value >= 0) or value != value:
        raise SpecError(f"{path}: must be {'> 0' if strict else '>= 0'}, got {value}")


def _check_standard_detector(det: DetectorSpec) -> None:
    _positive("detector.mass_kg", det.mass_kg)
    _positive("detector.threshold_kev", det.threshold_kev)
    _positive("detector.background_per_day", det.background_per_day, strict=False)
    if not det.window_max_kev > det.threshold_kev:
        raise SpecError(f"detector.window_max_kev: must exceed detector.threshold_kev "
                        f"({det.threshold_kev}), got {det.window_max_kev}")
    if det.binning not in BINNINGS:
        raise SpecError(f"detector.binning: must be one of {BINNINGS}, got {det.binning!r}")
    if det.smearing and not det.resolution_at_threshold > 0:
        raise SpecError("detector.resolution_at_threshold: must be > 0 when detector.smearing is true")
    if det.binning == "resolution" and not det.resolution_at_threshold > 0:
        raise SpecError("detector.resolution_at_threshold: must be > 0 for resolution binning")


def _check_gas_tpc(det: GasTPCDetectorSpec) -> None:
    from ..nuclei import material_composition

    for name in ("volume_m3", "pressure_torr", "reference_pressure_torr", "density_coefficient",
                 "window_max_kev"):
        _positive(f"detector.{name}", getattr(det, name))
    _positive("detector.background_fraction", det.background_fraction, strict=False)
    try:
        targets = {iso.name for iso in material_composition(det.material, det.isotopes)}
    except ValueError as err:
        raise SpecError(str(err)) from None
    given = {k for k, _ in det.thresholds_kev_at_reference}
    if given != targets:
        raise SpecError(f"detector.thresholds_kev_at_reference: need one threshold per target "
                        f"{sorted(targets)}, got {sorted(given)}")
    for k, v in det.thresholds_kev_at_reference:
        _positive(f"detector.thresholds_kev_at_reference.{k}", v)
        th = v * det.pressure_torr / det.reference_pressure_torr
        if th >= det.window_max_kev:
            raise SpecError(f"detector.pressure_torr: at {det.pressure_torr} Torr the {k} threshold "
                            f"({th:.4g} keV, eq. 3.4) reaches detector.window_max_kev ({det.window_max_kev})")


def _check_common_detector(det) -> None:
    from ..form_factors import FORM_FACTORS
    from ..nuclei import MATERIALS

    _positive("detector.exposure_years", det.exposure_years)
    if not 0.0 < det.acceptance <= 1.0:
        raise SpecError(f"detector.acceptance: must be in (0, 1], got {det.acceptance}")
    if det.material not in MATERIALS:
        raise SpecError(f"detector.material: unknown material {det.material!r}; allowed: {sorted(MATERIALS)}")
    if det.isotopes not in ("paper", "natural"):
        raise SpecError(f"detector.isotopes: must be 'paper' or 'natural', got {det.isotopes!r}")
    if det.form_factor not in FORM_FACTORS:
        raise SpecError(f"detector.form_factor: unknown {det.form_factor!r}; allowed: {sorted(FORM_FACTORS)}")


def parse_spec(data: dict, origin: str = "<spec>") -> ExperimentSpec:
    """Validate a parsed TOML document and build an :class:`ExperimentSpec`."""
    top = {"name", "description", "reference", "source", "detector", "statistics"}
    for key in data:
        if key not in top:
            raise SpecError(f"{origin}: {key}: unknown key; allowed: {sorted(top)}")
    for key in ("name", "description", "source", "detector"):
        if key not in data:
            raise SpecError(f"{origin}: {key}: required key is missing")

    source_table = dict(data["source"]) if isinstance(data["source"], dict) else data["source"]
    if not isinstance(source_table, dict):
        raise SpecError("source: must be a table")
    kind = source_table.pop("kind", None)
    if kind not in SOURCE_KINDS:
        raise SpecError(f"source.kind: unknown source {kind!r}; allowed: {sorted(SOURCE_KINDS)}")
    source_cls = SOURCE_KINDS[kind]
    source = source_cls(**_check_table(source_table, source_cls, "source", skip=("kind",)))
    for f in fields(source_cls):
        if f.type == "float":
            _positive(f"source.{f.name}", getattr(source, f.name))
    if kind == "lbnf-beam-dump" and source.flavours not in ("nu_mu", "all"):
        raise SpecError(f"source.flavours: must be 'nu_mu' or 'all', got {source.flavours!r}")

    det_table = data["detector"]
    if not isinstance(det_table, dict):
        raise SpecError("detector: must be a table")
    det_table = dict(det_table)
    det_kind = det_table.pop("kind", "standard")
    if det_kind not in DETECTOR_KINDS:
        raise SpecError(f"detector.kind: unknown kind {det_kind!r}; allowed: {sorted(DETECTOR_KINDS)}")
    det_cls = DETECTOR_KINDS[det_kind]
    det = det_cls(**_check_table(det_table, det_cls, "detector", skip=("kind",)))
    if det_kind == "standard":
        _check_standard_detector(det)
    else:
        _check_gas_tpc(det)
    _check_common_detector(det)

    stats = StatisticsSpec(**_check_table(data.get("statistics", {}), StatisticsSpec, "statistics"))
    _positive("statistics.sigma_signal", stats.sigma_signal)
    _positive("statistics.sigma_background", stats.sigma_background)
    for key in ("name", "description", "reference"):
        if key in data and not isinstance(data[key], str):
            raise SpecError(f"{key}: must be a string")
    return ExperimentSpec(data["name"], data["description"], source, det, stats,
                          data.get("reference", ""))


def _preset_files() -> dict[str, Path]:
    folder = resources.files(__package__) / "presets"
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


def list_experiments() -> list[dict]:
    """Name and description of every shipped preset, sorted by name."""
    out = []
    for name, path in sorted(_preset_files().items()):
        with open(path, "rb") as fh:
            out.append({"name": name, "description": tomllib.load(fh)["description"]})
    return out


def load_experiment(name_or_path: str, **detector_overrides) -> ExperimentSpec:
    """Load a preset by name (``"ess-csi"``) or a TOML file by path, validated.

    ``detector_overrides`` replace keys of the ``[detector]`` table before
    validation (e.g. ``threshold_kev=2.0``).
    """
    presets = _preset_files()
    if name_or_path in presets:
        path = presets[name_or_path]
    elif name_or_path.endswith(".toml") and Path(name_or_path).is_file():
        path = Path(name_or_path)
    else:
        raise SpecError(f"experiment: unknown experiment {name_or_path!r}; "
                        f"allowed: {sorted(presets)} or a path to a .toml file")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from None
    if detector_overrides:
        data.setdefault("detector", {}).update(detector_overrides)
    return parse_spec(data, origin=str(path))
