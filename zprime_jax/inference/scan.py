"""Delta chi^2 rasters: warm-started rows along the counts polynomial, sharded over devices.

At a fixed value of one parameter (the mediator mass of a light model, cos
beta of a heavy one) the counts of every measurement are a quadratic
polynomial in x (g^2, or gamma = (M_Z/M_Z')^2): :func:`kernels.rates.counts_polynomial`.
A *row* is the analysis along increasing x at one fixed value: three
coefficient vectors per measurement, then each likelihood form's scan
interface (``prepare``, ``scan_start``, ``scan_solve``, ``scan_unfinished``,
``scan_continue``, ``scan_values``):
eq. 4.1 is profiled by the fast profile warm-started from the previous point
(about two passes over the bins per point, a certified lower bound, a
convergence flag), the closed forms are exact. Nothing here asks which form
a measurement has. An analysis whose measurements share nuisances is
profiled jointly: the first point of a row from scratch
(:func:`likelihood.profile_signals`), each next by the joint Newton warm-started
from the previous point's nuisances.

:func:`raster` evaluates Delta chi^2 on fixed x x grids; :func:`delta_chi2_grid`
is the (mass, coupling) raster of a light model. ``method="general"``
evaluates the full rate and the robust profile at every point (the
reference). Points not converged after the warm pass are recomputed from a
cold start (``refine``). Every point also gets ``decided``: certainly on one
side of ``level`` (converged, or lower bound >= level, or value < level).

All of it runs through :func:`sharding.sharded_map`: one compilation per
(analysis structure, model, shapes), reused for new values; identical results
on any number of devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..kernels.rates import counts_polynomial, params_at
from ..likelihood import CL90_1DOF, as_analysis, delta_chi2, profile_signals
from ..likelihood.combine import joint_chi2, joint_newton, profile_analysis
from ..likelihood.poisson_fast import FAST_PASSES
from .sharding import sharded_map

WARM_PASSES = 12         # max passes per point along a row (warm start; early exit); unconverged points are refined
GRID_CHUNK = 1 << 17     # grid points per lax.map batch and device (rows of chunk // n_x fixed values); the
                         # 10^6-point six-detector grid on one core, best of 7 (2026-12-04, one loop per point):
                         # 3.07 s at 2^15, 2.73 at 2^16, 2.60 at 2^17, 2.66 at 2^18, 2.84 at 2^19 (benchmarks/)
REFINE_BATCH = 64
GENERAL_BATCH = 256      # points per batch and device of the general path (full rate per point: memory-bound;
                         # at 100x100 on 2 devices 256 vs 2048: peak RSS 852 vs 1439 MB, and 1.8x faster)
MAX_GRID_POINTS = 10**8  # larger rasters are refused before anything is compiled (memory of the results)


def signal_at(c, x):
    """Counts c0 + c1 x + c2 x^2 from polynomial coefficients (3, B)."""
    return c[0] + x * (c[1] + x * c[2])


class RowContext:
    """Per-fixed-value data of a row: each measurement's coefficients, prepared data and reference."""

    def __init__(self, fixed, analysis, model, coeffs=None):
        """``coeffs``: the counts polynomials where already at hand (else from the kernels at ``fixed``)."""
        self.analysis = analysis
        self.coeffs = coeffs if coeffs is not None else [counts_polynomial(m.kernel, model, fixed) for m in analysis]
        self.prepared = [m.likelihood.prepare(m.data) for m in analysis]
        self.refs = [m.chi2_ref for m in analysis]

    def signals(self, x):
        return [signal_at(c, x) for c in self.coeffs]

    def start(self, x):
        """Scan states of the right structure (cold starts, unsolved)."""
        return [m.likelihood.scan_start(s, p) for m, s, p in zip(self.analysis, self.signals(x), self.prepared)]

    def solve(self, states, x, passes: int, cold):
        """Profile every measurement at x, warm-started from ``states`` (``cold``: traced flag, from scratch),
        at most ``passes`` passes each: each form's ``scan_solve``, then one loop for all of them of
        ``scan_continue`` while any is ``scan_unfinished`` (one loop, not one per measurement: in XLA a
        loop costs its condition and copies at every point, taken or not)."""
        forms, signals = [m.likelihood for m in self.analysis], self.signals(x)
        states = [f.scan_solve(s, p, st, cold, passes) for f, s, p, st in zip(forms, signals, self.prepared, states)]

        def unfinished(sts):
            return jnp.any(jnp.stack([f.scan_unfinished(st, p, passes)
                                      for f, st, p in zip(forms, sts, self.prepared)]))

        def resume(sts):
            return [f.scan_continue(st, s, p, passes) for f, st, s, p in zip(forms, sts, signals, self.prepared)]

        return jax.lax.while_loop(unfinished, resume, states)

    def components(self, states):
        """Per measurement (Delta chi^2, its certified lower bound, converged), each of shape (n_measurements,)."""
        vals = [m.likelihood.scan_values(st, p) for m, st, p in zip(self.analysis, states, self.prepared)]
        value = jnp.stack([v[0] - ref for v, ref in zip(vals, self.refs)])
        lower = jnp.stack([v[1] - ref for v, ref in zip(vals, self.refs)])
        conv = jnp.stack([jnp.asarray(v[2]) for v in vals])
        return value, lower, conv

    def combine(self, states):
        """(Delta chi^2, its certified lower bound, all converged) from the per-measurement states."""
        return total(*self.components(states), axis=0)

    def joint(self, x):
        """(value, lower, converged) by the robust profile (jointly where nuisances are shared); no
        certified bound, so ``lower`` is the value where converged and -inf elsewhere."""
        value, conv = profile_signals(self.signals(x), self.analysis)
        return value, jnp.where(conv, value, -jnp.inf), conv


def total(value, lower, conv, axis: int = -1):
    """The analysis' (Delta chi^2, lower bound, converged) from its measurements' along ``axis``: the sums
    (added in measurement order, the same rounding in JAX and NumPy) and all converged."""
    xp = jnp if isinstance(value, jax.Array) else np
    n = value.shape[axis]

    def fold(a):
        parts = [xp.take(a, i, axis=axis) for i in range(n)]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    return fold(value), fold(lower), xp.all(conv, axis=axis)


def row_scan(ctx: RowContext, xs, passes: int, components: bool = False, with_states: bool = True):
    """Profiles along increasing ``xs``: the first cold-started, each next warm-started (one ``lax.scan``).

    Returns ((value, lower, converged), states), each with leading dimension len(xs) (``with_states``
    False: states None, not kept); ``components``: per measurement (trailing dimension n_measurements;
    1, the joint profile, where nuisances are shared).
    """
    if ctx.analysis.shared:
        out = _joint_row(ctx, xs, passes)
        return (tuple(a[:, None] for a in out) if components else out), None
    values = ctx.components if components else ctx.combine

    def step(carry, x_new):
        states, first = carry
        states = ctx.solve(states, x_new, passes, cold=first)
        return (states, jnp.zeros_like(first)), (values(states), states if with_states else None)

    init = (ctx.start(xs[0]), jnp.ones_like(xs[0], dtype=bool))
    _, out = jax.lax.scan(step, init, xs)
    return out


def _joint_row(ctx: RowContext, xs, passes: int):
    """A row of an analysis with shared nuisances: the first point profiled from scratch, each next by the
    joint Newton from the previous point's nuisances (at most max(passes, 8) iterations; the robust
    profile again where that does not converge)."""
    def values(nu, conv, x):
        value = joint_chi2(nu, ctx.signals(x), ctx.analysis)[0] - sum(ctx.refs)
        return value, jnp.where(conv, value, -jnp.inf), conv

    first = profile_analysis(ctx.signals(xs[0]), ctx.analysis)

    def step(nu, x):
        warm, conv = joint_newton(ctx.signals(x), ctx.analysis, nu, max(passes, 8))
        return warm, values(warm, conv, x)

    _, out = jax.lax.scan(step, first.nuisances, xs[1:])
    head = values(first.nuisances, first.converged, xs[0])
    return tuple(jnp.concatenate([h[None], o]) for h, o in zip(head, out))


def point(ctx: RowContext, x, passes: int, components: bool = False):
    """(value, lower, converged) at one x from a cold start (``components``: as in :func:`row_scan`)."""
    if ctx.analysis.shared:
        out = ctx.joint(x)
        return tuple(a[None] for a in out) if components else out
    states = ctx.solve(ctx.start(x), x, passes, cold=True)
    return ctx.components(states) if components else ctx.combine(states)


# --- per-element programs for sharded_map (module level: their identity keys the caches) ----------
# Each returns (value, lower, converged) with a trailing dimension of components: with ``components``
# one per measurement (the fast profile of independent measurements), else one (the analysis as a whole).
def _fast_row(fixed, xs, analysis, model, passes, components):
    out = row_scan(RowContext(fixed, analysis, model), xs, passes, components=components, with_states=False)[0]
    return out if components else tuple(a[:, None] for a in out)


def _fast_point(fixed, x, analysis, model, passes, components):
    out = point(RowContext(fixed, analysis, model), x, passes, components=components)
    return out if components else tuple(a[None] for a in out)


def _robust_row(fixed, xs, analysis, model):
    return tuple(a[:, None] for a in jax.vmap(RowContext(fixed, analysis, model).joint)(xs))


def _general_point(fixed, x, analysis, model):
    """The full rate and the robust profile at one point (any model; the reference)."""
    value, conv = delta_chi2(params_at(model, fixed, x), analysis, model)
    return value[None], jnp.where(conv, value, -jnp.inf)[None], conv[None]


@dataclass(frozen=True)
class Raster:
    """Delta chi^2 on the outer product of fixed values and x values (``delta_chi2[i_fixed, i_x]``).

    ``converged``: every profile converged; ``delta_chi2_lower``: a rigorous
    lower bound (equal to the value where converged); ``decided``: certainly
    on one side of ``level``; ``devices``: devices used; ``refined``: points
    recomputed from a cold start.
    """

    delta_chi2: np.ndarray
    delta_chi2_lower: np.ndarray
    converged: np.ndarray
    decided: np.ndarray
    compile_s: float
    run_s: float
    level: float
    devices: int
    refined: int
    component_delta_chi2: np.ndarray | None = None
    component_converged: np.ndarray | None = None


def _bucket(n: int, minimum: int) -> int:
    """n rounded up to minimum * 2^k (a few shapes, so a few compilations, for any n)."""
    size = minimum
    while size < n:
        size *= 2
    return size


def _refine(d, lower, conv, ff, xx, analysis, model, passes, devices, progress, computed, components):
    """Recompute from a cold start the points among the ``computed`` ones (flat arrays, a trailing
    dimension of components) where a component did not converge; returns the count and timings. The batch
    width is fixed (not capped by the count), so that a point is refined by the same program whether the
    scan runs whole or in parts."""
    idx = np.flatnonzero(~np.all(conv, axis=-1) & computed)
    if idx.size == 0:
        return 0, 0.0, 0.0
    size = _bucket(idx.size, REFINE_BATCH)
    pad = np.concatenate([idx, np.repeat(idx[:1], size - idx.size)])
    (rd, rl, rc), (c_s, r_s, _) = sharded_map(_fast_point, (ff[pad], xx[pad]), replicated=(analysis,),
                                              statics=(model, passes, components), batch_size=REFINE_BATCH,
                                              devices=devices, max_calls=1, label="refine", progress=progress,
                                              exact_batch=True, unit="point")
    rd, rl, rc = rd[:idx.size], rl[:idx.size], rc[:idx.size]
    keep = conv[idx]                                       # components converged already: kept
    d[idx] = np.where(keep, d[idx], np.where(rc, rd, np.minimum(rd, d[idx])))   # chi^2 values: upper bounds
    lower[idx] = np.where(keep, lower[idx], np.maximum(rl, lower[idx]))         # both rigorous lower bounds
    conv[idx] = keep | rc
    return int(idx.size), c_s, r_s


METHODS = ("polynomial", "general")
PROFILES = ("fast", "robust")


def raster(analysis, model, fixed_values, x_values, *, chunk: int = GRID_CHUNK, method: str = "polynomial",
           profile: str = "fast", passes: int = WARM_PASSES, refine: bool = True, level: float = CL90_1DOF,
           devices=None, progress=None, part: slice | None = None, components: bool = False) -> Raster:
    """Delta chi^2 at every (fixed value, x) of the outer product (x: g^2 or gamma, any order).

    Args:
      method: "polynomial" (default: rows along the counts polynomial) or
        "general" (full rate and robust profile at every point).
      profile: "fast" (warm-started rows, at most ``passes`` passes per point)
        or "robust" (the robust profile at every point of a polynomial row).
      chunk: grid points per ``lax.map`` batch per device (rows of
        ``chunk // len(x_values)`` fixed values; general: at most ``GENERAL_BATCH``
        points). Independent of the device count, so are the results.
      refine: recompute unconverged points from a cold start.
      level: the level that ``decided`` refers to.
      devices: devices to shard over (default all local devices; an int takes the first ones).
      progress: a stream for a progress bar (default None: silent).
      part: compute only these rows (a slice of the fixed values), bit-identical to the same rows of the
        whole raster; the other rows are NaN (not converged, not decided).

      components: also each measurement's own values (the fast profile of measurements that share no
        nuisances; else ignored): ``component_delta_chi2`` and ``component_converged`` of the result,
        shape (n_fixed, n_x, n_measurements), what the raster of that measurement alone gives, from the
        same run (the analysis' values are then their sums, in measurement order); None otherwise. They
        cost memory (n_measurements arrays of the grid's size) and a little time.
    """
    analysis = as_analysis(analysis)
    fixed = np.asarray(fixed_values, dtype=float).ravel()
    xs = np.asarray(x_values, dtype=float).ravel()
    if method not in METHODS:
        raise InputError(f"method: must be one of {METHODS}, got {method!r}")
    if profile not in PROFILES:
        raise InputError(f"profile: must be one of {PROFILES}, got {profile!r}")
    if fixed.size == 0 or xs.size == 0:
        raise InputError("grid: need at least one value on each axis")
    if fixed.size * xs.size > MAX_GRID_POINTS:
        raise InputError(f"grid: {fixed.size} x {xs.size} points exceed the limit of {MAX_GRID_POINTS:.0e} "
                         "(the results alone would not fit in memory)")
    refined, c_ref, r_ref, split = 0, 0.0, 0.0, False
    first, last, step = (slice(None) if part is None else part).indices(fixed.size)
    if step != 1:
        raise InputError(f"part: must be a contiguous slice of rows, got {part!r}")
    rows_computed = np.zeros(fixed.size, dtype=bool)
    rows_computed[first:last] = True
    if method == "general":
        ff, xx = np.meshgrid(fixed, xs, indexing="ij")
        points = None if part is None else slice(first * xs.size, last * xs.size)
        (d, lower, conv), (c_s, r_s, n_dev) = sharded_map(
            _general_point, (ff.ravel(), xx.ravel()), replicated=(analysis,), statics=(model,),
            batch_size=min(chunk, GENERAL_BATCH), devices=devices, label="grid", progress=progress, part=points,
            unit="point")
        shape = ff.shape
    else:
        order = np.argsort(xs, kind="stable")
        rows = max(1, chunk // xs.size)
        fast = profile == "fast"
        split = components and fast and not analysis.shared
        fn, statics = (_fast_row, (model, int(passes), split)) if fast else (_robust_row, (model,))
        (d, lower, conv), (c_s, r_s, n_dev) = sharded_map(
            fn, (fixed,), replicated=(jnp.asarray(xs[order]), analysis), statics=statics, batch_size=rows,
            devices=devices, label="grid", progress=progress, part=part, unit="row")
        inv = np.argsort(order, kind="stable")
        d, lower, conv = (np.array(a[:, inv]) for a in (d, lower, conv))
        shape = d.shape[:2]
        if fast and refine:
            ff, xx = np.meshgrid(fixed, xs, indexing="ij")
            d, lower, conv = (a.reshape(-1, a.shape[-1]) for a in (d, lower, conv))
            computed = np.repeat(rows_computed, xs.size)
            refined, c_ref, r_ref = _refine(d, lower, conv, ff.ravel(), xx.ravel(), analysis, model,
                                            FAST_PASSES, devices, progress, computed, split)
    d, lower, conv = (np.asarray(a).reshape(*shape, -1) for a in (d, lower, conv))
    parts = (d, conv) if split else (None, None)
    d, lower, conv = total(d, lower, conv)
    decided = (conv | (lower >= level) | (d < level)) & rows_computed[:, None]
    return Raster(d, lower, conv, decided, c_s + c_ref, r_s + r_ref, float(level), n_dev, refined, *parts)


@dataclass(frozen=True)
class GridResult:
    """Delta chi^2 on a light model's (mass, coupling) raster (``delta_chi2[i_mass, i_coupling]``).

    Fields as :class:`Raster`, with the axes ``masses_mev`` [MeV] and ``couplings``.
    """

    masses_mev: np.ndarray
    couplings: np.ndarray
    delta_chi2: np.ndarray
    converged: np.ndarray
    compile_s: float
    run_s: float
    delta_chi2_lower: np.ndarray | None = None
    decided: np.ndarray | None = None
    level: float = CL90_1DOF
    devices: int = 1
    refined: int = 0
    component_delta_chi2: np.ndarray | None = None
    component_converged: np.ndarray | None = None

    def component(self, i: int) -> GridResult:
        """The grid of the analysis' measurement ``i`` alone (from ``component_delta_chi2``; timings 0)."""
        if self.component_delta_chi2 is None:
            raise InputError("component: this grid has no per-measurement values (shared nuisances, or not "
                             "the fast profile)")
        return GridResult(self.masses_mev, self.couplings, self.component_delta_chi2[..., i],
                          self.component_converged[..., i], 0.0, 0.0, level=self.level, devices=self.devices)


def delta_chi2_grid(analysis, model, masses_mev, couplings, chunk: int = GRID_CHUNK,
                    method: str = "polynomial", progress=None, *, profile: str = "fast",
                    passes: int = WARM_PASSES, refine: bool = True, level: float = CL90_1DOF,
                    devices=None, part: slice | None = None, components: bool = False) -> GridResult:
    """Delta chi^2 of a light model over the outer product of ``masses_mev`` [MeV] and ``couplings``
    (:func:`raster` with x = g^2; arguments as there; ``part``: mass rows)."""
    masses = np.asarray(masses_mev, dtype=float).ravel()
    gs = np.asarray(couplings, dtype=float).ravel()
    r = raster(analysis, model, masses, gs * gs, chunk=chunk, method=method, profile=profile, passes=passes,
               refine=refine, level=level, devices=devices, progress=progress, part=part, components=components)
    return GridResult(masses, gs, r.delta_chi2, r.converged, r.compile_s, r.run_s, r.delta_chi2_lower,
                      r.decided, r.level, r.devices, r.refined, r.component_delta_chi2, r.component_converged)


def contour_lines(grid: GridResult, level: float = CL90_1DOF):
    """Contour lines Delta chi^2 = level of a grid, in (log10 m, log10 g), as a list of (n, 2) arrays.

    The interpolation is done in the log variables the grid is spaced in.
    Returned coordinates are in MeV and dimensionless coupling.
    """
    import contourpy

    gen = contourpy.contour_generator(np.log10(grid.couplings), np.log10(grid.masses_mev), grid.delta_chi2)
    lines = gen.lines(level)
    return [np.column_stack([10.0 ** ln[:, 1], 10.0 ** ln[:, 0]]) for ln in lines]
