"""Differential cross sections: CEvNS (light-mediator paper eqs. 2.2-2.3, 3.2)
and neutrino-electron scattering (heavy-Z' paper eq. 6).

Units: energies and masses in MeV; differential cross sections in MeV^-3
(MeV^-2 per MeV of recoil), total cross sections in MeV^-2; multiply by
``constants.MEV2_TO_CM2`` for cm^2.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..physics.constants import G_FERMI_MEV2, M_ELECTRON_MEV


def max_recoil_mev(e_nu_mev, target_mass_mev):
    """Kinematic end point E_r^max = 2 E_nu^2 / m_T [MeV] (the zero of eq. 2.2)."""
    return 2.0 * jnp.asarray(e_nu_mev) ** 2 / target_mass_mev


def min_neutrino_energy_mev(e_r_mev, target_mass_mev):
    """Smallest E_nu that can give the recoil E_r: sqrt(m_T E_r / 2) [MeV] (eq. 3.2)."""
    return jnp.sqrt(target_mass_mev * jnp.asarray(e_r_mev) / 2.0)


def momentum_transfer_mev(e_r_mev, target_mass_mev):
    """|q| = sqrt(2 m_T E_r) [MeV] (below eq. 2.4)."""
    return jnp.sqrt(2.0 * target_mass_mev * jnp.asarray(e_r_mev))


def kinematic_factor(e_nu_mev, e_r_mev, target_mass_mev):
    """1 - m_T E_r / (2 E_nu^2), set to zero beyond the kinematic end point."""
    k = 1.0 - target_mass_mev * e_r_mev / (2.0 * jnp.asarray(e_nu_mev) ** 2)
    return jnp.where(k > 0.0, k, 0.0)


def coherent_charge(Z, N, g_p, g_n, form_factor_p, form_factor_n=None):
    """Q = Z g_p F_p + N g_n F_n (eq. 2.3); F_n defaults to F_p (as in the paper)."""
    form_factor_n = form_factor_p if form_factor_n is None else form_factor_n
    return Z * g_p * form_factor_p + N * g_n * form_factor_n


def cevns_dsigma_der(e_nu_mev, e_r_mev, target_mass_mev, charge):
    """dsigma/dE_r = G_F^2 m_T / pi (1 - m_T E_r / 2E_nu^2) Q^2  [MeV^-3] (eq. 2.2).

    Args:
      e_nu_mev: neutrino energy [MeV].
      e_r_mev: nuclear recoil energy [MeV].
      target_mass_mev: nuclear mass m_T [MeV].
      charge: the coherent charge Q(E_r) of eq. 2.3 (dimensionless).
    Returns: zero beyond the kinematic end point E_r > 2 E_nu^2 / m_T.
    """
    return (G_FERMI_MEV2**2 * target_mass_mev / jnp.pi
            * kinematic_factor(e_nu_mev, e_r_mev, target_mass_mev) * charge**2)


# --- neutrino-electron scattering (heavy-Z' paper eq. 6) ----------------------

def electron_max_recoil_mev(e_nu_mev):
    """T_e^max = 2 E_nu^2 / (2 E_nu + m_e) [MeV] (heavy-Z' paper below eq. 18)."""
    e = jnp.asarray(e_nu_mev)
    return 2.0 * e * e / (2.0 * e + M_ELECTRON_MEV)


def nue_prefactor_mev2():
    """2 G_F^2 m_e / pi [MeV^-3], the overall factor of eq. (6)."""
    return 2.0 * G_FERMI_MEV2**2 * M_ELECTRON_MEV / jnp.pi


def nue_dsigma_dte(e_nu_mev, t_e_mev, g_l, g_r):
    """dsigma/dT_e of eq. (6) [MeV^-3]; zero outside 0 <= T_e <= T_e^max.

        dsigma/dT_e = 2 G_F^2 m_e / pi [g_L^2 + g_R^2 (1 - T/E)^2 - g_L g_R m_e T / E^2]

    ``g_l``, ``g_r``: the chiral couplings seen by a NEUTRINO (eq. 7 for the SM,
    eqs. 10 and 14-15 with a Z'); for an antineutrino pass them exchanged.
    QED corrections are neglected, as in the paper.
    """
    e = jnp.asarray(e_nu_mev)
    t = jnp.asarray(t_e_mev)
    y = 1.0 - t / e
    value = nue_prefactor_mev2() * (g_l * g_l + g_r * g_r * y * y - g_l * g_r * M_ELECTRON_MEV * t / (e * e))
    inside = (t >= 0.0) & (t <= electron_max_recoil_mev(e))
    return jnp.where(inside, value, 0.0)


def nue_recoil_integrals(e_nu_mev, lo_mev, hi_mev):
    """Exact integrals of the three terms of eq. (6) over [lo, hi] cut to [0, T_e^max], in MeV.

    Returns (I_LL, I_RR, I_LR) with

        int_lo^hi dsigma/dT_e dT_e = 2 G_F^2 m_e/pi (g_L^2 I_LL + g_R^2 I_RR - g_L g_R I_LR),

    I_LL = b - a, I_RR = E/3 [(1 - a/E)^3 - (1 - b/E)^3], I_LR = m_e (b^2 - a^2)/(2 E^2),
    a = clip(lo), b = clip(hi) (the kinematic range is a property of the
    process, not of the input: an interval beyond T_e^max gives zeros).
    """
    e = jnp.asarray(e_nu_mev)
    t_max = electron_max_recoil_mev(e)
    b = jnp.clip(jnp.asarray(hi_mev), 0.0, t_max)
    a = jnp.clip(jnp.asarray(lo_mev), 0.0, b)
    i_ll = b - a
    i_rr = e / 3.0 * ((1.0 - a / e) ** 3 - (1.0 - b / e) ** 3)
    i_lr = M_ELECTRON_MEV * (b * b - a * a) / (2.0 * e * e)
    return i_ll, i_rr, i_lr


def nue_total_cross_section(e_nu_mev, g_l, g_r):
    """sigma(E_nu) = int_0^{T_e^max} dsigma/dT_e dT_e [MeV^-2] (eq. 6 integrated in closed form)."""
    i_ll, i_rr, i_lr = nue_recoil_integrals(e_nu_mev, 0.0, jnp.inf)
    return nue_prefactor_mev2() * (g_l * g_l * i_ll + g_r * g_r * i_rr - g_l * g_r * i_lr)
