"""Validation: each table of a preset checked against its dataclass in ``schema``.

Unknown keys, missing required keys, wrong types and out-of-range values raise
:class:`SpecError` naming the field (``detector.threshold_kev``), before
anything is compiled. Cross-table rules (who carries the exposure, which chi^2
form fits which detector kind) are here too; ``loader.parse_spec`` calls them
in order.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np

from ..errors import SpecError
from .schema import (
    BINNINGS,
    CHI2_FORMS,
    CHI2_OPTIONAL_KEYS,
    EXACTLY_ONE,
    ISOTOPE_OPTIONS,
    LBNF_FLAVOURS,
    NEEDS,
    TEMPLATE_TIME_SHAPES,
    TOGETHER,
    DataSpec,
    DetectorPart,
    DetectorSpec,
    EfficiencySpec,
    ElectronDetectorSpec,
    GasTPCDetectorSpec,
    PionDARSource,
    QuenchingSpec,
    ResolutionSpec,
    ScintillatorDetectorSpec,
    SignalVariant,
    StatisticsSpec,
    TemplateSpec,
    TemplateVariant,
    TimeEfficiencySpec,
    live_days_of,
    source_exposure_is_fixed,
)


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
        if is_number and not math.isfinite(value):
            raise SpecError(f"{path}.{name}: must be a finite number, got {value!r}"
                            + (" (omit the key for no upper cut)" if name == "window_max_kev" else ""))
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
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in value.values()):
                raise SpecError(f"{path}.{name}: must be a table of finite numbers, got {value!r}")
            value = tuple(sorted((str(k), float(v)) for k, v in value.items()))
        elif kind == "list":        # a TOML array of numbers, stored as a tuple
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
                raise SpecError(f"{path}.{name}: must be a non-empty array of finite numbers, got {value!r}")
            value = tuple(float(v) for v in value)
        out[name] = value
    return out


# The lowest nuclear-recoil threshold a spec may declare: 1 eV, below the atomic binding energies where the
# free-nucleus picture of CEvNS (and every detector's response) ends (docs/conventions.md).
MIN_THRESHOLD_KEV = 1e-3


def _threshold(path: str, value: float) -> None:
    if not value >= MIN_THRESHOLD_KEV:
        raise SpecError(f"{path}: must be >= {MIN_THRESHOLD_KEV:g} keV (1 eV: below it the free-nucleus CEvNS "
                        f"picture ends), got {value}")


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
    if part.isotopes not in ISOTOPE_OPTIONS:
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
        _threshold(f"{path}.threshold_kev", part.threshold_kev)
        if not part.label or part.label in labels:
            raise SpecError(f"{path}.label: must be non-empty and unique among the parts, got {part.label!r}")
        labels.add(part.label)
        _check_acceptance(f"{path}.acceptance", part.acceptance, pe_per_kevnr)
        _check_part_targets(path, part, defaults["form_factor"])
        out.append(part)
    return tuple(out)


_SINGLE_ONLY_KEYS = ("material", "mass_kg", "threshold_kev", "threshold_pe", "window_max_pe")
_SINGLE_REQUIRED = ("material", "mass_kg")      # without [[detector.parts]]; and a threshold, keVnr or PE
# (keVnr key, photoelectron key): one or the other, not both; the first pair is the threshold
_PE_ALTERNATIVES = (("threshold_kev", "threshold_pe"), ("window_max_kev", "window_max_pe"))


def _split(keys, given) -> bool:
    """True when some but not all of ``keys`` (keys that go together, :data:`TOGETHER`) are in ``given``."""
    return len({k in given for k in keys}) > 1


def _parse_standard_detector(table: dict) -> DetectorSpec:
    """Validate a standard detector table (single material or ``[[detector.parts]]``)."""
    raw = dict(table)
    parts_raw = raw.pop("parts", None)
    vals = _check_table(raw, DetectorSpec, "detector", skip=("kind", "parts"))
    ly, qf = vals.get("light_yield_pe_per_kevee"), vals.get("quenching_factor")
    for key in ("light_yield_pe_per_kevee", "quenching_factor", "threshold_pe", "window_max_pe"):
        if vals.get(key) is not None:
            _positive(f"detector.{key}", vals[key])
    if _split(TOGETHER[DetectorSpec], vals):
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
    for key in _SINGLE_REQUIRED:
        if key not in vals:
            raise SpecError(f"detector.{key}: required key is missing")
    for kev, pe_key in _PE_ALTERNATIVES:
        if kev in vals and pe_key in vals:
            raise SpecError(f"detector.{pe_key}: give either detector.{kev} or detector.{pe_key}, not both")
        if pe_key in vals:
            if pe is None:
                raise SpecError(f"detector.{pe_key}: needs detector.light_yield_pe_per_kevee and "
                                "detector.quenching_factor to convert photoelectrons to keVnr")
            vals[kev] = vals[pe_key] / pe
    if _PE_ALTERNATIVES[0][0] not in vals:
        raise SpecError("detector.threshold_kev: required key is missing (or give detector.threshold_pe)")
    return DetectorSpec(**vals)


def _check_standard_detector(det: DetectorSpec) -> None:
    parts = det.part_list()
    if not det.parts:
        _positive("detector.mass_kg", det.mass_kg)
        _threshold("detector.threshold_kev", det.threshold_kev)
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
        _threshold(f"detector.thresholds_kev_at_reference.{k}", v)
        th = v * det.pressure_torr / det.reference_pressure_torr
        if not th >= MIN_THRESHOLD_KEV:
            raise SpecError(f"detector.pressure_torr: at {det.pressure_torr} Torr the {k} threshold ({th:.4g} keV, "
                            f"eq. 3.4) is below {MIN_THRESHOLD_KEV:g} keV (1 eV: the free-nucleus CEvNS picture ends)")
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
    from ..kernels.detectors import MAX_RESOLUTION_BINS

    if det.n_bins > MAX_RESOLUTION_BINS:
        raise SpecError(f"detector.n_bins: at most {MAX_RESOLUTION_BINS} bins, got {det.n_bins:g}")
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
    if det.kind in ("standard", "scintillator"):   # own checks: _check_standard_detector, _parse_scintillator
        return
    if not 0.0 < det.acceptance <= 1.0:
        raise SpecError(f"detector.acceptance: must be in (0, 1], got {det.acceptance}")
    if det.material not in MATERIALS:
        raise SpecError(f"detector.material: unknown material {det.material!r}; allowed: {sorted(MATERIALS)}")
    if det.isotopes not in ISOTOPE_OPTIONS:
        raise SpecError(f"detector.isotopes: must be 'paper' or 'natural', got {det.isotopes!r}")


def _check_source(source) -> None:
    for f in fields(source):
        value = getattr(source, f.name)
        if f.type in ("float", "float | None") and value is not None:
            _positive(f"source.{f.name}", value)
    if source.kind == "lbnf-beam-dump" and source.flavours not in LBNF_FLAVOURS:
        raise SpecError(f"source.flavours: must be 'nu_mu' or 'all', got {source.flavours!r}")
    if source.kind == "pion-dar":
        if sum(getattr(source, k) is not None for k in EXACTLY_ONE[PionDARSource]) != 1:
            raise SpecError("source.protons_per_year: give exactly one of source.protons_per_year "
                            "(with detector.exposure_years) and source.protons_on_target")
        if any(getattr(source, k) is not None and getattr(source, needed) is None
               for k, needed in NEEDS[PionDARSource].items()):
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
        from ..physics.fluxes import REACTOR_JOIN_MEV, REACTOR_MAX_ENERGY_MEV, _fractions_key

        if source.fission_fractions:
            try:
                _fractions_key(dict(source.fission_fractions))
            except ValueError as err:
                raise SpecError(f"source.{err}") from None
        if not REACTOR_JOIN_MEV < source.max_energy_mev <= REACTOR_MAX_ENERGY_MEV:
            raise SpecError(f"source.max_energy_mev: must lie in ({REACTOR_JOIN_MEV}, {REACTOR_MAX_ENERGY_MEV}] MeV "
                            f"(above the Kopeikin/Huber-Mueller join, below the end of the fitted spectrum), "
                            f"got {source.max_energy_mev}")


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
    if chi2 in CHI2_OPTIONAL_KEYS:
        _positive("statistics.sigma_signal", stats.sigma_signal, strict=False)
        if _split(TOGETHER[StatisticsSpec], vals):
            raise SpecError("statistics.source_name: statistics.sigma_source and statistics.source_name go "
                            "together (the source normalisation shared by the experiments of that source)")
        if stats.sigma_source is not None:
            _positive("statistics.sigma_source", stats.sigma_source, strict=False)
        return stats
    for key in needed:
        value = getattr(stats, key)
        if value is None:
            raise SpecError(f"statistics.{key}: required key is missing for chi2 = {chi2!r}")
        _positive(f"statistics.{key}", value, strict=key.startswith("sigma"))
    return stats




# --- scintillator detectors at a pulsed source, templates and shipped data (issue 15) -----------------
QUENCHING_KINDS = {"polynomial": ("coefficients",), "linear": ("a", "b_per_kevnr"), "constant": ("a",)}
RESOLUTION_KINDS = {"gamma": ("shape_per_kevee",), "gaussian-sqrt": ("a_sqrt_kevee",)}
EFFICIENCY_KINDS = {"sigmoid": ("coefficients",), "table": ("path",), "flat": ()}
EFFICIENCY_OPTIONAL = {"table": ("x_column", "efficiency_column"), "flat": ("value",)}   # optional keys per kind
TIME_EFFICIENCY_KINDS = ("flat-exponential",)
RECONSTRUCTED = {"pe": "gamma", "kevee": "gaussian-sqrt"}   # reconstructed quantity -> its resolution model
MAX_AXIS_BINS = 1000          # bins per axis of a scintillator analysis (the releases have at most 15)
RELEASE_PREFIX = "release:"


def resolve_path(path: str, field: str, base: Path | None) -> str:
    """A data-file reference of a spec as an absolute path string: "release:NAME/FILE" (a shipped
    release file, :func:`zprime_jax.spec.releases.release_path`) or a path relative to the spec file."""
    if not isinstance(path, str) or not path:
        raise SpecError(f"{field}: must be a file path (or 'release:NAME/FILE'), got {path!r}")
    if path.startswith(RELEASE_PREFIX):
        from .releases import release_path

        name, _, filename = path[len(RELEASE_PREFIX):].partition("/")
        try:
            resolved = release_path(name, filename)
        except SpecError as err:
            raise SpecError(f"{field}: {err}") from None
    else:
        resolved = Path(path) if Path(path).is_absolute() or base is None else base / path
    if not Path(resolved).is_file():
        raise SpecError(f"{field}: file not found: {resolved}")
    return str(resolved)


def _kinded(table, cls, path: str, kinds: dict, base: Path | None):
    """A sub-table with a ``kind`` whose required keys are ``kinds[kind]`` (and only those, with ``kind``)."""
    vals = _check_table(table, cls, path)
    kind = vals["kind"]
    if kind not in kinds:
        raise SpecError(f"{path}.kind: unknown {kind!r}; allowed: {sorted(kinds)}")
    allowed = set(kinds[kind]) | {"kind"}
    if cls is EfficiencySpec:
        allowed |= set(EFFICIENCY_OPTIONAL.get(kind, ()))
    for key in table:
        if key not in allowed:
            raise SpecError(f"{path}.{key}: not a setting of kind = {kind!r} (its keys: {sorted(allowed)})")
    for key in kinds[kind]:
        if key not in vals:
            raise SpecError(f"{path}.{key}: required key is missing for kind = {kind!r}")
    if "path" in vals:
        vals["path"] = resolve_path(vals["path"], f"{path}.path", base)
    return cls(**vals)


def _check_quenching(q: QuenchingSpec, path: str) -> None:
    if q.kind == "polynomial":
        if len(q.coefficients) > 8:
            raise SpecError(f"{path}.coefficients: at most 8 coefficients, got {len(q.coefficients)}")
        if not q.coefficients[0] > 0:
            raise SpecError(f"{path}.coefficients: the linear coefficient (the quenching factor at E_nr -> 0) "
                            f"must be > 0, got {q.coefficients[0]}")
    else:
        _positive(f"{path}.a", q.a)
        if q.kind == "constant" and not q.a <= 1.0:
            raise SpecError(f"{path}.a: a quenching factor must be in (0, 1], got {q.a}")


def _check_efficiency(e: EfficiencySpec, path: str) -> None:
    if e.kind == "sigmoid" and len(e.coefficients) != 4:
        raise SpecError(f"{path}.coefficients: a sigmoid needs [a, b, c, d], got {len(e.coefficients)} numbers")
    if e.kind == "flat" and not 0.0 < e.value <= 1.0:
        raise SpecError(f"{path}.value: must be in (0, 1], got {e.value}")
    for key in ("x_column", "efficiency_column"):
        v = getattr(e, key)
        if not (v == int(v) and 0 <= v < 64):
            raise SpecError(f"{path}.{key}: must be a column number 0..63, got {v}")


def _edges(path: str, edges, low: float | None = 0.0) -> None:
    e = np.asarray(edges)
    if e.size < 2 or e.size > MAX_AXIS_BINS + 1:
        raise SpecError(f"{path}: needs 2 to {MAX_AXIS_BINS + 1} bin edges, got {e.size}")
    if not np.all(np.diff(e) > 0):
        raise SpecError(f"{path}: bin edges must increase strictly, got {list(edges)}")
    if low is not None and not e[0] >= low:
        raise SpecError(f"{path}: the first edge must be >= {low:g}, got {e[0]}")


def _parse_variant(table, i: int, base: Path | None) -> SignalVariant:
    path = f"detector.variants[{i}]"
    if not isinstance(table, dict):
        raise SpecError(f"{path}: must be a table")
    raw = dict(table)
    subs = {}
    for key, cls, kinds in (("quenching", QuenchingSpec, QUENCHING_KINDS), ("efficiency", EfficiencySpec,
                                                                            EFFICIENCY_KINDS)):
        for sign in ("plus", "minus"):
            k = f"{key}_{sign}"
            if k in raw:
                subs[k] = _kinded(raw.pop(k), cls, f"{path}.{k}", kinds, base)
    vals = _check_table(raw, SignalVariant, path, skip=tuple(subs) + tuple(
        f"{k}_{s}" for k in ("quenching", "efficiency") for s in ("plus", "minus")))
    vals.update(subs)
    for sign in ("plus", "minus"):
        k = f"f90_pdf_{sign}"
        if k in vals:
            vals[k] = resolve_path(vals[k], f"{path}.{k}", base)
    given = sorted({k.rsplit("_", 1)[0] for k in vals if k != "name"})
    if len(given) != 1:
        raise SpecError(f"{path}: give exactly one setting as *_plus and *_minus (quenching, efficiency, "
                        f"pulse_mean_ns or f90_pdf), got {given or 'none'}")
    for sign in ("plus", "minus"):
        if f"{given[0]}_{sign}" not in vals:
            raise SpecError(f"{path}.{given[0]}_{sign}: required with {given[0]}_"
                            f"{'minus' if sign == 'plus' else 'plus'}")
    v = SignalVariant(**vals)
    for sign in ("plus", "minus"):
        if given[0] == "quenching":
            _check_quenching(getattr(v, f"quenching_{sign}"), f"{path}.quenching_{sign}")
        if given[0] == "efficiency":
            _check_efficiency(getattr(v, f"efficiency_{sign}"), f"{path}.efficiency_{sign}")
    return v


def _parse_scintillator(table: dict, base: Path | None) -> ScintillatorDetectorSpec:
    """Validate a ``kind = "scintillator"`` detector table (every sub-table and file reference)."""
    raw = dict(table)
    subs = {}
    for key, cls, kinds in (("quenching", QuenchingSpec, QUENCHING_KINDS),
                            ("resolution", ResolutionSpec, RESOLUTION_KINDS),
                            ("efficiency", EfficiencySpec, EFFICIENCY_KINDS)):
        if key not in raw:
            raise SpecError(f"detector.{key}: required key is missing")
        subs[key] = _kinded(raw.pop(key), cls, f"detector.{key}", kinds, base)
    if "time_efficiency" in raw:
        te = _check_table(raw.pop("time_efficiency"), TimeEfficiencySpec, "detector.time_efficiency")
        if te["kind"] not in TIME_EFFICIENCY_KINDS:
            raise SpecError(f"detector.time_efficiency.kind: unknown {te['kind']!r}; "
                            f"allowed: {list(TIME_EFFICIENCY_KINDS)}")
        _positive("detector.time_efficiency.slope_per_us", te["slope_per_us"], strict=False)
        subs["time_efficiency"] = TimeEfficiencySpec(**te)
    variants = raw.pop("variants", [])
    if not isinstance(variants, list):
        raise SpecError("detector.variants: must be an array of tables ([[detector.variants]])")
    subs["variants"] = tuple(_parse_variant(v, i, base) for i, v in enumerate(variants))
    vals = _check_table(raw, ScintillatorDetectorSpec, "detector", skip=("kind", *subs))
    vals.update(subs)
    if vals.get("f90_pdf") is not None:
        vals["f90_pdf"] = resolve_path(vals["f90_pdf"], "detector.f90_pdf", base)
    det = ScintillatorDetectorSpec(**vals)
    _positive("detector.mass_kg", det.mass_kg)
    _positive("detector.recoil_min_kev", det.recoil_min_kev)
    _threshold("detector.recoil_min_kev", det.recoil_min_kev)
    if det.reconstructed not in RECONSTRUCTED:
        raise SpecError(f"detector.reconstructed: must be one of {sorted(RECONSTRUCTED)}, got {det.reconstructed!r}")
    if det.resolution.kind != RECONSTRUCTED[det.reconstructed]:
        raise SpecError(f"detector.resolution.kind: reconstructed = {det.reconstructed!r} takes "
                        f"{RECONSTRUCTED[det.reconstructed]!r}, got {det.resolution.kind!r}")
    if det.reconstructed == "pe":
        if det.light_yield_pe_per_kevee is None:
            raise SpecError("detector.light_yield_pe_per_kevee: required with reconstructed = 'pe'")
        _positive("detector.light_yield_pe_per_kevee", det.light_yield_pe_per_kevee)
        _positive("detector.resolution.shape_per_kevee", det.resolution.shape_per_kevee)
    else:
        if det.light_yield_pe_per_kevee is not None:
            raise SpecError("detector.light_yield_pe_per_kevee: applies to reconstructed = 'pe' only")
        _positive("detector.resolution.a_sqrt_kevee", det.resolution.a_sqrt_kevee)
    _check_quenching(det.quenching, "detector.quenching")
    _check_efficiency(det.efficiency, "detector.efficiency")
    _edges("detector.energy_edges", det.energy_edges)
    _edges("detector.time_edges_us", det.time_edges_us, low=None)
    if _split(TOGETHER[ScintillatorDetectorSpec], vals):
        raise SpecError("detector.f90_pdf: detector.f90_edges and detector.f90_pdf go together (the F90 axis)")
    if det.f90_edges is not None:
        _edges("detector.f90_edges", det.f90_edges)
        if det.f90_edges[-1] > 1.0:
            raise SpecError(f"detector.f90_edges: F90 is a fraction, at most 1, got {det.f90_edges[-1]}")
    names = [v.name for v in det.variants]
    for i, n in enumerate(names):
        if names.index(n) != i:
            raise SpecError(f"detector.variants[{i}].name: {n!r} is used twice")
        v = det.variants[i]
        if v.f90_pdf_plus is not None and det.f90_pdf is None:
            raise SpecError(f"detector.variants[{i}].f90_pdf_plus: the detector has no F90 axis")
    _check_part_targets("detector", DetectorPart(det.material, det.mass_kg, 1.0, "", det.isotopes),
                        det.form_factor)
    return det


def _parse_templates(raw, base: Path | None) -> tuple[TemplateSpec, ...]:
    if not isinstance(raw, list):
        raise SpecError("templates: must be an array of tables ([[templates]])")
    out = []
    for i, table in enumerate(raw):
        path = f"templates[{i}]"
        if not isinstance(table, dict):
            raise SpecError(f"{path}: must be a table")
        table = dict(table)
        variants_raw = table.pop("variants", [])
        vals = _check_table(table, TemplateSpec, path, skip=("variants",))
        _positive(f"{path}.sigma", vals["sigma"], strict=False)
        sources = [k for k in EXACTLY_ONE[TemplateSpec] if k in vals]
        if len(sources) != 1 or _split(TOGETHER[TemplateSpec], vals):
            raise SpecError(f"{path}: give exactly one of events, pdf, or energy_pdf with time_pdf")
        for k in ("events", "pdf", "energy_pdf", "time_pdf"):
            if k in vals:
                vals[k] = resolve_path(vals[k], f"{path}.{k}", base)
        if "time_shape" in vals:
            if vals["time_shape"] not in TEMPLATE_TIME_SHAPES:
                raise SpecError(f"{path}.time_shape: must be one of {TEMPLATE_TIME_SHAPES}, got {vals['time_shape']!r}")
            if "events" not in vals:
                raise SpecError(f"{path}.time_shape: applies to an event list ({path}.events)")
        if not isinstance(variants_raw, list):
            raise SpecError(f"{path}.variants: must be an array of tables")
        variants = []
        for j, v in enumerate(variants_raw):
            vv = _check_table(v, TemplateVariant, f"{path}.variants[{j}]")
            if "pdf" not in vals:
                raise SpecError(f"{path}.variants[{j}]: shape variants need a 3-D {path}.pdf")
            for k in ("plus", "minus"):
                if k in vv:
                    vv[k] = resolve_path(vv[k], f"{path}.variants[{j}].{k}", base)
            variants.append(TemplateVariant(**vv))
        vals["variants"] = tuple(variants)
        out.append(TemplateSpec(**vals))
    names = [t.name for t in out]
    for i, n in enumerate(names):
        if names.index(n) != i:
            raise SpecError(f"templates[{i}].name: {n!r} is used twice")
    return tuple(out)


def _parse_data(raw, base: Path | None) -> DataSpec:
    vals = _check_table(raw, DataSpec, "data")
    if len(vals) != 1:
        raise SpecError("data: give exactly one of events (an event list) or counts (a 3-D table)")
    key = next(iter(vals))
    return DataSpec(**{key: resolve_path(vals[key], f"data.{key}", base)})
