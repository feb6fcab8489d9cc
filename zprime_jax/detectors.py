"""Detector response: binning, Gaussian smearing, acceptance, backgrounds.

Energies here are nuclear-recoil energies in MeV (keV only in specs/plots).
The smearing of the light-mediator paper (section 4): a Gaussian in the
reconstructed energy with width sigma(E) = sigma0 sqrt(E / E_th), sigma0 the
resolution at threshold; all true recoils are smeared, so recoils just below
threshold migrate into the window [E_th, E_max].
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr

# True recoils further than this many sigma below threshold (or above the
# window) contribute < 1e-12 of a bin's probability and are not integrated.
SMEARING_TAIL_SIGMAS = 7.0


def resolution_sigma(e_true, threshold, sigma0):
    """sigma(E) = sigma0 sqrt(E / E_th) (paper section 4); same unit as E."""
    return sigma0 * jnp.sqrt(jnp.asarray(e_true) / threshold)


def resolution_bin_edges(threshold: float, window_max: float, sigma0: float) -> np.ndarray:
    """Bin edges from E_th to E_max, each bin twice as wide as sigma at its centre.

    A bin [a, a + w] with w = 2 sigma(a + w/2) has
    w = s + sqrt(s^2 + 4 s a), s = sigma0^2 / E_th.
    The last bin ends at E_max; if the remainder is narrower than half a
    nominal bin it is merged into the bin before (documented convention).
    """
    if not window_max > threshold:
        raise ValueError(f"detector.window_max_kev ({window_max}) must exceed "
                         f"detector.threshold_kev ({threshold})")
    s = sigma0**2 / threshold
    edges = [threshold]
    while True:
        a = edges[-1]
        w = s + math.sqrt(s * s + 4.0 * s * a)
        if a + w >= window_max:
            if window_max - a < 0.5 * w and len(edges) > 1:
                edges[-1] = window_max
            else:
                edges.append(window_max)
            break
        edges.append(a + w)
    return np.asarray(edges)


def smeared_lower_limit(threshold: float, sigma0: float, n_sigma: float = SMEARING_TAIL_SIGMAS) -> float:
    """Smallest true energy E with E_th - E <= n sigma(E) (closed form).

    Solves E_th (1 - u^2) = n sigma0 u with u = sqrt(E/E_th).
    """
    r = n_sigma * sigma0 / threshold
    u = 0.5 * (-r + math.sqrt(r * r + 4.0))
    return threshold * u * u


def smeared_upper_limit(window_max: float, threshold: float, sigma0: float,
                        n_sigma: float = SMEARING_TAIL_SIGMAS) -> float:
    """Largest true energy that can be reconstructed below E_max (n sigma above it)."""
    r = n_sigma * sigma0 / math.sqrt(threshold)
    u = 0.5 * (r + math.sqrt(r * r + 4.0 * window_max))   # sqrt(E): E - E_max = r sqrt(E)
    return u * u


def bin_probabilities(e_true, edges, threshold, sigma0):
    """P(reconstructed energy in bin b | true E) for Gaussian smearing.

    Args:
      e_true: true recoil energies, shape (K,).
      edges: reconstructed bin edges, shape (B+1,).
      threshold, sigma0: same unit as the energies.
    Returns: array (B, K).
    """
    e = jnp.asarray(e_true)[None, :]
    sigma = resolution_sigma(e, threshold, sigma0)
    cdf = ndtr((jnp.asarray(edges)[:, None] - e) / sigma)
    return cdf[1:] - cdf[:-1]


def window_indicator(e_true, edges):
    """Unsmeared response: 1 where edges[b] <= E < edges[b+1]. Shape (B, K)."""
    e = jnp.asarray(e_true)[None, :]
    lo = jnp.asarray(edges)[:-1, None]
    hi = jnp.asarray(edges)[1:, None]
    return jnp.where((e >= lo) & (e < hi), 1.0, 0.0)


def flat_background(total_counts: float, edges) -> np.ndarray:
    """Spread ``total_counts`` flat in reconstructed energy over the bins (paper-notes 5)."""
    edges = np.asarray(edges)
    widths = np.diff(edges)
    return total_counts * widths / (edges[-1] - edges[0])


def gas_molecules(density_coefficient: float, pressure_torr, volume_m3: float):
    """Molecules in a gas volume (light-mediator paper eq. 3.3).

    rho = density_coefficient * m_molar * P  [kg/m^3] with m_molar in g/mol and P
    in Torr, so the number of moles per m^3 is density_coefficient * 1e3 * P,
    independent of the molar mass. Differentiable in ``pressure_torr``.
    """
    from .constants import AVOGADRO

    return density_coefficient * 1e3 * pressure_torr * volume_m3 * AVOGADRO


def pressure_threshold_kev(threshold_at_reference_kev: float, pressure_torr, reference_torr: float = 40.0):
    """E_th = f_i * P / (40 Torr) keV (eq. 3.4); linear in the pressure."""
    return threshold_at_reference_kev * pressure_torr / reference_torr
