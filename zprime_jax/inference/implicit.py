"""The one implicit-differentiation rule for a limit: t* with f(t*, theta) = 0, differentiable in theta.

A limit is the root t* of f(t, theta) = Delta chi^2(t; theta) - level, where t
is log10 of the limit (coupling or mass) and theta whatever the analysis
depends on (the gas pressure, the exposure, a background scale, sigma_stat,
a measurement pytree, the mediator mass). Its value comes from the bracketed
search (:mod:`.limits`), which is not differentiated; its derivative from the
implicit function theorem,

    dt*/dtheta = -(df/dtheta) / (df/dt)   at (t*, theta),

exact wherever f crosses zero with a non-zero slope (a first crossing from
below has df/dt > 0). Every gradient of a limit in the package uses this
rule: :mod:`zprime_jax.design.pressure`, :mod:`zprime_jax.design.gradients`
and :func:`zprime_jax.inference.heavy.mass_limit_gradient`.
"""

from __future__ import annotations

from functools import partial

import jax


@partial(jax.custom_jvp, nondiff_argnums=(0,))
def implicit_root(f, t_star, theta):
    """``t_star`` (found outside, a root of ``f(t, theta)``), with the implicit derivative in ``theta``.

    Args:
      f: f(t, theta) -> scalar; hashable (a module-level function or a frozen
        dataclass instance), it is a static argument.
      t_star: the root's value (its own tangent is ignored).
      theta: a pytree of arrays.
    """
    return jax.lax.stop_gradient(t_star)


@implicit_root.defjvp
def _implicit_root_jvp(f, primals, tangents):
    t_star, theta = primals
    _, d_theta = tangents
    t = jax.lax.stop_gradient(t_star)
    slope = jax.grad(f, argnums=0)(t, theta)
    _, f_dot = jax.jvp(lambda th: f(t, th), (theta,), (d_theta,))
    return t, -f_dot / slope
