"""Radioactive line sources: 51Cr (heavy-Z' paper sec. 3.2, eqs. 18-19).

The 51Cr constants (flux per MCi at 1 m, mean life, the two lines and their
fractions), the time-averaged activity of a decaying source over an exposure
(eq. 18) and the fluence averaged over a detector volume
(:func:`line_source_fluence_per_cm2`). Re-exported by
:mod:`zprime_jax.physics.fluxes`.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..physics.constants import CM_PER_M, SECONDS_PER_DAY

# 1 MCi emitting one neutrino per decay, isotropically, seen at 1 m:
# 3.7e16 / (4 pi) = 2.944e15 nu / (m^2 s); the paper rounds to 2.94e15.
CR51_FLUX_PER_MCI_AT_1M = 2.94e15     # nu / (MCi m^2 s) (heavy-Z' paper sec. 3.2)
CR51_MEAN_LIFE_DAYS = 39.96           # tau (below eq. 18)
CR51_LINES_KEV = (430.0, 750.0)       # E_nu1, E_nu2
CR51_LINE_FRACTIONS = (0.10, 0.90)    # alpha_1, alpha_2


def time_averaged_activity(initial_activity, exposure_days, mean_life_days: float = CR51_MEAN_LIFE_DAYS):
    """<R> = tau R0 / dt (1 - exp(-dt/tau)) (heavy-Z' paper eq. 18), in the unit of ``initial_activity``.

    The mean of R0 exp(-t/tau) over 0 <= t <= dt (tested against quadrature).
    """
    x = jnp.asarray(exposure_days) / mean_life_days
    return initial_activity * -jnp.expm1(-x) / x


def line_source_fluence_per_cm2(initial_activity_mci, exposure_days, mean_inverse_square_m2,
                                flux_per_mci_at_1m: float = CR51_FLUX_PER_MCI_AT_1M,
                                mean_life_days: float = CR51_MEAN_LIFE_DAYS):
    """Neutrinos per cm^2 over the exposure, averaged over a detector volume [1/cm^2].

    Phi_avg dt = phi0 (1 m^2 <1/r^2>) <R> dt (heavy-Z' paper below eq. 19):
    ``mean_inverse_square_m2`` is <1/r^2> over the fiducial volume [1/m^2]
    (eq. 20 for a cylinder: :func:`detectors.cylinder_mean_inverse_square_m2`).
    """
    activity = time_averaged_activity(initial_activity_mci, exposure_days, mean_life_days)
    per_m2 = flux_per_mci_at_1m * mean_inverse_square_m2 * activity * exposure_days * SECONDS_PER_DAY
    return per_m2 / CM_PER_M**2
