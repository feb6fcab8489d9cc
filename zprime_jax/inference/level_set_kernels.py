"""The jitted kernels of the level-set tracer, in unit coordinates of the domain.

:func:`_ray_values` (f on every seed ray, one vmapped call),
:func:`_bisect` (all seed brackets bisected in one vmapped call) and
:func:`_step` (one predictor-corrector step, forward-mode gradient). Each is
compiled once per function f (a static argument); the data of f are traced
``args``. Used by :mod:`zprime_jax.inference.level_set`, which re-exports
them (the algorithm is described in its module docstring).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp


def _in_user(f, lo, span, u, args):
    """f at unit coordinates u (shape (2,))."""
    x = lo + span * u
    return f(x[0], x[1], *args)


@partial(jax.jit, static_argnums=0)
def _ray_values(f, lo, span, points, args):
    """f at every point of (R, S, 2) unit coordinates: one vmapped call for all rays."""
    flat = points.reshape(-1, 2)
    values = jax.vmap(lambda u: _in_user(f, lo, span, u, args))(flat)
    return values.reshape(points.shape[:-1])


@partial(jax.jit, static_argnums=0)
def _bisect(f, lo, span, a, b, sign_a, level, args, iterations):
    """Bisection of f - level on the segments a -> b (unit coordinates, (N, 2)), all brackets vmapped.

    ``sign_a``: the sign of f - level at a. Returns the midpoints of the final brackets.
    """
    def one(a, b, s):
        def body(_, ab):
            lo_t, hi_t = ab
            mid = 0.5 * (lo_t + hi_t)
            v = _in_user(f, lo, span, a + mid * (b - a), args) - level
            same = jnp.sign(v) == s
            return jnp.where(same, mid, lo_t), jnp.where(same, hi_t, mid)

        t0, t1 = jax.lax.fori_loop(0, iterations, body, (jnp.zeros(()), jnp.ones(())))
        return a + 0.5 * (t0 + t1) * (b - a)

    return jax.vmap(one)(a, b, sign_a)


@partial(jax.jit, static_argnums=0)
def _step(f, lo, span, point, direction, h, mask, level, args, xtol, max_newton):
    """One predictor-corrector step (unit coordinates); the jitted step of the tracer.

    Predictor: u0 = point + h * direction. Corrector: Newton on f - level
    along ``mask * grad f`` (mask (1, 1): along the gradient; (0, 1) or
    (1, 0): along an edge), until |f - level| / |mask * grad f| < xtol or
    ``max_newton`` iterations.
    Returns (u, f(u) - level, grad f(u) in unit coordinates, value-and-gradient
    evaluations used, converged).
    """
    def with_value(u):
        v = _in_user(f, lo, span, u, args) - level
        return v, v

    def vg(u):
        # forward mode: two tangents for two coordinates (cheaper than reverse mode through the pull fits)
        g, v = jax.jacfwd(with_value, has_aux=True)(u)
        return v, g

    def distance(val, g):
        gd = jnp.linalg.norm(mask * g)
        return jnp.abs(val) / jnp.where(gd > 0, gd, jnp.inf)

    def good(val, g):
        return jnp.isfinite(val) & jnp.all(jnp.isfinite(g))

    def cond(state):
        u, val, g, n, done, ok = state
        return ~done & ok & (n <= max_newton)

    def body(state):
        u, val, g, n, _, _ = state
        d = mask * g
        u = jnp.where(n > 0, u - val / jnp.dot(g, d) * d, u)   # the first pass evaluates the predictor
        val, g = vg(u)
        ok = good(val, g)
        return u, val, g, n + 1, ok & (distance(val, g) < xtol), ok

    u0 = point + h * direction
    zero = jnp.zeros((), u0.dtype)
    state = (u0, zero, jnp.ones_like(u0), jnp.zeros((), jnp.int32), jnp.zeros((), bool), jnp.ones((), bool))
    u, val, g, n, done, ok = jax.lax.while_loop(cond, body, state)   # f traced once
    return u, val, g, n, done & ok
