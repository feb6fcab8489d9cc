"""The experiment schema: frozen dataclasses, one per table of a preset, and the chi^2-form key table.

Data flow of ``spec/``: a TOML document (``loader``) is checked table by table
(``validate``) into these dataclasses. Field types are written as strings
(``from __future__ import annotations``): ``validate._check_table`` reads them
("float", "float | None", "tuple", "list", ...) to check a table's values.
:func:`source_exposure_is_fixed` and :func:`live_days_of` derive the exposure
bookkeeping from a validated source and detector.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PionDARSource:
    """Pion decay at rest (light-mediator paper eqs. 3.6-3.7; heavy-Z' paper eq. 17).

    Exactly one of ``protons_per_year`` (the exposure is then
    ``detector.exposure_years`` years) and ``protons_on_target`` (the whole
    exposure, e.g. COHERENT CsI's 1.76e23). ``live_days`` (only with
    ``protons_on_target``) is the live time, used for a per-day background.
    ``pulse_mean_ns``, ``pulse_sigma_ns``: the Gaussian proton pulse (time axis
    of a ``scintillator`` detector; :mod:`zprime_jax.physics.timing`).
    """

    nu_per_proton_per_flavour: float
    distance_m: float
    protons_per_year: float | None = None
    protons_on_target: float | None = None
    live_days: float | None = None
    pulse_mean_ns: float | None = None
    pulse_sigma_ns: float | None = None
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
    parts: tuple[DetectorPart, ...] = ()
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


@dataclass(frozen=True)
class QuenchingSpec:
    """Electron-equivalent energy of a nuclear recoil, E_ee(E_nr).

    ``kind``: "polynomial" (E_ee[MeV] = sum_i coefficients[i] E_nr[MeV]^(i+1), no constant term:
    the CsI[Na] release's quartic), "linear" (QF = a + b_per_kevnr T[keVnr], E_ee = QF T: the LAr
    release) or "constant" (QF = a).
    """

    kind: str
    coefficients: list | None = None
    a: float | None = None
    b_per_kevnr: float | None = None


@dataclass(frozen=True)
class ResolutionSpec:
    """Distribution of the reconstructed energy at a given E_ee.

    ``kind``: "gamma" (photoelectrons: mean light_yield x E_ee, shape k = 1 + shape_per_kevee x E_ee[keVee],
    the CsI[Na] model of COHERENT 2021) or "gaussian-sqrt" (keVee: sigma/E = a_sqrt_kevee / sqrt(E[keVee]),
    the LAr release's energyResolution).
    """

    kind: str
    shape_per_kevee: float | None = None
    a_sqrt_kevee: float | None = None


@dataclass(frozen=True)
class EfficiencySpec:
    """Detection efficiency as a function of the reconstructed energy x (PE or keVee).

    ``kind``: "sigmoid" (a/(1 + exp(-b (x - c))) + d from ``coefficients`` = [a, b, c, d], set to 0 where
    negative: the CsI release), "table" (columns ``x_column`` and ``efficiency_column`` of the text file
    ``path``, linear interpolation, constant beyond the ends: the LAr release) or "flat" (``value``).
    ``path``: "release:NAME/FILE" for a shipped release file, else relative to the spec file.
    """

    kind: str
    coefficients: list | None = None
    path: str | None = None
    x_column: float = 0.0
    efficiency_column: float = 1.0
    value: float = 1.0


@dataclass(frozen=True)
class TimeEfficiencySpec:
    """Efficiency as a function of the reconstructed arrival time: 1 up to ``onset_us``, then
    exp(-slope_per_us (t - onset_us)) (kind "flat-exponential": the CsI[Na] 2021 analysis)."""

    kind: str
    onset_us: float
    slope_per_us: float


@dataclass(frozen=True)
class SignalVariant:
    """A shape systematic of the signal: the response with one setting at +1 sigma and at -1 sigma.

    ``name``: the nuisance (Gaussian, nominal 0, width 1; qualified by the experiment). Exactly one
    setting, given as ``*_plus`` and ``*_minus``: the quenching model, the efficiency, the pulse mean
    [ns] or the F90 PDF file.
    """

    name: str
    quenching_plus: QuenchingSpec | None = None
    quenching_minus: QuenchingSpec | None = None
    efficiency_plus: EfficiencySpec | None = None
    efficiency_minus: EfficiencySpec | None = None
    pulse_mean_ns_plus: float | None = None
    pulse_mean_ns_minus: float | None = None
    f90_pdf_plus: str | None = None
    f90_pdf_minus: str | None = None


@dataclass(frozen=True)
class ScintillatorDetectorSpec:
    """A scintillation detector at a pulsed source, binned in reconstructed energy x arrival time (x F90).

    The response (issue 15): nuclear recoil E_nr -> E_ee by ``quenching`` -> reconstructed energy
    (``reconstructed`` "pe": photoelectrons with ``light_yield_pe_per_kevee``; "kevee") by
    ``resolution`` -> ``efficiency`` of the reconstructed energy, integrated over each bin of
    ``energy_edges``; arrival time from the source's proton pulse and the pi/mu lifetimes, binned in
    ``time_edges_us`` with the optional ``time_efficiency``; optionally a third axis, F90 (pulse-shape
    discrimination) in ``f90_edges``, whose distribution in each energy bin is read from the 3-D
    CEvNS PDF ``f90_pdf`` (the LAr release's). True recoils from ``recoil_min_kev`` to the kinematic
    end point. ``variants``: the signal's shape systematics (``[[detector.variants]]``).
    """

    material: str
    mass_kg: float
    reconstructed: str
    energy_edges: list
    time_edges_us: list
    recoil_min_kev: float
    quenching: QuenchingSpec
    resolution: ResolutionSpec
    efficiency: EfficiencySpec
    light_yield_pe_per_kevee: float | None = None
    time_efficiency: TimeEfficiencySpec | None = None
    f90_edges: list | None = None
    f90_pdf: str | None = None
    variants: tuple[SignalVariant, ...] = ()
    isotopes: str = "paper"
    form_factor: str = "helm"
    exposure_years: float | None = None
    kind: str = "scintillator"


@dataclass(frozen=True)
class TemplateVariant:
    """A shape systematic of a background template: its ``plus`` and (optional) ``minus`` 1-sigma
    templates (files like the template's ``pdf``); without ``minus`` the variant is mirrored,
    nominal - (plus - nominal). ``name``: the nuisance (nominal 0, width 1)."""

    name: str
    plus: str
    minus: str | None = None


@dataclass(frozen=True)
class TemplateSpec:
    """A background of a binned analysis (``[[templates]]``), with its normalisation nuisance.

    One source of the shape and normalisation: ``events`` (an event list, energy and time columns,
    binned like the data: the CsI steady state from the anti-coincidence sample), ``pdf`` (a 3-D
    table on the analysis grid, expected counts: the LAr release's) or ``energy_pdf`` with
    ``time_pdf`` (1-D tables of bin centre and value: the energy PDF gives the shape, the time PDF the
    counts in all energies; times the detector's time efficiency: the CsI neutron backgrounds).
    ``sigma``: fractional uncertainty of the normalisation (Gaussian prior).
    ``time_shape`` (event lists only): "events" bins the events in energy and time as they are;
    "uniform" keeps their energy distribution and count in the window but spreads them in arrival time
    as a beam-unrelated background is spread, uniformly times the time efficiency (the CsI steady state:
    the anti-coincidence sample's ~10 events per cell would otherwise enter the fit as an exact shape).
    """

    name: str
    sigma: float
    events: str | None = None
    pdf: str | None = None
    energy_pdf: str | None = None
    time_pdf: str | None = None
    time_shape: str = "events"
    variants: tuple[TemplateVariant, ...] = ()


TEMPLATE_TIME_SHAPES = ("events", "uniform")


@dataclass(frozen=True)
class DataSpec:
    """Observed data shipped with a spec: ``events`` (an event list binned like the analysis) or
    ``counts`` (a 3-D table of counts on the analysis grid)."""

    events: str | None = None
    counts: str | None = None


# chi^2 forms (implemented in stats.py) and the statistics keys each one takes.
#   pulls-poisson: light-mediator paper eq. 4.1 (Poisson with signal/background pulls)
#   coherent-2017: heavy-Z' paper eq. 21 (COHERENT CsI: N_meas, B_0n, B_ss, sigma_a1, sigma_a2)
#   projection:    heavy-Z' paper eq. 22 (N_SM as data, one pull: sigma_stat, sigma_sys),
#                  denominator (1 + sigma_stat) N_SM as printed (paper-notes 2)
#   projection-alt: eq. 22 with the alternative denominator sigma_stat^2 N_SM^2 + N_SM
#   gaussian-sm:   heavy-Z' paper eq. 23 (binned, N_SM as data, delta N = sqrt(N_SM); nu-e)
#   templates-poisson: binned Poisson with background templates, normalisation and shape nuisances
#                  (scintillator detectors: sigma_signal, sigma_source and the [[templates]] priors)
CHI2_FORMS = {
    "templates-poisson": ("sigma_signal", "sigma_source", "source_name"),
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
    sigma_source: float | None = None
    source_name: str | None = None

    @property
    def chi2_params(self) -> tuple[tuple[str, float], ...]:
        """(name, value) pairs of the chosen form's numbers, in :data:`CHI2_FORMS` order."""
        return tuple((k, getattr(self, k) if k == "source_name" else float(getattr(self, k)))
                     for k in CHI2_FORMS[self.chi2])


@dataclass(frozen=True)
class ExperimentSpec:
    """An experiment: ``name`` (the preset's name), ``description`` (one line, listed by ``zprime-jax
    experiments``), ``reference`` (where its numbers come from), the ``source``, ``detector`` and
    ``statistics`` tables (``statistics`` may be left out: "gaussian-sm" for an electron-scattering detector,
    else "pulls-poisson"), and, for a scintillator detector only, the background ``templates``
    (``[[templates]]``) and the observed ``data``.
    """

    name: str
    description: str
    source: PionDARSource | LBNFBeamDumpSource | ReactorSource | RadioactiveSource
    detector: DetectorSpec | GasTPCDetectorSpec | ElectronDetectorSpec
    statistics: StatisticsSpec
    reference: str = ""
    templates: tuple[TemplateSpec, ...] = ()
    data: DataSpec | None = None


SOURCE_KINDS = {"pion-dar": PionDARSource, "lbnf-beam-dump": LBNFBeamDumpSource,
                "reactor": ReactorSource, "radioactive": RadioactiveSource}
DETECTOR_KINDS = {"standard": DetectorSpec, "gas-tpc": GasTPCDetectorSpec,
                  "electron-scattering": ElectronDetectorSpec, "scintillator": ScintillatorDetectorSpec}
DEFAULT_DETECTOR_KIND = "standard"      # a [detector] table without ``kind``
TOP_LEVEL_REQUIRED = ("name", "description", "source", "detector")   # [statistics]: a default by detector kind
BINNINGS = ("resolution", "single")
ISOTOPE_OPTIONS = ("paper", "natural")  # ``isotopes``: the paper's single isotopes or natural mixtures
LBNF_FLAVOURS = ("nu_mu", "all")        # LBNFBeamDumpSource.flavours
CHI2_OPTIONAL_KEYS = ("templates-poisson",)   # chi^2 forms whose keys may all be left out

# Rules between the keys of one table, beyond each key's own type: validate.py checks them (each with its own
# message) and json_schema.py writes them into the JSON Schema, both from these declarations.
EXACTLY_ONE = {PionDARSource: ("protons_per_year", "protons_on_target"),   # exactly one of these keys
               TemplateSpec: ("events", "pdf", "energy_pdf")}
TOGETHER = {DetectorSpec: ("light_yield_pe_per_kevee", "quenching_factor"),   # all of these keys or none
            ScintillatorDetectorSpec: ("f90_edges", "f90_pdf"),
            StatisticsSpec: ("sigma_source", "source_name"),
            TemplateSpec: ("energy_pdf", "time_pdf")}
NEEDS = {PionDARSource: {"live_days": "protons_on_target"}}          # key: the key it needs


def source_exposure_is_fixed(source) -> bool:
    """True when the source carries the whole exposure (protons_on_target, reactor exposure_days)."""
    return source.kind in ("reactor", "radioactive") or (
        source.kind == "pion-dar" and source.protons_on_target is not None)


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

