"""Gradient-based contour tracing: the level set f(x, y) = c by predictor-corrector continuation.

Instead of evaluating Delta chi^2 on a dense raster and interpolating, the
contour is followed point by point; every point lies on the level set to
``xtol`` (Newton), so the accuracy does not depend on a grid spacing.

Algorithm (:func:`trace_level_set`)
-----------------------------------
All work is done in unit coordinates u = ((x - x0)/(x1 - x0), (y - y0)/(y1 - y0))
of the rectangle [x0, x1] x [y0, y1]; step sizes and tolerances are fractions
of the domain.

1. **Seeds.** ``columns`` rays along y (at x = cell centres) and ``rows`` rays
   along x (at y = cell centres), each sampled at ``samples`` equally spaced
   points (values only, one vmapped compiled call for all rays). Every sign
   change of f - c between neighbouring samples is refined by bisection
   along its ray (one vmapped call for all brackets) to 1e-9 of the domain.
   Columns catch strips and curves crossing the domain left to right, rows
   the ones running bottom to top; together they seed every closed island
   wider than the ray spacing. Two crossings closer than the sample spacing
   (a strip thinner than ``1/(samples - 1)`` of the domain, an island
   smaller than the ray spacing) can be missed: raise ``samples`` or the
   ray counts.
2. **Deduplication.** Seeds are visited in order; one lying on an already
   traced branch (distance to its polyline below the chord's sagitta bound
   0.25 L (theta + 0.02) + 1e-6, L the chord length, theta the turn of the
   tangent across it, and the same orientation of grad f) is skipped.
3. **Tracing a branch** from a new seed (first polished onto the level set
   by the corrector): tangent t = grad f rotated by +90 degrees, normalised.
   Each step is one call of a jitted function compiled once per f
   (:func:`_step`): Euler predictor u + h t, then Newton corrector
   u <- u - (f - c) grad f / |grad f|^2 (the minimum-norm Newton step for one
   equation in two unknowns, i.e. along the gradient) until the estimated
   distance |f - c| / |grad f| < ``xtol``, at most ``max_newton`` iterations.
   A step is rejected (h halved) if the corrector fails, moves the point by
   more than h/2, goes backwards, or the tangent turns by more than
   ``max_angle``; an accepted step sets the next
   h = h clip(target_angle / turn, 1/2, 2) (not grown after a corrector
   that needed more than two iterations), within [min_step, max_step].
   A step leaving the domain is replaced by one that ends on the boundary:
   the predictor is cut at the boundary and the corrector moves only along
   that edge; the branch ends there ("edge"). The branch closes when, after
   moving away by two first steps, it comes back within a step of its start
   with the same orientation ("closed"; the start point is repeated at the
   end). An open branch is traced in both directions from its seed. h below
   ``min_step`` ends a branch as "stalled" (a saddle exactly at the level,
   a cusp, or a curve tangent to an edge), ``max_steps`` as "max_steps".

What is counted
---------------
``n_value_evals``: evaluations of f alone (ray samples and bisection).
``n_grad_evals``: evaluations of f together with its gradient in the
corrector (the predictor reuses the gradient of the previous accepted
point). The gradient is the autodiff one, computed in forward mode
(``jax.jacfwd``, two tangents for the two coordinates): for a function of two
variables that is cheaper than ``jax.grad``'s reverse pass through the pull
fits (about 7x per call and faster to compile here), with the same result.
``n_evaluations`` = their sum: each counts as one "chi^2 evaluation" (a
value-and-gradient costs a small multiple of a value in time; the benchmark
reports wall times as well).

The result dataclasses are in :mod:`zprime_jax.inference.level_set_results`, the
jitted kernels (:func:`_step` and the seed evaluations) in
:mod:`zprime_jax.inference.level_set_kernels`; both are re-exported here.
The physics planes that use it are in :mod:`zprime_jax.inference.contours`.
"""

from __future__ import annotations

import math
import time

import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..inference.level_set_kernels import _bisect, _in_user, _ray_values, _step  # noqa: F401  (_in_user re-exported)
from ..inference.level_set_results import EDGE_REASONS, Branch, TraceResult  # noqa: F401  (EDGE_REASONS re-exported)

_SEED_TOL = 1e-9          # bisection of the seeds: bracket width, unit coordinates
_MIN_BRACKETS = 8         # bracket arrays are padded to a power of two >= this (few compilations)


# --------------------------------------------------------------------------- helpers


def _check_range(name, rng):
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise InputError(f"{name}: need two numbers (lo, hi), got {rng!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError(f"{name}: need finite lo < hi (a non-empty domain), got {rng!r}")
    return lo, hi


def _check_positive_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: must be a finite number > 0, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{name}: must be finite and > 0, got {value!r}")
    return v


def _unit_tangent(g, sign):
    n = np.hypot(g[0], g[1])
    return sign * np.array([-g[1], g[0]]) / n


def _angle(t1, t2):
    return float(np.arccos(np.clip(np.dot(t1, t2), -1.0, 1.0)))


def _edge_cut(p, q):
    """First crossing of the segment p -> q with the unit-square boundary.

    Returns (s, mask, axis, edge): fraction s in [0, 1] of the segment, the
    corrector mask that keeps the crossed coordinate fixed, and which
    coordinate (axis) sits on which edge value (0 or 1). None if q is inside.
    """
    best = None
    for axis in (0, 1):
        d = q[axis] - p[axis]
        for edge in (0.0, 1.0):
            if (edge == 0.0 and q[axis] < 0.0 and d < 0) or (edge == 1.0 and q[axis] > 1.0 and d > 0):
                s = (edge - p[axis]) / d
                if best is None or s < best[0]:
                    best = (max(0.0, min(1.0, s)), axis, edge)
    if best is None:
        return None
    s, axis, edge = best
    mask = np.array([0.0, 1.0]) if axis == 0 else np.array([1.0, 0.0])
    return s, mask, axis, edge


def _inside(u, slack=1e-12):
    return bool(np.all(u >= -slack) and np.all(u <= 1.0 + slack))


def _on_branch(seed, grad_sign, ray_dir, branch_u, branch_g):
    """Whether a seed lies on a traced branch (unit coordinates): see the module docstring, step 2."""
    if len(branch_u) < 2:
        return bool(np.linalg.norm(branch_u[0] - seed) < 1e-6)
    a, b = branch_u[:-1], branch_u[1:]
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.clip(np.einsum("ij,ij->i", seed - a, ab) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    dist = np.linalg.norm(a + t[:, None] * ab - seed, axis=1)
    ga, gb = branch_g[:-1], branch_g[1:]
    na = ga / np.linalg.norm(ga, axis=1, keepdims=True)
    nb = gb / np.linalg.norm(gb, axis=1, keepdims=True)
    turn = np.arccos(np.clip(np.einsum("ij,ij->i", na, nb), -1.0, 1.0))
    tol = 0.25 * np.sqrt(length2) * (turn + 0.02) + 1e-6
    hits = np.nonzero(dist <= tol)[0]
    for i in hits:
        normal = na[i] + nb[i]
        along = float(np.dot(normal, ray_dir)) / max(float(np.linalg.norm(normal)), 1e-300)
        if grad_sign == 0 or abs(along) < 0.1 or np.sign(along) == grad_sign:
            return True
    return False


# --------------------------------------------------------------------------- the tracer


class _Tracer:
    """State of one trace: the compiled functions' arguments and the counters."""

    def __init__(self, f, lo, span, level, args, opts):
        self.f, self.lo, self.span, self.level, self.args = f, lo, span, level, args
        self.o = opts
        self.n_grad = 0
        self.n_steps = 0
        self.n_rejected = 0
        self.last_evals = 0

    def step(self, point, direction, h, mask):
        u, val, g, n, ok = _step(self.f, self.lo, self.span, jnp.asarray(point), jnp.asarray(direction),
                                 jnp.asarray(float(h)), jnp.asarray(mask), self.level, self.args,
                                 jnp.asarray(self.o["xtol"]), jnp.asarray(self.o["max_newton"], jnp.int32))
        self.n_grad += int(n)
        self.last_evals = int(n)
        return np.array(u), np.array(g), bool(ok)

    def polish(self, seed):
        """The seed moved onto the level set (corrector from it, no predictor)."""
        u, g, ok = self.step(seed, np.zeros(2), 0.0, np.ones(2))
        return (u, g) if ok and _inside(u, 1e-9) else (None, None)

    def follow(self, u0, g0, sign):
        """Trace from (u0, grad g0) in tangent direction ``sign``; returns (points, grads, reason)."""
        o = self.o
        pts, grads = [u0], [g0]
        t_start = _unit_tangent(g0, sign)
        h = o["max_step"] / 4
        h_first = None
        left = False
        for _ in range(o["max_steps"]):
            p, t = pts[-1], _unit_tangent(grads[-1], sign)
            pred = p + h * t
            cut = _edge_cut(p, pred)
            if cut is None:
                q, g, ok = self.step(p, t, h, np.ones(2))
                if ok and not _inside(q):
                    cut = _edge_cut(p, q)   # the corrector left the domain: end on the boundary
                    if cut is not None:
                        d = q - p
                        step_len = float(np.linalg.norm(d))
                        pred = p + cut[0] * d
                        q, g, ok = self.step(p, d / step_len, cut[0] * step_len, cut[1])
            else:
                pred = p + cut[0] * h * t
                q, g, ok = self.step(p, t, cut[0] * h, cut[1])
            if ok and cut is not None:
                q[cut[2]] = cut[3]
                ok = _inside(q, 1e-9)
            if ok:
                tq = _unit_tangent(g, sign)
                turn = _angle(t, tq)
                step_len = float(np.linalg.norm(q - p))
                ok = (turn <= o["max_angle"] and np.dot(q - p, t) > 0
                      and np.linalg.norm(q - pred) <= 0.5 * h + 1e-12)
            if not ok:
                self.n_rejected += 1
                h *= 0.5
                if h < o["min_step"]:
                    return pts, grads, "stalled"
                continue
            self.n_steps += 1
            pts.append(q)
            grads.append(g)
            if cut is not None:
                return pts, grads, "edge"
            if h_first is None:
                h_first = step_len
            dist_start = float(np.linalg.norm(q - u0))
            if not left and dist_start > 2.0 * h_first:
                left = True
            if left and dist_start <= step_len and np.dot(tq, t_start) > 0.5:
                pts.append(u0.copy())
                grads.append(g0)
                return pts, grads, "closed"
            factor = min(2.0, max(0.5, o["target_angle"] / max(turn, 1e-12)))
            if self.last_evals > 3:                  # the corrector needed more than two Newton iterations
                factor = min(factor, 1.0)
            h = min(o["max_step"], max(o["min_step"], h * factor))
        return pts, grads, "max_steps"


def trace_level_set(f, level, x_range, y_range, args=(), *, columns: int = 16, rows: int = 16,
                    samples: int = 129, max_step: float = 0.02, min_step: float = 1e-7,
                    max_angle: float = 0.15, target_angle: float = 0.05, xtol: float = 1e-10,
                    max_newton: int = 8, max_steps: int = 20000) -> TraceResult:
    """Trace the level set f(x, y) = level on [x0, x1] x [y0, y1] (algorithm: module docstring).

    Args:
      f: ``f(x, y, *args) -> scalar``, jit-compatible and differentiable
        (forward-mode autodiff). It is a static argument of the compiled
        step, so pass the same function object (or an equal, hashable
        callable) to reuse the compilation; data go in ``args`` (a tuple of
        pytrees, traced: new values do not recompile).
      level: the level c (finite).
      x_range: (lo, hi) of the domain in x, finite with lo < hi.
      y_range: (lo, hi) of the domain in y, finite with lo < hi.
      columns: number of seed rays along y (at fixed x).
      rows: number of seed rays along x (at fixed y).
      samples: points per ray (>= 3) for bracketing sign changes.
      max_step: largest step, as a fraction of the domain.
      min_step: smallest step, as a fraction of the domain.
      max_angle: largest turn of the tangent per accepted step [rad].
      target_angle: turn per step the step size is adapted to [rad].
      xtol: corrector tolerance on the distance to the level set, fraction
        of the domain (estimated as |f - c| / |grad f| in unit coordinates).
      max_newton: most corrector iterations per step.
      max_steps: most accepted plus rejected steps per direction of a branch.
    Returns: a :class:`TraceResult` (points in the coordinates of f).
    Raises: ValueError naming the offending argument.
    """
    start = time.perf_counter()
    x0, x1 = _check_range("x_range", x_range)
    y0, y1 = _check_range("y_range", y_range)
    try:
        c = float(level)
    except (TypeError, ValueError):
        raise InputError(f"level: must be a finite number, got {level!r}") from None
    if not math.isfinite(c):
        raise InputError(f"level: must be finite, got {level!r}")
    if not callable(f):
        raise InputError(f"f: must be callable, got {type(f).__name__}")
    columns = _check_positive_int("columns", columns, 0)
    rows = _check_positive_int("rows", rows, 0)
    if columns + rows == 0:
        raise InputError("columns, rows: need at least one seed ray")
    samples = _check_positive_int("samples", samples, 3)
    max_newton = _check_positive_int("max_newton", max_newton, 1)
    max_steps = _check_positive_int("max_steps", max_steps, 1)
    opts = {"max_step": _check_positive("max_step", max_step), "min_step": _check_positive("min_step", min_step),
            "max_angle": _check_positive("max_angle", max_angle),
            "target_angle": _check_positive("target_angle", target_angle),
            "xtol": _check_positive("xtol", xtol), "max_newton": max_newton, "max_steps": max_steps}
    if opts["min_step"] >= opts["max_step"]:
        raise InputError(f"min_step, max_step: need min_step < max_step, got {min_step}, {max_step}")
    if opts["target_angle"] > opts["max_angle"]:
        raise InputError(f"target_angle: must be <= max_angle, got {target_angle} > {max_angle}")
    if opts["max_angle"] >= math.pi / 2:
        raise InputError(f"max_angle: must be < pi/2, got {max_angle}")
    args = tuple(args)
    lo = jnp.asarray([x0, y0])
    span = jnp.asarray([x1 - x0, y1 - y0])
    level_j = jnp.asarray(c)

    # 1. seeds: all rays sampled in one call, all brackets bisected in one call
    s = np.linspace(0.0, 1.0, samples)
    rays, ray_dirs = [], []
    for i in range(columns):
        rays.append(np.column_stack([np.full(samples, (i + 0.5) / columns), s]))
        ray_dirs.append((0.0, 1.0))
    for i in range(rows):
        rays.append(np.column_stack([s, np.full(samples, (i + 0.5) / rows)]))
        ray_dirs.append((1.0, 0.0))
    rays = np.stack(rays)
    values = np.asarray(_ray_values(f, lo, span, jnp.asarray(rays), args)) - c
    n_value = values.size
    sign = np.sign(values)
    finite = np.isfinite(values[:, :-1]) & np.isfinite(values[:, 1:])
    ray_i, k = np.nonzero(finite & (sign[:, :-1] * sign[:, 1:] < 0))
    exact_i, exact_k = np.nonzero(np.isfinite(values) & (values == 0))
    seeds = [(rays[r, j], 0.0, r) for r, j in zip(exact_i, exact_k)]
    if ray_i.size:
        iterations = max(1, math.ceil(math.log2(1.0 / (samples - 1) / _SEED_TOL)))
        n = ray_i.size
        size = max(_MIN_BRACKETS, 1 << (n - 1).bit_length())
        a = np.zeros((size, 2))
        b = np.zeros((size, 2))
        sa = np.ones(size)
        a[:n], b[:n], sa[:n] = rays[ray_i, k], rays[ray_i, k + 1], sign[ray_i, k]
        roots = np.asarray(_bisect(f, lo, span, jnp.asarray(a), jnp.asarray(b), jnp.asarray(sa), level_j, args,
                                   iterations))[:n]
        n_value += n * iterations
        seeds += [(roots[j], -sign[ray_i[j], k[j]], ray_i[j]) for j in range(n)]

    # 2.-3. trace from each seed not on an already traced branch
    tracer = _Tracer(f, lo, span, level_j, args, opts)
    traced = []            # (points_u, grads) per branch, for deduplication
    branches = []
    for seed, grad_sign, r in seeds:
        ray_dir = np.asarray(ray_dirs[r])
        if any(_on_branch(seed, grad_sign, ray_dir, bu, bg) for bu, bg in traced):
            continue
        u0, g0 = tracer.polish(seed)
        if u0 is None or any(_on_branch(u0, grad_sign, ray_dir, bu, bg) for bu, bg in traced):
            continue
        fwd, gf, end_f = tracer.follow(u0, g0, +1.0)
        if end_f == "closed":
            pts, grads, ends = fwd, gf, ("closed", "closed")
        else:
            bwd, gb, end_b = tracer.follow(u0, g0, -1.0)
            pts, grads, ends = bwd[::-1] + fwd[1:], gb[::-1] + gf[1:], (end_b, end_f)
        bu, bg = np.asarray(pts), np.asarray(grads)
        traced.append((bu, bg))
        branches.append(Branch(points=np.asarray(lo) + np.asarray(span) * bu, closed=ends[0] == "closed",
                               ends=ends))
    return TraceResult(branches=tuple(branches), level=c, x_range=(x0, x1), y_range=(y0, y1),
                       n_value_evals=int(n_value), n_grad_evals=tracer.n_grad, n_seeds=len(seeds),
                       n_steps=tracer.n_steps, n_rejected=tracer.n_rejected, wall_s=time.perf_counter() - start)
