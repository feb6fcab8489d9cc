"""Statistics: eq. 4.1 of the light-mediator paper and its profiling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.optimize import minimize

import zprime_jax
from zprime_jax import stats
from zprime_jax.models import MODELS, LightZPrime
from zprime_jax.rates import build_kernel, expected_counts

zprime_jax.enable_x64()


@pytest.fixture(scope="module")
def xe():
    return stats.asimov_measurement(build_kernel("ess-xe"))


@pytest.fixture(scope="module")
def ar():
    return stats.asimov_measurement(build_kernel("ess-ar"))


def test_poisson_deviance_closed_form():
    mu = jnp.array([1.0, 5.0, 0.5, 3.0])
    n = jnp.array([1.0, 2.0, 0.0, 7.0])
    expected = 2 * (mu - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1) / mu), 0.0))
    # exact arithmetic identity: only rounding differences allowed
    np.testing.assert_allclose(stats.poisson_deviance(mu, n), expected, rtol=1e-14)
    assert float(stats.poisson_deviance(jnp.array(4.0), jnp.array(4.0))) == 0.0


def _scipy_profile(signal, background, data, ss, sb):
    def f(x):
        mu = x[0] * signal + x[1] * background
        if np.any(mu <= 0):
            return 1e30
        return float(np.sum(2 * (mu - data + data * np.log(data / mu)))
                     + ((1 - x[0]) / ss) ** 2 + ((1 - x[1]) / sb) ** 2)
    best = min((minimize(f, x0, method="Nelder-Mead",
                         options=dict(xatol=1e-12, fatol=1e-12, maxiter=20000)) for x0 in
                ([1.0, 1.0], [0.5, 1.0], [1.5, 1.0])), key=lambda r: r.fun)
    return best.fun, best.x


@pytest.mark.parametrize("scale", [1.0, 1.03, 1.4, 0.6, 3.0])
def test_profile_matches_scipy_minimize(scale):
    rng = np.random.default_rng(1)
    signal0 = rng.uniform(50, 500, size=12)
    background = rng.uniform(100, 1000, size=12)
    data = signal0 + background
    prof = stats.profile_pulls(jnp.asarray(scale * signal0), jnp.asarray(background),
                               jnp.asarray(data), 0.1, 0.01)
    ref, xi = _scipy_profile(scale * signal0, background, data, 0.1, 0.01)
    assert bool(prof.converged)
    # Nelder-Mead with 1e-12 tolerances reaches the minimum to ~1e-9 absolute
    assert abs(float(prof.chi2) - ref) < 1e-7 * max(1.0, ref)
    np.testing.assert_allclose(prof.xi, xi, rtol=1e-5)  # minimiser location: sqrt of chi2 precision


def test_asimov_minimum_is_zero_at_truth(xe):
    k = xe.kernel
    sm = expected_counts(None, k, MODELS["sm"])
    prof = stats.profile_pulls(sm, k.background, xe.data, k.sigma_signal, k.sigma_background)
    # Zero up to rounding: each bin's mu - n + n ln(n/mu) cancels to ~eps * n,
    # with n ~ 4e4 counts per bin and 15 bins -> ~1e-10 at most.
    assert abs(float(prof.chi2)) < 1e-9
    np.testing.assert_allclose(prof.xi, [1.0, 1.0], atol=1e-9)
    assert abs(float(xe.chi2_ref)) < 1e-9


def test_profile_converges_everywhere(xe):
    gs = jnp.array([0.0, 1e-6, 1e-5, 3e-4, 1e-3, 1e-2, 0.3])
    prof = jax.jit(jax.vmap(lambda g: stats.profile_measurement(
        LightZPrime(10.0, g), xe, MODELS["lmu-ltau"])))(gs)
    assert bool(jnp.all(prof.converged)), prof.decrement
    assert bool(jnp.all(prof.chi2 >= -1e-9))   # chi2_min >= chi2 at truth (Asimov), up to rounding


def test_delta_chi2_monotone_below_first_crossing(ar):
    gs = np.logspace(-7, -5.3, 12)
    d = jax.jit(jax.vmap(lambda g: stats.delta_chi2(LightZPrime(50.0, g), (ar,), MODELS["universal"])[0]))(gs)
    assert np.all(np.diff(np.asarray(d)) > 0)    # destructive interference grows with g here


def test_combination_is_sum(xe, ar):
    p = LightZPrime(20.0, 2e-5)
    model = MODELS["b-l"]
    total, conv = stats.delta_chi2(p, (xe, ar), model)
    parts = stats.delta_chi2(p, (xe,), model)[0] + stats.delta_chi2(p, (ar,), model)[0]
    assert bool(conv)
    np.testing.assert_allclose(total, parts, rtol=1e-12)   # same arithmetic, summed


def test_chi2_check_grads():
    rng = np.random.default_rng(2)
    s, b = jnp.asarray(rng.uniform(10, 100, 5)), jnp.asarray(rng.uniform(10, 100, 5))
    n = s + b + 3.0

    def f(xi, s):
        return stats.chi2_with_pulls(xi, s, b, n, 0.1, 0.01)

    # second order: the xi_B curvature is 2/sigma_B^2 = 2e4, so the central-difference
    # error of the second derivative is ~1e-5 relative; allow 1e-4
    check_grads(f, (jnp.array([0.97, 1.01]), s), order=2, modes=("fwd", "rev"), rtol=1e-4, atol=1e-4)


def test_profiled_delta_chi2_gradients(ar):
    model = MODELS["universal"]

    def f(log_g, log_m):
        return stats.delta_chi2(LightZPrime(10.0**log_m, 10.0**log_g), (ar,), model)[0]

    # reverse mode through the unrolled Newton iterations; eps in log10 units
    check_grads(f, (-5.2, 1.3), order=1, modes=("rev",), eps=1e-4, atol=1e-3, rtol=1e-3)
    grad_g0 = jax.grad(lambda g: stats.delta_chi2(LightZPrime(10.0, g), (ar,), model)[0])(0.0)
    assert np.isfinite(float(grad_g0)) and float(grad_g0) == 0.0   # Delta chi2 ~ g^4 at g = 0


def test_vmap_equals_loop_and_jit_equals_eager(ar):
    model = MODELS["lmu-ltau"]
    ms = np.array([1.0, 10.0, 100.0])
    gs = np.array([1e-4, 5e-4, 2e-3])

    def f(m, g):
        return stats.delta_chi2(LightZPrime(m, g), (ar,), model)[0]

    batched = jax.vmap(f)(ms, gs)
    looped = [f(m, g) for m, g in zip(ms[:2], gs[:2])]
    jitted = [jax.jit(f)(m, g) for m, g in zip(ms[:2], gs[:2])]
    # vmapped/jitted XLA may fuse differently: agree to rounding of sums of ~1e3 terms
    np.testing.assert_allclose(batched[:2], looped, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(jitted, looped, rtol=1e-10, atol=1e-10)
