"""The two-parameter planes a model is studied in, and the map from plane coordinates to parameters.

* light models: (u, v) = (log10 m_Z' [MeV], log10 g) -> ``LightZPrime(10^u, 10^v)``;
  the SM is v -> -inf; the fixed axis of the counts polynomial is the mass, x = g^2.
* heavy models: (u, v) = (cos beta, log10 M_Z' [GeV]) -> ``HeavyZPrime(10^v, u)``;
  the SM is v -> +inf; the fixed axis is cos beta, x = gamma = (M_Z/M_Z')^2. For
  the named points (LR, E6 chi/psi/eta) cos beta is not a parameter (``free``).

Used by the best fit, the posterior and the contour tracer, so that each knows
nothing about model families.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..kernels.rates import model_family
from ..physics.models import HeavyZPrime, LightZPrime

# The ranges scanned, fitted and sampled when none is given (the papers' figure ranges), one copy each
HEAVY_MASS_RANGE_GEV = (10.0, 1.0e5)      # M_Z' [GeV]: 10 GeV - 100 TeV (heavy-Z' paper Figs. 1-5)
LIGHT_MASS_RANGE_MEV = (1.0, 1.0e3)       # m_Z' [MeV]: 1 MeV - 1 GeV (light-mediator paper Figs. 2-5)
COUPLING_RANGE = (1.0e-7, 1.0e-2)         # g_Z' of the best fit, the posterior prior and the traced contour


@dataclass(frozen=True)
class Plane:
    """A model's plane (hashable: a static jit argument)."""

    model: object
    heavy: bool

    @property
    def names(self) -> tuple[str, str]:
        return ("cos_beta", "log10_mass_gev") if self.heavy else ("log10_mass_mev", "log10_coupling")

    @property
    def free(self) -> tuple[bool, bool]:
        """Which coordinates the model depends on (cos beta only for the generic E6 model)."""
        if self.heavy:
            return (getattr(self.model, "cos_beta", 0.0) is None, True)
        return (True, True)

    @property
    def sm_v(self) -> float:
        """The v coordinate of the Standard Model (g -> 0, or M -> inf)."""
        return math.inf if self.heavy else -math.inf

    @property
    def default_mass_range(self) -> tuple[float, float]:
        """The mass range scanned when none is given: 10 GeV - 100 TeV (heavy) or 1 MeV - 1 GeV (light)."""
        return HEAVY_MASS_RANGE_GEV if self.heavy else LIGHT_MASS_RANGE_MEV

    def box(self, mass_range, coupling_range, cos_beta_range=(-1.0, 1.0)):
        """(lo, hi), each (2,): the plane coordinates' bounds for these ranges (mass in GeV or MeV)."""
        if self.heavy:
            return (np.array([cos_beta_range[0], math.log10(mass_range[0])]),
                    np.array([cos_beta_range[1], math.log10(mass_range[1])]))
        return np.log10([mass_range[0], coupling_range[0]]), np.log10([mass_range[1], coupling_range[1]])

    def axes(self, lo, hi, n_u: int, n_v: int):
        """Raster axes (us, vs) over the box; a single u = 0 where the model does not depend on u."""
        us = np.linspace(lo[0], hi[0], n_u) if self.free[0] else np.array([0.0])
        return us, np.linspace(lo[1], hi[1], n_v)

    def raster(self, analysis, us, vs, progress=None):
        """The analysis' absolute chi^2 at every (u, v) of the axes (a :class:`scan.Raster`)."""
        from .scan import raster

        return raster(analysis.absolute(), self.model, self.fixed_of_u(us), self.x_of_v(vs), progress=progress)

    def params(self, u, v):
        if self.heavy:
            return HeavyZPrime(10.0**v, u)
        return LightZPrime(10.0**u, 10.0**v)

    def x_of_v(self, v):
        """The counts-polynomial variable at v (g^2 or gamma)."""
        from .limits import M_Z_GEV

        return (M_Z_GEV / 10.0**v) ** 2 if self.heavy else 10.0 ** (2.0 * v)

    def fixed_of_u(self, u):
        """The fixed axis of the counts polynomial at u (the mass [MeV], or cos beta)."""
        return u if self.heavy else 10.0**u


def plane_for(model) -> Plane:
    """The plane of ``model`` (a light or heavy Z' model)."""
    family = model_family(model)
    if family == "sm":
        from ..errors import InputError

        raise InputError("model: the SM has no parameters to scan; choose a Z' model")
    return Plane(model, heavy=family == "heavy")
