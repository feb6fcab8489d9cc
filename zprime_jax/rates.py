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
2 E_nu^2/m_T (where the folded weight has a kink) and at the window edges;
segments are further split so that none spans more than a factor 2 in E_r
nor (when smeared) more than 2 sigma(E_r). Convergence is tested against an
independent SciPy double integral to 1e-6 relative.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import detectors
from .constants import DAYS_PER_YEAR, G_FERMI_MEV2, KEV_PER_MEV, MEV2_TO_CM2
from .cross_sections import max_recoil_mev, momentum_transfer_mev
from .experiments import ExperimentSpec, SpecError, load_experiment
from .fluxes import LBNF_COLUMNS, FluxComponent, folded_kinematic_weight, lbnf_source, pion_dar_source
from .form_factors import FORM_FACTORS
from .models import FLAVOURS
from .nuclei import material_composition, target_counts

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
      response       (T, B, K) acceptance x P(reconstructed in bin b | E_r)
      background     (B,)     expected background counts per bin
      edges_kev      (B+1,)   reconstructed-energy bin edges [keV]

    Static fields: ``name``, ``targets`` (isotope names), ``flavours``
    (source flavours, in the order of ``weight``), ``flavour_index``
    (positions in ``models.FLAVOURS``), ``sigma_signal``, ``sigma_background``.
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
    sigma_signal: float = 0.1
    sigma_background: float = 0.01

    @property
    def n_bins(self) -> int:
        return self.background.shape[0]


jax.tree_util.register_dataclass(
    RateKernel,
    data_fields=["e_r_mev", "q_mev", "form_factor", "Z", "N", "weight", "response",
                 "background", "edges_kev"],
    meta_fields=["name", "targets", "flavours", "flavour_index", "sigma_signal",
                 "sigma_background"],
)


def source_components(spec: ExperimentSpec) -> tuple[FluxComponent, ...]:
    """The flux components of the experiment's source over its exposure."""
    src = spec.source
    protons = src.protons_per_year * spec.detector.exposure_years
    if src.kind == "pion-dar":
        return pion_dar_source(src.nu_per_proton_per_flavour, protons, src.distance_m)
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


def kinematic_end_points_kev(spec: ExperimentSpec) -> dict[str, float]:
    """Largest recoil energy 2 E_nu,max^2 / m_T of each target [keV]."""
    comps = source_components(spec)
    e_max = max(c.max_energy_mev for c in comps)
    comp = target_counts(spec.detector.material, spec.detector.mass_kg, spec.detector.isotopes)
    return {iso.name: float(max_recoil_mev(e_max, iso.mass_mev)) * KEV_PER_MEV for iso in comp}


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6, 7, 8, 9, 10, 11, 12))
def _target_arrays(e_r, quad_w, edges, comps, flavours, m_t, isotope, n_targets,
                   smearing, e_th, sigma0, acceptance, form_factor_name):
    """Node arrays of one target (jitted: eager dispatch of these ops is slow)."""
    q = momentum_transfer_mev(e_r, m_t)
    scale = n_targets * G_FERMI_MEV2**2 * m_t / math.pi * MEV2_TO_CM2 * quad_w
    weight = jnp.stack([
        sum(c.fluence_per_cm2 * folded_kinematic_weight(c, e_r, m_t)
            for c in comps if c.flavour == f) * scale
        for f in flavours])
    if smearing:
        resp = detectors.bin_probabilities(e_r, edges, e_th, sigma0)
    else:
        resp = detectors.window_indicator(e_r, edges)
    ff = FORM_FACTORS[form_factor_name](q, isotope)
    return dict(e_r=e_r, q=q, ff=ff, weight=weight, resp=acceptance * resp)


def build_kernel(spec: ExperimentSpec | str, nodes_per_segment: int = NODES_PER_SEGMENT) -> RateKernel:
    """Precompute the parameter-independent part of the rate (once, outside jit).

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
    det = spec.detector
    comps = source_components(spec)
    flavours = tuple(dict.fromkeys(c.flavour for c in comps))
    isotopes = target_counts(det.material, det.mass_kg, det.isotopes)

    e_th = det.threshold_kev / KEV_PER_MEV
    e_win = det.window_max_kev / KEV_PER_MEV
    sigma0 = det.resolution_at_threshold * e_th
    if det.binning == "resolution":
        edges = detectors.resolution_bin_edges(e_th, e_win, sigma0)
    else:
        edges = np.array([e_th, e_win])

    end_points = kinematic_end_points_kev(spec)
    if det.threshold_kev >= max(end_points.values()):
        raise SpecError(
            f"detector.threshold_kev: {det.threshold_kev} keV is at or above the kinematic end "
            f"point of every target ({', '.join(f'{k} {v:.4g} keV' for k, v in end_points.items())})")

    if det.smearing:
        true_lo = detectors.smeared_lower_limit(e_th, sigma0)
        true_hi = detectors.smeared_upper_limit(e_win, e_th, sigma0)

        def max_width(e):
            return 2.0 * sigma0 * math.sqrt(e / e_th)
    else:
        true_lo, true_hi, max_width = e_th, e_win, None

    per_target = []
    for iso, n_targets in isotopes.items():
        m_t = iso.mass_mev
        ends = [float(max_recoil_mev(c.max_energy_mev, m_t)) for c in comps]
        hi = min(true_hi, max(ends))
        if hi <= true_lo:       # this target cannot reach the window: no nodes
            nodes, qw = np.array([true_lo]), np.array([0.0])
        else:
            breaks = _recoil_breaks(true_lo, hi, list(edges) + ends)
            nodes, qw = _gauss_legendre_nodes(_subdivide(breaks, max_width), nodes_per_segment)
        arrays = _target_arrays(jnp.asarray(nodes), jnp.asarray(qw), jnp.asarray(edges),
                                comps, flavours, m_t, iso, n_targets,
                                det.smearing, e_th, sigma0, det.acceptance, det.form_factor)
        per_target.append(dict(arrays, iso=iso))

    k_max = max(t["e_r"].shape[0] for t in per_target)

    def pad(x, value=0.0):
        width = [(0, 0)] * (x.ndim - 1) + [(0, k_max - x.shape[-1])]
        return jnp.pad(x, width, constant_values=value)

    background_total = det.background_per_day * det.exposure_years * DAYS_PER_YEAR
    return RateKernel(
        e_r_mev=jnp.stack([pad(t["e_r"], float(t["e_r"][-1])) for t in per_target]),
        q_mev=jnp.stack([pad(t["q"], float(t["q"][-1])) for t in per_target]),
        form_factor=jnp.stack([pad(t["ff"]) for t in per_target]),
        Z=jnp.asarray([float(t["iso"].Z) for t in per_target]),
        N=jnp.asarray([float(t["iso"].N) for t in per_target]),
        weight=jnp.stack([pad(t["weight"]) for t in per_target], axis=1),
        response=jnp.stack([pad(t["resp"]) for t in per_target]),
        background=jnp.asarray(detectors.flat_background(background_total, edges)),
        edges_kev=jnp.asarray(edges * KEV_PER_MEV),
        name=spec.name,
        targets=tuple(t["iso"].name for t in per_target),
        flavours=flavours,
        flavour_index=tuple(FLAVOURS.index(f) for f in flavours),
        sigma_signal=spec.statistics.sigma_signal,
        sigma_background=spec.statistics.sigma_background,
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
    from .models import MODELS

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
    e_r, q, ff, weight, e_th_all = [], [], [], [], []
    for iso, per_molecule in composition.items():
        m_t = iso.mass_mev
        e_th = detectors.pressure_threshold_kev(thresholds[iso.name], p, det.reference_pressure_torr) \
            / KEV_PER_MEV                                                                 # eq. 3.4
        log_r = jnp.log(e_max / e_th)
        e = e_th * jnp.exp(t * log_r)
        quad_w = wt * e * log_r                                               # dE = E ln r dt
        q_t = momentum_transfer_mev(e, m_t)
        scale = per_molecule * molecules * G_FERMI_MEV2**2 * m_t / math.pi * MEV2_TO_CM2 * quad_w
        weight.append(jnp.stack([
            sum(c.fluence_per_cm2 * folded_kinematic_weight(c, e, m_t) for c in comps if c.flavour == f)
            * scale for f in flavours]))
        e_r.append(e)
        q.append(q_t)
        ff.append(FORM_FACTORS[det.form_factor](q_t, iso))
        e_th_all.append(e_th)
    n_t = len(e_r)
    kernel = RateKernel(
        e_r_mev=jnp.stack(e_r), q_mev=jnp.stack(q), form_factor=jnp.stack(ff),
        Z=jnp.asarray([float(i.Z) for i in composition]), N=jnp.asarray([float(i.N) for i in composition]),
        weight=jnp.stack(weight, axis=1),
        response=det.acceptance * jnp.ones((n_t, 1, t.shape[0])),
        background=jnp.zeros(1),
        edges_kev=jnp.stack([jnp.min(jnp.stack(e_th_all)) * KEV_PER_MEV, jnp.asarray(det.window_max_kev)]),
        name=spec.name, targets=tuple(i.name for i in composition), flavours=flavours,
        flavour_index=tuple(FLAVOURS.index(f) for f in flavours),
        sigma_signal=spec.statistics.sigma_signal, sigma_background=spec.statistics.sigma_background,
    )
    sm = expected_counts(None, kernel, MODELS["sm"] if sm_model is None else sm_model)
    return dataclasses.replace(kernel, background=det.background_fraction * sm)


def coherent_charge_squared(params, kernel: RateKernel, model):
    """Q(E_r)^2 at every node, shape (F, T, K) (eq. 2.3 squared)."""
    gp, gn = model.nucleon_couplings(params, kernel.q_mev)        # (6, T, K)
    idx = jnp.asarray(kernel.flavour_index)
    gp, gn = gp[idx], gn[idx]                                     # (F, T, K)
    q_charge = kernel.form_factor * (kernel.Z[:, None] * gp + kernel.N[:, None] * gn)
    return q_charge**2


def expected_counts(params, kernel: RateKernel, model, breakdown: bool = False):
    """Expected signal counts per reconstructed bin (eq. 3.1, after response).

    Args:
      params: model parameters (e.g. :class:`models.LightZPrime`); ignored
        by the SM model.
      kernel: from :func:`build_kernel`.
      model: a model object (static under jit).
      breakdown: if True return counts per (flavour, target, bin), shape
        (F, T, B); else per bin, shape (B,).
    """
    q2 = coherent_charge_squared(params, kernel, model)
    if breakdown:
        return jnp.einsum("tbk,ftk->ftb", kernel.response, kernel.weight * q2)
    per_node = jnp.sum(kernel.weight * q2, axis=0)                 # (T, K)
    return jnp.einsum("tbk,tk->b", kernel.response, per_node)


def counts_coupling_polynomial(mass_mev, kernel: RateKernel, model):
    """Coefficients (c0, c1, c2), each (B,), with N_b(g) = c0 + c1 g^2 + c2 g^4 at fixed mass.

    For models whose couplings are affine in g^2 (every light vector
    mediator: eqs. 2.4-2.5), Q = A + g^2 C at each node, so the counts are a
    quadratic polynomial in g^2. Three nodal sums per mass then serve every
    coupling of a scan. Exact (not an expansion); tested against
    :func:`expected_counts`.
    """
    from .models import LightZPrime

    idx = jnp.asarray(kernel.flavour_index)

    def charge(g):
        gp, gn = model.nucleon_couplings(LightZPrime(mass_mev, g), kernel.q_mev)
        return kernel.form_factor * (kernel.Z[:, None] * gp[idx] + kernel.N[:, None] * gn[idx])

    a = charge(0.0)
    c = charge(1.0) - a
    stacked = jnp.stack([a * a, 2.0 * a * c, c * c])                     # (3, F, T, K)
    per_node = jnp.sum(kernel.weight[None] * stacked, axis=1)            # (3, T, K)
    return jnp.einsum("tbk,ptk->pb", kernel.response, per_node)
