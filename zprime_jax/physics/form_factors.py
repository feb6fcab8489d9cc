"""Nuclear form factors as pure functions of the momentum transfer.

All functions take |q| in MeV and lengths in fm, are elementwise, jit-able
and differentiable everywhere including q = 0 (a Taylor branch replaces the
0/0 of the closed form near the origin).
"""

from __future__ import annotations

import jax.numpy as jnp

from ..errors import InputError
from ..physics.constants import HBARC_MEV_FM

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


# --- symmetrized Fermi (heavy-Z' paper eqs. 4-5) ----------------------------

SF_RADIUS_SLOPE_FM = 1.23      # c = 1.23 A^(1/3) - 0.60 fm (heavy-Z' paper eq. 5)
SF_RADIUS_OFFSET_FM = 0.60
SF_DIFFUSENESS_FM = 0.52       # a = 0.52 fm (eq. 5)

# Below this |y| = pi q a the closed form of 3 (y coth y - 1) / y^2 loses
# ~eps/y^2 to cancellation; its series (kept to y^10) is then exact to < 1e-15.
_SMALL_Y = 0.1
# sin(x)/x and y/sinh(y) have no cancellation; the series branch only removes 0/0.
_SMALL_RATIO = 1e-3


def _sinc(x):
    """sin(x)/x with value 1 at 0 (safe gradients)."""
    small = jnp.abs(x) < _SMALL_RATIO
    xs = jnp.where(small, 1.0, x)
    x2 = x * x
    return jnp.where(small, 1.0 - x2 / 6.0 + x2 * x2 / 120.0, jnp.sin(xs) / xs)


def _y_over_sinh(y):
    """y / sinh(y) with value 1 at 0; -> 0 (no overflow NaN) for large |y|."""
    small = jnp.abs(y) < _SMALL_RATIO
    ys = jnp.where(small, 1.0, y)
    y2 = y * y
    return jnp.where(small, 1.0 - y2 / 6.0 + 7.0 * y2 * y2 / 360.0, ys / jnp.sinh(ys))


def _coth_ratio(y):
    """3 (y coth y - 1) / y^2, with value 1 at 0 (smooth, even in y)."""
    small = jnp.abs(y) < _SMALL_Y
    ys = jnp.where(small, 1.0, y)
    closed = 3.0 * (ys / jnp.tanh(ys) - 1.0) / ys**2
    # y coth y = sum_n 2^(2n) B_2n y^(2n) / (2n)!  ->  1 - y^2/15 + 2y^4/315 - ...
    t = y * y
    series = 1.0 + t * (-1.0 / 15.0 + t * (2.0 / 315.0 + t * (-1.0 / 1575.0 + t * (
        2.0 / 31185.0 + t * (-4146.0 / 638512875.0)))))
    return jnp.where(small, series, closed)


def symmetrized_fermi_parameters(mass_number):
    """(c, a) [fm] of the symmetrized Fermi density (heavy-Z' paper eq. 5).

    c = 1.23 A^(1/3) - 0.60 fm (half-density radius), a = 0.52 fm (diffuseness).
    """
    c = SF_RADIUS_SLOPE_FM * jnp.asarray(mass_number, dtype=float) ** (1.0 / 3.0) - SF_RADIUS_OFFSET_FM
    return c, SF_DIFFUSENESS_FM


def symmetrized_fermi_rms_radius_fm(c_fm, a_fm=SF_DIFFUSENESS_FM):
    """<r^2>^(1/2) of the symmetrized Fermi density: sqrt(3/5 c^2 + 7/5 pi^2 a^2) [fm]."""
    return jnp.sqrt(0.6 * jnp.asarray(c_fm) ** 2 + 1.4 * (jnp.pi * a_fm) ** 2)


def symmetrized_fermi(q_mev, c_fm, a_fm=SF_DIFFUSENESS_FM):
    """Symmetrized Fermi form factor (heavy-Z' paper eq. 4; Sprung & Martorell 1997).

        F = 3 / (qc [(qc)^2 + (pi q a)^2]) * [pi q a / sinh(pi q a)]
              * [pi q a sin(qc) / tanh(pi q a) - qc cos(qc)]

    evaluated in the algebraically identical, cancellation-free form (x = qc,
    y = pi q a, q in 1/fm):

        F = y/sinh(y) * [w_y (3(y coth y - 1)/y^2) sin(x)/x + w_x 3 j1(x)/x],
        w_x = c^2 / (c^2 + pi^2 a^2),  w_y = pi^2 a^2 / (c^2 + pi^2 a^2),

    (using y coth y - 1 = y^2/3 * 3(y coth y - 1)/y^2 and sin x/x - cos x
    = x^2/3 * 3 j1(x)/x). Each factor is an even, smooth function with a
    series branch near 0, so F and all its derivatives (in q, c, a) are exact
    and finite at q = 0, where F = 1.

    Args:
      q_mev: |q| [MeV] (any shape).
      c_fm: half-density radius c [fm].
      a_fm: diffuseness a [fm], default 0.52.
    Returns: F(q), dimensionless.
    """
    q_fm = jnp.asarray(q_mev) / HBARC_MEV_FM
    c = jnp.asarray(c_fm)
    pa = jnp.pi * jnp.asarray(a_fm)
    x, y = q_fm * c, q_fm * pa
    w_x = c * c / (c * c + pa * pa)
    return _y_over_sinh(y) * ((1.0 - w_x) * _coth_ratio(y) * _sinc(x) + w_x * spherical_bessel_ratio(x))


def symmetrized_fermi_mass_number(q_mev, mass_number):
    """Symmetrized Fermi form factor with eq. 5's c(A) and a = 0.52 fm."""
    c, a = symmetrized_fermi_parameters(mass_number)
    return symmetrized_fermi(q_mev, c, a)


def _nucleus_rms_radius(nucleus):
    return getattr(nucleus, "rms_charge_radius_fm", nucleus)


def _helm_entry(q_mev, nucleus):
    """Registry entry: Helm with the rms charge radius of ``nucleus`` (an Isotope or a radius [fm])."""
    return helm(q_mev, _nucleus_rms_radius(nucleus))


def _symmetrized_fermi_entry(q_mev, nucleus):
    """Registry entry: symmetrized Fermi with c(A) of eq. 5 (needs an Isotope: its mass number A)."""
    if not hasattr(nucleus, "A"):
        raise TypeError(
            "form_factor 'symmetrized-fermi' needs the isotope (its mass number A, heavy-Z' paper "
            f"eq. 5), not an rms radius ({nucleus!r}); call FORM_FACTORS[name](q, isotope) or "
            "form_factor_for(name, isotope)")
    return symmetrized_fermi_mass_number(q_mev, nucleus.A)


# name -> f(q_mev, nucleus). ``nucleus`` is a ``nuclei.Isotope`` (anything with
# .A and .rms_charge_radius_fm); "helm" also accepts a bare rms radius [fm], as
# rates.py passes today. Prefer :func:`form_factor_for`.
FORM_FACTORS = {"helm": _helm_entry, "symmetrized-fermi": _symmetrized_fermi_entry}


def form_factor_for(name: str, isotope):
    """F as a function of |q| [MeV] only, for the registered form factor ``name`` and ``isotope``.

    Args:
      name: a key of :data:`FORM_FACTORS` ("helm", "symmetrized-fermi").
      isotope: a ``nuclei.Isotope`` (Helm uses its rms charge radius; the
        symmetrized Fermi its mass number A through eq. 5).
    Raises:
      ValueError: unknown name (lists the allowed ones).
    """
    if name not in FORM_FACTORS:
        raise InputError(f"form_factor: unknown {name!r}; allowed: {sorted(FORM_FACTORS)}")
    entry = FORM_FACTORS[name]

    def form_factor(q_mev):
        return entry(q_mev, isotope)

    form_factor.__name__ = f"{name.replace('-', '_')}_{getattr(isotope, 'name', 'nucleus')}"
    return form_factor
