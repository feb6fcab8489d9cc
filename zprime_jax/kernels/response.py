"""Detector response of a scintillator at a pulsed source: quenching, resolution, efficiency, time, F90.

A nuclear recoil of energy E_nr [keVnr] gives E_ee(E_nr) [keVee] (``quenching``:
the CsI[Na] release's quartic in E_nr [MeV], the LAr release's
QF = a + b T, or a constant QF), reconstructed as

* photoelectrons x with a gamma distribution of mean LY E_ee and shape
  k = 1 + b E_ee (COHERENT CsI[Na] 2021: LY = 13.35 PE/keVee, b = 9.56/keVee;
  with a = 1/LY this is the release's P(x | E_ee) with a/E_ee and b E_ee), or
* keVee with a Gaussian of sigma = a sqrt(E_ee) (sigma/E = a/sqrt(E), the LAr
  release's energyResolution, a = 0.58 sqrt(keVee));

then accepted with the efficiency of the reconstructed energy. The response of
an analysis bin [x_lo, x_hi] is the integral of P(x | E_nr) eff(x) over the
bin, done on :data:`EFFICIENCY_SUBBINS` equal sub-bins (efficiency at each
sub-bin's centre, probability from the exact CDF differences). Arrival times
come from :mod:`zprime_jax.physics.timing` (prompt nu_mu, delayed nu_e and
anti-nu_mu), averaged with the time efficiency on sub-intervals of at most
:data:`TIME_STEP_NS`. Everything is written with ``jax.numpy`` (differentiable
in the energies and in the settings' numbers), evaluated once per kernel.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammainc, ndtr

from ..errors import SpecError
from ..physics import timing
from ..physics.constants import KEV_PER_MEV

EFFICIENCY_SUBBINS = 16      # sub-bins per analysis energy bin for the efficiency integral
TIME_STEP_NS = 10.0          # widest time sub-interval of the efficiency average (the CsI slope: 5e-4 per 10 ns)

# the time component of each flavour of a pion decay-at-rest source
ARRIVAL_COMPONENT = {"nu_mu": "prompt", "nu_e": "delayed", "nubar_mu": "delayed"}


def quenched_kevee(e_nr_kev, quenching):
    """E_ee [keVee] of nuclear recoils E_nr [keVnr] (any shape) for a :class:`QuenchingSpec`."""
    t = jnp.asarray(e_nr_kev)
    if quenching.kind == "polynomial":
        x = t / KEV_PER_MEV                                  # MeVnr
        e_ee_mev = sum(c * x ** (i + 1) for i, c in enumerate(quenching.coefficients))
        return e_ee_mev * KEV_PER_MEV
    if quenching.kind == "linear":
        return (quenching.a + quenching.b_per_kevnr * t) * t
    return quenching.a * t


def reconstructed_cdf(x, e_ee_kevee, resolution, light_yield_pe_per_kevee=None):
    """P(reconstructed < x | E_ee), broadcasting ``x`` against ``e_ee_kevee`` (E_ee > 0)."""
    e = jnp.asarray(e_ee_kevee)
    x = jnp.asarray(x)
    if resolution.kind == "gamma":
        shape = 1.0 + resolution.shape_per_kevee * e
        scale = light_yield_pe_per_kevee * e / shape          # mean = shape * scale = LY E_ee
        return jnp.where(x > 0, gammainc(shape, jnp.maximum(x, 0.0) / scale), 0.0)
    sigma = resolution.a_sqrt_kevee * jnp.sqrt(e)
    return ndtr((x - e) / sigma)


def efficiency_table(efficiency) -> tuple[np.ndarray, np.ndarray]:
    """(x, efficiency) columns of a "table" efficiency, increasing in x."""
    cols = (int(efficiency.x_column), int(efficiency.efficiency_column))
    path = efficiency.path
    try:
        table = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as err:
        raise SpecError(f"detector.efficiency.path: {path}: not a table of numbers ({err})") from None
    if table.shape[1] <= max(cols):
        raise SpecError(f"detector.efficiency.path: {path} has {table.shape[1]} columns, the spec reads column "
                        f"{max(cols)}")
    x, eff = table[:, cols[0]], table[:, cols[1]]
    if not (np.all(np.diff(x) > 0) and np.all(np.isfinite(eff)) and np.all((eff >= 0) & (eff <= 1))):
        raise SpecError(f"detector.efficiency.path: {path}: x must increase and the efficiency be in [0, 1]")
    return x, eff


def efficiency_at(x, efficiency):
    """Efficiency at reconstructed energies ``x`` (PE or keVee) for an :class:`EfficiencySpec`.

    The sigmoid is set to 0 where it is negative (the CsI release's nominal curve, a/(1+e^..)+d with
    d < 0, is negative below ~5.8 PE: no events are accepted there); a table is interpolated linearly and
    held constant beyond its ends (the LAr table stops at 39.75 keVee, 0.963).
    """
    x = jnp.asarray(x)
    if efficiency.kind == "sigmoid":
        a, b, c, d = efficiency.coefficients
        return jnp.maximum(a / (1.0 + jnp.exp(-b * (x - c))) + d, 0.0)
    if efficiency.kind == "table":
        tx, te = efficiency_table(efficiency)
        return jnp.interp(x, tx, te)
    return efficiency.value * jnp.ones_like(x)


def energy_response(e_nr_kev, mask, det, quenching=None, efficiency=None):
    """(T, Be, K): probability that a recoil at each node is reconstructed and accepted in each energy bin.

    ``e_nr_kev`` (T, K) true recoil energies, ``mask`` (T, K) real (not padded) nodes; ``det`` a
    :class:`ScintillatorDetectorSpec`; ``quenching`` / ``efficiency`` override the detector's (variants).
    """
    quenching = det.quenching if quenching is None else quenching
    efficiency = det.efficiency if efficiency is None else efficiency
    edges = np.asarray(det.energy_edges)
    fine = np.concatenate([np.linspace(a, b, EFFICIENCY_SUBBINS + 1)[:-1] for a, b in zip(edges[:-1], edges[1:])]
                          + [edges[-1:]])                                        # (S+1,)
    e_ee = quenched_kevee(jnp.asarray(e_nr_kev), quenching)
    good = jnp.asarray(mask) & (e_ee > 0)
    e_safe = jnp.where(good, e_ee, 1.0)
    cdf = reconstructed_cdf(jnp.asarray(fine)[:, None, None], e_safe[None], det.resolution,
                            det.light_yield_pe_per_kevee)                         # (S+1, T, K)
    mid = 0.5 * (fine[1:] + fine[:-1])
    weighted = (cdf[1:] - cdf[:-1]) * efficiency_at(jnp.asarray(mid), efficiency)[:, None, None]
    per_bin = weighted.reshape(edges.size - 1, EFFICIENCY_SUBBINS, *weighted.shape[1:]).sum(axis=1)
    return jnp.where(good[:, None, :], jnp.moveaxis(per_bin, 0, 1), 0.0)       # (T, Be, K)


def time_efficiency_at(t_us, time_efficiency):
    """Efficiency at reconstructed arrival times [µs]: 1 before ``onset_us``, then exponential (CsI 2021)."""
    t = jnp.asarray(t_us)
    if time_efficiency is None:
        return jnp.ones_like(t)
    return jnp.where(t < time_efficiency.onset_us, 1.0,
                     jnp.exp(-time_efficiency.slope_per_us * (t - time_efficiency.onset_us)))


def time_efficiency_integral(edges_us, time_efficiency) -> np.ndarray:
    """Integral of the time efficiency over each reconstructed-time bin [µs], (Bt,), in closed form.

    The arrival-time distribution of a beam-unrelated (steady-state) background: uniform in time,
    accepted with the time efficiency. Without a time efficiency: the bin widths.
    """
    edges = np.asarray(edges_us, dtype=float)
    lo, hi = edges[:-1], edges[1:]
    if time_efficiency is None:
        return hi - lo
    t0, k = time_efficiency.onset_us, time_efficiency.slope_per_us
    flat = np.clip(np.minimum(hi, t0) - lo, 0.0, None)
    a, b = np.maximum(lo, t0) - t0, np.maximum(hi, t0) - t0                 # the parts after the onset
    tail = (b - a) if k == 0 else (np.exp(-k * a) - np.exp(-k * b)) / k
    return flat + tail


def _fine_time_edges(edges_us) -> tuple[np.ndarray, np.ndarray]:
    """Sub-interval edges [µs] of every time bin (at most TIME_STEP_NS wide) and the bin of each sub-interval."""
    parts, owner = [], []
    for i, (a, b) in enumerate(zip(edges_us[:-1], edges_us[1:])):
        n = max(1, math.ceil((b - a) * 1e3 / TIME_STEP_NS - 1e-9))
        parts.append(np.linspace(a, b, n + 1)[:-1])
        owner.extend([i] * n)
    return np.concatenate(parts + [np.asarray(edges_us[-1:])]), np.asarray(owner)


def time_fractions(flavours, edges_us, pulse_mean_ns, pulse_sigma_ns, time_efficiency=None):
    """(F, Bt): fraction of each flavour's events arriving (and accepted) in each reconstructed-time bin."""
    unknown = [f for f in flavours if f not in ARRIVAL_COMPONENT]
    if unknown:
        raise SpecError(f"source.kind: the time axis needs a pion decay-at-rest source (prompt nu_mu, delayed "
                        f"nu_e and anti-nu_mu), got flavours {unknown}")
    fine, owner = _fine_time_edges(np.asarray(edges_us, dtype=float))
    mid = 0.5 * (fine[1:] + fine[:-1])
    eff = time_efficiency_at(jnp.asarray(mid), time_efficiency)
    onehot = jnp.asarray(np.eye(len(edges_us) - 1)[owner])                       # (fine, Bt)
    rows = []
    for f in flavours:
        frac = timing.binned_fractions(jnp.asarray(fine) * 1e3, ARRIVAL_COMPONENT[f], pulse_mean_ns, pulse_sigma_ns)
        rows.append((frac * eff) @ onehot)
    return jnp.stack(rows)


def bin_index(centres, edges, field: str, what: str) -> np.ndarray:
    """Analysis bin of each tabulated bin centre; an error naming ``field`` if one lies outside the edges."""
    centres = np.asarray(centres, dtype=float)
    idx = np.searchsorted(np.asarray(edges), centres, side="right") - 1
    outside = (idx < 0) | (idx >= len(edges) - 1)
    if np.any(outside):
        raise SpecError(f"{field}: {what} has bin centres outside the analysis bins "
                        f"({np.asarray(centres)[outside][:3].tolist()} not in [{edges[0]}, {edges[-1]}])")
    return idx
