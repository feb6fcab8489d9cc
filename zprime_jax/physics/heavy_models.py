"""Heavy Z' models: Left-Right and the E6 family (heavy-Z' paper, Miranda et al. 2020, section 2).

Left-Right (eqs. 8-10) and E6 for any beta (eqs. 11-15), with parameters in
the pytree :class:`HeavyZPrime` (``mass_gev``, ``cos_beta``); the contact
limit, so the couplings do not depend on |q| and are affine in
gamma = (M_Z/M_Z')^2 (:func:`heavy_gamma`). Their SM couplings default to the
radiatively corrected set of eq. (3), :data:`sm_couplings.RADIATIVE`. This
module also owns the named E6 points (:data:`E6_COS_BETA`), the E6 blind
points and the check of heavy-Z' parameters (:func:`check_heavy_params`).
The models are registered by name in :data:`zprime_jax.physics.models.MODELS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..physics.constants import M_Z_MEV, MEV_PER_GEV
from ..physics.sm_couplings import (
    _CC_ELECTRON,
    N_FLAVOURS,
    Q_DOWN,
    Q_UP,
    RADIATIVE,
    T3_DOWN,
    T3_UP,
    RadiativeSMCouplings,
    SMCouplings,
    sm_electron_chiral,
    sm_electron_couplings,
    sm_quark_chiral,
)


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


# The lightest M_Z' the command line accepts for the heavy (contact) models: the couplings of eqs. 8-15
# are the M_Z' >> |q| limit, and |q| reaches ~0.1 GeV at a pion-DAR source (docs/conventions.md).
MIN_CONTACT_MASS_GEV = 1.0


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
            raise InputError("electron_lr_reading: must be 'nc-only' or 'as-printed', "
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


@jax.custom_jvp
def sin_beta(cos_beta):
    """sin beta = +sqrt(1 - cos^2 beta) >= 0 (beta in [0, pi], paper-notes 1), any shape.

    d sin(beta)/d cos(beta) = -cos(beta)/sin(beta) diverges at cos beta = +-1.
    There the derivative is taken as 0 (docs/conventions.md, "E6 end points"):
    a gradient at exactly cos beta = +-1 is the partial derivative at fixed
    sin beta = 0, finite; everywhere else it is the exact derivative.
    """
    c = jnp.asarray(cos_beta)
    return jnp.sqrt(jnp.maximum(1.0 - c * c, 0.0))


@sin_beta.defjvp
def _sin_beta_jvp(primals, tangents):
    (c,), (dc,) = primals, tangents
    s = sin_beta(c)
    inside = s > 0.0
    slope = jnp.where(inside, -c / jnp.where(inside, s, 1.0), 0.0)
    return s, slope * dc


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
    = sqrt(1 - c^2)); there :func:`sin_beta` takes d sin(beta)/d cos(beta) as
    0, so gradients stay finite on grids that include the end points.
    """

    cos_beta: float | None = None
    sm: SMCouplings | RadiativeSMCouplings = RADIATIVE
    name: str = "e6"
    description: str = "E6 Z' for any beta (heavy-Z' paper eqs. 11-15)"

    def __post_init__(self):
        if self.cos_beta is not None and not -1.0 <= self.cos_beta <= 1.0:
            raise InputError(f"cos_beta: must lie in [-1, 1], got {self.cos_beta}")

    def _cos_sin(self, params: HeavyZPrime):
        c = params.cos_beta if self.cos_beta is None else self.cos_beta
        c = jnp.asarray(c)
        return c, sin_beta(c)

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


def check_heavy_params(params: HeavyZPrime, model=None) -> None:
    """Raise a clear error for unphysical heavy-Z' parameters (outside jit).

    ``cos_beta`` is checked (finite, in [-1, 1]) only when ``model`` takes it
    from the parameters (the generic "e6" model) or when no model is given
    and it is not NaN.
    """
    m = np.asarray(params.mass_gev, dtype=float)
    if np.any(np.isnan(m)) or np.any(m <= 0):
        raise InputError(f"mass_gev: must be > 0 (inf allowed: the SM), got {m.tolist()}")
    c = np.asarray(params.cos_beta, dtype=float)
    needs_c = isinstance(model, E6) and model.cos_beta is None
    if needs_c or (model is None and not np.all(np.isnan(c))):
        if not np.all(np.isfinite(c)) or np.any(np.abs(c) > 1.0):
            raise InputError(f"cos_beta: must be finite and in [-1, 1] for the generic E6 model, "
                             f"got {c.tolist()}")
