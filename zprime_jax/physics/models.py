"""Light Z' models and the registry of every model by name.

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

This module owns the light models (:class:`StandardModel`,
:class:`VectorMediator`, the mu/tau loop of eq. 2.5) and the registry
(:data:`MODELS`, :func:`get_model`, :func:`check_params`). The SM coupling
sets (and ``FLAVOURS``) live in :mod:`zprime_jax.physics.sm_couplings`, the
heavy Z' models (Left-Right, E6; :class:`HeavyZPrime`) in
:mod:`zprime_jax.physics.heavy_models`; both are re-exported here, so every
model name is importable from this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..physics.constants import (
    ALPHA_EM,
    G_FERMI_MEV2,
    M_ELECTRON_MEV,
    M_MUON_MEV,
    M_TAU_MEV,
    SQRT2,
)
from ..physics.heavy_models import (  # the names not used here are re-exported
    E6,
    E6_BLIND_COS_BETA_CEVNS,  # noqa: F401
    E6_BLIND_COS_BETA_ELECTRON,  # noqa: F401
    E6_COS_BETA,
    HeavyZPrime,  # noqa: F401
    LeftRight,
    _per_flavour,  # noqa: F401
    check_heavy_params,  # noqa: F401
    heavy_gamma,  # noqa: F401
)
from ..physics.sm_couplings import (  # the names not used here are re-exported
    _CC_ELECTRON,  # noqa: F401
    FLAVOURS,
    N_FLAVOURS,
    Q_DOWN,
    Q_UP,
    RADIATIVE,  # noqa: F401
    SM_COUPLING_SETS,  # noqa: F401
    T3_DOWN,  # noqa: F401
    T3_UP,  # noqa: F401
    TREE_LEVEL,
    RadiativeSMCouplings,  # noqa: F401
    SMCouplings,
    get_sm_couplings,
    sm_electron_chiral,  # noqa: F401
    sm_electron_couplings,
    sm_quark_chiral,  # noqa: F401
)


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


# The largest coupling the command line accepts: g^2 / 4 pi = 1, where perturbation theory (and with it
# the tree-level exchange of the cross sections) stops meaning anything. docs/conventions.md.
MAX_PERTURBATIVE_COUPLING = math.sqrt(4.0 * math.pi)
# The heaviest light-mediator mass the command line accepts [MeV]: at 10 TeV even g = sqrt(4 pi) gives
# g^2/m^2 ~ 1e-13 MeV^-2, a per-cent of G_F: the heavy (contact) models take over (docs/conventions.md).
MAX_LIGHT_MASS_MEV = 1.0e7


# Gauss-Legendre nodes on [0, 1] for the mu/tau loop integral (the integrand is
# smooth and positive; 48 nodes give < 1e-12 relative for |q| <= 1 GeV -- far above
# CEvNS momentum transfers -- degrading to ~1e-6 at 10 GeV; tested in
# tests/test_physics.py against scipy.integrate.quad).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)
_LOOP_X = 0.5 * (_GL_X + 1.0)
_LOOP_W = 0.5 * _GL_W


CHARGED_LEPTON_MASSES_MEV = (M_ELECTRON_MEV, M_MUON_MEV, M_TAU_MEV)       # e, mu, tau
CHARGED_LEPTON_Q = -1.0                                                    # their electric charge


def lepton_loop_integral(q_mev, lepton_charges, scale_mev=None):
    """Pi(q) = sum_l Q_l Q'_l int_0^1 x(1-x) ln[(m_l^2 + q^2 x(1-x)) / mu^2] dx over l = e, mu, tau.

    The charged-lepton loop of the photon-Z' kinetic mixing (light-mediator paper eq. 2.5 in general
    form; Q_l = -1): the quark term of the Z' exchange is (2 alpha / pi) Pi(q) Q_q. Where
    sum_l Q_l Q'_l = 0 the scale mu cancels (``scale_mev`` unused); else the loop diverges and mu is the
    renormalisation scale at which the tree-level mixing vanishes.
    Args: q_mev, |q| [MeV] (any shape); lepton_charges (Q'_e, Q'_mu, Q'_tau). Returns: same shape.
    """
    q2 = jnp.asarray(q_mev)[..., None] ** 2                             # (..., 1)
    ones = (1,) * (q2.ndim - 1)              # explicit broadcasting against the nodes
    xx = (_LOOP_X * (1.0 - _LOOP_X)).reshape(ones + (-1,))              # (1..., 48)
    total = sum(CHARGED_LEPTON_Q * qp for qp in lepton_charges)
    logs = -total * math.log(scale_mev**2) if total != 0 else 0.0
    for qp, m in zip(lepton_charges, CHARGED_LEPTON_MASSES_MEV):
        if qp != 0:
            logs = logs + CHARGED_LEPTON_Q * qp * jnp.log(m**2 + q2 * xx)
    return jnp.sum(_LOOP_W.reshape(ones + (-1,)) * xx * logs, axis=-1)


def mu_tau_loop_integral(q_mev):
    """I(q) = int_0^1 x(1-x) ln[(m_tau^2 + q^2 x(1-x)) / (m_mu^2 + q^2 x(1-x))] dx.

    Light-mediator paper eq. (2.5): :func:`lepton_loop_integral` of Lmu-Ltau. I(0) = ln(m_tau^2/m_mu^2)/6.
    Args: q_mev, |q| [MeV] (any shape). Returns: dimensionless, same shape.
    """
    return lepton_loop_integral(q_mev, (0.0, 1.0, -1.0))


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


ELECTRON_Q = CHARGED_LEPTON_Q                                               # the electron's electric charge
E_CHARGE = math.sqrt(4.0 * math.pi * ALPHA_EM)                             # e (Heaviside-Lorentz, hbar = c = 1)


@dataclass(frozen=True)
class VectorMediator:
    """A U(1)' vector mediator with charges Q'_u, Q'_d, Q'_nu per flavour and Q'_l of the charged leptons.

    The Z' couples to a charged fermion f (electric charge Q_f) with the vector coupling

        g Q'_f + (eps e + (2 alpha / pi) g Pi(q)) Q_f,

    the direct charge plus the photon-Z' kinetic mixing: tree level, eps = ``epsilon_per_coupling`` g,
    and, with ``kinetic_loop=True``, the charged-lepton loop (eq. 2.5 in general form,
    :func:`lepton_loop_integral`; prefactor as corrected in paper-notes 2; for Lmu-Ltau Pi = I). The
    neutrino couples with g Q'_nu only (no electric charge): to leading order in eps and in
    m_Z'^2 / m_Z^2, the shift of the SM vector coupling g_V^f = T3 - 2 Q_f s_W^2 (eq. 2.4 and its
    electron analogue) is

        delta g_V^f = g Q'_nu [g Q'_f + (eps e + (2 alpha/pi) g Pi) Q_f] / (sqrt2 G_F (|q|^2 + m^2))
                      + 2 eps^2 s_W^2 Q_f m^2 / (|q|^2 + m^2).

    The last term is the dark photon's: its mixing with the Z gives the neutrino a coupling
    eps e m^2 / (2 c_W^2 m_Z^2) (docs/conventions.md, "Kinetic mixing"); it is the model's only
    effect where no neutrino is charged. A model that charges no neutrino but some other fermion is
    rejected by the model files (its leading term would be an O(eps g q^2 / m_Z^2) Z-exchange piece).

    Attributes:
      name: the model's name (``zprime-jax models``).
      description: a one-line label.
      quark_charges: (Q'_u, Q'_d).
      neutrino_charges: Q'_nu for each entry of ``FLAVOURS``.
      kinetic_loop: add the charged-lepton loop's kinetic mixing.
      lepton_charges: (Q'_e, Q'_mu, Q'_tau).
      loop_scale_mev: renormalisation scale of a divergent loop (sum_l Q'_l != 0) [MeV].
      epsilon_per_coupling: tree-level kinetic mixing eps / g (dimensionless; 1 for the dark photon,
        whose coupling axis is then eps itself).
      sm: the SM coupling set.
    Models are also read from charge files (:mod:`.model_files`).
    """

    name: str
    description: str
    quark_charges: tuple[float, float]
    neutrino_charges: tuple[float, ...]
    kinetic_loop: bool = False
    sm: SMCouplings = TREE_LEVEL
    lepton_charges: tuple[float, float, float] = (0.0, 0.0, 0.0)
    loop_scale_mev: float | None = None
    epsilon_per_coupling: float = 0.0

    def __post_init__(self):
        if len(self.neutrino_charges) != N_FLAVOURS:
            raise InputError(f"model.neutrino_charges: need {N_FLAVOURS} entries "
                             f"({', '.join(FLAVOURS)}), got {len(self.neutrino_charges)}")
        divergent = sum(self.lepton_charges) != 0
        if self.kinetic_loop and divergent and self.loop_scale_mev is None:
            raise InputError("model.loop_scale_mev: the charged-lepton loop diverges (sum of Q'_e, Q'_mu, "
                             f"Q'_tau = {sum(self.lepton_charges):g}): give the renormalisation scale [MeV]")

    def photon_mixing(self, q_mev):
        """Kinetic mixing per unit g at |q| [MeV]: eps/g e + (2 alpha/pi) Pi(q) (tree level + loop)."""
        q = jnp.asarray(q_mev)
        mixing = self.epsilon_per_coupling * E_CHARGE * jnp.ones_like(q)
        if self.kinetic_loop:
            mixing = mixing + 2.0 * ALPHA_EM / math.pi * lepton_loop_integral(q, self.lepton_charges,
                                                                             self.loop_scale_mev)
        return mixing

    def nucleon_charges(self, q_mev):
        """Effective Z' charges (Q'_p, Q'_n) of the nucleons at |q| [MeV], per unit g.

        Direct coupling: Q'_p = 2Q'_u + Q'_d, Q'_n = Q'_u + 2Q'_d (constants), plus
        :meth:`photon_mixing` times the electric charge (proton 1, neutron 0).
        """
        q = jnp.asarray(q_mev)
        qu, qd = self.quark_charges
        qp, qn = (2.0 * qu + qd) * jnp.ones_like(q), (qu + 2.0 * qd) * jnp.ones_like(q)
        if self.kinetic_loop or self.epsilon_per_coupling:
            mixing = self.photon_mixing(q)
            qp, qn = qp + (2.0 * Q_UP + Q_DOWN) * mixing, qn + (Q_UP + 2.0 * Q_DOWN) * mixing
        return qp, qn

    def vector_shift(self, params: LightZPrime, q_mev, charge, electric_charge: float):
        """delta g_V of a fermion with effective Z' charge ``charge`` (per unit g, mixing included) and
        electric charge Q_f, per neutrino flavour: shape (N_FLAVOURS, *q.shape) (class docstring)."""
        q = jnp.asarray(q_mev)
        shape = (N_FLAVOURS,) + (1,) * q.ndim
        qnu = jnp.asarray(self.neutrino_charges).reshape(shape)
        shift = qnu * (charge * propagator_factor(params.coupling, params.mass_mev, q))[None]
        if self.epsilon_per_coupling and electric_charge:
            eps2 = (self.epsilon_per_coupling * params.coupling) ** 2
            m2 = params.mass_mev**2
            shift = shift + (2.0 * eps2 * self.sm.sin2_theta_w * electric_charge * m2 / (q**2 + m2))[None]
        return shift

    def nucleon_couplings(self, params: LightZPrime, q_mev):
        """Total (g_p, g_n) per flavour, shape (N_FLAVOURS, *q.shape) (eqs. 2.4-2.5).

        Args:
          params: :class:`LightZPrime` (scalars).
          q_mev: |q| [MeV], any shape.
        """
        q = jnp.asarray(q_mev)
        gp_sm, gn_sm = self.sm.nucleon()
        shape = (N_FLAVOURS,) + (1,) * q.ndim
        qp, qn = self.nucleon_charges(q)
        gp = gp_sm.reshape(shape) + self.vector_shift(params, q, qp, 2.0 * Q_UP + Q_DOWN)
        gn = gn_sm.reshape(shape) + self.vector_shift(params, q, qn, Q_UP + 2.0 * Q_DOWN)
        return gp, gn

    def electron_couplings(self, params=None):
        """Per-flavour SM (g_L, g_R) of nu-e scattering (:func:`sm_electron_couplings`); the Z' adds
        :meth:`electron_shift`, which depends on the recoil."""
        return sm_electron_couplings(self.sm)

    def electron_shift(self, params: LightZPrime, q_mev):
        """delta g_L = delta g_R = delta g_V^e / 2 of nu-e scattering at |q| = sqrt(2 m_e T_e) [MeV],
        per flavour, shape (N_FLAVOURS, *q.shape): a vector coupling shifts both chiralities alike
        (g_V = g_L + g_R in the normalisation of :func:`sm_electron_couplings`)."""
        q = jnp.asarray(q_mev)
        charge = self.lepton_charges[0] + ELECTRON_Q * self.photon_mixing(q)
        return 0.5 * self.vector_shift(params, q, charge, ELECTRON_Q)


def _model_files():
    from .model_files import load_model, preset_model_names

    return {name: load_model(name) for name in preset_model_names()}


MODELS = {"sm": StandardModel(), **_model_files()}       # the light models: physics/model_files/*.toml
MODELS.update({
    "lr": LeftRight(),
    "e6-chi": E6(E6_COS_BETA["chi"], name="e6-chi", description="E6 chi model (cos beta = 1)"),
    "e6-psi": E6(E6_COS_BETA["psi"], name="e6-psi",
                 description="E6 psi model (cos beta = 0; blind for CEvNS)"),
    "e6-eta": E6(E6_COS_BETA["eta"], name="e6-eta", description="E6 eta model (cos beta = sqrt(3/8))"),
    "e6": E6(None, name="e6", description="E6 model, cos beta from the parameters"),
})
LIGHT_MODELS = tuple(name for name, m in MODELS.items() if isinstance(m, VectorMediator))
HEAVY_MODELS = ("lr", "e6-chi", "e6-psi", "e6-eta", "e6")


def get_model(name: str, sin2_theta_w: float | None = None, sm_couplings: str | None = None):
    """The model registered under ``name``, or read from the model file at the path ``name`` (``.toml``).

    Args:
      sm_couplings: optionally another SM coupling set by name ("tree" or
        "radiative", :data:`SM_COUPLING_SETS`); default: the model's own
        (tree for the light models, radiative for the heavy ones).
      sin2_theta_w: optionally another s_W^2 for that set (for the
        radiative set this replaces s_Z^2, keeping rho, kappa, lambda).
    """
    from dataclasses import replace

    from .model_files import load_model, model_path

    if name in MODELS:
        model = MODELS[name]
    elif model_path(name) is not None:
        model = load_model(name)
    else:
        raise InputError(f"model: unknown model {name!r}; allowed: {sorted(MODELS)} or a model file (.toml)")
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
        raise InputError(f"mass_mev: must be finite and > 0, got {m.tolist()}")
    if not np.all(np.isfinite(g)) or np.any(g < 0):
        raise InputError(f"coupling: must be finite and >= 0, got {g.tolist()}")
