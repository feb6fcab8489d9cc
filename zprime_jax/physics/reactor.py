"""Reactor antineutrino spectra and the reactor source (heavy-Z' paper sec. 3.1).

Huber-Mueller [63] above 2 MeV (one exponential polynomial per fissioning
isotope, weighted by the fission fractions), Kopeikin [64] below; the
neutrinos per fission, the mean energy release per fission and the fission
rate for a thermal power; :func:`reactor_source` turns them into one
continuous :class:`FluxComponent` over an exposure. Re-exported by
:mod:`zprime_jax.physics.fluxes`.
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..physics.constants import CM_PER_M, SECONDS_PER_DAY
from ..physics.flux_component import FluxComponent

# Reactor antineutrinos (heavy-Z' paper sec. 3.1: Huber-Mueller [63] above
# 2 MeV, Kopeikin [64] below). All spectra in nubar_e per MeV per fission.

JOULE_PER_MEV = 1.602176634e-13      # exact (SI 2019)
REACTOR_ISOTOPES = ("U235", "U238", "Pu239", "Pu241")
# dN/dE = exp(sum_k a_k E^(k-1)), E in MeV, k = 1..6: Huber 2011 (U235, Pu239,
# Pu241; Phys. Rev. C 84, 024617) and Mueller 2011 (U238; Phys. Rev. C 83, 054615).
HUBER_MUELLER_COEFFICIENTS = {
    "U235": (4.367, -4.577, 2.100, -5.294e-1, 6.186e-2, -2.777e-3),
    "U238": (4.833e-1, 1.927e-1, -1.283e-1, -6.762e-3, 2.233e-3, -1.536e-4),
    "Pu239": (4.757, -5.392, 2.563, -6.596e-1, 7.820e-2, -3.536e-3),
    "Pu241": (2.990, -2.882, 1.278, -3.343e-1, 3.905e-2, -1.754e-3),
}
REACTOR_FISSION_FRACTIONS = {"U235": 0.58, "U238": 0.07, "Pu239": 0.30, "Pu241": 0.05}
REACTOR_ENERGY_PER_FISSION_MEV = {"U235": 201.92, "U238": 205.52, "Pu239": 209.99, "Pu241": 213.60}
# Kopeikin's total reactor spectrum below 2 MeV (E [MeV], nubar_e/MeV/fission).
# Its steps (e.g. 0.035 -> 0.040, 0.160 -> 0.165, 0.330 -> 0.335, 0.435 -> 0.440,
# 1.185 -> 1.190 MeV) are kept as tabulated: linear interpolation between points.
KOPEIKIN_TABLE = (
    (0.010, 0.0774), (0.020, 0.301), (0.035, 0.848), (0.040, 0.354), (0.070, 0.989),
    (0.100, 1.81), (0.130, 2.74), (0.160, 3.85), (0.165, 3.26), (0.180, 3.74),
    (0.215, 4.66), (0.230, 4.08), (0.280, 5.03), (0.330, 5.97), (0.335, 4.30),
    (0.350, 4.08), (0.390, 4.42), (0.400, 4.04), (0.435, 4.39), (0.440, 2.84),
    (0.500, 3.03), (0.700, 3.14), (0.900, 3.23), (1.000, 3.11), (1.185, 2.80),
    (1.190, 2.24), (1.250, 2.06), (1.300, 1.77), (1.500, 1.59), (1.700, 1.48),
    (1.800, 1.42), (1.900, 1.36), (2.000, 1.30),
)
REACTOR_JOIN_MEV = 2.0               # Kopeikin below, Huber-Mueller from here on
# Upper end of the Huber-Mueller part. The fits are validated on 2-8 MeV; the
# paper states no end point. Their extrapolation to 10 MeV adds 4.4e-4 nu/fission
# (E^2-weighted: 0.18%), and beyond 10 MeV the mixture is < 3e-6 /MeV/fission.
REACTOR_E_MAX_MEV = 10.0
# The highest end a spec may set: twice the default; the extrapolated fits are < 1e-22 /MeV/fission from
# 15 MeV on (U-238, the hardest), so nothing beyond changes a rate.
REACTOR_MAX_ENERGY_MEV = 20.0

_KOP_E = np.array([e for e, _ in KOPEIKIN_TABLE])
_KOP_V = np.array([v for _, v in KOPEIKIN_TABLE])


def _fractions_key(fission_fractions) -> tuple[tuple[str, float], ...]:
    """Validated, hashable fission fractions (isotope, fraction); default: the paper's mixture."""
    fr = REACTOR_FISSION_FRACTIONS if fission_fractions is None else dict(fission_fractions)
    unknown = sorted(set(fr) - set(REACTOR_ISOTOPES))
    if unknown:
        raise InputError(f"fission_fractions: unknown isotopes {unknown}; allowed: {list(REACTOR_ISOTOPES)}")
    vals = [float(fr.get(k, 0.0)) for k in REACTOR_ISOTOPES]
    if any(not math.isfinite(v) or v < 0 for v in vals) or abs(sum(vals) - 1.0) > 1e-6:
        raise InputError(f"fission_fractions: must be >= 0 and sum to 1, got {fr}")
    return tuple(zip(REACTOR_ISOTOPES, vals))


def huber_mueller_spectrum(e_mev, isotope: str):
    """exp(sum_k a_k E^(k-1)) [nubar_e/MeV/fission] of one isotope (no support cut), E in MeV."""
    coeffs = HUBER_MUELLER_COEFFICIENTS[isotope]
    e = jnp.asarray(e_mev)
    poly = coeffs[-1]
    for a in coeffs[-2::-1]:
        poly = poly * e + a
    return jnp.exp(poly)


def kopeikin_spectrum(e_mev):
    """Kopeikin's total reactor spectrum [nubar_e/MeV/fission], linear between table points.

    Zero below 10 keV (the table's first point); the table's value at 2 MeV
    is held above it (use :func:`reactor_spectrum_per_fission` for the join).
    """
    e = jnp.asarray(e_mev)
    return jnp.where(e >= _KOP_E[0], jnp.interp(e, _KOP_E, _KOP_V), 0.0)


def reactor_spectrum_per_fission(e_mev, fission_fractions=None, e_max_mev: float = REACTOR_E_MAX_MEV):
    """Reactor nubar_e spectrum [1/MeV per fission], jnp, elementwise.

    Kopeikin (linear interpolation) on [0.010, 2) MeV; the fission-fraction
    weighted Huber-Mueller mixture sum_i f_i exp(sum_k a_ik E^(k-1)) on
    [2, e_max_mev]; zero elsewhere. The spectrum jumps at 2 MeV (Kopeikin
    1.30 vs mixture 1.254, ratio 1.037).

    Args:
      e_mev: neutrino energy [MeV], any shape.
      fission_fractions: {isotope: fraction} (default 0.58/0.07/0.30/0.05 for
        U235/U238/Pu239/Pu241); the Kopeikin part does not depend on it.
      e_max_mev: upper end [MeV] (default 10).
    """
    key = _fractions_key(fission_fractions)
    e = jnp.asarray(e_mev)
    hm = sum(f * huber_mueller_spectrum(e, iso) for iso, f in key if f > 0.0)
    high = jnp.where((e >= REACTOR_JOIN_MEV) & (e <= e_max_mev), hm, 0.0)
    return jnp.where(e < REACTOR_JOIN_MEV, kopeikin_spectrum(e), high)


def reactor_breakpoints_mev(e_max_mev: float = REACTOR_E_MAX_MEV) -> tuple[float, ...]:
    """Breakpoints of the reactor spectrum [MeV]: the Kopeikin table energies (0.010 ... 2.0),
    then 1-MeV interior nodes of the smooth Huber-Mueller part (3, 4, ...; for quadrature
    accuracy) and ``e_max_mev``."""
    if not e_max_mev > REACTOR_JOIN_MEV + 1e-9:
        raise InputError(f"e_max_mev: must exceed {REACTOR_JOIN_MEV} MeV, got {e_max_mev}")
    interior = [float(e) for e in np.arange(REACTOR_JOIN_MEV + 1.0, e_max_mev - 1e-9, 1.0)]
    return tuple(float(e) for e in _KOP_E) + tuple(interior) + (float(e_max_mev),)


_GL64_X, _GL64_W = np.polynomial.legendre.leggauss(64)


def kopeikin_neutrinos_per_fission() -> float:
    """Integral of the Kopeikin part, 0.010-2 MeV [nubar_e/fission] (exact trapezoid)."""
    return float(np.sum(0.5 * (_KOP_V[1:] + _KOP_V[:-1]) * np.diff(_KOP_E)))


def huber_mueller_neutrinos_per_fission(fission_fractions=None,
                                        e_max_mev: float = REACTOR_E_MAX_MEV) -> float:
    """Integral of the Huber-Mueller mixture from 2 MeV to ``e_max_mev`` [nubar_e/fission].

    64-node Gauss-Legendre per 1-MeV segment (exact to < 1e-13 relative).
    """
    edges = np.asarray(reactor_breakpoints_mev(e_max_mev)[len(_KOP_E) - 1:])
    a, b = edges[:-1, None], edges[1:, None]
    e = 0.5 * (b - a) * (_GL64_X + 1.0) + a
    w = 0.5 * (b - a) * _GL64_W
    vals = np.asarray(reactor_spectrum_per_fission(e, fission_fractions, e_max_mev))
    return float(np.sum(w * vals))


def neutrinos_per_fission(fission_fractions=None, e_max_mev: float = REACTOR_E_MAX_MEV) -> float:
    """Total nubar_e per fission on [0.010, e_max_mev] MeV (Kopeikin + Huber-Mueller)."""
    return (kopeikin_neutrinos_per_fission()
            + huber_mueller_neutrinos_per_fission(fission_fractions, e_max_mev))


def mean_energy_per_fission_mev(fission_fractions=None) -> float:
    """<E_fission> = sum_i f_i E_i [MeV] (201.92/205.52/209.99/213.60 MeV; 205.18 MeV by default)."""
    return sum(f * REACTOR_ENERGY_PER_FISSION_MEV[iso] for iso, f in _fractions_key(fission_fractions))


def reactor_fissions_per_second(thermal_power_mw: float, fission_fractions=None) -> float:
    """Fission rate P / <E_fission> [1/s] for a thermal power [MW]."""
    return thermal_power_mw * 1e6 / (mean_energy_per_fission_mev(fission_fractions) * JOULE_PER_MEV)


@functools.cache
def _normalised_reactor_spectrum(key, e_max_mev):
    # One function object per (fractions, e_max): FluxComponent hashes by it,
    # so jit caches keyed on the source are reused.
    fractions = dict(key)
    total = neutrinos_per_fission(fractions, e_max_mev)

    def spectrum(e_mev):
        return reactor_spectrum_per_fission(e_mev, fractions, e_max_mev) / total

    return spectrum


def reactor_source(thermal_power_mw: float, distance_m: float, exposure_days: float,
                   flavour: str = "nubar_e", fission_fractions=None,
                   e_max_mev: float = REACTOR_E_MAX_MEV) -> tuple[FluxComponent, ...]:
    """Reactor antineutrino source over an exposure, as one continuous component.

    fluence = (P / <E_fission>) x (nu/fission) x t / (4 pi L^2)  [1/cm^2];
    the spectrum is :func:`reactor_spectrum_per_fission` divided by
    nu/fission, normalised to 1 on :func:`reactor_breakpoints_mev`.

    Args:
      thermal_power_mw: reactor thermal power [MW] (> 0).
      distance_m: core-detector distance [m] (> 0).
      exposure_days: live time [days] (> 0).
      flavour: default "nubar_e".
      fission_fractions: {isotope: fraction}; default the paper's mixture
        (for MINER's research reactor: {"U235": 1.0}).
      e_max_mev: upper end of the spectrum [MeV] (default 10).
    """
    from ..physics.models import FLAVOURS

    for label, value in (("thermal_power_mw", thermal_power_mw), ("distance_m", distance_m),
                         ("exposure_days", exposure_days)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"source.{label}: must be finite and > 0, got {value}")
    if flavour not in FLAVOURS:
        raise InputError(f"source.flavour: unknown {flavour!r}; allowed: {list(FLAVOURS)}")
    key = _fractions_key(fission_fractions)
    fractions = dict(key)
    n_nu = (reactor_fissions_per_second(thermal_power_mw, fractions)
            * neutrinos_per_fission(fractions, e_max_mev) * exposure_days * SECONDS_PER_DAY)
    distance_cm = distance_m * CM_PER_M
    fluence = n_nu / (4.0 * math.pi * distance_cm**2)
    return (FluxComponent(flavour, fluence, spectrum=_normalised_reactor_spectrum(key, float(e_max_mev)),
                          breakpoints_mev=reactor_breakpoints_mev(e_max_mev), label="reactor"),)
