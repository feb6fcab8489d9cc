"""CEvNS differential cross section (light-mediator paper eqs. 2.2-2.3, 3.2).

Units: energies and masses in MeV; the cross section in MeV^-3
(MeV^-2 per MeV of recoil); multiply by ``constants.MEV2_TO_CM2`` for cm^2/MeV.
"""

from __future__ import annotations

import jax.numpy as jnp

from .constants import G_FERMI_MEV2


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
