"""Standard-Model couplings and Z' models.

A model is a small frozen (hashable, hence static under ``jit``) dataclass
that describes the charges; the continuous parameters (mass, coupling) live
in a separate pytree, :class:`LightZPrime`, so that ``jax.grad`` and
``jax.vmap`` act on them directly.

Every model yields per-flavour proton and neutron vector couplings at momentum
transfer |q| (light-mediator paper eqs. 2.3-2.5):

    g_p = 2 g_u + g_d,   g_n = g_u + 2 g_d,
    g_q = (T3_q - 2 s_W^2 Q_q) + g^2 Q'_nu Q'_q / (sqrt2 G_F (|q|^2 + m^2)).

Neutrino flavours are indexed by ``FLAVOURS``. Antineutrinos have the same
vector couplings as neutrinos (only the vector current enters CEvNS).

Heavy Z' models (heavy-Z' paper, Miranda et al. 2020, section 2): Left-Right
(eqs. 8-10) and E6 for any beta (eqs. 11-15), with parameters in the pytree
:class:`HeavyZPrime` (``mass_gev``, ``cos_beta``). Their SM couplings default
to the radiatively corrected set of eq. (3), :data:`RADIATIVE`; the coupling
sets are selectable by name in :data:`SM_COUPLING_SETS`.

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

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..physics.constants import (
    ALPHA_EM,
    G_FERMI_MEV2,
    M_MUON_MEV,
    M_TAU_MEV,
    M_Z_MEV,
    MEV_PER_GEV,
    SIN2_THETA_W_LOW_ENERGY,
    SQRT2,
)

FLAVOURS = ("nu_e", "nu_mu", "nu_tau", "nubar_e", "nubar_mu", "nubar_tau")
N_FLAVOURS = len(FLAVOURS)

# Electric charges and weak isospin of the light quarks.
Q_UP, Q_DOWN = 2.0 / 3.0, -1.0 / 3.0
T3_UP, T3_DOWN = 0.5, -0.5


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class LightZPrime:
    """Parameters of a light vector mediator.

    Attributes:
      mass_mev: m_Z' [MeV] (> 0).
      coupling: g_Z' (dimensionless; only g^2 enters CEvNS).
    """

    mass_mev: jax.Array | float
    coupling: jax.Array | float


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
        raise ValueError(f"sm_couplings: unknown set {name!r}; allowed: {sorted(SM_COUPLING_SETS)}")
    return SM_COUPLING_SETS[name]

# Gauss-Legendre nodes on [0, 1] for the mu/tau loop integral (the integrand is
# smooth and positive; 48 nodes give < 1e-12 relative for |q| <= 1 GeV -- far above
# CEvNS momentum transfers -- degrading to ~1e-6 at 10 GeV; tested in
# tests/test_physics.py against scipy.integrate.quad).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_LOOP_X = 0.5 * (_GL_X + 1.0)
_LOOP_W = 0.5 * _GL_W


def mu_tau_loop_integral(q_mev):
    """I(q) = int_0^1 x(1-x) ln[(m_tau^2 + q^2 x(1-x)) / (m_mu^2 + q^2 x(1-x))] dx.

    Light-mediator paper eq. (2.5). I(0) = ln(m_tau^2/m_mu^2)/6.
    Args: q_mev, |q| [MeV] (any shape). Returns: dimensionless, same shape.
    """
    q2 = jnp.asarray(q_mev)[..., None] ** 2                             # (..., 1)
    ones = (1,) * (q2.ndim - 1)              # explicit broadcasting against the nodes
    xx = (_LOOP_X * (1.0 - _LOOP_X)).reshape(ones + (-1,))              # (1..., 48)
    integrand = xx * jnp.log((M_TAU_MEV**2 + q2 * xx) / (M_MUON_MEV**2 + q2 * xx))
    return jnp.sum(_LOOP_W.reshape(ones + (-1,)) * integrand, axis=-1)


def propagator_factor(coupling, mass_mev, q_mev):
    """g^2 / (sqrt2 G_F (|q|^2 + m^2)), dimensionless (eq. 2.4).

    Shapes broadcast; ``mass_mev`` and ``coupling`` are scalars per point.
    """
    return coupling**2 / (SQRT2 * G_FERMI_MEV2 * (q_mev**2 + mass_mev**2))


@dataclass(frozen=True)
class StandardModel:
    """No new physics: only the SM couplings (params are ignored)."""

    sm: SMCouplings = TREE_LEVEL
    name: str = "sm"
    description: str = "Standard Model only"

    def nucleon_couplings(self, params, q_mev):
        """(g_p, g_n) of shape (N_FLAVOURS, *q.shape)."""
        q = jnp.asarray(q_mev)
        gp, gn = self.sm.nucleon()
        shape = (N_FLAVOURS,) + (1,) * q.ndim
        zero = jnp.zeros_like(q)[None]                                  # (1, *q.shape)
        return gp.reshape(shape) + zero, gn.reshape(shape) + zero

    def electron_couplings(self, params=None):
        """Per-flavour SM (g_L, g_R) for nu-e scattering (see :func:`sm_electron_couplings`)."""
        return sm_electron_couplings(self.sm)


@dataclass(frozen=True)
class VectorMediator:
    """A U(1)' vector mediator with charges Q'_u, Q'_d and Q'_nu per flavour.

    With ``kinetic_loop=True`` the quarks are uncharged and couple through the
    photon-Z' kinetic mixing induced by mu and tau loops (eq. 2.5): the quark
    term becomes 2 alpha g^2 Q_q Q'_nu I(q) / (sqrt2 pi G_F (|q|^2 + m^2))
    (prefactor as corrected in paper-notes 2), so only protons couple.

    Attributes:
      name, description: labels.
      quark_charges: (Q'_u, Q'_d).
      neutrino_charges: Q'_nu for each entry of ``FLAVOURS``.
      kinetic_loop: use the mu/tau loop instead of direct quark charges.
      sm: the SM coupling set.
    """

    name: str
    description: str
    quark_charges: tuple[float, float]
    neutrino_charges: tuple[float, ...]
    kinetic_loop: bool = False
    sm: SMCouplings = TREE_LEVEL

    def __post_init__(self):
        if len(self.neutrino_charges) != N_FLAVOURS:
            raise ValueError(f"model.neutrino_charges: need {N_FLAVOURS} entries "
                             f"({', '.join(FLAVOURS)}), got {len(self.neutrino_charges)}")

    def nucleon_charges(self, q_mev):
        """Effective Z' charges (Q'_p, Q'_n) of the nucleons at |q| [MeV].

        Direct coupling: Q'_p = 2Q'_u + Q'_d, Q'_n = Q'_u + 2Q'_d (constants).
        Loop: Q'_p = (2 alpha / pi) I(q) (proton electric charge 1), Q'_n = 0.
        """
        q = jnp.asarray(q_mev)
        if self.kinetic_loop:
            loop = 2.0 * ALPHA_EM / math.pi * mu_tau_loop_integral(q)
            return (2.0 * Q_UP + Q_DOWN) * loop, (Q_UP + 2.0 * Q_DOWN) * loop
        qu, qd = self.quark_charges
        return (2.0 * qu + qd) * jnp.ones_like(q), (qu + 2.0 * qd) * jnp.ones_like(q)

    def nucleon_couplings(self, params: LightZPrime, q_mev):
        """Total (g_p, g_n) per flavour, shape (N_FLAVOURS, *q.shape) (eqs. 2.4-2.5).

        Args:
          params: :class:`LightZPrime` (scalars).
          q_mev: |q| [MeV], any shape.
        """
        q = jnp.asarray(q_mev)
        gp_sm, gn_sm = self.sm.nucleon()
        shape = (N_FLAVOURS,) + (1,) * q.ndim
        qnu = jnp.asarray(self.neutrino_charges).reshape(shape)
        prop = propagator_factor(params.coupling, params.mass_mev, q)
        qp, qn = self.nucleon_charges(q)
        prop, qp, qn = prop[None], qp[None], qn[None]                   # (1, *q.shape)
        gp = gp_sm.reshape(shape) + qnu * qp * prop
        gn = gn_sm.reshape(shape) + qnu * qn * prop
        return gp, gn


# --- heavy Z' (heavy-Z' paper, Miranda et al. 2020, section 2) -----------------


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class HeavyZPrime:
    """Parameters of a heavy Z' (contact-interaction limit, no q dependence).

    Attributes:
      mass_gev: M_Z' [GeV] (> 0; ``inf`` gives the SM exactly).
      cos_beta: cos(beta) of the E6 family, eq. (11), in [-1, 1] with
        sin(beta) = +sqrt(1 - cos^2 beta) >= 0 (beta in [0, pi], paper-notes 1).
        Used only by the generic ``"e6"`` model; the Left-Right model and the
        named E6 points (chi, psi, eta) ignore it. The default NaN makes a
        forgotten cos_beta visible (NaN couplings; :func:`check_heavy_params`
        rejects it).
    """

    mass_gev: jax.Array | float
    cos_beta: jax.Array | float = float("nan")


def heavy_gamma(mass_gev):
    """gamma = (M_Z / M_Z')^2 (heavy-Z' paper below eq. 9), M_Z = 91.1876 GeV."""
    return (M_Z_MEV / (MEV_PER_GEV * jnp.asarray(mass_gev))) ** 2


def _per_flavour(value, q):
    """Broadcast a flavour-independent coupling to shape (N_FLAVOURS, *q.shape)."""
    return value * jnp.ones((N_FLAVOURS,) + q.shape)


@dataclass(frozen=True)
class LeftRight:
    """Z' of the Left-Right symmetric model (heavy-Z' paper eqs. 8-10).

    With gamma = (M_Z/M_Z')^2, A = 1 + s^4 gamma / (1 - 2 s^2) and
    B = s^2 (1 - s^2) gamma / (1 - 2 s^2) (eq. 9, s^2 = s_Z^2 of the SM set),
    the vector couplings (sums of eq. 8's L and R lines) are

        f_u^V = rho A (1/2 - 4/3 kappa s^2) + B (1/2 - 4/3 s^2) + lambda_u^L + lambda_u^R
        f_d^V = rho A (-1/2 + 2/3 kappa s^2) + B (-1/2 + 2/3 s^2) + lambda_d^L + lambda_d^R

    and g_p = 2 f_u^V + f_d^V, g_n = f_u^V + 2 f_d^V, the same for every
    flavour. M_Z' -> inf gives the SM set exactly (A = 1, B = 0).

    nu-e (eq. 10), ``electron_lr_reading``:
      "as-printed" (default: the paper's eq. 10, which reproduces its Table
        III, docs/conventions.md): f_L = A g_L + B g_R, f_R = A g_R + B g_L
        with g_e^L of eq. (7) including the charged-current +1 of nu_e (the
        CC term is then scaled by A and mixed into f_R by B).
      "nc-only" (the physically motivated alternative): A and B act on the
        neutral-current g's of eq. (7) only, f_L = A g_L + B g_R + CC; the
        W-exchange +1 of nu_e is not touched by the Z'. (Derivation: the
        LR Z' couples to nu_L with s^2 T3/sqrt(1-2s^2) and to e_{L,R} with
        (s^2 T3_L + (1-s^2) T3_R - s^2 Q)/sqrt(1-2s^2); this gives exactly
        A g + B g' for the NC couplings and nothing for the CC term.) It
        weakens the 51Cr-LXe limits by a factor ~0.57.
    """

    sm: SMCouplings | RadiativeSMCouplings = RADIATIVE
    name: str = "lr"
    description: str = "Left-Right symmetric Z' (heavy-Z' paper eqs. 8-10)"
    electron_lr_reading: str = "as-printed"

    def __post_init__(self):
        if self.electron_lr_reading not in ("nc-only", "as-printed"):
            raise ValueError("electron_lr_reading: must be 'nc-only' or 'as-printed', "
                             f"got {self.electron_lr_reading!r}")

    def lr_factors(self, params: HeavyZPrime):
        """(A, B) of eq. (9)."""
        gamma = heavy_gamma(params.mass_gev)
        s2 = self.sm.sin2_theta_w
        return (1.0 + s2 * s2 / (1.0 - 2.0 * s2) * gamma,
                s2 * (1.0 - s2) / (1.0 - 2.0 * s2) * gamma)

    def quark_chiral(self, params: HeavyZPrime):
        """(f_u^L, f_d^L, f_u^R, f_d^R) of eq. (8), scalars."""
        a, b = self.lr_factors(params)
        sm = self.sm
        rho, s2 = sm.rho_nu_n, sm.sin2_theta_w
        ks2 = sm.kappa_nu_n * s2
        return (rho * a * (T3_UP - Q_UP * ks2) + b * (-Q_UP * s2) + sm.lambda_u_l,
                rho * a * (T3_DOWN - Q_DOWN * ks2) + b * (-Q_DOWN * s2) + sm.lambda_d_l,
                rho * a * (-Q_UP * ks2) + b * (T3_UP - Q_UP * s2) + sm.lambda_u_r,
                rho * a * (-Q_DOWN * ks2) + b * (T3_DOWN - Q_DOWN * s2) + sm.lambda_d_r)

    def quark_vector(self, params: HeavyZPrime):
        """(f_u^V, f_d^V) = (f_u^L + f_u^R, f_d^L + f_d^R), scalars."""
        ul, dl, ur, dr = self.quark_chiral(params)
        return ul + ur, dl + dr

    def nucleon_couplings(self, params: HeavyZPrime, q_mev):
        """(g_p, g_n), each shape (N_FLAVOURS, *q.shape); independent of q (contact limit)."""
        q = jnp.asarray(q_mev)
        fu, fd = self.quark_vector(params)
        return _per_flavour(2.0 * fu + fd, q), _per_flavour(fu + 2.0 * fd, q)

    def electron_couplings(self, params: HeavyZPrime):
        """Per-flavour (f_L, f_R) for nu-e scattering (eq. 10), each shape (N_FLAVOURS,).

        Same convention as :func:`sm_electron_couplings` (for antineutrinos
        exchange f_L and f_R in eq. 6). See the class docstring for
        ``electron_lr_reading``.
        """
        a, b = self.lr_factors(params)
        gl, gr = sm_electron_chiral(self.sm)
        cc = jnp.asarray(_CC_ELECTRON)
        if self.electron_lr_reading == "as-printed":
            gl = gl + cc
            return a * gl + b * gr, a * gr + b * gl
        return a * gl + b * gr + cc, (a * gr + b * gl) * jnp.ones(N_FLAVOURS)


# cos(beta) of the named E6 points (heavy-Z' paper below eq. 13).
E6_COS_BETA = {"chi": 1.0, "psi": 0.0, "eta": math.sqrt(3.0 / 8.0)}
# Blind points: every quark vector epsilon (hence CEvNS) vanishes at cos beta = 0
# (psi: eps_u^V = eps_d^V = 0) and at cos beta = -sqrt(5/32) (there all four
# eps_q^{L,R} vanish: the neutrino's Z' charge is zero); nu-e is blind only at
# -sqrt(5/32) (eq. 15). Tested.
E6_BLIND_COS_BETA_CEVNS = (0.0, -math.sqrt(5.0 / 32.0))
E6_BLIND_COS_BETA_ELECTRON = (-math.sqrt(5.0 / 32.0),)


@dataclass(frozen=True)
class E6:
    """Z' of the E6 family Y_beta = Y_chi cos(beta) + Y_psi sin(beta) (heavy-Z' paper eqs. 11-15).

    f_q^{L,R} = g_q^{L,R} + eps_q^{L,R} (eq. 12) with (eq. 13, c = cos beta,
    s = sin beta = +sqrt(1 - c^2), gamma = (M_Z/M_Z')^2, s_Z^2 and rho_nuN
    of the SM set):

        eps_u^L = -4 gamma s_Z^2 rho (c/sqrt24 - s/3 sqrt(5/8)) (3c/(2 sqrt24) + s/6 sqrt(5/8))
        eps_d^R = -8 gamma s_Z^2 rho (3c/(2 sqrt24) + s/6 sqrt(5/8))^2
        eps_d^L = eps_u^L = -eps_u^R

    Vector parts: eps_u^V = 0 exactly, eps_d^V = eps_u^L + eps_d^R
    = -16 gamma s_Z^2 rho c (3c/(2 sqrt24) + s/6 sqrt(5/8)) / sqrt24, so
    CEvNS is blind at c = 0 (psi) and at c = -sqrt(5/32) (where the second
    factor, the neutrino's Z' charge, vanishes and with it all four eps).

    Attributes:
      cos_beta: fixed cos(beta) of a named point, or None to take
        ``params.cos_beta`` (the generic "e6" model).
    Note: d/d(cos beta) of the couplings diverges at cos beta = +-1 (sin beta
    = sqrt(1 - c^2)); gradients with respect to cos_beta are finite for
    |cos beta| < 1.
    """

    cos_beta: float | None = None
    sm: SMCouplings | RadiativeSMCouplings = RADIATIVE
    name: str = "e6"
    description: str = "E6 Z' for any beta (heavy-Z' paper eqs. 11-15)"

    def __post_init__(self):
        if self.cos_beta is not None and not -1.0 <= self.cos_beta <= 1.0:
            raise ValueError(f"cos_beta: must lie in [-1, 1], got {self.cos_beta}")

    def _cos_sin(self, params: HeavyZPrime):
        c = params.cos_beta if self.cos_beta is None else self.cos_beta
        c = jnp.asarray(c)
        return c, jnp.sqrt(jnp.maximum(1.0 - c * c, 0.0))

    def quark_epsilons(self, params: HeavyZPrime):
        """(eps_u^L, eps_d^L, eps_u^R, eps_d^R) of eq. (13), scalars."""
        c, s = self._cos_sin(params)
        pre = heavy_gamma(params.mass_gev) * self.sm.sin2_theta_w * self.sm.rho_nu_n
        r58 = math.sqrt(5.0 / 8.0)
        r24 = math.sqrt(24.0)
        x = c / r24 - s / 3.0 * r58
        y = 1.5 * c / r24 + s / 6.0 * r58
        eps_ul = -4.0 * pre * x * y
        eps_dr = -8.0 * pre * y * y
        return eps_ul, eps_ul, -eps_ul, eps_dr

    def quark_vector(self, params: HeavyZPrime):
        """(f_u^V, f_d^V), scalars: SM vector couplings plus eps^L + eps^R."""
        ul, dl, ur, dr = sm_quark_chiral(self.sm)
        eul, edl, eur, edr = self.quark_epsilons(params)
        return (ul + ur) + (eul + eur), (dl + dr) + (edl + edr)

    def nucleon_couplings(self, params: HeavyZPrime, q_mev):
        """(g_p, g_n), each shape (N_FLAVOURS, *q.shape); independent of q (contact limit)."""
        q = jnp.asarray(q_mev)
        fu, fd = self.quark_vector(params)
        return _per_flavour(2.0 * fu + fd, q), _per_flavour(fu + 2.0 * fd, q)

    def electron_epsilons(self, params: HeavyZPrime):
        """(eps_e^L, eps_e^R) of eq. (15), scalars (the same for every flavour)."""
        c, s = self._cos_sin(params)
        pre = 2.0 * heavy_gamma(params.mass_gev) * self.sm.sin2_theta_w * self.sm.rho_nu_e
        r58 = math.sqrt(5.0 / 8.0)
        r6, r24 = math.sqrt(6.0), math.sqrt(24.0)
        eps_l = pre * (1.5 * c / r6 + s / 3.0 * r58) ** 2
        eps_r = pre * (0.5 * c / r6 - s / 3.0 * r58) * (3.0 * c / r24 + s / 3.0 * r58)
        return eps_l, eps_r

    def electron_couplings(self, params: HeavyZPrime):
        """Per-flavour (f_L, f_R) = SM (eq. 7) + eps (eq. 15), each shape (N_FLAVOURS,).

        Same convention as :func:`sm_electron_couplings` (for antineutrinos
        exchange f_L and f_R in eq. 6).
        """
        gl, gr = sm_electron_couplings(self.sm)
        eps_l, eps_r = self.electron_epsilons(params)
        return gl + eps_l, gr + eps_r


_ALL = (1.0,) * N_FLAVOURS

MODELS = {
    "sm": StandardModel(),
    "universal": VectorMediator(
        "universal", "universal Z' (Q'_q = Q'_nu = 1)", (1.0, 1.0), _ALL),
    "b-l": VectorMediator(
        "b-l", "U(1)_{B-L} (Q'_q = 1/3, Q'_nu = -1)", (1.0 / 3.0, 1.0 / 3.0), (-1.0,) * N_FLAVOURS),
    "lmu-ltau": VectorMediator(
        "lmu-ltau", "U(1)_{Lmu-Ltau}, quarks via the mu/tau loop (eq. 2.5)", (0.0, 0.0),
        (0.0, 1.0, -1.0, 0.0, 1.0, -1.0), kinetic_loop=True),
}
MODELS.update({
    "lr": LeftRight(),
    "e6-chi": E6(E6_COS_BETA["chi"], name="e6-chi", description="E6 chi model (cos beta = 1)"),
    "e6-psi": E6(E6_COS_BETA["psi"], name="e6-psi",
                 description="E6 psi model (cos beta = 0; blind for CEvNS)"),
    "e6-eta": E6(E6_COS_BETA["eta"], name="e6-eta", description="E6 eta model (cos beta = sqrt(3/8))"),
    "e6": E6(None, name="e6", description="E6 model, cos beta from the parameters"),
})
LIGHT_MODELS = ("universal", "b-l", "lmu-ltau")
HEAVY_MODELS = ("lr", "e6-chi", "e6-psi", "e6-eta", "e6")


def get_model(name: str, sin2_theta_w: float | None = None, sm_couplings: str | None = None):
    """The model registered under ``name``.

    Args:
      sm_couplings: optionally another SM coupling set by name ("tree" or
        "radiative", :data:`SM_COUPLING_SETS`); default: the model's own
        (tree for the light models, radiative for the heavy ones).
      sin2_theta_w: optionally another s_W^2 for that set (for the
        radiative set this replaces s_Z^2, keeping rho, kappa, lambda).
    """
    from dataclasses import replace

    if name not in MODELS:
        raise ValueError(f"model: unknown model {name!r}; allowed: {sorted(MODELS)}")
    model = MODELS[name]
    if sm_couplings is not None:
        model = replace(model, sm=get_sm_couplings(sm_couplings))
    if sin2_theta_w is not None:
        model = replace(model, sm=replace(model.sm, sin2_theta_w=sin2_theta_w))
    return model


def check_params(params: LightZPrime) -> None:
    """Raise a clear error for unphysical light-Z' parameters (outside jit)."""
    m = np.asarray(params.mass_mev, dtype=float)
    g = np.asarray(params.coupling, dtype=float)
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise ValueError(f"mass_mev: must be finite and > 0, got {m.tolist()}")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise ValueError(f"coupling: must be finite and >= 0, got {g.tolist()}")




def check_heavy_params(params: HeavyZPrime, model=None) -> None:
    """Raise a clear error for unphysical heavy-Z' parameters (outside jit).

    ``cos_beta`` is checked (finite, in [-1, 1]) only when ``model`` takes it
    from the parameters (the generic "e6" model) or when no model is given
    and it is not NaN.
    """
    m = np.asarray(params.mass_gev, dtype=float)
    if np.any(np.isnan(m)) or np.any(m <= 0):
        raise ValueError(f"mass_gev: must be > 0 (inf allowed: the SM), got {m.tolist()}")
    c = np.asarray(params.cos_beta, dtype=float)
    needs_c = isinstance(model, E6) and model.cos_beta is None
    if needs_c or (model is None and not np.all(np.isnan(c))):
        if not np.all(np.isfinite(c)) or np.any(np.abs(c) > 1.0):
            raise ValueError(f"cos_beta: must be finite and in [-1, 1] for the generic E6 model, "
                             f"got {c.tolist()}")
