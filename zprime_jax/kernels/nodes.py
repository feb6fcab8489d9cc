"""Recoil nodes of a CEvNS kernel, and the parameter-free arrays on them.

Recoil nodes: composite Gauss-Legendre in E_r with segment breaks at the
reconstructed bin edges, at every flux component's kinematic end point
2 E_nu^2/m_T (where the folded weight has a kink), at 2 E_b^2/m_T for every
interior breakpoint E_b of a tabulated spectrum (the reactor spectrum's table
points), at the kinks and steps of an efficiency function and at the window
edges; segments are further split so that none spans more than a factor 2 in
E_r nor (when smeared) more than 2 sigma(E_r). Convergence is tested against
independent SciPy double integrals to 1e-6 relative (ESS, COHERENT CsI) and
1e-5 (CONUS).

This module owns the node machinery shared by the kernel builders of
:mod:`zprime_jax.kernels.rates` and :mod:`zprime_jax.kernels.gas_tpc`: the
experiment's flux components (:func:`source_components`), the nodes and
their segment breaks, and the jitted flux-folded weights, form factors and
detector responses at the nodes. All names are re-exported by
:mod:`zprime_jax.kernels.rates`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError, _leading_field
from ..kernels import detectors
from ..physics.constants import G_FERMI_MEV2, MEV2_TO_CM2
from ..physics.cross_sections import max_recoil_mev
from ..physics.fluxes import (
    LBNF_COLUMNS,
    FluxComponent,
    folded_kinematic_weight,
    lbnf_source,
    pion_dar_source,
    reactor_source,
)
from ..physics.form_factors import FORM_FACTORS
from ..spec import ExperimentSpec, SpecError

NODES_PER_SEGMENT = 12


def _source_error(err: Exception) -> SpecError:
    """A flux builder's error as a spec error: its parameter is a ``source.`` key."""
    msg = str(err).removeprefix("source.").removeprefix("source: ")
    return SpecError(f"source.{msg}" if _leading_field(msg) else f"source: {msg}")


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
            raise _source_error(err) from None
    protons = src.protons_per_year * spec.detector.exposure_years
    if src.kind == "lbnf-beam-dump":
        flavours = LBNF_COLUMNS if src.flavours == "all" else ("nu_mu",)
        try:
            return lbnf_source(protons, flavours, src.max_energy_gev, src.flux_table)
        except (ValueError, FileNotFoundError) as err:
            raise _source_error(err) from None
    raise SpecError(f"source.kind: no flux builder for {src.kind!r}")


def _gauss_legendre_nodes(breaks: np.ndarray, n: int):
    x, w = np.polynomial.legendre.leggauss(n)
    a, b = breaks[:-1, None], breaks[1:, None]
    nodes = 0.5 * (b - a) * (x + 1.0) + a
    weights = 0.5 * (b - a) * w
    return nodes.ravel(), weights.ravel()


# The most quadrature segments one target's recoil range may need (the presets need at most ~300):
# beyond it a spec asks for a resolution far finer than its range (e.g. a threshold of 1e-30 keV)
# and the nodes alone would not fit in memory.
MAX_RECOIL_SEGMENTS = 20_000


def _subdivide(breaks: list[float], max_width=None, max_ratio: float = 2.0) -> np.ndarray:
    """Split segments so that hi/lo <= max_ratio and width <= max_width(mid).

    First a geometric split (so the 1/(q^2 + m^2)^2 behaviour of a light
    mediator at low E_r is resolved on every scale), then each piece is split
    linearly where it is still wider than ``max_width`` (the smearing scale).
    Raises InputError (field ``detector.threshold_kev``) beyond
    :data:`MAX_RECOIL_SEGMENTS` segments.
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
            if len(out) + n_lin > MAX_RECOIL_SEGMENTS:
                raise InputError(f"detector.threshold_kev: the recoil-energy quadrature from {1e3 * breaks[0]:.4g} "
                                 f"to {1e3 * breaks[-1]:.4g} keV needs more than {MAX_RECOIL_SEGMENTS} segments "
                                 "(the resolution scale is far below the range); raise the threshold or the "
                                 "resolution")
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
