"""Heavy Z' (Left-Right, E6): mass limits, Delta chi^2(M) profiles and the (cos beta, M) plane.

Everything here is the generic analysis layer applied to heavy models: the
measurements are :class:`likelihood.Measurement` s (eq. 21 for COHERENT CsI
against its 142 events, eq. 22 for projections, eq. 23 for nu-e, or eq. 4.1
for any binned spectrum), the counts are the gamma polynomial
(:func:`kernels.rates.counts_polynomial`), the limit is the one first-crossing
search (:func:`limits.mass_limits`) and the plane is a :func:`scan.raster`.

Mass limit at fixed beta: Delta chi^2(M) = chi2(M) - min_M chi2(M) (the
minimum over the scanned masses and M -> inf); the limit is the largest mass
with Delta chi^2 >= level, ``None`` where the level is never reached (no
sensitivity, e.g. the psi model in CEvNS).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..kernels.rates import counts_polynomial
from ..likelihood import CL90_1DOF, Analysis, as_analysis, likelihood_for
from ..likelihood import measurement as _measurement
from ..likelihood.combine import profile_analysis
from .implicit import implicit_root
from .limits import M_Z_GEV, mass_limits
from .planes import HEAVY_MASS_RANGE_GEV
from .scan import raster, signal_at

__all__ = ["M_Z_GEV", "chi2_of_mass", "delta_chi2_plane", "mass_limit", "mass_limit_gradient", "measurement",
           "with_luminosity", "with_uncertainty"]


def _default_model():
    from ..physics.models import MODELS

    return MODELS["lr"]          # its SM set (radiative) is the default of every heavy model


def measurement(kernel, form: str | None = None, sigma_stat: float | None = None, sigma_sys: float | None = None,
                luminosity_ratio: float = 1.0, model=None, data=None):
    """The measurement of an experiment for a heavy-Z' analysis.

    ``form``: the spec's own by default (COHERENT CsI: eq. 21 with its 142
    events; other CEvNS presets: eq. 22; nu-e: eq. 23), or "projection" /
    "projection-alt". ``sigma_stat``/``sigma_sys``: override the eq. 22
    uncertainties. ``model``: the heavy model to be tested (its own SM coupling
    set defines the Asimov data; default the radiatively corrected set of
    eq. 3). ``data``: observed counts per bin instead.
    """
    form_obj = likelihood_for(kernel, form=form, sigma_stat=sigma_stat, sigma_sys=sigma_sys,
                              luminosity_ratio=luminosity_ratio)
    return _measurement(kernel, _default_model() if model is None else model, data=data, likelihood=form_obj)


def _check_cos_beta(cos_beta) -> float:
    c = float(cos_beta)
    if not (math.isfinite(c) and -1.0 <= c <= 1.0):
        raise InputError(f"cos_beta: must be finite and in [-1, 1], got {cos_beta!r}")
    return c


def mass_limit(measurements, model, cos_beta=0.0, level: float = CL90_1DOF, mass_range_gev=HEAVY_MASS_RANGE_GEV,
               n_coarse: int = 241, bisections: int = 50) -> dict:
    """90% CL (by default) lower limit on M_Z' [GeV] at fixed cos beta.

    Returns {"mass_limit_gev": float or None, "above_range": bool (excluded at
    the highest mass scanned), "status": str, "chi2_min": float (the minimum
    subtracted), "masses_gev", "delta_chi2"} (the coarse profile, ascending mass).
    """
    res = mass_limits(measurements, model, [_check_cos_beta(cos_beta)], level=level, mass_range_gev=mass_range_gev,
                      n_coarse=n_coarse, bisections=bisections)
    t = float(res.t[0])
    refs = float(sum(np.asarray(m.chi2_ref) for m in as_analysis(measurements)))
    return {"mass_limit_gev": 10.0**t if math.isfinite(t) else None, "above_range": bool(res.excluded_at_start[0]),
            "status": res.status[0], "chi2_min": float(res.chi2_offset[0]) + refs,
            "masses_gev": 10.0 ** res.coarse_t[::-1], "delta_chi2": np.asarray(res.coarse_delta_chi2[0][::-1])}


def _absolute_chi2(analysis: Analysis, model, cos_beta, gamma):
    coeffs = [counts_polynomial(m.kernel, model, cos_beta) for m in analysis]
    return profile_analysis([signal_at(c, gamma) for c in coeffs], analysis).chi2


_absolute_chi2_jit = jax.jit(_absolute_chi2, static_argnums=1)


def chi2_of_mass(masses_gev, measurements, model, cos_beta=0.0):
    """Summed chi^2 (absolute, profiled) at each mass [GeV], at fixed cos beta. jit/vmap/grad friendly."""
    analysis = as_analysis(measurements)
    gammas = (M_Z_GEV / jnp.asarray(masses_gev)) ** 2
    return jax.vmap(lambda g: _absolute_chi2(analysis, model, cos_beta, g))(gammas)


def absolute_plane(measurements, model, cos_betas, masses_gev, progress=None, part: slice | None = None):
    """The absolute profiled chi^2 on a (cos beta, M [GeV]) grid: a sharded :class:`scan.Raster`
    (``part``: only these cos beta rows, as :func:`scan.raster`)."""
    analysis = as_analysis(measurements).absolute()
    gammas = (M_Z_GEV / np.asarray(masses_gev, dtype=float)) ** 2
    return raster(analysis, model, np.asarray(cos_betas, dtype=float), gammas, progress=progress, part=part)


def relative_to_minimum(chi2, measurements, model):
    """Delta chi^2 of an :func:`absolute_plane` relative to its minimum, the SM (M -> inf) included."""
    sm = float(_absolute_chi2_jit(as_analysis(measurements).absolute(), model, 0.0, 0.0))
    return chi2 - min(float(np.min(chi2)), sm)


def delta_chi2_plane(measurements, model, cos_betas, masses_gev, progress=None):
    """Delta chi^2 on a (cos beta, M [GeV]) grid relative to its minimum (the SM included): a sharded raster.

    Returns an array (len(cos_betas), len(masses_gev)).
    """
    r = absolute_plane(measurements, model, cos_betas, masses_gev, progress=progress)
    return relative_to_minimum(r.delta_chi2, measurements, model)


def with_uncertainty(measurements, sigma: float) -> Analysis:
    """Projections with sigma_stat = sigma_sys = ``sigma`` (Figs. 2, 6); the other forms unchanged.

    ``sigma = 0`` is allowed: eq. (22) then has no pull and the variance N_SM.
    """
    if not (math.isfinite(sigma) and sigma >= 0):
        raise InputError(f"sigma: must be finite and >= 0, got {sigma}")
    return Analysis(tuple(dataclasses.replace(m, likelihood=m.likelihood.with_projection_uncertainty(sigma))
                          for m in as_analysis(measurements)))


def with_luminosity(measurements, ratio: float) -> Analysis:
    """Measurements with the luminosity scaled by F'/F = ``ratio`` (Fig. 3)."""
    if not (math.isfinite(ratio) and ratio > 0):
        raise InputError(f"luminosity_ratio: must be finite and > 0, got {ratio}")
    return Analysis(tuple(dataclasses.replace(m, likelihood=m.likelihood.with_luminosity(ratio))
                          for m in as_analysis(measurements)))


@dataclasses.dataclass(frozen=True)
class _MassLevel:
    """f(t, analysis) = Delta chi^2(M = 10^t) - level, the minimum taken over a fixed mass scan (static)."""

    model: object
    cos_beta: float
    level: float
    log_range: tuple[float, float]
    n_min: int

    def __call__(self, t, analysis):
        gammas = (M_Z_GEV / 10.0 ** jnp.linspace(*self.log_range, self.n_min)) ** 2
        scan = jax.vmap(lambda g: _absolute_chi2(analysis, self.model, self.cos_beta, g))(gammas)
        chi2_min = jnp.minimum(jnp.min(scan), _absolute_chi2(analysis, self.model, self.cos_beta, 0.0))
        return _absolute_chi2(analysis, self.model, self.cos_beta, (M_Z_GEV / 10.0**t) ** 2) - chi2_min - self.level


def mass_limit_gradient(measurements, model, cos_beta, mass_limit_gev: float, mass_range_gev=HEAVY_MASS_RANGE_GEV,
                        n_min: int = 241, level: float = CL90_1DOF):
    """dM*/d(measurement inputs) [GeV per unit] by the implicit-limit rule (:mod:`.implicit`).

    For every array field x of every measurement (the likelihood forms'
    sigma_stat, sigma_sys, luminosity, ...; the data; the kernels). The minimum
    over the mass scan and the SM is differentiated through the minimising
    point (envelope theorem). Returns an :class:`Analysis`-shaped pytree.
    """
    analysis = as_analysis(measurements)
    f = _MassLevel(model, _check_cos_beta(cos_beta), float(level),
                   (math.log10(mass_range_gev[0]), math.log10(mass_range_gev[1])), int(n_min))
    t_star = jnp.log10(float(mass_limit_gev))

    def limit(a):
        return 10.0 ** implicit_root(f, t_star, a)

    return jax.grad(limit)(analysis)


