"""Derivatives of a sensitivity with respect to experimental inputs, by implicit differentiation.

The 90% CL limit g*(m) on a light Z' coupling is defined implicitly by

    Delta chi^2(g*, theta) = level,

where theta are experimental inputs. By the implicit-function theorem

    d g* / d theta = - (d Delta chi^2 / d theta) / (d Delta chi^2 / d g)   at g = g*,

so one gradient evaluation at the limit gives every input's derivative at
once -- no re-scan per input. Here theta = (log exposure, log background):

* exposure E: the signal kernel's weights scale by E (more target mass x
  time x flux), so the SM, the new-physics signal and the Asimov data
  E N_SM + B N_B scale with it; with ``background_scales_with_exposure``
  (the default, a background accumulated over the live time) the background
  scales too.
* background level B: the expected background per bin scales by B.

Both enter eq. (4.1) of the light-mediator paper through the counts; the
pulls are profiled as in :func:`stats.profile_pulls` (Asimov: chi2_ref = 0).
The gas-TPC pressure (which sets the thresholds, eq. 3.4) has its own
implicit derivative in :func:`pressure.coupling_limit`.

Example (docs/gradients.md; tested against finite differences of re-scanned
limits in tests/test_gradients.py)::

    from zprime_jax import gradients, rates
    from zprime_jax.models import MODELS
    out = gradients.limit_input_gradients(rates.build_kernel("ess-csi"), MODELS["universal"], 10.0)
    out["coupling"], out["dlog_g_dlog_exposure"], out["dlog_g_dlog_background"]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import jax
import jax.numpy as jnp

from ..errors import InputError
from ..inference.implicit import implicit_root
from ..inference.limits import coupling_limits
from ..kernels.rates import RateKernel, counts_polynomial
from ..likelihood import CL90_1DOF, asimov_measurement, profile_signals


def scaled_kernel(kernel: RateKernel, exposure=1.0, background=1.0, background_scales_with_exposure: bool = True):
    """The kernel with its signal weights x ``exposure`` and its background x ``background``
    (x ``exposure`` too when ``background_scales_with_exposure``). Differentiable in both scales."""
    bkg = kernel.background * background * (exposure if background_scales_with_exposure else 1.0)
    return replace(kernel, weight=kernel.weight * exposure, background=bkg)


@dataclass(frozen=True)
class _InputLevel:
    """f(t, (log inputs, kernel)) = Delta chi^2(g = 10^t) - level of Asimov data for the scaled kernel.

    Hashable by value (model, mass, level, flag): one compiled derivative serves every call.
    """

    model: object
    mass_mev: float
    level: float
    background_scales_with_exposure: bool

    def __call__(self, t, theta):
        log_inputs, kernel = theta
        exposure, background = jnp.exp(log_inputs[0]), jnp.exp(log_inputs[1])
        k = scaled_kernel(kernel, exposure, background, self.background_scales_with_exposure)
        c = counts_polynomial(k, self.model, self.mass_mev)
        g2 = (10.0**t) ** 2
        m = asimov_measurement(k, self.model)
        return profile_signals([c[0] + g2 * (c[1] + g2 * c[2])], (m,), method="fast")[0] - self.level


@partial(jax.jit, static_argnums=0)
def _log_derivatives(f: _InputLevel, t_star, kernel):
    """(d log10 g*/d ln(exposure, background), d Delta chi^2/d log10 g) at the limit (implicit rule)."""
    zero = jnp.zeros(2)
    d = jax.jacfwd(lambda li: implicit_root(f, t_star, (li, kernel)))(zero)
    return d, jax.grad(f, argnums=0)(t_star, (zero, kernel))


def limit_input_gradients(kernel: RateKernel, model, mass_mev: float, level: float = CL90_1DOF,
                          background_scales_with_exposure: bool = True, coupling_range=(1e-8, 1.0)) -> dict:
    """The limit g*(m) of one experiment and its logarithmic derivatives in exposure and background.

    The derivatives come from the implicit-limit rule (:func:`inference.implicit.implicit_root`).
    Returns a dict: ``coupling`` (g*), ``dlog_g_dlog_exposure`` and
    ``dlog_g_dlog_background`` (d ln g* / d ln E, d ln g* / d ln B: e.g. -0.25
    means a 1% larger exposure lowers the limit by 0.25%), ``dg_dexposure``
    and ``dg_dbackground`` (at E = B = 1), and ``slope`` (d Delta chi^2 / d
    log10 g at the limit, which must be > 0 at a first crossing from below).
    Raises InputError where there is no limit inside ``coupling_range``.
    """
    lim = coupling_limits((asimov_measurement(kernel, model),), model, [float(mass_mev)], level=level,
                          coupling_range=coupling_range)
    g_star = float(lim["coupling"][0])
    if not g_star == g_star:       # NaN
        raise InputError(f"mass_mev: no limit inside coupling_range {coupling_range} at m = {mass_mev} MeV")
    f = _InputLevel(model, float(mass_mev), float(level), bool(background_scales_with_exposure))
    dlog10g, slope = _log_derivatives(f, jnp.log10(g_star), kernel)          # d log10 g* / d ln(inputs)
    dln = dlog10g * jnp.log(10.0)                                            # d ln g* / d ln(inputs)
    return {"coupling": g_star, "mass_mev": float(mass_mev),
            "dlog_g_dlog_exposure": float(dln[0]), "dlog_g_dlog_background": float(dln[1]),
            "dg_dexposure": float(dln[0]) * g_star, "dg_dbackground": float(dln[1]) * g_star,
            "slope": float(slope)}


def limit_with_inputs(kernel: RateKernel, model, mass_mev: float, exposure: float = 1.0, background: float = 1.0,
                      level: float = CL90_1DOF, background_scales_with_exposure: bool = True,
                      coupling_range=(1e-8, 1.0)) -> float:
    """The limit g*(m) re-scanned for a kernel with scaled exposure and background (for checks)."""
    k = scaled_kernel(kernel, exposure, background, background_scales_with_exposure)
    return float(coupling_limits((asimov_measurement(k, model),), model, [float(mass_mev)], level=level,
                                 coupling_range=coupling_range)["coupling"][0])
