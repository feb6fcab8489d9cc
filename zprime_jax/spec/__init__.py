"""Experiments declared as data: TOML presets, a schema, and a validating loader.

A preset file has four tables. Unknown keys, missing required keys, wrong
types and out-of-range values raise :class:`SpecError` naming the field
(e.g. ``detector.threshold_kev``) before anything is compiled. A user adds a
detector by writing a TOML file and passing its path wherever a preset name
is accepted.

    name = "ess-csi"
    description = "..."
    [source]      kind = "pion-dar" | "lbnf-beam-dump" | "reactor" | "radioactive", ...
    [detector]    material, mass_kg, threshold_kev, window_max_kev, ...
                  (or [[detector.parts]]: several materials, each with its own
                  mass and threshold, in one experiment)
                  | kind = "gas-tpc" (pressure-dependent targets, nuBDX-DRIFT)
                  | kind = "electron-scattering" (nu-e scattering in a volume
                    near a radioactive source: cylinder, density, Z, A, bins)
    [statistics]  chi2 = "pulls-poisson" (sigma_signal, sigma_background)
                  | "coherent-2017" (n_meas, b_0n, b_ss, sigma_a1, sigma_a2)
                  | "projection" / "projection-alt" (sigma_stat, sigma_sys)
                  | "gaussian-sm" (heavy-Z' paper eq. 23; no settings)

Exposure: a pion-DAR source takes either ``protons_per_year`` (times
``detector.exposure_years``) or ``protons_on_target`` (the whole exposure; then
no ``detector.exposure_years``); a reactor source carries its own
``exposure_days``. Windows: ``detector.window_max_kev`` may be left out: then
there is no upper cut (the kinematic end point closes the window).
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, fields
from importlib import resources
from pathlib import Path

from ..errors import SpecError


@dataclass(frozen=True)
class PionDARSource:
    """Pion decay at rest (light-mediator paper eqs. 3.6-3.7; heavy-Z' paper eq. 17).

    Exactly one of ``protons_per_year`` (the exposure is then
    ``detector.exposure_years`` years) and ``protons_on_target`` (the whole
    exposure, e.g. COHERENT CsI's 1.76e23). ``live_days`` (only with
    ``protons_on_target``) is the live time, used for a per-day background.
    """

    nu_per_proton_per_flavour: float
    distance_m: float
    protons_per_year: float | None = None
    protons_on_target: float | None = None
    live_days: float | None = None
    kind: str = "pion-dar"


@dataclass(frozen=True)
class ReactorSource:
    """Reactor antineutrinos (heavy-Z' paper sec. 3.1; :func:`fluxes.reactor_source`).

    ``fission_fractions``: a TOML table {U235 = ..., U238 = ..., Pu239 = ...,
    Pu241 = ...} summing to 1 (default: the 0.58/0.07/0.30/0.05 mixture);
    ``max_energy_mev``: upper end of the spectrum (default 10 MeV).
    """

    thermal_power_mw: float
    distance_m: float
    exposure_days: float
    fission_fractions: tuple = ()
    max_energy_mev: float = 10.0
    kind: str = "reactor"


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
class RadioactiveSource:
    """A radioactive neutrino source of monochromatic lines (heavy-Z' paper sec. 3.2, eqs. 18-19).

    ``initial_activity_mci``: R^0 [MCi]; ``mean_life_days``: tau; the
    activity is averaged over ``exposure_days`` (eq. 18).
    ``flux_per_mci_at_1m``: phi_0 [nu / (MCi m^2 s)]; ``line_energies_kev``
    and ``line_fractions`` (TOML arrays, one entry per line): the energies and
    the neutrinos per decay of each line (alpha_i; their sum may not exceed 1).
    ``flavour``: the neutrino flavour emitted (51Cr: "nu_e").
    """

    initial_activity_mci: float
    exposure_days: float
    line_energies_kev: list
    line_fractions: list
    mean_life_days: float = 39.96
    flux_per_mci_at_1m: float = 2.94e15
    flavour: str = "nu_e"
    isotope: str = "Cr51"
    kind: str = "radioactive"


@dataclass(frozen=True)
class ElectronDetectorSpec:
    """A neutrino-electron scattering detector filling a cylinder above a point source.

    The source sits on the cylinder's axis ``source_distance_m`` (L) below its
    base; ``height_m`` (h) and ``diameter_m`` (d) give the fiducial volume
    (heavy-Z' paper eq. 20). ``density_g_cm3``, ``atomic_number`` (Z) and
    ``molar_mass_g_mol`` (A) give the electron density n_e = rho N_A Z / A.
    Bins of ``bin_width_kev`` in electron recoil energy T_e from
    ``threshold_kev`` (``n_bins`` of them); bins above the kinematic end point
    carry no events and are left out of the chi^2. ``efficiency``: flat, in (0, 1].
    """

    material: str
    density_g_cm3: float
    atomic_number: float
    molar_mass_g_mol: float
    height_m: float
    diameter_m: float
    source_distance_m: float
    bin_width_kev: float
    n_bins: float
    threshold_kev: float = 0.0
    efficiency: float = 1.0
    kind: str = "electron-scattering"


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
class DetectorPart:
    """One material of a (possibly multi-part) detector: its own mass and threshold.

    ``label`` names the part in the kernel's target names ("label:isotope");
    empty for a single-material detector (plain isotope names). ``isotopes``
    and ``acceptance`` are filled in from the detector table when a
    ``[[detector.parts]]`` entry does not give them.
    """

    material: str
    mass_kg: float
    threshold_kev: float
    label: str = ""
    isotopes: str = "paper"
    acceptance: float | str = 1.0


@dataclass(frozen=True)
class DetectorSpec:
    """A detector: target material, exposure, threshold, window, response, background.

    Energies in keV of nuclear recoil (keVnr), as in the papers' tables.

    Either one material (``material``, ``mass_kg``, ``threshold_kev`` or
    ``threshold_pe``) or several ``parts`` (a TOML array ``[[detector.parts]]``
    of tables with ``material``, ``mass_kg``, ``threshold_kev`` and optionally
    ``label``, ``isotopes``, ``acceptance``), stacked along the kernel's target
    axis; multi-part detectors take ``binning = "single"`` without smearing.

    ``acceptance``: a number in (0, 1] (flat) or the name of an efficiency
    function of the true recoil energy (``detectors.EFFICIENCY_FUNCTIONS``:
    "coherent-csi-2017", "coherent-cenns10"). ``light_yield_pe_per_kevee`` and
    ``quenching_factor`` convert keVnr to photoelectrons (PE = LY x QF x E_r);
    ``threshold_pe`` / ``window_max_pe`` give the window in PE instead of
    keVnr (the loader converts them and stores ``threshold_kev`` /
    ``window_max_kev``). ``window_max_kev`` absent: no upper cut (the
    kinematic end point). ``exposure_years``: with a per-year source only.
    """

    material: str | None = None
    mass_kg: float | None = None
    exposure_years: float | None = None
    threshold_kev: float | None = None
    window_max_kev: float | None = None
    resolution_at_threshold: float = 0.0
    smearing: bool = True
    binning: str = "resolution"
    acceptance: float | str = 1.0
    background_per_day: float = 0.0
    isotopes: str = "paper"
    form_factor: str = "helm"
    light_yield_pe_per_kevee: float | None = None
    quenching_factor: float | None = None
    threshold_pe: float | None = None
    window_max_pe: float | None = None
    parts: tuple = ()
    kind: str = "standard"

    @property
    def pe_per_kevnr(self) -> float | None:
        """Photoelectrons per keVnr (light yield x quenching factor), or None."""
        if self.light_yield_pe_per_kevee is None or self.quenching_factor is None:
            return None
        return self.light_yield_pe_per_kevee * self.quenching_factor

    def part_list(self) -> tuple[DetectorPart, ...]:
        """The detector's parts; a single-material detector is one unlabelled part."""
        if self.parts:
            return self.parts
        return (DetectorPart(self.material, self.mass_kg, self.threshold_kev, "",
                             self.isotopes, self.acceptance),)


# chi^2 forms (implemented in stats.py) and the statistics keys each one takes.
#   pulls-poisson: light-mediator paper eq. 4.1 (Poisson with signal/background pulls)
#   coherent-2017: heavy-Z' paper eq. 21 (COHERENT CsI: N_meas, B_0n, B_ss, sigma_a1, sigma_a2)
#   projection:    heavy-Z' paper eq. 22 (N_SM as data, one pull: sigma_stat, sigma_sys),
#                  denominator (1 + sigma_stat) N_SM as printed (paper-notes 2)
#   projection-alt: eq. 22 with the alternative denominator sigma_stat^2 N_SM^2 + N_SM
#   gaussian-sm:   heavy-Z' paper eq. 23 (binned, N_SM as data, delta N = sqrt(N_SM); nu-e)
CHI2_FORMS = {
    "gaussian-sm": (),
    "pulls-poisson": ("sigma_signal", "sigma_background"),
    "coherent-2017": ("n_meas", "b_0n", "b_ss", "sigma_a1", "sigma_a2"),
    "projection": ("sigma_stat", "sigma_sys"),
    "projection-alt": ("sigma_stat", "sigma_sys"),
}


@dataclass(frozen=True)
class StatisticsSpec:
    """The chi^2 form and its numbers.

    ``chi2``: "pulls-poisson" (default; light-mediator paper eq. 4.1 with the
    fractional pull uncertainties ``sigma_signal``, ``sigma_background``),
    "coherent-2017" (heavy-Z' paper eq. 21: ``n_meas``, ``b_0n``, ``b_ss``,
    ``sigma_a1``, ``sigma_a2``), "projection" (eq. 22 as printed: ``sigma_stat``,
    ``sigma_sys``), "projection-alt" (eq. 22 with the alternative denominator,
    paper-notes 2; same keys) or "gaussian-sm" (eq. 23, the binned Gaussian
    chi^2 of nu-e scattering; no keys, and the only form of an
    electron-scattering detector). Keys of another form are rejected. The chi^2
    itself is computed in ``stats.py`` / ``heavy.py``.
    """

    sigma_signal: float = 0.10
    sigma_background: float = 0.01
    chi2: str = "pulls-poisson"
    n_meas: float | None = None
    b_0n: float | None = None
    b_ss: float | None = None
    sigma_a1: float | None = None
    sigma_a2: float | None = None
    sigma_stat: float | None = None
    sigma_sys: float | None = None

    @property
    def chi2_params(self) -> tuple[tuple[str, float], ...]:
        """(name, value) pairs of the chosen form's numbers, in :data:`CHI2_FORMS` order."""
        return tuple((k, float(getattr(self, k))) for k in CHI2_FORMS[self.chi2])


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    description: str
    source: PionDARSource | LBNFBeamDumpSource | ReactorSource | RadioactiveSource
    detector: DetectorSpec | GasTPCDetectorSpec | ElectronDetectorSpec
    statistics: StatisticsSpec
    reference: str = ""


SOURCE_KINDS = {"pion-dar": PionDARSource, "lbnf-beam-dump": LBNFBeamDumpSource,
                "reactor": ReactorSource, "radioactive": RadioactiveSource}
DETECTOR_KINDS = {"standard": DetectorSpec, "gas-tpc": GasTPCDetectorSpec,
                  "electron-scattering": ElectronDetectorSpec}
BINNINGS = ("resolution", "single")


def _check_table(table: dict, cls, path: str, skip=()) -> dict:
    """Check keys against the dataclass ``cls``: unknown, missing and types.

    Field types: "float", "bool", "str", "tuple" (a TOML table of numbers,
    stored as sorted (key, value) pairs), "list" (a TOML array of numbers,
    stored as a tuple), "float | str" (a number or a string),
    each optionally "| None" (the key may be absent: TOML has no null).
    """
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
        kind = kind.removesuffix(" | None")
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind == "float":
            if not is_number:
                raise SpecError(f"{path}.{name}: must be a number, got {value!r}")
            value = float(value)
        elif kind == "float | str":
            if not (is_number or isinstance(value, str)):
                raise SpecError(f"{path}.{name}: must be a number or a name, got {value!r}")
            value = float(value) if is_number else value
        elif kind == "bool" and not isinstance(value, bool):
            raise SpecError(f"{path}.{name}: must be true or false, got {value!r}")
        elif kind == "str" and not isinstance(value, str):
            raise SpecError(f"{path}.{name}: must be a string, got {value!r}")
        elif kind == "tuple":       # a TOML table of numbers, stored hashable
            if not isinstance(value, dict) or not value or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()):
                raise SpecError(f"{path}.{name}: must be a table of numbers, got {value!r}")
            value = tuple(sorted((str(k), float(v)) for k, v in value.items()))
        elif kind == "list":        # a TOML array of numbers, stored as a tuple
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise SpecError(f"{path}.{name}: must be a non-empty array of numbers, got {value!r}")
            value = tuple(float(v) for v in value)
        out[name] = value
    return out


def _positive(path: str, value: float, strict: bool = True) -> None:
    if not (value > 0 if strict else value >= 0) or value != value:
        raise SpecError(f"{path}: must be {'> 0' if strict else '>= 0'}, got {value}")


def _check_acceptance(path: str, value, pe_per_kevnr) -> None:
    from ..kernels.detectors import EFFICIENCY_FUNCTIONS

    if isinstance(value, str):
        if value not in EFFICIENCY_FUNCTIONS:
            raise SpecError(f"{path}: unknown efficiency function {value!r}; allowed: a number in "
                            f"(0, 1] or one of {sorted(EFFICIENCY_FUNCTIONS)}")
        needs_pe, _ = EFFICIENCY_FUNCTIONS[value]
        if needs_pe and pe_per_kevnr is None:
            raise SpecError(f"{path}: {value!r} is a function of photoelectrons and needs "
                            "detector.light_yield_pe_per_kevee and detector.quenching_factor")
    elif not 0.0 < value <= 1.0:
        raise SpecError(f"{path}: must be in (0, 1] or the name of an efficiency function, got {value}")


def _check_part_targets(prefix: str, part: DetectorPart, form_factor: str) -> None:
    """Material, isotope option and (for Helm) charge radii of one part.

    ``prefix``: "detector" (single material) or "detector.parts[i]".
    """
    from ..physics.nuclei import MATERIALS, has_radius, material_composition

    if part.material not in MATERIALS:
        raise SpecError(f"{prefix}.material: unknown material {part.material!r}; "
                        f"allowed: {sorted(MATERIALS)}")
    if part.isotopes not in ("paper", "natural"):
        raise SpecError(f"{prefix}.isotopes: must be 'paper' or 'natural', got {part.isotopes!r}")
    if form_factor == "helm":
        missing = [iso.name for iso in material_composition(part.material, part.isotopes)
                   if not has_radius(iso)]
        if missing:
            raise SpecError(f"detector.form_factor: 'helm' needs the rms charge radius, which "
                            f"{', '.join(missing)} ({part.material}) lack (nuclei.py has radii only for "
                            f"the light-mediator paper's Table 1 elements); use 'symmetrized-fermi'")


def _parse_parts(parts_raw, defaults: dict, pe_per_kevnr) -> tuple[DetectorPart, ...]:
    """Validate ``[[detector.parts]]`` and fill in isotopes/acceptance from the detector."""
    if not isinstance(parts_raw, list) or not parts_raw or not all(isinstance(t, dict) for t in parts_raw):
        raise SpecError("detector.parts: must be a non-empty array of tables ([[detector.parts]]), "
                        f"got {parts_raw!r}")
    out, labels = [], set()
    for i, table in enumerate(parts_raw):
        path = f"detector.parts[{i}]"
        vals = _check_table(table, DetectorPart, path)
        vals.setdefault("label", vals["material"])
        vals.setdefault("isotopes", defaults["isotopes"])
        vals.setdefault("acceptance", defaults["acceptance"])
        part = DetectorPart(**vals)
        _positive(f"{path}.mass_kg", part.mass_kg)
        _positive(f"{path}.threshold_kev", part.threshold_kev)
        if not part.label or part.label in labels:
            raise SpecError(f"{path}.label: must be non-empty and unique among the parts, got {part.label!r}")
        labels.add(part.label)
        _check_acceptance(f"{path}.acceptance", part.acceptance, pe_per_kevnr)
        _check_part_targets(path, part, defaults["form_factor"])
        out.append(part)
    return tuple(out)


_SINGLE_ONLY_KEYS = ("material", "mass_kg", "threshold_kev", "threshold_pe", "window_max_pe")


def _parse_standard_detector(table: dict) -> DetectorSpec:
    """Validate a standard detector table (single material or ``[[detector.parts]]``)."""
    raw = dict(table)
    parts_raw = raw.pop("parts", None)
    vals = _check_table(raw, DetectorSpec, "detector", skip=("kind", "parts"))
    ly, qf = vals.get("light_yield_pe_per_kevee"), vals.get("quenching_factor")
    for key in ("light_yield_pe_per_kevee", "quenching_factor", "threshold_pe", "window_max_pe"):
        if vals.get(key) is not None:
            _positive(f"detector.{key}", vals[key])
    if (ly is None) != (qf is None):
        missing = "quenching_factor" if qf is None else "light_yield_pe_per_kevee"
        raise SpecError(f"detector.{missing}: required with detector."
                        f"{'light_yield_pe_per_kevee' if qf is None else 'quenching_factor'} "
                        "(photoelectrons = light yield x quenching factor x E_r[keVnr])")
    pe = None if ly is None else ly * qf
    if parts_raw is not None:
        for key in _SINGLE_ONLY_KEYS:
            if key in vals:
                raise SpecError(f"detector.{key}: not allowed with [[detector.parts]] "
                                "(give it in each part)")
        defaults = {k: vals.get(k, next(f.default for f in fields(DetectorSpec) if f.name == k))
                    for k in ("isotopes", "acceptance", "form_factor")}
        vals["parts"] = _parse_parts(parts_raw, defaults, pe)
        return DetectorSpec(**vals)
    for key in ("material", "mass_kg"):
        if key not in vals:
            raise SpecError(f"detector.{key}: required key is missing")
    for kev, pe_key in (("threshold_kev", "threshold_pe"), ("window_max_kev", "window_max_pe")):
        if kev in vals and pe_key in vals:
            raise SpecError(f"detector.{pe_key}: give either detector.{kev} or detector.{pe_key}, not both")
        if pe_key in vals:
            if pe is None:
                raise SpecError(f"detector.{pe_key}: needs detector.light_yield_pe_per_kevee and "
                                "detector.quenching_factor to convert photoelectrons to keVnr")
            vals[kev] = vals[pe_key] / pe
    if "threshold_kev" not in vals:
        raise SpecError("detector.threshold_kev: required key is missing (or give detector.threshold_pe)")
    return DetectorSpec(**vals)


def _check_standard_detector(det: DetectorSpec) -> None:
    parts = det.part_list()
    if not det.parts:
        _positive("detector.mass_kg", det.mass_kg)
        _positive("detector.threshold_kev", det.threshold_kev)
    _positive("detector.background_per_day", det.background_per_day, strict=False)
    if det.window_max_kev is not None:
        for i, part in enumerate(parts):
            th_name = f"detector.parts[{i}].threshold_kev" if det.parts else "detector.threshold_kev"
            if not det.window_max_kev > part.threshold_kev:
                raise SpecError(f"detector.window_max_kev: must exceed {th_name} "
                                f"({part.threshold_kev}), got {det.window_max_kev}")
    if det.binning not in BINNINGS:
        raise SpecError(f"detector.binning: must be one of {BINNINGS}, got {det.binning!r}")
    if det.parts and det.binning != "single":
        raise SpecError(f"detector.binning: must be 'single' with [[detector.parts]], got {det.binning!r}")
    if det.parts and det.smearing:
        raise SpecError("detector.smearing: must be false with [[detector.parts]] (one total-count bin)")
    if det.smearing and not det.resolution_at_threshold > 0:
        raise SpecError("detector.resolution_at_threshold: must be > 0 when detector.smearing is true")
    if det.binning == "resolution" and not det.resolution_at_threshold > 0:
        raise SpecError("detector.resolution_at_threshold: must be > 0 for resolution binning")
    if not det.parts:
        _check_acceptance("detector.acceptance", det.acceptance, det.pe_per_kevnr)
        _check_part_targets("detector", parts[0], det.form_factor)


def _check_gas_tpc(det: GasTPCDetectorSpec) -> None:
    from ..physics.nuclei import material_composition

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


def _check_electron_detector(det: ElectronDetectorSpec, source) -> None:
    """Geometry, target, binning; the bins must start below the kinematic end point."""
    from ..physics.cross_sections import electron_max_recoil_mev

    for name in ("density_g_cm3", "atomic_number", "molar_mass_g_mol", "height_m", "diameter_m",
                 "source_distance_m", "bin_width_kev", "n_bins"):
        _positive(f"detector.{name}", getattr(det, name))
    _positive("detector.threshold_kev", det.threshold_kev, strict=False)
    if det.n_bins != int(det.n_bins):
        raise SpecError(f"detector.n_bins: must be a whole number, got {det.n_bins}")
    if not 0.0 < det.efficiency <= 1.0:
        raise SpecError(f"detector.efficiency: must be in (0, 1], got {det.efficiency}")
    if source.kind != "radioactive":
        raise SpecError(f"detector.kind: 'electron-scattering' needs a source.kind = 'radioactive' "
                        f"(line source), got {source.kind!r}")
    end_kev = 1e3 * float(electron_max_recoil_mev(max(source.line_energies_kev) / 1e3))
    if det.threshold_kev >= end_kev:
        raise SpecError(f"detector.threshold_kev: {det.threshold_kev} keV is above the kinematic end point "
                        f"T_e^max = {end_kev:.1f} keV of the highest line; no events")


def _check_common_detector(det) -> None:
    from ..physics.form_factors import FORM_FACTORS
    from ..physics.nuclei import MATERIALS

    if det.exposure_years is not None:
        _positive("detector.exposure_years", det.exposure_years)
    if det.form_factor not in FORM_FACTORS:
        raise SpecError(f"detector.form_factor: unknown {det.form_factor!r}; allowed: {sorted(FORM_FACTORS)}")
    if det.kind == "standard":
        return
    if not 0.0 < det.acceptance <= 1.0:
        raise SpecError(f"detector.acceptance: must be in (0, 1], got {det.acceptance}")
    if det.material not in MATERIALS:
        raise SpecError(f"detector.material: unknown material {det.material!r}; allowed: {sorted(MATERIALS)}")
    if det.isotopes not in ("paper", "natural"):
        raise SpecError(f"detector.isotopes: must be 'paper' or 'natural', got {det.isotopes!r}")


def _check_source(source) -> None:
    for f in fields(source):
        value = getattr(source, f.name)
        if f.type in ("float", "float | None") and value is not None:
            _positive(f"source.{f.name}", value)
    if source.kind == "lbnf-beam-dump" and source.flavours not in ("nu_mu", "all"):
        raise SpecError(f"source.flavours: must be 'nu_mu' or 'all', got {source.flavours!r}")
    if source.kind == "pion-dar":
        if (source.protons_per_year is None) == (source.protons_on_target is None):
            raise SpecError("source.protons_per_year: give exactly one of source.protons_per_year "
                            "(with detector.exposure_years) and source.protons_on_target")
        if source.live_days is not None and source.protons_on_target is None:
            raise SpecError("source.live_days: only with source.protons_on_target "
                            "(with protons_per_year the live time is detector.exposure_years)")
    if source.kind == "radioactive":
        from ..physics.models import FLAVOURS

        if len(source.line_energies_kev) != len(source.line_fractions):
            raise SpecError(f"source.line_fractions: need one fraction per line of source.line_energies_kev "
                            f"({len(source.line_energies_kev)}), got {len(source.line_fractions)}")
        for i, e in enumerate(source.line_energies_kev):
            _positive(f"source.line_energies_kev[{i}]", e)
        for i, a in enumerate(source.line_fractions):
            if not 0.0 < a <= 1.0:
                raise SpecError(f"source.line_fractions[{i}]: must be in (0, 1], got {a}")
        if sum(source.line_fractions) > 1.0 + 1e-9:
            raise SpecError(f"source.line_fractions: neutrinos per decay sum to {sum(source.line_fractions)} > 1")
        if source.flavour not in FLAVOURS:
            raise SpecError(f"source.flavour: unknown flavour {source.flavour!r}; allowed: {list(FLAVOURS)}")
    if source.kind == "reactor":
        from ..physics.fluxes import REACTOR_JOIN_MEV, _fractions_key

        if source.fission_fractions:
            try:
                _fractions_key(dict(source.fission_fractions))
            except ValueError as err:
                raise SpecError(f"source.{err}") from None
        if not source.max_energy_mev > REACTOR_JOIN_MEV:
            raise SpecError(f"source.max_energy_mev: must exceed {REACTOR_JOIN_MEV} MeV "
                            f"(the Kopeikin/Huber-Mueller join), got {source.max_energy_mev}")


def source_exposure_is_fixed(source) -> bool:
    """True when the source carries the whole exposure (protons_on_target, reactor exposure_days)."""
    return source.kind in ("reactor", "radioactive") or (
        source.kind == "pion-dar" and source.protons_on_target is not None)


def _check_exposure(source, det) -> None:
    """Cross-table rules: who carries the exposure, and the live time of a per-day background."""
    years = getattr(det, "exposure_years", None)
    if source_exposure_is_fixed(source):
        if years is not None:
            carrier = ("source.protons_on_target" if source.kind == "pion-dar" else "source.exposure_days")
            raise SpecError(f"detector.exposure_years: not used with {carrier}, which fixes the "
                            "exposure; remove it")
    elif years is None:
        raise SpecError(f"detector.exposure_years: required key is missing (the {source.kind} "
                        "source gives a rate per year)")
    if getattr(det, "background_per_day", 0.0) > 0 and live_days_of(source, det) is None:
        raise SpecError("detector.background_per_day: needs a live time; with source.protons_on_target "
                        "give source.live_days")


def live_days_of(source, det) -> float | None:
    """Live time [days] of the exposure: reactor exposure_days, pion-DAR live_days
    (with protons_on_target) or detector.exposure_years x 365.25; None if unknown."""
    from ..physics.constants import DAYS_PER_YEAR

    if source.kind in ("reactor", "radioactive"):
        return source.exposure_days
    if source.kind == "pion-dar" and source.protons_on_target is not None:
        return source.live_days
    years = getattr(det, "exposure_years", None)
    return None if years is None else years * DAYS_PER_YEAR


def _parse_statistics(table) -> StatisticsSpec:
    vals = _check_table(table, StatisticsSpec, "statistics")
    chi2 = vals.get("chi2", "pulls-poisson")
    if chi2 not in CHI2_FORMS:
        raise SpecError(f"statistics.chi2: unknown form {chi2!r}; allowed: {sorted(CHI2_FORMS)}")
    needed = CHI2_FORMS[chi2]
    for key in table:
        if key != "chi2" and key not in needed:
            raise SpecError(f"statistics.{key}: not a setting of chi2 = {chi2!r} (its keys: {list(needed)})")
    stats = StatisticsSpec(**vals)
    for key in needed:
        value = getattr(stats, key)
        if value is None:
            raise SpecError(f"statistics.{key}: required key is missing for chi2 = {chi2!r}")
        _positive(f"statistics.{key}", value, strict=key.startswith("sigma"))
    return stats


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
    _check_source(source)

    det_table = data["detector"]
    if not isinstance(det_table, dict):
        raise SpecError("detector: must be a table")
    det_table = dict(det_table)
    det_kind = det_table.pop("kind", "standard")
    if det_kind not in DETECTOR_KINDS:
        raise SpecError(f"detector.kind: unknown kind {det_kind!r}; allowed: {sorted(DETECTOR_KINDS)}")
    det_cls = DETECTOR_KINDS[det_kind]
    if det_kind == "standard":
        det = _parse_standard_detector(det_table)
        _check_standard_detector(det)
    else:
        det = det_cls(**_check_table(det_table, det_cls, "detector", skip=("kind",)))
    if det_kind == "gas-tpc":
        _check_gas_tpc(det)
    if det_kind == "electron-scattering":
        _check_electron_detector(det, source)
    else:
        if source.kind == "radioactive":
            raise SpecError(f"source.kind: a 'radioactive' line source is implemented for nu-e scattering "
                            f"only (detector.kind = 'electron-scattering'), got detector.kind = {det_kind!r}")
        _check_common_detector(det)
    _check_exposure(source, det)

    stats = _parse_statistics(data.get("statistics", {"chi2": "gaussian-sm"}
                                       if det_kind == "electron-scattering" else {}))
    electron_form = stats.chi2 == "gaussian-sm"
    if electron_form != (det_kind == "electron-scattering"):
        raise SpecError(f"statistics.chi2: {stats.chi2!r} does not apply to detector.kind = {det_kind!r} "
                        "('gaussian-sm', eq. 23, is the chi^2 of electron-scattering detectors, and only it)")
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
