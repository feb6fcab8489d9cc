"""Implicit derivatives of a limit with respect to experimental inputs (issue 6, item 4)."""

import dataclasses
import math

import pytest

from zprime_jax.design import gradients
from zprime_jax.kernels.rates import build_kernel
from zprime_jax.physics.models import MODELS


@pytest.mark.parametrize("preset, mass", [("ess-ar", 10.0), ("ess-csi", 30.0)])
def test_limit_gradients_match_finite_differences(preset, mass):
    k = build_kernel(preset)
    model = MODELS["universal"]
    out = gradients.limit_input_gradients(k, model, mass)
    assert out["slope"] > 0                                           # first crossing from below
    h = 1e-3
    for key, kw in (("dlog_g_dlog_exposure", "exposure"), ("dlog_g_dlog_background", "background")):
        up = gradients.limit_with_inputs(k, model, mass, **{kw: math.exp(h)})
        down = gradients.limit_with_inputs(k, model, mass, **{kw: math.exp(-h)})
        fd = (math.log(up) - math.log(down)) / (2 * h)
        # central difference of re-scanned limits (bisected to ~1e-15): O(h^2) ~ 1e-6 relative truncation
        assert out[key] == pytest.approx(fd, rel=1e-4, abs=1e-7), key
    # more exposure lowers the limit, more background raises it
    assert out["dlog_g_dlog_exposure"] < 0 < out["dlog_g_dlog_background"]


def test_scaling_laws_of_a_single_bin():
    """Closed-form limits of a single bin (ESS C3F8: N = 952.8 SM, B = 43.8 background events).

    Gaussian approximation, signal linear in g^2 near the limit (interference):
    Delta chi^2 = (E dN)^2 / Var with Var = E (N + B) + sigma_S^2 E^2 N^2, so at the limit
    g*^2 ~ dN ~ sqrt(Var)/E and
      statistics-limited (sigma_S -> 0): d ln g*/d ln E = -1/4, d ln g*/d ln B = (1/4) B/(N + B) = 0.0110;
      systematics-dominated (sigma_S = 0.1, sigma_S^2 N = 9.5 >> 1): |d ln g*/d ln E| ~ (1/4)/(1 + 9.5) = 0.024.
    """
    k = build_kernel("ess-c3f8")
    model = MODELS["universal"]
    stat = gradients.limit_input_gradients(
        dataclasses.replace(k, statistics=dataclasses.replace(k.statistics, sigma_signal=1e-4)), model, 10.0)
    assert stat["dlog_g_dlog_exposure"] == pytest.approx(-0.25, rel=0.03)       # O(g^4) and Poisson corrections
    assert stat["dlog_g_dlog_background"] == pytest.approx(0.25 * 43.83 / (952.80 + 43.83), rel=0.1)
    syst = gradients.limit_input_gradients(k, model, 10.0)
    assert -0.05 < syst["dlog_g_dlog_exposure"] < -0.015                        # ~ -0.024 (Gaussian estimate)


def test_no_limit_is_a_clear_error():
    with pytest.raises(ValueError, match="coupling_range"):
        gradients.limit_input_gradients(build_kernel("ess-ar"), MODELS["universal"], 10.0, coupling_range=(1e-9, 1e-8))
