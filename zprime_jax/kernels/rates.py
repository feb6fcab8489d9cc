"""The rate kernel (built once per experiment) and the expected counts.

Eq. 3.1 of the light-mediator paper with the cross section of eq. 2.2:

    N_b = sum_targets N_T int dE_r R_b(E_r) G_F^2 m_T/pi Q(E_r; theta)^2
              * sum_flavours fluence_f int dE_nu phi_f(E_nu) (1 - m_T E_r / 2 E_nu^2)

Everything but Q(E_r; theta)^2 is independent of the new-physics parameters
theta, so :func:`build_kernel` folds it into one weight per (flavour, target,
recoil node) and one response per (target, bin, node), and
:func:`expected_counts` is a weighted sum over nodes -- pure, jit-able,
vmappable and differentiable. The recoil nodes and the arrays on them are
built by :mod:`zprime_jax.kernels.nodes`; the gas-TPC kernel (differentiable
in the pressure) by :mod:`zprime_jax.kernels.gas_tpc`, the nu-e kernel by
:mod:`zprime_jax.kernels.electron`. This module owns :class:`RateKernel`,
:func:`build_kernel` (which dispatches to those builders), the counts and
their polynomial in g^2 or gamma, and the model-family helpers; the names of
``nodes`` and ``gas_tpc`` are re-exported here.

Heavy-Z' paper experiments (Miranda et al. 2020, eq. 16): the efficiency
E(T_A) is a function of the true recoil energy applied inside the response
(acceptance(E_r) x window indicator), and a detector may consist of several
parts (materials with their own masses and thresholds) stacked along the
target axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..kernels import detectors
from ..kernels.gas_tpc import GAS_TPC_SEGMENTS, build_gas_tpc_kernel  # noqa: F401  (GAS_TPC_SEGMENTS re-exported)
from ..kernels.nodes import (
    NODES_PER_SEGMENT,
    _folded_weights,
    _form_factors,
    _gauss_legendre_nodes,
    _NucleusNumbers,
    _recoil_breaks,
    _spectral_recoil_breaks,
    _subdivide,
    _target_response,
    source_components,
)
from ..physics.constants import KEV_PER_MEV, M_Z_MEV, MEV_PER_GEV
from ..physics.cross_sections import max_recoil_mev, momentum_transfer_mev
from ..physics.models import FLAVOURS
from ..physics.nuclei import target_counts
from ..spec import ExperimentSpec, SpecError, StatisticsSpec, live_days_of, load_experiment


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

    A scintillator at a pulsed source (:mod:`.pulsed`) has bins that are the
    cells of an energy x [F90 x] time grid (``axes``: (name, unit, edges) per
    axis; B = Be x Bj cells, energy slowest); ``response`` is then (T, Be, K)
    and it also carries
      fractions         (F, Be, Bj)      fraction of flavour f's events in cell j of energy bin e
      variant_response  (2V, T, Be, K)   the response at +1 and -1 sigma of each shape systematic
      variant_fractions (2V, F, Be, Bj)  the fractions likewise (``variant_names``: the V systematics)
      templates         :class:`pulsed.Templates`, the background templates
      observed          (B,)             the data the spec ships (None without)
    and ``edges_kev`` holds the reconstructed-energy edges in keVee.
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
    fractions: jax.Array | None = None
    variant_response: jax.Array | None = None
    variant_fractions: jax.Array | None = None
    templates: object = None
    observed: jax.Array | None = None
    axes: tuple = ()
    variant_names: tuple[str, ...] = ()

    @property
    def n_bins(self) -> int:
        return self.background.shape[0]

    @property
    def n_variants(self) -> int:
        """Number of signal shape systematics V (the signal is then (1 + 2V, B))."""
        return len(self.variant_names)


jax.tree_util.register_dataclass(
    RateKernel,
    data_fields=["e_r_mev", "q_mev", "form_factor", "Z", "N", "weight", "response",
                 "background", "edges_kev", "fractions", "variant_response", "variant_fractions",
                 "templates", "observed"],
    meta_fields=["name", "targets", "flavours", "flavour_index", "statistics", "axes", "variant_names"],
)


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
        kernel = build_gas_tpc_kernel(spec, spec.detector.pressure_torr)
    elif spec.detector.kind == "electron-scattering":
        from ..kernels.electron import build_electron_kernel

        kernel = build_electron_kernel(spec)
    elif spec.detector.kind == "scintillator":
        from ..kernels.pulsed import build_scintillator_kernel

        kernel = build_scintillator_kernel(spec, nodes_per_segment)
    else:
        kernel = _build_rate_kernel(spec, nodes_per_segment)
    _check_finite(kernel)
    return kernel


def _check_finite(kernel) -> None:
    """Every number a kernel holds is finite: else a spec value is beyond any physical range (overflow)."""
    bad = [i for i, leaf in enumerate(jax.tree_util.tree_leaves(kernel))
           if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact) and not np.all(np.isfinite(np.asarray(leaf)))]
    if bad:
        raise SpecError(f"spec: the expected counts of {kernel.name!r} are not finite numbers (overflow): a number "
                        "of its [source] or [detector] (mass, exposure, flux normalisation, distance, density) is far "
                        "outside any physical range")


def _build_rate_kernel(spec: ExperimentSpec, nodes_per_segment: int) -> RateKernel:
    """:func:`build_kernel` for a standard CEvNS detector."""
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
    if kernel.fractions is not None:                # energy x time (x F90) cells, shape variants
        if breakdown:
            per = jnp.einsum("tek,ftk->fte", kernel.response, kernel.weight * q2)
            return (per[..., None] * kernel.fractions[:, None]).reshape(*per.shape[:2], -1)
        return _cells(kernel, kernel.weight * q2)
    if breakdown:
        return jnp.einsum("tbk,ftk->ftb", kernel.response, kernel.weight * q2)
    per_node = jnp.sum(kernel.weight * q2, axis=0)                 # (T, K)
    return jnp.einsum("tbk,tk->b", kernel.response, per_node)


def _cells(kernel: RateKernel, wq):
    """Counts per cell of a pulsed-source kernel from weight x Q^2 ``wq`` (..., F, T, K): (..., B), or
    (..., 1 + 2V, B) with the shape variants (nominal first, then +1 and -1 sigma of each systematic)."""
    per_flavour = jnp.einsum("tek,...ftk->...fe", kernel.response, wq)
    nominal = jnp.einsum("fej,...fe->...ej", kernel.fractions, per_flavour)
    nominal = nominal.reshape(*nominal.shape[:-2], -1)
    if kernel.variant_response is None:
        return nominal
    per_variant = jnp.einsum("vtek,...ftk->...vfe", kernel.variant_response, wq)
    variants = jnp.einsum("vfej,...vfe->...vej", kernel.variant_fractions, per_variant)
    variants = variants.reshape(*variants.shape[:-2], -1)
    return jnp.concatenate([nominal[..., None, :], variants], axis=-2)


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
    (g_L, g_R) (:func:`electron.counts_polynomial`). Three nodal sums
    at a fixed mass (or cos beta) then serve every coupling (or mass) of a
    scan. Exact, not an expansion; tested against :func:`expected_counts`.
    """
    if not isinstance(kernel, RateKernel):          # nu-e scattering
        from . import electron

        return electron.counts_polynomial(kernel, model, fixed)
    a = coherent_charge(params_at(model, fixed, 0.0), kernel, model)
    c = coherent_charge(params_at(model, fixed, 1.0), kernel, model) - a
    stacked = jnp.stack([a * a, 2.0 * a * c, c * c])                     # (3, F, T, K)
    if kernel.fractions is not None:
        return _cells(kernel, kernel.weight[None] * stacked)             # (3, B) or (3, 1 + 2V, B)
    per_node = jnp.sum(kernel.weight[None] * stacked, axis=1)            # (3, T, K)
    return jnp.einsum("tbk,ptk->pb", kernel.response, per_node)
