"""The rate kernel (built once per experiment) and the expected counts.

Eq. 3.1 of the light-mediator paper with the cross section of eq. 2.2:

    N_b = sum_targets N_T int dE_r R_b(E_r) G_F^2 m_T/pi Q(E_r; theta)^2
              * sum_flavours fluence_f int dE_nu phi_f(E_nu) (1 - m_T E_r / 2 E_nu^2)

Everything but Q(E_r; theta)^2 is independent of the new-physics parameters
theta, so :func:`build_kernel` folds it into one weight per (flavour, target,
recoil node) and one response per (target, bin, node), and
:func:`expected_counts` is a weighted sum over nodes -- pure, jit-able,
vmappable and differentiable.

Recoil nodes: composite Gauss-Legendre in E_r with segment breaks at the
reconstructed bin edges, at every flux component's kinematic end point
2 E_nu^2/m_T (where the folded weight has a kink), at 2 E_b^2/m_T for every
interior breakpoint E_b of a tabulated spectrum (the reactor spectrum's table
points), at the kinks and steps of an efficiency function and at the window
edges; segments are further split so that none spans more than a factor 2 in
E_r nor (when smeared) more than 2 sigma(E_r). Convergence is tested against
independent SciPy double integrals to 1e-6 relative (ESS, COHERENT CsI) and
1e-5 (CONUS).

Heavy-Z' paper experiments (Miranda et al. 2020, eq. 16): the efficiency
E(T_A) is a function of the true recoil energy applied inside the response
(acceptance(E_r) x window indicator), and a detector may consist of several
parts (materials with their own masses and thresholds) stacked along the
target axis.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..kernels import detectors
from ..physics.constants import G_FERMI_MEV2, KEV_PER_MEV, M_Z_MEV, MEV2_TO_CM2, MEV_PER_GEV
from ..physics.cross_sections import max_recoil_mev, momentum_transfer_mev
from ..physics.fluxes import (
    LBNF_COLUMNS,
    FluxComponent,
    folded_kinematic_weight,
    lbnf_source,
    pion_dar_source,
    reactor_source,
)
from ..physics.form_factors import FORM_FACTORS
from ..physics.models import FLAVOURS
from ..physics.nuclei import material_composition, target_counts
from ..spec import ExperimentSpec, SpecError, StatisticsSpec, live_days_of, load_experiment

NODES_PER_SEGMENT = 12


@dataclass(frozen=True)
class RateKernel:
    """Everything about an experiment that does not depend on the Z' parameters.

    Array fields (pytree leaves), with T targets, F flavours present in the
    source, K recoil nodes per target (zero-padded), B bins:

      e_r_mev        (T, K)   recoil-energy nodes [MeV]
      q_mev          (T, K)   |q| = sqrt(2 m_T E_r) at the nodes [MeV]
      form_factor    (T, K)   F(q) at the nodes
      Z, N           (T,)     proton and neutron numbers
      weight         (F, T, K) expected events per unit Q^2 at each node:
                              N_T * fluence * G_F^2 m_T/pi * folded kinematics
                              * quadrature weight, in events (cm^2 applied)
      response       (T, B, K) acceptance(E_r) x P(reconstructed in bin b | E_r)
                              (a flat number or an efficiency function of the
                              true recoil energy; zero at padded nodes)
      background     (B,)     expected background counts per bin
      edges_kev      (B+1,)   reconstructed-energy bin edges [keV]

    Static fields: ``name``, ``targets`` (isotope names; "label:isotope" for
    the parts of a multi-part detector), ``flavours`` (source flavours, in the
    order of ``weight``), ``flavour_index`` (positions in ``models.FLAVOURS``)
    and ``statistics`` (the spec's ``[statistics]`` table, from which
    :func:`zprime_jax.likelihood.likelihood_for` builds the experiment's
    likelihood form; nothing else reads it).
    """

    e_r_mev: jax.Array
    q_mev: jax.Array
    form_factor: jax.Array
    Z: jax.Array
    N: jax.Array
    weight: jax.Array
    response: jax.Array
    background: jax.Array
    edges_kev: jax.Array
    name: str = ""
    targets: tuple[str, ...] = ()
    flavours: tuple[str, ...] = ()
    flavour_index: tuple[int, ...] = ()
    statistics: StatisticsSpec | None = None

    @property
    def n_bins(self) -> int:
        return self.background.shape[0]


jax.tree_util.register_dataclass(
    RateKernel,
    data_fields=["e_r_mev", "q_mev", "form_factor", "Z", "N", "weight", "response",
                 "background", "edges_kev"],
    meta_fields=["name", "targets", "flavours", "flavour_index", "statistics"],
)


def source_components(spec: ExperimentSpec) -> tuple[FluxComponent, ...]:
    """The flux components of the experiment's source over its exposure."""
    src = spec.source
    if src.kind == "pion-dar":
        if src.protons_on_target is not None:
            protons = src.protons_on_target
        else:
            protons = src.protons_per_year * spec.detector.exposure_years
        return pion_dar_source(src.nu_per_proton_per_flavour, protons, src.distance_m)
    if src.kind == "reactor":
        fractions = dict(src.fission_fractions) if src.fission_fractions else None
        try:
            return reactor_source(src.thermal_power_mw, src.distance_m, src.exposure_days,
                                  fission_fractions=fractions, e_max_mev=src.max_energy_mev)
        except ValueError as err:
            raise SpecError(f"source: {err}") from None
    protons = src.protons_per_year * spec.detector.exposure_years
    if src.kind == "lbnf-beam-dump":
        flavours = LBNF_COLUMNS if src.flavours == "all" else ("nu_mu",)
        try:
            return lbnf_source(protons, flavours, src.max_energy_gev, src.flux_table)
        except (ValueError, FileNotFoundError) as err:
            raise SpecError(f"source: {err}") from None
    raise SpecError(f"source.kind: no flux builder for {src.kind!r}")


def _gauss_legendre_nodes(breaks: np.ndarray, n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    a, b = breaks[:-1, None], breaks[1:, None]
    nodes = 0.5 * (b - a) * (x + 1.0) + a
    weights = 0.5 * (b - a) * w
    return nodes.ravel(), weights.ravel()


def _subdivide(breaks: list[float], max_width=None, max_ratio: float = 2.0) -> np.ndarray:
    """Split segments so that hi/lo <= max_ratio and width <= max_width(mid).

    First a geometric split (so the 1/(q^2 + m^2)^2 behaviour of a light
    mediator at low E_r is resolved on every scale), then each piece is split
    linearly where it is still wider than ``max_width`` (the smearing scale).
    """
    out = [breaks[0]]
    for a, b in zip(breaks[:-1], breaks[1:]):
        if a > 0:
            n_geo = max(1, math.ceil(math.log(b / a) / math.log(max_ratio) - 1e-9))
            pieces = np.geomspace(a, b, n_geo + 1)
        else:
            pieces = np.array([a, b])
        for lo, hi in zip(pieces[:-1], pieces[1:]):
            n_lin = 1
            if max_width is not None:
                n_lin = max(1, math.ceil((hi - lo) / max_width(0.5 * (lo + hi)) - 1e-9))
            out.extend(np.linspace(lo, hi, n_lin + 1)[1:].tolist())
    out[-1] = breaks[-1]
    return np.asarray(out)


def _recoil_breaks(lo: float, hi: float, interior) -> list[float]:
    pts = sorted({lo, hi, *[p for p in interior if lo < p < hi]})
    # drop breaks closer than 1e-9 relative (they would give empty segments)
    clean = [pts[0]]
    for p in pts[1:]:
        if p - clean[-1] > 1e-9 * max(abs(p), 1e-12):
            clean.append(p)
    return clean


def _target_name(part, iso) -> str:
    return f"{part.label}:{iso.name}" if part.label else iso.name


def _part_targets(spec: ExperimentSpec):
    """[(part, {isotope: number of nuclei})] for every part of the detector."""
    det = spec.detector
    if det.kind == "gas-tpc":
        raise SpecError("detector.kind: 'gas-tpc' detectors have pressure-dependent targets "
                        "(use build_gas_tpc_kernel)")
    return [(part, target_counts(part.material, part.mass_kg, part.isotopes)) for part in det.part_list()]


def kinematic_end_points_kev(spec: ExperimentSpec) -> dict[str, float]:
    """Largest recoil energy 2 E_nu,max^2 / m_T of each target [keV] (keys as ``RateKernel.targets``)."""
    comps = source_components(spec)
    e_max = max(c.max_energy_mev for c in comps)
    return {_target_name(part, iso): float(max_recoil_mev(e_max, iso.mass_mev)) * KEV_PER_MEV
            for part, isotopes in _part_targets(spec) for iso in isotopes}


def _spectral_recoil_breaks(comps, m_t: float) -> list[float]:
    """2 E_b^2 / m_T for every interior breakpoint E_b of the continuous spectra [MeV]:
    where a kink or step of the spectrum makes the folded weight non-smooth."""
    out = []
    for c in comps:
        if c.line_energy_mev is None:
            out.extend(float(max_recoil_mev(e, m_t)) for e in c.breakpoints_mev[1:-1] if e > 0)
    return out


@functools.partial(jax.jit, static_argnums=(4, 5))
def _folded_weights(e_r, quad_w, m_t, n_targets, comps, flavours):
    """Weights (F, T, K): N_T * fluence * G_F^2 m_T/pi * folded kinematics * quadrature weight.

    All targets at once (m_t, n_targets of shape (T,); e_r, quad_w (T, K)), so
    one compilation serves the whole kernel; the spectra are folded with
    :func:`fluxes.folded_kinematic_weight`. Used by both kernel builders
    (``n_targets`` may be traced, e.g. a function of the gas pressure).
    """
    m = m_t[:, None]
    scale = n_targets[:, None] * G_FERMI_MEV2**2 * m / math.pi * MEV2_TO_CM2 * quad_w
    return jnp.stack([
        sum(c.fluence_per_cm2 * folded_kinematic_weight(c, e_r, m)
            for c in comps if c.flavour == f) * scale
        for f in flavours])


class _NucleusNumbers(NamedTuple):
    """An isotope's numbers as (traced) arrays, for the form-factor registry under vmap."""

    Z: jax.Array
    A: jax.Array
    N: jax.Array
    rms_charge_radius_fm: jax.Array


@functools.partial(jax.jit, static_argnums=(2,))
def _form_factors(q_mev, nuclei: _NucleusNumbers, name: str):
    """F(q) (T, K) of every target in one vmapped call (``FORM_FACTORS[name]`` uses only
    jnp operations on the isotope's A / rms radius, so they may be arrays)."""
    return jax.vmap(lambda q, nuc: FORM_FACTORS[name](q, nuc))(q_mev, nuclei)


@functools.partial(jax.jit, static_argnums=(2, 5, 6))
def _target_response(e_r, edges, smearing, e_th, sigma0, acceptance, pe_per_kevnr):
    """(B, K): acceptance(E_r) x window indicator, or x the smeared bin probabilities.

    ``acceptance``: a number or the name of an efficiency function of the
    true recoil energy (``detectors.efficiency_at``). Jitted: one compilation
    per node count and acceptance, shared by all targets of a kernel.
    """
    if smearing:
        resp = detectors.bin_probabilities(e_r, edges, e_th, sigma0)
    else:
        resp = detectors.window_indicator(e_r, edges)
    return detectors.efficiency_at(acceptance, e_r, pe_per_kevnr)[None, :] * resp


def build_kernel(spec: ExperimentSpec | str, nodes_per_segment: int = NODES_PER_SEGMENT) -> RateKernel:
    """Precompute the parameter-independent part of the rate (once, outside jit).

    A multi-part detector (``[[detector.parts]]``) stacks the targets of all
    its parts along T, each part with its own mass, threshold, isotopes and
    acceptance (target names "label:isotope"). Without ``window_max_kev`` the
    window closes at the kinematic end point (largest over the targets).

    A nu-e experiment (``detector.kind = "electron-scattering"``) gets an
    :class:`electron.ElectronKernel` instead; :func:`expected_counts` takes both.

    Args:
      spec: an :class:`ExperimentSpec` or a preset name / TOML path.
      nodes_per_segment: Gauss-Legendre nodes per recoil segment.
    Raises:
      SpecError: e.g. a threshold above every target's kinematic end point.
    """
    if not jax.config.jax_enable_x64:
        raise RuntimeError("zprime_jax needs float64: call zprime_jax.enable_x64() before "
                           "building kernels (float32 cannot resolve Delta chi^2 ~ 1 on 1e5 counts)")
    if isinstance(spec, str):
        spec = load_experiment(spec)
    if spec.detector.kind == "gas-tpc":
        return build_gas_tpc_kernel(spec, spec.detector.pressure_torr)
    if spec.detector.kind == "electron-scattering":
        from ..kernels.electron import build_electron_kernel

        return build_electron_kernel(spec)
    det = spec.detector
    comps = source_components(spec)
    flavours = tuple(dict.fromkeys(c.flavour for c in comps))
    parts = _part_targets(spec)
    multi = bool(det.parts)

    e_max_nu = max(c.max_energy_mev for c in comps)
    end_points = {}                                          # per part: {target name: keV}
    for i, (part, isotopes) in enumerate(parts):
        ends = {_target_name(part, iso): float(max_recoil_mev(e_max_nu, iso.mass_mev)) * KEV_PER_MEV
                for iso in isotopes}
        if part.threshold_kev >= max(ends.values()):
            field = f"detector.parts[{i}].threshold_kev" if multi else "detector.threshold_kev"
            raise SpecError(
                f"{field}: {part.threshold_kev} keV is at or above the kinematic end "
                f"point of every target ({', '.join(f'{k} {v:.4g} keV' for k, v in ends.items())})")
        end_points.update(ends)

    e_th = min(part.threshold_kev for part, _ in parts) / KEV_PER_MEV
    if det.window_max_kev is not None:
        e_win = det.window_max_kev / KEV_PER_MEV
    else:                                                    # no upper cut: the kinematic end point
        e_win = max(end_points.values()) / KEV_PER_MEV
    sigma0 = det.resolution_at_threshold * e_th
    if det.binning == "resolution":
        edges = detectors.resolution_bin_edges(e_th, e_win, sigma0)
    else:
        edges = np.array([e_th, e_win])

    if det.smearing:
        true_lo = detectors.smeared_lower_limit(e_th, sigma0)
        true_hi = detectors.smeared_upper_limit(e_win, e_th, sigma0)

        def max_width(e):
            return 2.0 * sigma0 * math.sqrt(e / e_th)

    per_target = []
    for part, isotopes in parts:
        part_th = part.threshold_kev / KEV_PER_MEV
        part_edges = edges if not multi else np.array([part_th, e_win])
        if not det.smearing:
            true_lo, true_hi, max_width = part_th, e_win, None
        eff_breaks = list(detectors.efficiency_breaks_mev(part.acceptance, det.pe_per_kevnr))
        for iso, n_targets in isotopes.items():
            m_t = iso.mass_mev
            ends = [float(max_recoil_mev(c.max_energy_mev, m_t)) for c in comps]
            hi = min(true_hi, max(ends))
            if hi <= true_lo:       # this target cannot reach the window: no nodes
                nodes, qw = np.array([true_lo]), np.array([0.0])
            else:
                interior = list(part_edges) + ends + _spectral_recoil_breaks(comps, m_t) + eff_breaks
                breaks = _recoil_breaks(true_lo, hi, interior)
                nodes, qw = _gauss_legendre_nodes(_subdivide(breaks, max_width), nodes_per_segment)
            per_target.append(dict(nodes=nodes, qw=qw, iso=iso, n=n_targets, edges=part_edges,
                                   acceptance=part.acceptance, name=_target_name(part, iso)))

    # Pad every target to K nodes (repeating its last node, with quadrature weight 0);
    # form factor and response are zero at the padding.
    k_max = max(t["nodes"].shape[0] for t in per_target)
    n_nodes = np.array([t["nodes"].shape[0] for t in per_target])
    mask = jnp.asarray(np.arange(k_max)[None, :] < n_nodes[:, None])
    e_r = jnp.asarray(np.stack([np.pad(t["nodes"], (0, k_max - t["nodes"].shape[0]), mode="edge")
                                for t in per_target]))
    quad_w = jnp.asarray(np.stack([np.pad(t["qw"], (0, k_max - t["qw"].shape[0])) for t in per_target]))
    m_t = jnp.asarray([t["iso"].mass_mev for t in per_target])
    weight = _folded_weights(e_r, quad_w, m_t, jnp.asarray([t["n"] for t in per_target]), comps, flavours)
    q = momentum_transfer_mev(e_r, m_t[:, None])
    isos = [t["iso"] for t in per_target]
    nuclei = _NucleusNumbers(*(jnp.asarray([float(getattr(i, a)) for i in isos])
                               for a in ("Z", "A", "N", "rms_charge_radius_fm")))
    ff = jnp.where(mask, _form_factors(q, nuclei, det.form_factor), 0.0)
    response = jnp.where(mask[:, None, :], jnp.stack([
        _target_response(e_r[i], jnp.asarray(t["edges"]), det.smearing, e_th, sigma0, t["acceptance"],
                         det.pe_per_kevnr)
        for i, t in enumerate(per_target)]), 0.0)

    background_total = det.background_per_day * (live_days_of(spec.source, det) or 0.0)
    return RateKernel(
        e_r_mev=e_r,
        q_mev=q,
        form_factor=ff,
        Z=jnp.asarray([float(t["iso"].Z) for t in per_target]),
        N=jnp.asarray([float(t["iso"].N) for t in per_target]),
        weight=weight,
        response=response,
        background=jnp.asarray(detectors.flat_background(background_total, edges)),
        edges_kev=jnp.asarray(edges * KEV_PER_MEV),
        name=spec.name,
        targets=tuple(t["name"] for t in per_target),
        flavours=flavours,
        flavour_index=tuple(FLAVOURS.index(f) for f in flavours),
        statistics=spec.statistics,
    )


GAS_TPC_SEGMENTS = 24   # log-spaced recoil segments from threshold to window edge


def build_gas_tpc_kernel(spec: ExperimentSpec, pressure_torr, nodes_per_segment: int = NODES_PER_SEGMENT,
                         sm_model=None) -> RateKernel:
    """Kernel of a gas TPC at pressure P, differentiable in P (eqs. 3.3-3.5).

    Unlike :func:`build_kernel`, every array here is a jnp function of
    ``pressure_torr`` (which may be a tracer), so ``jax.grad`` of counts,
    Delta chi^2 or limits with respect to the pressure works end to end.
    Recoil nodes per target follow the threshold: E = E_th(P) r^t with
    r = E_max/E_th(P) and t on a fixed composite Gauss-Legendre rule
    (``GAS_TPC_SEGMENTS`` x ``nodes_per_segment``); a segment spans at most a
    factor r^(1/24) (< 1.5 for P >= 1 Torr). The background is
    ``background_fraction`` x the SM count at the same pressure.
    """
    from ..physics.models import MODELS

    det = spec.detector
    comps = source_components(spec)
    flavours = tuple(dict.fromkeys(c.flavour for c in comps))
    composition = material_composition(det.material, det.isotopes)
    thresholds = dict(det.thresholds_kev_at_reference)
    p = jnp.asarray(pressure_torr, dtype=float)
    molecules = detectors.gas_molecules(det.density_coefficient, p, det.volume_m3)   # eq. 3.3
    e_max = det.window_max_kev / KEV_PER_MEV
    t, wt = _gauss_legendre_nodes(np.linspace(0.0, 1.0, GAS_TPC_SEGMENTS + 1), nodes_per_segment)
    t, wt = jnp.asarray(t), jnp.asarray(wt)
    e_r, quad_w, ff, e_th_all = [], [], [], []
    for iso in composition:
        e_th = detectors.pressure_threshold_kev(thresholds[iso.name], p, det.reference_pressure_torr) \
            / KEV_PER_MEV                                                                 # eq. 3.4
        log_r = jnp.log(e_max / e_th)
        e = e_th * jnp.exp(t * log_r)
        e_r.append(e)
        quad_w.append(wt * e * log_r)                                         # dE = E ln r dt
        ff.append(FORM_FACTORS[det.form_factor](momentum_transfer_mev(e, iso.mass_mev), iso))
        e_th_all.append(e_th)
    masses = jnp.asarray([iso.mass_mev for iso in composition])
    q = momentum_transfer_mev(jnp.stack(e_r), masses[:, None])
    n_targets = jnp.stack([per_molecule * molecules for per_molecule in composition.values()])
    weight = _folded_weights(jnp.stack(e_r), jnp.stack(quad_w), masses, n_targets, comps, flavours)
    n_t = len(e_r)
    kernel = RateKernel(
        e_r_mev=jnp.stack(e_r), q_mev=q, form_factor=jnp.stack(ff),
        Z=jnp.asarray([float(i.Z) for i in composition]), N=jnp.asarray([float(i.N) for i in composition]),
        weight=weight,
        response=det.acceptance * jnp.ones((n_t, 1, t.shape[0])),
        background=jnp.zeros(1),
        edges_kev=jnp.stack([jnp.min(jnp.stack(e_th_all)) * KEV_PER_MEV, jnp.asarray(det.window_max_kev)]),
        name=spec.name, targets=tuple(i.name for i in composition), flavours=flavours,
        flavour_index=tuple(FLAVOURS.index(f) for f in flavours), statistics=spec.statistics,
    )
    sm = expected_counts(None, kernel, MODELS["sm"] if sm_model is None else sm_model)
    return dataclasses.replace(kernel, background=det.background_fraction * sm)


def coherent_charge(params, kernel: RateKernel, model):
    """Q(E_r) = F(q) (Z g_p + N g_n) at every node and source flavour, shape (F, T, K) (eq. 2.3)."""
    gp, gn = model.nucleon_couplings(params, kernel.q_mev)        # (6, T, K)
    idx = jnp.asarray(kernel.flavour_index)
    gp, gn = gp[idx], gn[idx]                                     # (F, T, K)
    return kernel.form_factor[None] * (kernel.Z[None, :, None] * gp + kernel.N[None, :, None] * gn)


def coherent_charge_squared(params, kernel: RateKernel, model):
    """Q(E_r)^2 at every node, shape (F, T, K) (eq. 2.3 squared)."""
    return coherent_charge(params, kernel, model) ** 2


def expected_counts(params, kernel: RateKernel, model, breakdown: bool = False):
    """Expected signal counts per reconstructed bin (eq. 3.1, after response).

    Args:
      params: model parameters (e.g. :class:`models.LightZPrime`); ignored
        by the SM model.
      kernel: from :func:`build_kernel` (a CEvNS :class:`RateKernel`, or an
        :class:`electron.ElectronKernel` for nu-e scattering).
      model: a model object (static under jit).
      breakdown: if True return counts per (flavour, target, bin), shape
        (F, T, B); else per bin, shape (B,).
    """
    if not isinstance(kernel, RateKernel):          # nu-e scattering (electron.ElectronKernel)
        from ..kernels import electron

        return electron.expected_counts(params, kernel, model, breakdown)
    q2 = coherent_charge_squared(params, kernel, model)
    if breakdown:
        return jnp.einsum("tbk,ftk->ftb", kernel.response, kernel.weight * q2)
    per_node = jnp.sum(kernel.weight * q2, axis=0)                 # (T, K)
    return jnp.einsum("tbk,tk->b", kernel.response, per_node)


def model_family(model) -> str:
    """"heavy" (Left-Right, E6: parameters :class:`HeavyZPrime`), "light" (vector mediators:
    :class:`LightZPrime`) or "sm" (no parameters). The one place that tells the families apart."""
    from ..physics.models import E6, LeftRight, StandardModel

    if isinstance(model, LeftRight | E6):
        return "heavy"
    if isinstance(model, StandardModel):
        return "sm"
    return "light"


def params_at(model, fixed, x):
    """The model parameters at the polynomial variable ``x`` with the other parameter ``fixed``.

    Light models: x = g^2 at fixed mass m_Z' [MeV] (``LightZPrime(fixed, sqrt(x))``);
    heavy models: x = gamma = (M_Z/M_Z')^2 at fixed cos beta (``HeavyZPrime(M_Z/sqrt(x), fixed)``,
    x = 0 is M_Z' -> inf). x = 0 is the Standard Model of the model's own coupling set.
    """
    from ..physics.models import HeavyZPrime, LightZPrime

    if model_family(model) == "heavy":
        return HeavyZPrime(M_Z_MEV / MEV_PER_GEV / jnp.sqrt(x), fixed)
    return LightZPrime(fixed, jnp.sqrt(x))


def sm_params(model):
    """Parameters at which ``model`` is the Standard Model with its own SM couplings (x = 0)."""
    return params_at(model, 0.0 if model_family(model) == "heavy" else 1.0, 0.0)


def counts_polynomial(kernel, model, fixed):
    """Coefficients (3, B): N_b(x) = c0 + c1 x + c2 x^2, x = g^2 (light, at mass ``fixed`` [MeV]) or
    gamma = (M_Z/M_Z')^2 (heavy, at cos beta ``fixed``): the one counts polynomial.

    Every coupling of a light vector mediator is affine in g^2 (eqs. 2.4-2.5)
    and every Left-Right or E6 coupling is affine in gamma (heavy-Z' paper
    eqs. 8-10, 12-15), so the coherent charge is Q = A + x C at each node and
    the counts are exactly quadratic in x; for nu-e the same holds for
    (g_L, g_R) (:func:`electron.counts_gamma_polynomial`). Three nodal sums
    at a fixed mass (or cos beta) then serve every coupling (or mass) of a
    scan. Exact, not an expansion; tested against :func:`expected_counts`.
    """
    if not isinstance(kernel, RateKernel):          # nu-e scattering
        from . import electron

        return electron.counts_gamma_polynomial(kernel, model, fixed)
    a = coherent_charge(params_at(model, fixed, 0.0), kernel, model)
    c = coherent_charge(params_at(model, fixed, 1.0), kernel, model) - a
    stacked = jnp.stack([a * a, 2.0 * a * c, c * c])                     # (3, F, T, K)
    per_node = jnp.sum(kernel.weight[None] * stacked, axis=1)            # (3, T, K)
    return jnp.einsum("tbk,ptk->pb", kernel.response, per_node)
