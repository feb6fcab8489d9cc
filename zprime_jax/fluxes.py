"""Neutrino sources: spectra normalised to one neutrino, and their fluence.

A source is a tuple of :class:`FluxComponent` (one per flavour and shape).
Each component is either a monochromatic line or a continuous spectrum given
as a pure jnp function of E_nu [MeV] normalised to 1 over its support, with
breakpoints where it is not smooth. ``fluence_per_cm2`` is the number of
neutrinos of that component crossing 1 cm^2 over the whole exposure.

The kernel builder folds each component with the kinematic factor of the
cross section once (see :func:`folded_kinematic_weight`), so no flux work is
done per parameter point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from .constants import CM_PER_M, M_MUON_MEV, M_PION_CHARGED_MEV


@dataclass(frozen=True)
class FluxComponent:
    """One flavour's contribution to a source.

    Attributes:
      flavour: an entry of ``models.FLAVOURS``.
      fluence_per_cm2: neutrinos per cm^2 over the exposure.
      line_energy_mev: energy of a monochromatic line [MeV], or None.
      spectrum: for a continuous component, E [MeV] -> dN/dE [1/MeV],
        normalised to 1 on ``breakpoints_mev[0] .. breakpoints_mev[-1]``.
      breakpoints_mev: support edges and interior kinks of ``spectrum``.
      label: e.g. "prompt", "delayed".
    """

    flavour: str
    fluence_per_cm2: float
    line_energy_mev: float | None = None
    spectrum: Callable | None = None
    breakpoints_mev: tuple[float, ...] = ()
    label: str = ""

    @property
    def max_energy_mev(self) -> float:
        return self.line_energy_mev if self.line_energy_mev is not None else self.breakpoints_mev[-1]


# --- pion decay at rest (light-mediator paper eq. 3.6, corrected) ----------

PROMPT_NU_MU_ENERGY_MEV = (M_PION_CHARGED_MEV**2 - M_MUON_MEV**2) / (2.0 * M_PION_CHARGED_MEV)
MICHEL_END_POINT_MEV = M_MUON_MEV / 2.0


def michel_numubar(e_mev):
    """nubar_mu spectrum from mu+ decay at rest [1/MeV], normalised to 1.

    (64/m_mu) (E/m_mu)^2 (3/4 - E/m_mu) for 0 <= E <= m_mu/2. Eq. 3.6 as
    printed has E/m_pi and a reversed step (paper-notes 1); this is the
    physically correct form.
    """
    x = jnp.asarray(e_mev) / M_MUON_MEV
    inside = (x >= 0.0) & (x <= 0.5)
    return jnp.where(inside, 64.0 / M_MUON_MEV * x**2 * (0.75 - x), 0.0)


def michel_nue(e_mev):
    """nu_e spectrum from mu+ decay at rest [1/MeV], normalised to 1.

    (192/m_mu) (E/m_mu)^2 (1/2 - E/m_mu) for 0 <= E <= m_mu/2 (corrected eq. 3.6).
    """
    x = jnp.asarray(e_mev) / M_MUON_MEV
    inside = (x >= 0.0) & (x <= 0.5)
    return jnp.where(inside, 192.0 / M_MUON_MEV * x**2 * (0.5 - x), 0.0)


def pion_dar_fluence_per_cm2(nu_per_proton: float, protons: float, distance_m: float) -> float:
    """eta = phi_{nu/POT} N_POT / (4 pi L^2) [1/cm^2] per flavour (eq. 3.7)."""
    distance_cm = distance_m * CM_PER_M
    return nu_per_proton * protons / (4.0 * math.pi * distance_cm**2)


def pion_dar_source(nu_per_proton: float, protons: float, distance_m: float) -> tuple[FluxComponent, ...]:
    """The three pi-DAR components: prompt nu_mu line, delayed nubar_mu and nu_e."""
    eta = pion_dar_fluence_per_cm2(nu_per_proton, protons, distance_m)
    support = (0.0, MICHEL_END_POINT_MEV)
    return (
        FluxComponent("nu_mu", eta, line_energy_mev=PROMPT_NU_MU_ENERGY_MEV, label="prompt"),
        FluxComponent("nubar_mu", eta, spectrum=michel_numubar, breakpoints_mev=support, label="delayed"),
        FluxComponent("nu_e", eta, spectrum=michel_nue, breakpoints_mev=support, label="delayed"),
    )


# --- folding with the cross section's kinematic factor ----------------------

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def folded_kinematic_weight(component: FluxComponent, e_r_mev, target_mass_mev):
    """K(E_r) = int dE phi(E) (1 - m_T E_r / 2E^2) over E >= sqrt(m_T E_r / 2).

    Parameter-free part of eq. 3.1: the counts are
    N_T * fluence * G_F^2 m_T/pi * int dE_r K(E_r) Q(E_r)^2.
    Per segment of the spectrum a 16-node Gauss-Legendre rule is used; it is
    exact for the Michel spectra (the integrand is then a polynomial of
    degree 3) and converges fast for smooth tabulated spectra.
    Args: e_r_mev (any shape, MeV), target_mass_mev (MeV). Returns: same shape.
    """
    e_r = jnp.asarray(e_r_mev)
    e_min = jnp.sqrt(target_mass_mev * e_r / 2.0)
    if component.line_energy_mev is not None:
        e0 = component.line_energy_mev
        k = 1.0 - target_mass_mev * e_r / (2.0 * e0**2)
        return jnp.where(k > 0.0, k, 0.0)
    total = jnp.zeros_like(e_r)
    edges = component.breakpoints_mev
    for lo, hi in zip(edges[:-1], edges[1:]):
        a = jnp.clip(e_min, lo, hi)           # integration starts at max(lo, E_min)
        half = 0.5 * (hi - a)[..., None]
        e = a[..., None] + half * (_GL_X + 1.0)
        kin = 1.0 - target_mass_mev * e_r[..., None] / (2.0 * e**2)
        total = total + jnp.sum(_GL_W * half * component.spectrum(e) * kin, axis=-1)
    return total
