"""A neutrino-source component, and its folding with the cross section's kinematic factor.

A source is a tuple of :class:`FluxComponent` (one per flavour and shape).
Each component is either a monochromatic line or a continuous spectrum given
as a pure jnp function of E_nu [MeV] normalised to 1 over its support, with
breakpoints where it is not smooth. ``fluence_per_cm2`` is the number of
neutrinos of that component crossing 1 cm^2 over the whole exposure.

The kernel builder folds each component with the kinematic factor of the
cross section once (see :func:`folded_kinematic_weight`), so no flux work is
done per parameter point. The sources themselves are built in
:mod:`zprime_jax.physics.fluxes` (pi-DAR, SNS, LBNF),
:mod:`zprime_jax.physics.reactor` and :mod:`zprime_jax.physics.radioactive`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


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


# --- folding with the cross section's kinematic factor ----------------------

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def folded_kinematic_weight(component: FluxComponent, e_r_mev, target_mass_mev):
    """K(E_r) = int dE phi(E) (1 - m_T E_r / 2E^2) over E >= sqrt(m_T E_r / 2).

    Parameter-free part of eq. 3.1: the counts are
    N_T * fluence * G_F^2 m_T/pi * int dE_r K(E_r) Q(E_r)^2.
    Per segment of the spectrum (between consecutive ``breakpoints_mev``) a
    16-node Gauss-Legendre rule is used; it is exact for the Michel spectra
    (the integrand is then a polynomial of degree 3) and converges fast for
    smooth tabulated spectra. All S segments are one (..., S, 16) array, so
    the traced graph does not grow with S (a reactor spectrum has ~40).
    Args: e_r_mev (any shape, MeV), target_mass_mev (MeV; may be an array
    broadcasting against ``e_r_mev``). Returns: the broadcast shape.
    """
    e_r = jnp.asarray(e_r_mev)
    m_t = jnp.asarray(target_mass_mev)
    if component.line_energy_mev is not None:
        k = 1.0 - m_t * e_r / (2.0 * component.line_energy_mev**2)
        return jnp.where(k > 0.0, k, 0.0)
    e_min = jnp.sqrt(m_t * e_r / 2.0)[..., None]                       # (..., 1)
    ones = (1,) * (e_min.ndim - 1)           # explicit broadcasting (no implicit rank promotion)
    edges = np.asarray(component.breakpoints_mev, dtype=float)
    lo, hi = edges[:-1].reshape(ones + (-1,)), edges[1:].reshape(ones + (-1,))   # (1..., S)
    a = jnp.clip(e_min, lo, hi)                  # integration starts at max(lo, E_min)
    half = 0.5 * (hi - a)
    x = (_GL_X + 1.0).reshape(ones + (1, -1))                           # (1..., 1, 16)
    w = _GL_W.reshape(ones + (1, -1))
    e = a[..., None] + half[..., None] * x                              # (..., S, 16)
    kin = 1.0 - (m_t * e_r)[..., None, None] / (2.0 * e**2)
    return jnp.sum(jnp.sum(w * half[..., None] * component.spectrum(e) * kin, axis=-1), axis=-1)
