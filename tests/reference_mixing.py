"""Independent reference for photon-Z' kinetic mixing: the exact tree-level neutral-boson exchange.

Written without importing ``zprime_jax``. The gauge fields (B, W3, X) with the kinetic matrix
K = [[1, 0, -eps_hat], [0, 1, 0], [-eps_hat, 0, 1]] (eps_hat = eps / c_W: the hypercharge mixing of a
photon mixing eps; the sign makes X couple to +eps e Q_f at leading order, the package's convention),
the mass matrix of the Higgs vev, (v^2/4) u u^T with u = (-g', g, 0), plus m_X^2 on
X, and the fermion couplings c_f = (g' Y_f, g T3_f, g_X Q'_f). The neutrino-fermion amplitude of the
left-handed neutrino and the fermion's vector current at Euclidean |q|^2 is

    A_f(q) = c_nu^T (q^2 K + M^2)^(-1) c_f^V,

with no expansion in eps or m_X / m_Z. In the normalisation of g_V^f = T3 - 2 Q s_W^2,
A_f^SM(q -> 0) = sqrt2 G_F g_V^f, so delta g_V^f = (A_f - A_f^SM) / sqrt2 G_F.

The m_X -> 0 limit of the O(eps^2) term is the change of the inputs (g, g', v) that makes a massless
dark photon unobservable; the physical effect is what remains (:func:`delta_amplitude`). The inputs here
(alpha(0), s_W^2, m_Z) give the tree-level sqrt2 G_F = g_Z^2 / (4 m_Z^2) = ``SQRT2_GF_TREE``, 8% below the
measured one: the scheme ambiguity of the eps^2 term (docs/conventions.md).
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 1.0 / 137.035999084
M_Z = 91187.6                      # MeV
S2W = 0.23857                      # the package's tree-level s_W^2 (paper-notes 3), typed in

E = math.sqrt(4 * math.pi * ALPHA)
SW, CW = math.sqrt(S2W), math.sqrt(1 - S2W)
G, GP = E / SW, E / CW
V = 2 * M_Z / math.sqrt(G**2 + GP**2)
SQRT2_GF_TREE = (G**2 + GP**2) / (4 * M_Z**2)  # tree level: g_Z^2 / (4 m_Z^2)

FERMIONS = {"u": (2 / 3, 0.5), "d": (-1 / 3, -0.5), "e": (-1.0, -0.5)}    # (Q, T3 of the left-handed one)


def amplitude(f, q, mass, g_x=0.0, eps=0.0, q_nu=0.0, q_f=0.0):
    """A_f(q) [MeV^-2] of the module docstring; charges q_nu, q_f of X in units of g_x."""
    eps_hat = eps / CW
    kinetic = np.array([[1, 0, -eps_hat], [0, 1, 0], [-eps_hat, 0, 1.0]])
    u = np.array([-GP, G, 0.0])
    mass2 = V**2 / 4 * np.outer(u, u) + np.diag([0.0, 0.0, mass**2])
    propagator = np.linalg.inv(q**2 * kinetic + mass2)
    c_nu = np.array([GP * -0.5, G * 0.5, g_x * q_nu])                  # nu_L: Y = -1/2, T3 = 1/2
    charge, t3 = FERMIONS[f]
    y_left, y_right = charge - t3, charge
    c_f = np.array([GP * (y_left + y_right) / 2, G * t3 / 2, g_x * q_f])  # vector part: (c_L + c_R) / 2
    return c_nu @ propagator @ c_f


def delta_amplitude(f, q, mass, g_x=0.0, eps=0.0, q_nu=0.0, q_f=0.0):
    """The physical change of A_f at |q| [MeV^-2]: the exact amplitude minus the SM, less the massless limit
    of the pure-eps^2 term (module docstring)."""
    total = amplitude(f, q, mass, g_x, eps, q_nu, q_f) - amplitude(f, q, mass)
    renormalisation = amplitude(f, q, 1e-6 * q, 0.0, eps) - amplitude(f, q, 1e-6 * q)
    return total - renormalisation
