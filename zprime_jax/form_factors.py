"""Nuclear form factors as pure functions of the momentum transfer.

All functions take |q| in MeV and lengths in fm, are elementwise, jit-able
and differentiable everywhere including q = 0 (a Taylor branch replaces the
0/0 of the closed form near the origin).
"""

from __future__ import annotations

import jax.numpy as jnp

from .constants import HBARC_MEV_FM

HELM_SKIN_FM = 0.9  # Helm surface thickness s [fm] (Lewin & Smith 1996; paper eq. 2.6)

# Below this |x| the closed form of 3 j1(x)/x loses digits to cancellation;
# the 6th-order Taylor series is then exact to < 1e-16 relative.
_SMALL_X = 2e-2


def spherical_bessel_ratio(x):
    """3 j1(x) / x, with value 1 at x = 0 (smooth everywhere).

    j1(x) = sin(x)/x^2 - cos(x)/x; so 3 j1(x)/x = 3 (sin x - x cos x) / x^3.
    """
    x = jnp.asarray(x)
    small = jnp.abs(x) < _SMALL_X
    xs = jnp.where(small, 1.0, x)  # safe argument for the closed form (no 0/0, no NaN gradients)
    closed = 3.0 * (jnp.sin(xs) - xs * jnp.cos(xs)) / xs**3
    x2 = x * x
    taylor = 1.0 - x2 / 10.0 + x2 * x2 / 280.0 - x2 * x2 * x2 / 15120.0
    return jnp.where(small, taylor, closed)


def helm_radius_fm(rms_radius_fm, skin_fm=HELM_SKIN_FM):
    """Helm box radius R0 = sqrt(5/3 <r^2> - 5 s^2) [fm] (paper eq. 2.6)."""
    r2 = 5.0 / 3.0 * jnp.asarray(rms_radius_fm) ** 2 - 5.0 * skin_fm**2
    return jnp.sqrt(r2)


def helm(q_mev, rms_radius_fm, skin_fm=HELM_SKIN_FM):
    """Helm form factor F(q) = 3 j1(q R0)/(q R0) exp(-q^2 s^2 / 2) (eq. 2.6).

    Args:
      q_mev: momentum transfer |q| [MeV].
      rms_radius_fm: rms charge radius <r^2>^(1/2) [fm].
      skin_fm: surface thickness s [fm], default 0.9.
    Returns:
      F(q), dimensionless, F(0) = 1.
    """
    q_fm = jnp.asarray(q_mev) / HBARC_MEV_FM  # [1/fm]
    r0 = helm_radius_fm(rms_radius_fm, skin_fm)
    return spherical_bessel_ratio(q_fm * r0) * jnp.exp(-0.5 * (q_fm * skin_fm) ** 2)


FORM_FACTORS = {"helm": helm}
