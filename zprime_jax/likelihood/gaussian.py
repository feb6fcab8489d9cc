"""Binned Gaussian chi^2 of nu-e scattering (heavy-Z' paper eq. 23).

    chi2 = sum_i (N_d,i - N_th,i)^2 / N_d,i   over the bins with events,

with N_d the data: the SM spectrum for a projection (as printed, delta N_i =
sqrt(N_SM,i)), or observed counts (then their own Poisson error). No pull.
A luminosity ratio F'/F scales both counts. Bins without data are left out
with a safe denominator, so that gradients stay finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from .profile import ClosedForm


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class GaussianSM(ClosedForm):
    """Eq. (23). Field: ``luminosity`` (F'/F, array)."""

    luminosity: jax.Array

    form: ClassVar[str] = "gaussian-sm"
    equation: ClassVar[str] = "heavy-Z' paper eq. 23 (binned Gaussian, delta N = sqrt(N), no pull)"
    nuisance_names: ClassVar[tuple[str, ...]] = ()

    def nominal(self):
        return jnp.zeros(0, dtype=jnp.result_type(self.luminosity))

    def sigmas(self):
        return jnp.zeros(0, dtype=jnp.result_type(self.luminosity))

    def data_chi2(self, nuisances, signal, data):
        ok = data > 0
        n_d = self.luminosity * data
        r = n_d - self.luminosity * signal
        safe = jnp.where(ok, n_d, 1.0)
        return jnp.sum(jnp.where(ok, r * r / safe, 0.0))

    def minimum(self, signal, data):
        return self.data_chi2(None, signal, data), jnp.zeros(0, dtype=jnp.result_type(signal))

    def asimov_data(self, sm_signal):
        """Asimov data for eq. 23: the SM spectrum."""
        return sm_signal
