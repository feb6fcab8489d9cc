"""Limits: the one first-crossing search, for couplings of light models and masses of heavy ones.

Along a line of fixed mass (light) or fixed cos beta (heavy) the analysis is
scanned from the Standard Model outwards in the polynomial variable x
(g^2, or gamma = (M_Z/M_Z')^2): the scan variable is t = log10 g increasing
(x = 10^(2t)) or t = log10 M_Z' decreasing (x = (M_Z/10^t)^2). The limit is
the first crossing of Delta chi^2 = level coming from the SM: a coarse
warm-started row (:func:`scan.row_scan`) brackets it, bisection in t refines
it (each midpoint warm-started from the previous one), vmapped over the
fixed values and sharded over devices (:func:`sharding.sharded_map`).

Reference: ``"measurement"`` (Delta chi^2 = sum chi2 - chi2_ref: the SM for
Asimov data, the best fit for observed data) or ``"scan-minimum"`` (the
heavy-Z' paper's Delta chi^2(M) = chi2(M) - min over the scanned masses and
M -> inf, used for every heavy mass limit).

Outcome per fixed value, as data: the value at the crossing (NaN where
there is none), ``excluded_at_start`` (already above the level at the first
scanned point, the SM side), ``decided`` (every comparison with the level on
the way was certain) and the coarse Delta chi^2 profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..likelihood import CL90_1DOF, as_analysis
from ..physics.constants import M_Z_MEV, MEV_PER_GEV
from .planes import HEAVY_MASS_RANGE_GEV
from .scan import WARM_PASSES, RowContext, point, row_scan
from .sharding import sharded_map

M_Z_GEV = M_Z_MEV / MEV_PER_GEV
LIGHT_AXIS = (2.0, 0.0)                              # x = g^2 = 10^(2 t), t = log10 g
HEAVY_AXIS = (-2.0, 2.0 * math.log10(M_Z_GEV))       # x = gamma = 10^(-2 t + 2 log10 M_Z), t = log10 M [GeV]


def _decided(value, lower, conv, level):
    return conv | (lower >= level) | (value < level)


def crossing_one(fixed, analysis, level, t_start, t_end, model, n_coarse, bisections, slope, offset,
                 scan_minimum, passes=WARM_PASSES):
    """First crossing of ``level`` along t from ``t_start`` to ``t_end`` at one fixed value.

    Returns (t at the crossing or NaN, excluded_at_start, decided, coarse Delta chi^2 (n_coarse,), chi2 offset).
    """
    ctx = RowContext(fixed, analysis, model)
    t = jnp.linspace(t_start, t_end, n_coarse)

    def x_of(tt):
        return 10.0 ** (slope * tt + offset)

    (values, lowers, convs), states = row_scan(ctx, x_of(t), passes)
    shift = jnp.zeros_like(values[0])
    if scan_minimum:
        sm = point(ctx, jnp.zeros_like(t[0]), passes)[0]
        shift = jnp.minimum(jnp.min(values), sm)
        values, lowers = values - shift, lowers - shift
    coarse_ok = jnp.all(_decided(values, lowers, convs, level))
    above = values >= level
    found = jnp.any(above)
    idx = jnp.argmax(above)                          # first coarse point above the level
    ia = jnp.maximum(idx - 1, 0)
    a, b = t[ia], t[idx]
    if states is None:                               # joint profiles (shared nuisances): no warm start
        def evaluate(carry, x):
            return carry, point(ctx, x, passes)
        start = jnp.zeros(())
    else:
        start = [jax.tree_util.tree_map(lambda leaf: leaf[ia], st) for st in states]   # solved at the lower end

        def evaluate(carry, x):
            new = ctx.solve(carry, x, passes, cold=False)
            return new, ctx.combine(new)

    def bisect(_, carry):
        a, b, states, ok = carry
        mid = 0.5 * (a + b)
        states, (value, lower, conv) = evaluate(states, x_of(mid))
        value, lower = value - shift, lower - shift
        up = value >= level
        return jnp.where(up, a, mid), jnp.where(up, mid, b), states, ok & _decided(value, lower, conv, level)

    a, b, _, bis_ok = jax.lax.fori_loop(0, bisections, bisect, (a, b, start, coarse_ok | True))
    at_start = found & (idx == 0)
    crossing = jnp.where(found & ~at_start, 0.5 * (a + b), jnp.nan)
    return crossing, at_start, coarse_ok & jnp.where(found & ~at_start, bis_ok, True), values, shift


# What each Crossings.status means: the reason given beside a limit that is missing or uncertain
STATUS_MEANING = {
    "limit": "the level is crossed inside the scanned range",
    "excluded-at-start": "already above the level at the SM end of the scan",
    "not-reached": "the Delta chi^2 level is not crossed inside the scanned range",
    "undecided": "the nuisance profiling did not converge where the crossing was searched",
}


@dataclass(frozen=True)
class Crossings:
    """First crossings at every fixed value (arrays over the fixed values).

    ``t``: log10 of the limit (coupling, or mass [GeV]); NaN where the level
    is not reached inside the scan. ``excluded_at_start``: above the level
    already at the SM end of the scan. ``decided``: certain comparisons all
    along. ``coarse_t`` (n_coarse,) and ``coarse_delta_chi2`` (n_fixed,
    n_coarse): the profile scanned. ``chi2_offset``: what was subtracted per
    fixed value for ``"scan-minimum"`` (0 otherwise).
    """

    fixed: np.ndarray
    t: np.ndarray
    excluded_at_start: np.ndarray
    decided: np.ndarray
    coarse_t: np.ndarray
    coarse_delta_chi2: np.ndarray
    chi2_offset: np.ndarray
    compile_s: float
    run_s: float

    @property
    def status(self) -> list[str]:
        """Per fixed value: "limit", "excluded-at-start", "not-reached" or "undecided"."""
        out = []
        for t, start, ok in zip(self.t, self.excluded_at_start, self.decided):
            if not ok:
                out.append("undecided")
            elif start:
                out.append("excluded-at-start")
            elif np.isfinite(t):
                out.append("limit")
            else:
                out.append("not-reached")
        return out


def first_crossings(analysis, model, fixed_values, t_range, axis, *, level: float = CL90_1DOF,
                    n_coarse: int = 161, bisections: int = 50, reference: str = "measurement", chunk: int = 64,
                    devices=None, progress=None, part: slice | None = None) -> Crossings:
    """First crossing of ``level`` from the SM outwards at each fixed value (module docstring).

    Args:
      t_range: (t_start, t_end) in log10 of the scanned parameter, SM end first.
      axis: (slope, offset) with x = 10^(slope t + offset): :data:`LIGHT_AXIS` or :data:`HEAVY_AXIS`.
      reference: "measurement" or "scan-minimum".
      part: only these fixed values (a slice), bit-identical to the whole search; NaN and undecided elsewhere.
    """
    analysis = as_analysis(analysis)
    if reference not in ("measurement", "scan-minimum"):
        raise InputError(f"reference: must be 'measurement' or 'scan-minimum', got {reference!r}")
    if not (isinstance(level, int | float) and math.isfinite(level) and level > 0):
        raise InputError(f"level: must be a finite Delta chi^2 > 0, got {level!r}")
    fixed = np.asarray(fixed_values, dtype=float).ravel()
    if fixed.size == 0:
        raise InputError("fixed values: need at least one")
    t0, t1 = (float(v) for v in t_range)
    (t, start, ok, coarse, shift), (c_s, r_s, _) = sharded_map(
        crossing_one, (fixed,),
        replicated=(analysis, jnp.asarray(float(level)), jnp.asarray(t0), jnp.asarray(t1)),
        statics=(model, int(n_coarse), int(bisections), float(axis[0]), float(axis[1]), reference == "scan-minimum"),
        batch_size=chunk, devices=devices, label="limits", progress=progress, part=part, unit="line")
    return Crossings(fixed, t, start, ok, np.linspace(t0, t1, int(n_coarse)), coarse, shift, c_s, r_s)


def _log_range(name, rng):
    lo, hi = (float(v) for v in rng)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise InputError(f"{name}: need finite 0 < LO < HI, got {rng!r}")
    return math.log10(lo), math.log10(hi)


def coupling_limits(analysis, model, masses_mev, level: float = CL90_1DOF, coupling_range=(1e-8, 1.0),
                    n_coarse: int = 161, bisections: int = 50, chunk: int = 64, progress=None, devices=None,
                    part: slice | None = None):
    """Smallest coupling with Delta chi^2 >= level at each mass [MeV] of a light model (first crossing in g).

    A coarse log-spaced scan of ``n_coarse`` couplings over ``coupling_range``
    brackets the first crossing; ``bisections`` halvings in log10 g refine it
    (50 halvings of a 0.05-dex bracket: far below double precision).

    Returns a dict of arrays: ``mass_mev``, ``coupling`` (NaN where the level
    is not reached inside ``coupling_range``), ``below_range`` (already
    excluded at the lowest coupling scanned), ``converged`` (every comparison
    with the level was certain), ``status`` (list of :attr:`Crossings.status`).
    ``part``: only these masses (:func:`first_crossings`).
    """
    lo, hi = _log_range("coupling_range", coupling_range)
    masses = np.asarray(masses_mev, dtype=float)
    res = first_crossings(analysis, model, masses, (lo, hi), LIGHT_AXIS, level=level, n_coarse=n_coarse,
                          bisections=bisections, chunk=chunk, devices=devices, progress=progress, part=part)
    return {"mass_mev": masses, "coupling": 10.0 ** res.t, "below_range": res.excluded_at_start,
            "converged": res.decided, "status": res.status}


def mass_limits(analysis, model, cos_betas, level: float = CL90_1DOF, mass_range_gev=HEAVY_MASS_RANGE_GEV,
                n_coarse: int = 241, bisections: int = 50, chunk: int = 64, progress=None,
                devices=None) -> Crossings:
    """Lower limits on M_Z' [GeV] of a heavy model at each cos beta (first crossing coming down in mass).

    Delta chi^2(M) = chi2(M) - min(chi2 over the scanned masses, chi2 at M -> inf)
    (heavy-Z' paper sec. 4); the limit is the largest mass with Delta chi^2 >=
    level. Returns :class:`Crossings` (``10**t`` is the limit in GeV).
    """
    lo, hi = _log_range("mass_range_gev", mass_range_gev)
    return first_crossings(analysis, model, cos_betas, (hi, lo), HEAVY_AXIS, level=level, n_coarse=n_coarse,
                           bisections=bisections, reference="scan-minimum", chunk=chunk, devices=devices,
                           progress=progress)
