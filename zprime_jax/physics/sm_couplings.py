"""Standard-Model neutral-current couplings: the tree-level and the radiatively corrected sets.

A coupling set is a small frozen (hashable, hence static under ``jit``)
dataclass with per-flavour quark and nucleon vector couplings
(``quark()``, ``nucleon()``, each of shape (N_FLAVOURS,)), chiral quark
couplings (``quark_chiral()``) and the neutral-current electron couplings
(``electron_chiral()``). Tree level (light-mediator paper eq. 2.3):
:data:`TREE_LEVEL`; with the radiative corrections of the heavy-Z' paper's
eq. (3): :data:`RADIATIVE`. The sets are selectable by name in
:data:`SM_COUPLING_SETS`. This module also owns the neutrino flavour index
``FLAVOURS`` (re-exported by :mod:`zprime_jax.physics.models`) and the light
quarks' electric charges and weak isospin.

Normalisation (both papers): the package's coherent charge is
Q = Z g_p F + N g_n F with g_p = 2 g_u + g_d, g_n = g_u + 2 g_d, where
g_q = g_q^V = g_q^L + g_q^R is the VECTOR coupling of the heavy-Z' paper's
eq. (3). Then Q (at F = 1) is exactly that paper's Q_V of eq. (2), and
``cross_sections.cevns_dsigma_der`` = G_F^2 m_T/pi (1 - m_T E_r/2E^2) Q^2 is
its eq. (1). At tree level g_u^V = 1/2 - 4/3 s^2, g_d^V = -1/2 + 2/3 s^2, so
g_p = 1/2 - 2 s^2, g_n = -1/2 (the light-mediator paper's eq. 2.3) and
Q_V = -Q_W/2 with Q_W = N - (1 - 4 s^2) Z: no relative factor between the
papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..physics.constants import SIN2_THETA_W_LOW_ENERGY

FLAVOURS = ("nu_e", "nu_mu", "nu_tau", "nubar_e", "nubar_mu", "nubar_tau")
N_FLAVOURS = len(FLAVOURS)

# Electric charges and weak isospin of the light quarks.
Q_UP, Q_DOWN = 2.0 / 3.0, -1.0 / 3.0
T3_UP, T3_DOWN = 0.5, -0.5


@dataclass(frozen=True)
class SMCouplings:
    """Tree-level SM neutral-current couplings, g_q = T3 - 2 s_W^2 Q_q.

    ``sin2_theta_w`` defaults to the low-energy MS-bar value 0.23857, which
    the light-mediator paper does not state (paper-notes 3).
    """

    sin2_theta_w: float = SIN2_THETA_W_LOW_ENERGY
    name: str = "tree"

    # Tree level = eq. (3) of the heavy-Z' paper with no radiative corrections
    # (class attributes, not fields): lets the heavy-Z' models use either set.
    rho_nu_n = 1.0
    kappa_nu_n = 1.0
    lambda_u_l = lambda_d_l = lambda_u_r = lambda_d_r = 0.0
    rho_nu_e = 1.0
    kappa_nu_e = 1.0

    def quark(self):
        """(g_u, g_d) for every flavour, each an array of shape (N_FLAVOURS,)."""
        gu = T3_UP - 2.0 * self.sin2_theta_w * Q_UP
        gd = T3_DOWN - 2.0 * self.sin2_theta_w * Q_DOWN
        ones = jnp.ones(N_FLAVOURS)
        return gu * ones, gd * ones

    def nucleon(self):
        """(g_p, g_n) for every flavour, shape (N_FLAVOURS,) each."""
        gu, gd = self.quark()
        return 2.0 * gu + gd, gu + 2.0 * gd

    def quark_chiral(self):
        """(g_u^L, g_d^L, g_u^R, g_d^R), floats: T3 - s^2 Q and -s^2 Q."""
        return sm_quark_chiral(self)

    def electron_chiral(self):
        """Neutral-current (g_e^L, g_e^R), floats: -1/2 + s^2 and s^2 (no CC term)."""
        return sm_electron_chiral(self)


TREE_LEVEL = SMCouplings()


def sm_quark_chiral(sm):
    """Chiral quark couplings (g_u^L, g_d^L, g_u^R, g_d^R) of an SM set (heavy-Z' paper eq. 3).

    g_u^L = rho (1/2 - 2/3 kappa s^2) + lambda_u^L,  g_d^L = rho (-1/2 + 1/3 kappa s^2) + lambda_d^L,
    g_u^R = rho (-2/3 kappa s^2) + lambda_u^R,       g_d^R = rho (1/3 kappa s^2) + lambda_d^R,
    with s^2 = ``sm.sin2_theta_w``, rho = ``sm.rho_nu_n``, kappa = ``sm.kappa_nu_n``.
    Tree level (rho = kappa = 1, lambda = 0): T3 - Q s^2 and -Q s^2.
    """
    rho, ks2 = sm.rho_nu_n, sm.kappa_nu_n * sm.sin2_theta_w
    return (rho * (T3_UP - Q_UP * ks2) + sm.lambda_u_l,
            rho * (T3_DOWN - Q_DOWN * ks2) + sm.lambda_d_l,
            rho * (-Q_UP * ks2) + sm.lambda_u_r,
            rho * (-Q_DOWN * ks2) + sm.lambda_d_r)


def sm_electron_chiral(sm):
    """Neutral-current part of the nu-e couplings (heavy-Z' paper eq. 7), floats.

    g_e^L(NC) = rho_nue (-1/2 + kappa_nue s^2),  g_e^R = rho_nue kappa_nue s^2.
    The charged-current +1 of eq. (7) (nu_e and nubar_e only) is added by
    :func:`sm_electron_couplings`.
    """
    ks2 = sm.kappa_nu_e * sm.sin2_theta_w
    return sm.rho_nu_e * (-0.5 + ks2), sm.rho_nu_e * ks2


# 1 for the flavours with a charged-current contribution to nu-e scattering (W exchange).
_CC_ELECTRON = np.array([1.0 if f in ("nu_e", "nubar_e") else 0.0 for f in FLAVOURS])


def sm_electron_couplings(sm):
    """Per-flavour SM (g_L, g_R) for neutrino-electron scattering, each shape (N_FLAVOURS,).

    Heavy-Z' paper eq. (7): g_L = rho_nue (-1/2 + kappa_nue s^2) + 1 for nu_e
    and nubar_e (charged current), without the +1 for mu and tau flavours;
    g_R = rho_nue kappa_nue s^2. These are the couplings of the electron, the
    same for a neutrino and its antineutrino: eq. (6) holds as written for
    neutrinos; for ANTIneutrinos exchange g_L and g_R in eq. (6).
    """
    gl, gr = sm_electron_chiral(sm)
    return gl + jnp.asarray(_CC_ELECTRON), gr * jnp.ones(N_FLAVOURS)


@dataclass(frozen=True)
class RadiativeSMCouplings:
    """SM neutral-current couplings with radiative corrections (heavy-Z' paper eqs. 2-3, 7).

    Vector couplings g_q^V = g_q^L + g_q^R from eq. (3):

        g_u^V = rho (1/2 - 4/3 kappa s^2) + lambda_u^L + lambda_u^R
        g_d^V = rho (-1/2 + 2/3 kappa s^2) + lambda_d^L + lambda_d^R

    and g_p^V = 2 g_u^V + g_d^V, g_n^V = g_u^V + 2 g_d^V, so that the
    package's Q = Z g_p + N g_n is the paper's Q_V of eq. (2) and
    ``cross_sections.cevns_dsigma_der`` reproduces its eq. (1) (module
    docstring). Values (the paper, from the PDG): s^2 = s_Z^2 = 0.2312
    (MS-bar at M_Z), rho_nuN = 1.0082, kappa_nuN = 0.9972,
    lambda_u^L = -0.0031, lambda_d^L = -0.0025, lambda_d^R = 2 lambda_u^R
    = 3.7e-5; for nu-e (eq. 7) rho_nue = 1.0128, kappa_nue = 0.9963.
    Resulting g_p^V = 0.030587, g_n^V = -0.512108 (tested).

    Same interface as :class:`SMCouplings` (``quark()``, ``nucleon()``
    per flavour; every flavour, neutrino or antineutrino, has the same
    vector couplings). ``sin2_theta_w`` holds s_Z^2 so that
    ``dataclasses.replace(sm, sin2_theta_w=...)`` works for both sets.
    """

    sin2_theta_w: float = 0.2312      # s_Z^2, MS-bar (heavy-Z' paper below eq. 3)
    rho_nu_n: float = 1.0082          # rho_nuN^NC (PDG via the paper)
    kappa_nu_n: float = 0.9972        # kappa_nuN
    lambda_u_l: float = -0.0031
    lambda_d_l: float = -0.0025
    lambda_u_r: float = 3.7e-5 / 2.0  # lambda_d^R = 2 lambda_u^R = 3.7e-5
    lambda_d_r: float = 3.7e-5
    rho_nu_e: float = 1.0128          # eq. (7)
    kappa_nu_e: float = 0.9963
    name: str = "radiative"

    def quark_chiral(self):
        """(g_u^L, g_d^L, g_u^R, g_d^R), floats (eq. 3)."""
        return sm_quark_chiral(self)

    def quark(self):
        """(g_u^V, g_d^V) for every flavour, each shape (N_FLAVOURS,)."""
        ul, dl, ur, dr = self.quark_chiral()
        ones = jnp.ones(N_FLAVOURS)
        return (ul + ur) * ones, (dl + dr) * ones

    def nucleon(self):
        """(g_p^V, g_n^V) for every flavour, shape (N_FLAVOURS,) each."""
        gu, gd = self.quark()
        return 2.0 * gu + gd, gu + 2.0 * gd

    def electron_chiral(self):
        """Neutral-current (g_e^L, g_e^R), floats (eq. 7 without the CC +1)."""
        return sm_electron_chiral(self)


RADIATIVE = RadiativeSMCouplings()

SM_COUPLING_SETS = {"tree": TREE_LEVEL, "radiative": RADIATIVE}


def get_sm_couplings(name: str):
    """The SM coupling set registered under ``name`` ("tree" or "radiative")."""
    if name not in SM_COUPLING_SETS:
        raise InputError(f"sm_couplings: unknown set {name!r}; allowed: {sorted(SM_COUPLING_SETS)}")
    return SM_COUPLING_SETS[name]
