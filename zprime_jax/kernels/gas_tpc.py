"""The gas-TPC kernel: a CEvNS kernel differentiable in the gas pressure (light-mediator paper eqs. 3.3-3.5).

Unlike :func:`zprime_jax.kernels.rates.build_kernel`, every array of this
kernel is a jnp function of the pressure, so gradients with respect to it
work end to end (detector optimisation, :mod:`zprime_jax.design`).
:func:`build_gas_tpc_kernel` is re-exported by :mod:`zprime_jax.kernels.rates`,
whose :func:`~zprime_jax.kernels.rates.build_kernel` dispatches to it; it
imports :class:`~zprime_jax.kernels.rates.RateKernel` and the SM counts from
there when called (rates imports this module).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

from ..kernels import detectors
from ..kernels.nodes import NODES_PER_SEGMENT, _folded_weights, _gauss_legendre_nodes, source_components
from ..physics.constants import KEV_PER_MEV
from ..physics.cross_sections import momentum_transfer_mev
from ..physics.form_factors import FORM_FACTORS
from ..physics.models import FLAVOURS
from ..physics.nuclei import material_composition
from ..spec import ExperimentSpec

if TYPE_CHECKING:
    from ..kernels.rates import RateKernel

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
    from ..kernels.rates import RateKernel, expected_counts
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
