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

from ..errors import InputError

# True recoils further than this many sigma below threshold (or above the
# window) contribute < 1e-12 of a bin's probability and are not integrated.
SMEARING_TAIL_SIGMAS = 7.0


def resolution_sigma(e_true, threshold, sigma0):
    """sigma(E) = sigma0 sqrt(E / E_th) (paper section 4); same unit as E."""
    return sigma0 * jnp.sqrt(jnp.asarray(e_true) / threshold)


MAX_RESOLUTION_BINS = 10_000    # the presets have at most 70; more would be a spec typo (and memory)


def resolution_bin_edges(threshold: float, window_max: float, sigma0: float) -> np.ndarray:
    """Bin edges from E_th to E_max, each bin twice as wide as sigma at its centre.

    A bin [a, a + w] with w = 2 sigma(a + w/2) has
    w = s + sqrt(s^2 + 4 s a), s = sigma0^2 / E_th.
    The last bin ends at E_max; if the remainder is narrower than half a
    nominal bin it is merged into the bin before (documented convention).
    """
    if not window_max > threshold:
        raise InputError(f"detector.window_max_kev ({window_max}) must exceed "
                         f"detector.threshold_kev ({threshold})")
    s = sigma0**2 / threshold
    # sqrt(a) grows by about sqrt(s) per bin: the number of bins before building them
    n_bins = (math.sqrt(window_max) - math.sqrt(threshold)) / math.sqrt(s) if s > 0 else math.inf
    if not n_bins <= MAX_RESOLUTION_BINS:
        raise InputError(f"detector.resolution_at_threshold: 'resolution' bins from {1e3 * threshold:.4g} to "
                         f"{1e3 * window_max:.4g} keV with sigma(E_th) = {1e3 * sigma0:.4g} keV would be "
                         f"~{n_bins:.3g} bins, more than {MAX_RESOLUTION_BINS}; raise it or detector.threshold_kev, "
                         "lower detector.window_max_kev, or use detector.binning = 'single'")
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
      threshold: the threshold E_th of sigma(E) = sigma0 sqrt(E / E_th) (:func:`resolution_sigma`), same
        unit as the energies.
      sigma0: the resolution at the threshold, same unit as the energies.
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
    from ..physics.constants import AVOGADRO

    return density_coefficient * 1e3 * pressure_torr * volume_m3 * AVOGADRO


def pressure_threshold_kev(threshold_at_reference_kev: float, pressure_torr, reference_torr: float = 40.0):
    """E_th = f_i * P / (40 Torr) keV (eq. 3.4); linear in the pressure."""
    return threshold_at_reference_kev * pressure_torr / reference_torr


# --- efficiency functions of the heavy-Z' paper (Miranda et al. 2020, Table II) ---
#
# A detector's ``acceptance`` is either a number (a flat efficiency) or the
# name of one of the functions below, evaluated at the TRUE recoil energy E_r
# (eq. 16's E(T_A)); the response is acceptance(E_r) x window indicator (or x
# the smeared bin probability when smearing is on).

# COHERENT CsI[Na] 2017 (Akimov et al., Science 357 (2017) 1123, and its data
# release, ref. [65] of the heavy-Z' paper): acceptance versus photoelectrons x
#   0.6655 / (1 + exp(-0.4942 (x - 10.8507)))   for x >= 6,
#   half of that                                for 5 <= x < 6,
#   0                                           for x < 5,
# with x = light yield [PE/keVee] x quenching factor x E_r [keVnr].
CSI_2017_ACCEPTANCE_MAX = 0.6655
CSI_2017_ACCEPTANCE_SLOPE_PER_PE = 0.4942
CSI_2017_ACCEPTANCE_MIDPOINT_PE = 10.8507
CSI_2017_ACCEPTANCE_STEPS_PE = (5.0, 6.0)     # zero below 5 PE, half between 5 and 6 PE


def coherent_csi_acceptance_pe(x_pe):
    """COHERENT CsI 2017 acceptance as a function of the number of photoelectrons x (jnp)."""
    x = jnp.asarray(x_pe)
    logistic = CSI_2017_ACCEPTANCE_MAX / (
        1.0 + jnp.exp(-CSI_2017_ACCEPTANCE_SLOPE_PER_PE * (x - CSI_2017_ACCEPTANCE_MIDPOINT_PE)))
    lo, hi = CSI_2017_ACCEPTANCE_STEPS_PE
    return jnp.where(x >= hi, logistic, jnp.where(x >= lo, 0.5 * logistic, 0.0))


def coherent_csi_acceptance(e_r_mev, pe_per_kevnr):
    """COHERENT CsI 2017 acceptance at true recoil energies E_r [MeV] (x = pe_per_kevnr * E_r[keV])."""
    return coherent_csi_acceptance_pe(pe_per_kevnr * jnp.asarray(e_r_mev) * 1e3)


# COHERENT CENNS-10 liquid argon, analysis A (Akimov et al., arXiv:1909.05913, ref. [66]
# of the heavy-Z' paper): acceptance versus nuclear recoil energy [keVnr], as given in
# issue 4. Linear interpolation between the points; constant beyond the last point
# (0.952 above 66.28 keVnr) and, below the first (1e-5 below 3.02 keVnr: far below the
# 20 keV threshold of Table II, so it never enters).
CENNS10_ACCEPTANCE_TABLE = (
    (3.02, 0.00001), (5.00, 0.031), (6.96, 0.168), (8.89, 0.291), (10.81, 0.381),
    (12.70, 0.450), (14.57, 0.500), (16.42, 0.546), (18.25, 0.592), (20.06, 0.640),
    (21.85, 0.691), (23.63, 0.736), (25.39, 0.775), (27.13, 0.807), (28.85, 0.833),
    (30.56, 0.855), (32.25, 0.868), (33.93, 0.887), (35.60, 0.898), (37.25, 0.904),
    (38.88, 0.918), (40.50, 0.922), (42.11, 0.932), (43.71, 0.933), (45.29, 0.935),
    (48.42, 0.942), (53.03, 0.946), (57.54, 0.950), (66.28, 0.952),
)
_CENNS10_E_KEV = np.array([e for e, _ in CENNS10_ACCEPTANCE_TABLE])
_CENNS10_ACC = np.array([a for _, a in CENNS10_ACCEPTANCE_TABLE])


def cenns10_acceptance(e_r_mev):
    """COHERENT CENNS-10 (LAr, analysis A) acceptance at true recoil energies E_r [MeV] (jnp)."""
    return jnp.interp(jnp.asarray(e_r_mev) * 1e3, _CENNS10_E_KEV, _CENNS10_ACC)


# name -> (needs the photoelectron conversion?, description)
EFFICIENCY_FUNCTIONS = {
    "coherent-csi-2017": (True, "COHERENT CsI[Na] 2017 acceptance in photoelectrons (logistic, "
                                "half at 5-6 PE, zero below 5 PE)"),
    "coherent-cenns10": (False, "COHERENT CENNS-10 LAr analysis-A acceptance table in keVnr "
                                "(linear interpolation, constant beyond the ends)"),
}


def efficiency_at(acceptance, e_r_mev, pe_per_kevnr=None):
    """Detection efficiency at true recoil energies E_r [MeV].

    Args:
      acceptance: a number in (0, 1] (flat) or a key of :data:`EFFICIENCY_FUNCTIONS`.
      e_r_mev: true recoil energies [MeV], any shape.
      pe_per_kevnr: photoelectrons per keV of nuclear recoil (light yield x
        quenching factor); needed by "coherent-csi-2017".
    Returns: an array of the shape of ``e_r_mev`` (a flat number broadcasts).
    """
    e = jnp.asarray(e_r_mev)
    if not isinstance(acceptance, str):
        return acceptance * jnp.ones_like(e)
    if acceptance == "coherent-csi-2017":
        if pe_per_kevnr is None:
            raise InputError("detector.acceptance: 'coherent-csi-2017' needs "
                             "detector.light_yield_pe_per_kevee and detector.quenching_factor")
        return coherent_csi_acceptance(e, pe_per_kevnr)
    if acceptance == "coherent-cenns10":
        return cenns10_acceptance(e)
    raise InputError(f"detector.acceptance: unknown efficiency function {acceptance!r}; "
                     f"allowed: a number in (0, 1] or one of {sorted(EFFICIENCY_FUNCTIONS)}")


def efficiency_breaks_mev(acceptance, pe_per_kevnr=None) -> tuple[float, ...]:
    """Recoil energies [MeV] where the efficiency function has a kink or a step
    (quadrature segment breaks): the 5 and 6 PE steps of the CsI function, the
    table points of CENNS-10; none for a flat efficiency."""
    if acceptance == "coherent-csi-2017":
        return tuple(x / pe_per_kevnr * 1e-3 for x in CSI_2017_ACCEPTANCE_STEPS_PE)
    if acceptance == "coherent-cenns10":
        return tuple(float(e) * 1e-3 for e in _CENNS10_E_KEV)
    return ()


# --- a volume detector near a point source (heavy-Z' paper sec. 3.2) -----------

def cylinder_mean_inverse_square_m2(source_distance_m: float, height_m: float, diameter_m: float) -> float:
    """<1/r^2> over a cylinder on the axis of a point source [1/m^2] (heavy-Z' paper eq. 20).

    The source sits on the cylinder's axis a distance L below its base; eq. (20)
    writes r_avg = <1/r^2>^(-1/2). With d the diameter and h the height:

        <1/r^2> = 4L/(d^2 h) ln[L^2 (d^2 + 4(h+L)^2) / ((d^2 + 4L^2)(h+L)^2)]
                + 4/d^2 ln[(d^2 + 4(h+L)^2) / (4(h+L)^2)]
                + 4/(d h) [atan(2(h+L)/d) - atan(2L/d)]

    (tested against a direct numerical average of 1/r^2 over the volume).
    """
    L, h, d = float(source_distance_m), float(height_m), float(diameter_m)
    if not (L > 0 and h > 0 and d > 0):
        raise InputError(f"source_distance_m, height_m, diameter_m: must be > 0, got {L}, {h}, {d}")
    hl = h + L
    return (4.0 * L / (d * d * h) * math.log(L * L * (d * d + 4.0 * hl * hl) / ((d * d + 4.0 * L * L) * hl * hl))
            + 4.0 / (d * d) * math.log((d * d + 4.0 * hl * hl) / (4.0 * hl * hl))
            + 4.0 / (d * h) * (math.atan(2.0 * hl / d) - math.atan(2.0 * L / d)))


def cylinder_volume_m3(height_m: float, diameter_m: float) -> float:
    """pi d^2 h / 4 [m^3]."""
    return math.pi * diameter_m * diameter_m * height_m / 4.0


def electron_density_per_m3(density_g_cm3: float, atomic_number: float, molar_mass_g_mol: float) -> float:
    """n_e = rho N_A Z / A [electrons per m^3] (heavy-Z' paper below eq. 19)."""
    from ..physics.constants import AVOGADRO

    return density_g_cm3 * 1e6 * AVOGADRO * atomic_number / molar_mass_g_mol
