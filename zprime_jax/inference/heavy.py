"""Heavy Z' (Left-Right, E6): total-count chi^2 of the heavy-Z' paper and mass limits.

Statistics (heavy-Z' paper sec. 4), both minimised over their pulls exactly --
they are quadratic in the pulls, so the minimum has a closed form and is
differentiable in everything:

* eq. (21), COHERENT CsI against its measurement:
      chi2 = min_{a1,a2} (N_meas - N_th (1 + a1) - B_0n (1 + a2))^2 / sigma_stat^2
                          + (a1/sigma_a1)^2 + (a2/sigma_a2)^2
           = r^2 / (sigma_stat^2 + N_th^2 sigma_a1^2 + B_0n^2 sigma_a2^2),
      r = N_meas - N_th - B_0n, sigma_stat^2 = N_meas + B_0n + 2 B_ss.
* eq. (22), projections (Asimov data N_SM):
      chi2 = min_a (N_SM - N_th (1 + a))^2 / ((1 + sigma_stat) N_SM) + (a/sigma_sys)^2
           = (N_SM - N_th)^2 / ((1 + sigma_stat) N_SM + N_th^2 sigma_sys^2),
  implemented as printed (paper-notes 2); ``form="projection-alt"`` uses the
  variance sigma_stat^2 N_SM^2 + N_SM instead.

* eq. (23), nu-e scattering (:class:`BinnedMeasurement`, ``form="gaussian-sm"``):
      chi2 = sum_i (N_SM,i - N_th,i)^2 / N_SM,i   over the bins with events,
  no pull (as printed). A combined analysis (sec. 4.3) sums the chi^2 of
  its experiments, each with its own pulls.

A luminosity ratio F'/F scales N_SM, N_th (and N_meas, B) alike (Fig. 3).

Counts: for a heavy Z' every coupling is linear in gamma = (M_Z/M_Z')^2
(eqs. 8-10, 12-15), so at fixed beta the counts are a quadratic polynomial in
gamma, N(gamma) = c0 + c1 gamma + c2 gamma^2 (:func:`counts_gamma_polynomial`):
three nodal sums per beta serve every mass of a scan.

Mass limit at fixed beta: Delta chi^2(M) = chi2(M) - min_M chi2(M) (the
minimum taken over the scanned masses and M -> inf); the limit is the largest
mass with Delta chi^2 >= level (the first crossing coming down from high
masses), refined by bisection in log M. ``None`` where the level is never
reached (no sensitivity, e.g. the psi model in CEvNS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..kernels import electron
from ..kernels.electron import ElectronKernel
from ..kernels.rates import RateKernel
from ..physics.constants import M_Z_MEV, MEV_PER_GEV
from ..physics.models import HeavyZPrime

CHI2_FORMS = ("coherent-2017", "projection", "projection-alt")     # total-count forms (CEvNS)
PROJECTION_FORMS = ("projection", "projection-alt")
M_Z_GEV = M_Z_MEV / MEV_PER_GEV
# COHERENT 2017 CsI (heavy-Z' paper below eq. 21; Akimov et al., Science 357 (2017) 1123)
COHERENT_2017 = {"n_meas": 142.0, "b_0n": 6.0, "b_ss": 405.0, "sigma_a1": 0.28, "sigma_a2": 0.25}
PROJECTION_DEFAULTS = {"sigma_stat": 0.2, "sigma_sys": 0.2}   # below eq. 22


@dataclass(frozen=True)
class TotalCountMeasurement:
    """One experiment in a heavy-Z' analysis: kernel, reference counts, chi^2 settings.

    Array fields (differentiable, vmappable): ``n_obs`` (N_meas for eq. 21;
    unused by eq. 22, whose data are the SM total of the model's own
    coupling set, c0 of :func:`counts_gamma_polynomial`), ``sigma_1``
    (sigma_a1 | sigma_sys), ``sigma_2`` (sigma_a2 | sigma_stat), ``b_0n``,
    ``b_ss``, ``luminosity`` (F'/F). Static: ``form``.
    """

    kernel: RateKernel
    n_obs: jax.Array
    sigma_1: jax.Array
    sigma_2: jax.Array
    b_0n: jax.Array
    b_ss: jax.Array
    luminosity: jax.Array
    form: str = "projection"


jax.tree_util.register_dataclass(
    TotalCountMeasurement,
    data_fields=["kernel", "n_obs", "sigma_1", "sigma_2", "b_0n", "b_ss", "luminosity"],
    meta_fields=["form"])


@dataclass(frozen=True)
class BinnedMeasurement:
    """A nu-e experiment in a heavy-Z' analysis: eq. (23) on the binned spectrum.

    The data are the SM spectrum of the model's own coupling set (c0 of
    :func:`counts_gamma_polynomial`), delta N_i = sqrt(N_SM,i), no pull.
    ``luminosity``: F'/F (array). Static: ``form`` ("gaussian-sm").
    """

    kernel: ElectronKernel
    luminosity: jax.Array
    form: str = "gaussian-sm"


jax.tree_util.register_dataclass(BinnedMeasurement, data_fields=["kernel", "luminosity"], meta_fields=["form"])


def measurement(kernel: RateKernel | ElectronKernel, form: str | None = None, sigma_stat: float | None = None,
                sigma_sys: float | None = None, luminosity_ratio: float = 1.0):
    """Build the measurement of an experiment for the heavy-Z' chi^2.

    CEvNS (:class:`TotalCountMeasurement`): ``form`` defaults to the kernel's
    own (``kernel.chi2_form`` when the preset declares one; else
    ``"projection"``). ``sigma_stat``/``sigma_sys`` override the projection
    uncertainties (eq. 22); for eq. 21 the published COHERENT numbers are used.
    nu-e (:class:`BinnedMeasurement`, an :class:`electron.ElectronKernel`):
    eq. (23), which has no settings; ``form`` may only be "gaussian-sm".
    """
    if not luminosity_ratio > 0:
        raise ValueError(f"luminosity_ratio: must be > 0, got {luminosity_ratio}")
    if isinstance(kernel, ElectronKernel):
        if form not in (None, "gaussian-sm"):
            raise ValueError(f"chi2: {kernel.name} is a nu-e experiment; its chi^2 is eq. 23 ('gaussian-sm'), "
                             f"got {form!r}")
        if sigma_stat is not None or sigma_sys is not None:
            raise ValueError(f"sigma_stat, sigma_sys: {kernel.name} uses eq. 23 (delta N = sqrt(N_SM)), "
                             "which has no such uncertainties")
        return BinnedMeasurement(kernel, jnp.asarray(float(luminosity_ratio)))
    form = form or getattr(kernel, "chi2_form", None) or "projection"
    if form == "pulls-poisson":
        form = "projection"
    if form not in CHI2_FORMS:
        raise ValueError(f"chi2: unknown form {form!r}; allowed: {CHI2_FORMS}")
    f = jnp.asarray(float(luminosity_ratio))
    kernel_form = getattr(kernel, "chi2_form", None)

    def setting(name, default):
        """The preset's own number when it declares this chi^2 form, else the paper's default."""
        if kernel_form == form:
            try:
                return float(kernel.chi2_param(name))
            except KeyError:
                pass
        return default

    if form == "coherent-2017":
        c = {k: setting(k, v) for k, v in COHERENT_2017.items()}
        return TotalCountMeasurement(kernel, jnp.asarray(c["n_meas"]), jnp.asarray(c["sigma_a1"]),
                                     jnp.asarray(c["sigma_a2"]), jnp.asarray(c["b_0n"]),
                                     jnp.asarray(c["b_ss"]), f, form)
    stat = setting("sigma_stat", PROJECTION_DEFAULTS["sigma_stat"]) if sigma_stat is None else sigma_stat
    sys_ = setting("sigma_sys", PROJECTION_DEFAULTS["sigma_sys"]) if sigma_sys is None else sigma_sys
    if not (stat >= 0 and sys_ >= 0):
        raise ValueError(f"sigma_stat, sigma_sys: must be >= 0, got {stat}, {sys_}")
    return TotalCountMeasurement(kernel, jnp.asarray(jnp.nan), jnp.asarray(float(sys_)), jnp.asarray(float(stat)),
                                 jnp.asarray(0.0), jnp.asarray(0.0), f, form)


def chi2_total(n_theory, n_sm, m: TotalCountMeasurement):
    """Profiled chi^2 of eq. (21) or (22) for the predicted total ``n_theory`` (closed form).

    ``n_sm``: the SM total (the Asimov data of eq. 22; unused by eq. 21).
    """
    f = m.luminosity
    n_th = f * n_theory
    if m.form == "coherent-2017":
        r = f * (m.n_obs - m.b_0n) - n_th
        var = f * (m.n_obs + m.b_0n + 2.0 * m.b_ss) + (n_th * m.sigma_1) ** 2 + (f * m.b_0n * m.sigma_2) ** 2
        return r * r / var
    n_sm = f * n_sm
    r = n_sm - n_th
    if m.form == "projection":
        var = (1.0 + m.sigma_2) * n_sm
    else:  # projection-alt
        var = (m.sigma_2 * n_sm) ** 2 + n_sm
    return r * r / (var + (n_th * m.sigma_1) ** 2)


def counts_gamma_polynomial(kernel: RateKernel | ElectronKernel, model, cos_beta=0.0):
    """(c0, c1, c2): counts N(gamma) = c0 + c1 gamma + c2 gamma^2 at fixed beta.

    CEvNS: the total count, shape (3,). nu-e: per bin, shape (3, B)
    (:func:`electron.counts_gamma_polynomial`). Exact for the Left-Right and
    E6 models (couplings linear in gamma); tested against :func:`rates.expected_counts`.
    """
    if isinstance(kernel, ElectronKernel):
        return electron.counts_gamma_polynomial(kernel, model, cos_beta)
    idx = jnp.asarray(kernel.flavour_index)

    def charge(mass_gev):
        gp, gn = model.nucleon_couplings(HeavyZPrime(mass_gev, cos_beta), kernel.q_mev)
        return kernel.form_factor * (kernel.Z[:, None] * gp[idx] + kernel.N[:, None] * gn[idx])

    a = charge(jnp.inf)              # gamma = 0: the SM
    c = charge(M_Z_GEV) - a          # gamma = 1
    stacked = jnp.stack([a * a, 2.0 * a * c, c * c])                      # (3, F, T, K)
    per_node = jnp.sum(kernel.weight[None] * stacked, axis=1)             # (3, T, K)
    return jnp.einsum("tbk,ptk->p", kernel.response, per_node)


def _gamma(mass_gev):
    return (M_Z_GEV / mass_gev) ** 2


def _chi2_from_poly(coeffs, measurements, gamma):
    """Summed chi^2 of the measurements at gamma, from their gamma-polynomial coefficients."""
    total = 0.0
    for c, m in zip(coeffs, measurements):
        n_theory = c[0] + gamma * (c[1] + gamma * c[2])
        if m.form == "gaussian-sm":
            total = total + electron.chi2_gaussian_sm(n_theory, c[0], m.kernel.has_events, m.luminosity)
        else:
            total = total + chi2_total(n_theory, c[0], m)
    return total


def chi2_of_mass(masses_gev, measurements, model, cos_beta=0.0):
    """Summed chi^2 at each mass [GeV] (array), at fixed cos beta. jit/vmap/grad friendly."""
    coeffs = [counts_gamma_polynomial(m.kernel, model, cos_beta) for m in measurements]
    return jax.vmap(lambda mg: _chi2_from_poly(coeffs, measurements, _gamma(mg)))(jnp.asarray(masses_gev))


@partial(jax.jit, static_argnums=(1, 3, 4, 5))
def _mass_limit(measurements, model, cos_beta, n_coarse, bisections, log_range, level):
    lo, hi = log_range
    log_m = jnp.linspace(lo, hi, n_coarse)
    coeffs = [counts_gamma_polynomial(m.kernel, model, cos_beta) for m in measurements]

    def chi2(lm):
        return _chi2_from_poly(coeffs, measurements, _gamma(10.0**lm))

    values = jax.vmap(chi2)(log_m)
    chi2_min = jnp.minimum(jnp.min(values), _chi2_from_poly(coeffs, measurements, 0.0))
    delta = values - chi2_min
    above = delta >= level
    found = jnp.any(above)
    # largest mass above the level: last True index
    idx = n_coarse - 1 - jnp.argmax(above[::-1])
    a, b = log_m[idx], log_m[jnp.minimum(idx + 1, n_coarse - 1)]

    def bisect(_, ab):
        a, b = ab
        mid = 0.5 * (a + b)
        up = chi2(mid) - chi2_min >= level
        return jnp.where(up, mid, a), jnp.where(up, b, mid)

    a, b = jax.lax.fori_loop(0, bisections, bisect, (a, b))
    at_top = found & (idx == n_coarse - 1)
    limit = jnp.where(found & ~at_top, 10.0 ** (0.5 * (a + b)), jnp.nan)
    return limit, at_top, chi2_min, delta


def mass_limit(measurements, model, cos_beta=0.0, level: float = 2.705543454095404,
               mass_range_gev=(10.0, 1.0e5), n_coarse: int = 241, bisections: int = 50) -> dict:
    """90% CL (by default) lower limit on M_Z' [GeV] at fixed cos beta.

    Returns {"mass_limit_gev": float or None, "above_range": bool,
    "chi2_min": float, "masses_gev", "delta_chi2"} (the coarse profile).
    """
    if not 0 < mass_range_gev[0] < mass_range_gev[1]:
        raise ValueError(f"mass_range_gev: need 0 < LO < HI, got {mass_range_gev}")
    log_range = (math.log10(mass_range_gev[0]), math.log10(mass_range_gev[1]))
    limit, at_top, chi2_min, delta = _mass_limit(tuple(measurements), model, jnp.asarray(float(cos_beta)),
                                                 n_coarse, bisections, log_range, float(level))
    limit = float(limit)
    return {"mass_limit_gev": None if not np.isfinite(limit) else limit, "above_range": bool(at_top),
            "chi2_min": float(chi2_min), "masses_gev": np.logspace(*log_range, n_coarse),
            "delta_chi2": np.asarray(delta)}


def mass_limit_gradient(measurements, model, cos_beta, mass_limit_gev: float,
                        mass_range_gev=(10.0, 1.0e5), n_min: int = 241):
    """d M*/d(measurement inputs) by implicit differentiation of Delta chi^2(M*) = level.

    dM*/dx = -(d Delta chi^2/dx) / (d Delta chi^2/dM) at M = M*, for every
    array field x of every measurement (sigma_1, sigma_2, luminosity, ...).
    chi2_min (the minimum over the mass scan and the SM) is differentiated
    through the minimising point (envelope theorem).
    Returns a tuple of :class:`TotalCountMeasurement`-shaped pytrees of derivatives [GeV per unit].
    """
    log_m = jnp.linspace(math.log10(mass_range_gev[0]), math.log10(mass_range_gev[1]), n_min)

    def delta(mass, ms):
        coeffs = [counts_gamma_polynomial(m.kernel, model, cos_beta) for m in ms]
        scan = jax.vmap(lambda lm: _chi2_from_poly(coeffs, ms, _gamma(10.0**lm)))(log_m)
        chi2_min = jnp.minimum(jnp.min(scan), _chi2_from_poly(coeffs, ms, 0.0))
        return _chi2_from_poly(coeffs, ms, _gamma(mass)) - chi2_min

    ms = tuple(measurements)
    d_mass, d_ms = jax.grad(delta, argnums=(0, 1))(jnp.asarray(float(mass_limit_gev)), ms)
    return jax.tree_util.tree_map(lambda g: -g / d_mass, d_ms)


def with_uncertainty(measurements, sigma: float):
    """Projection measurements with sigma_stat = sigma_sys = ``sigma`` (Figs. 2, 6); eqs. 21 and 23 unchanged.

    ``sigma = 0`` is allowed: eq. (22) then has no pull and the variance N_SM.
    """
    if not sigma >= 0:
        raise ValueError(f"sigma: must be >= 0, got {sigma}")
    return tuple(replace(m, sigma_1=jnp.asarray(float(sigma)), sigma_2=jnp.asarray(float(sigma)))
                 if m.form in PROJECTION_FORMS else m for m in measurements)


def with_luminosity(measurements, ratio: float):
    """Measurements with the luminosity scaled by F'/F = ``ratio`` (Fig. 3)."""
    return tuple(replace(m, luminosity=jnp.asarray(float(ratio))) for m in measurements)


@partial(jax.jit, static_argnums=(1,))
def delta_chi2_plane(measurements, model, cos_betas, masses_gev):
    """Delta chi^2 on a (cos beta, M) grid, relative to its minimum (incl. the SM); one vmapped call.

    Returns an array (len(cos_betas), len(masses_gev)).
    """
    def row(cb):
        coeffs = [counts_gamma_polynomial(m.kernel, model, cb) for m in measurements]
        return jax.vmap(lambda mg: _chi2_from_poly(coeffs, measurements, _gamma(mg)))(masses_gev)

    chi2 = jax.vmap(row)(cos_betas)
    sm = _chi2_from_poly([counts_gamma_polynomial(m.kernel, model, 0.0) for m in measurements],
                         measurements, 0.0)
    return chi2 - jnp.minimum(jnp.min(chi2), sm)
