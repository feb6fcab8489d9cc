"""The analysis layer: likelihood forms, measurements, analyses and the one Delta chi^2.

Forms (frozen pytrees, each profiled over its own named nuisances, returning a
:class:`Profile` with its status as data):

* :class:`PoissonPulls` -- binned Poisson with signal and background pulls
  (light-mediator paper eq. 4.1; the fast certified and the robust profiler);
* :class:`Coherent2017` -- COHERENT 2017 total count (heavy-Z' paper eq. 21);
* :class:`Projection` -- total count against the SM (eq. 22, as printed or
  with the alternative variance);
* :class:`GaussianSM` -- binned Gaussian of nu-e scattering (eq. 23).

:func:`likelihood_for` reads the form from an experiment's spec;
:func:`measurement` / :func:`asimov_measurement` / :func:`observed_measurement`
pair it with data; :func:`delta_chi2` is what every consumer calls.
"""

from .combine import DeltaChi2, delta_chi2, joint_chi2, nuisance_names, profile_analysis, profile_signals
from .gaussian import GaussianSM
from .levels import CL90_1DOF, delta_chi2_for_cl
from .measurement import (
    Analysis,
    Measurement,
    as_analysis,
    asimov_measurement,
    declared_data,
    likelihood_for,
    measurement,
    observed_measurement,
)
from .poisson import PoissonPulls, poisson_deviance, profile_pulls, profile_pulls_fast
from .profile import Profile
from .totals import Coherent2017, Projection

__all__ = [
    "Analysis", "CL90_1DOF", "Coherent2017", "DeltaChi2", "GaussianSM", "Measurement", "PoissonPulls",
    "Profile", "Projection", "as_analysis", "asimov_measurement", "declared_data", "delta_chi2",
    "delta_chi2_for_cl", "joint_chi2", "likelihood_for", "measurement", "nuisance_names", "observed_measurement",
    "poisson_deviance", "profile_analysis", "profile_pulls", "profile_pulls_fast", "profile_signals",
]
