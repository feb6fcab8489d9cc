"""Total-count chi^2 forms of the heavy-Z' paper: COHERENT 2017 (eq. 21) and projections (eq. 22).

Both are quadratic in their pulls, so the profile has a closed form and is
differentiable in everything. Data are counts per bin of the kernel (these
experiments have one bin: ``binning = "single"``); the forms use their sum.
The pulls are written as normalisation factors xi = 1 + a (nominal 1), as for
eq. 4.1, so that every form's nuisances mean the same thing.

* eq. (21), COHERENT CsI against its measurement (data N_meas):
      chi2 = min_{a1,a2} (N_meas - N_th (1 + a1) - B_0n (1 + a2))^2 / sigma_stat^2
                          + (a1/sigma_a1)^2 + (a2/sigma_a2)^2
           = r^2 / (sigma_stat^2 + N_th^2 sigma_a1^2 + B_0n^2 sigma_a2^2),
      r = N_meas - N_th - B_0n, sigma_stat^2 = N_meas + B_0n + 2 B_ss.
* eq. (22), projections (data: the SM total N_SM for Asimov, or observed counts N_d):
      chi2 = min_a (N_d - N_th (1 + a))^2 / V + (a/sigma_sys)^2 = (N_d - N_th)^2 / (V + N_th^2 sigma_sys^2),
  V = (1 + sigma_stat) N_d as printed (paper-notes 2), or with ``alternative``
  V = sigma_stat^2 N_d^2 + N_d. sigma_sys = 0 means no pull.

A luminosity ratio F'/F (Fig. 3) scales N_th, the data and the backgrounds alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import jax
import jax.numpy as jnp

from .profile import ClosedForm, Normalisations


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Coherent2017(Normalisations, ClosedForm):
    """Eq. (21): COHERENT CsI 2017 total count with signal and prompt-neutron pulls.

    Fields (arrays): ``b_0n`` prompt-neutron background, ``b_ss`` steady-state
    background (events), ``sigma_a1`` signal and ``sigma_a2`` neutron
    normalisation uncertainties, ``luminosity`` F'/F. The data are N_meas.
    """

    b_0n: jax.Array
    b_ss: jax.Array
    sigma_a1: jax.Array
    sigma_a2: jax.Array
    luminosity: jax.Array
    names: tuple[str, str] = field(default=("signal_norm", "neutron_norm"), metadata={"static": True})

    form: ClassVar[str] = "coherent-2017"
    equation: ClassVar[str] = "heavy-Z' paper eq. 21 (COHERENT 2017 total count, two pulls)"



    def sigmas(self):
        return jnp.stack([jnp.asarray(self.sigma_a1), jnp.asarray(self.sigma_a2)])

    def _parts(self, signal, data):
        f = self.luminosity
        n_meas = f * jnp.sum(data)
        n_th = f * jnp.sum(signal)
        b = f * self.b_0n
        var_stat = n_meas + b + 2.0 * f * self.b_ss
        return n_meas, n_th, b, var_stat

    def data_chi2(self, nuisances, signal, data):
        n_meas, n_th, b, var_stat = self._parts(signal, data)
        r = n_meas - n_th * nuisances[0] - b * nuisances[1]
        return r * r / var_stat

    def minimum(self, signal, data):
        n_meas, n_th, b, var_stat = self._parts(signal, data)
        r = n_meas - n_th - b
        s1, s2 = self.sigma_a1**2, self.sigma_a2**2
        denominator = var_stat + n_th * n_th * s1 + b * b * s2
        nuisances = jnp.stack([1.0 + s1 * n_th * r / denominator, 1.0 + s2 * b * r / denominator])
        return r * r / denominator, nuisances

    def asimov_data(self, sm_signal):
        """Asimov data for eq. 21: the SM prediction plus the prompt-neutron background, as one total."""
        return sm_signal + self.b_0n / sm_signal.shape[0]


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Projection(Normalisations, ClosedForm):
    """Eq. (22): total count against the SM (or observed) total with one signal pull.

    Fields (arrays): ``sigma_stat``, ``sigma_sys``, ``luminosity`` (F'/F);
    static ``alternative``: the variance sigma_stat^2 N^2 + N instead of the
    printed (1 + sigma_stat) N (paper-notes 2).
    """

    sigma_stat: jax.Array
    sigma_sys: jax.Array
    luminosity: jax.Array
    alternative: bool = field(default=False, metadata={"static": True})
    names: tuple[str] = field(default=("signal_norm",), metadata={"static": True})

    equation: ClassVar[str] = "heavy-Z' paper eq. 22 (total count against the SM, one pull)"

    @property
    def form(self) -> str:
        return "projection-alt" if self.alternative else "projection"



    def sigmas(self):
        return jnp.reshape(jnp.asarray(self.sigma_sys), (1,))

    def _parts(self, signal, data):
        f = self.luminosity
        n_d = f * jnp.sum(data)
        n_th = f * jnp.sum(signal)
        if self.alternative:
            var = (self.sigma_stat * n_d) ** 2 + n_d
        else:
            var = (1.0 + self.sigma_stat) * n_d
        return n_d, n_th, var

    def data_chi2(self, nuisances, signal, data):
        n_d, n_th, var = self._parts(signal, data)
        r = n_d - n_th * nuisances[0]
        return r * r / var

    def minimum(self, signal, data):
        n_d, n_th, var = self._parts(signal, data)
        r = n_d - n_th
        s2 = self.sigma_sys**2
        denominator = var + n_th * n_th * s2
        return r * r / denominator, jnp.reshape(1.0 + s2 * n_th * r / denominator, (1,))

    def asimov_data(self, sm_signal):
        """Asimov data for eq. 22: the SM prediction itself."""
        return sm_signal

    def with_projection_uncertainty(self, sigma):
        """sigma_stat = sigma_sys = ``sigma`` (Figs. 2 and 6; 0 allowed: no pull, variance N)."""
        s = jnp.asarray(sigma, dtype=jnp.result_type(float))
        return dataclasses.replace(self, sigma_stat=s, sigma_sys=s)
