"""Statistics: eq. 4.1 of the light-mediator paper and its profiling."""


import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.optimize import minimize

import zprime_jax
from zprime_jax import likelihood
from zprime_jax.kernels.rates import build_kernel, expected_counts
from zprime_jax.likelihood import poisson, poisson_fast
from zprime_jax.physics.models import MODELS, LightZPrime

zprime_jax.enable_x64()


@pytest.fixture(scope="module")
def xe():
    return likelihood.asimov_measurement(build_kernel("ess-xe"))


@pytest.fixture(scope="module")
def ar():
    return likelihood.asimov_measurement(build_kernel("ess-ar"))


def test_poisson_deviance_closed_form():
    mu = jnp.array([1.0, 5.0, 0.5, 3.0])
    n = jnp.array([1.0, 2.0, 0.0, 7.0])
    expected = 2 * (mu - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1) / mu), 0.0))
    # exact arithmetic identity: only rounding differences allowed
    np.testing.assert_allclose(likelihood.poisson_deviance(mu, n), expected, rtol=1e-14)
    assert float(likelihood.poisson_deviance(jnp.array(4.0), jnp.array(4.0))) == 0.0


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
    prof = likelihood.profile_pulls(jnp.asarray(scale * signal0), jnp.asarray(background),
                               jnp.asarray(data), 0.1, 0.01)
    ref, xi = _scipy_profile(scale * signal0, background, data, 0.1, 0.01)
    assert bool(prof.converged)
    # Nelder-Mead with 1e-12 tolerances reaches the minimum to ~1e-9 absolute
    assert abs(float(prof.chi2) - ref) < 1e-7 * max(1.0, ref)
    np.testing.assert_allclose(prof.nuisances, xi, rtol=1e-5)  # minimiser location: sqrt of chi2 precision


def test_asimov_minimum_is_zero_at_truth(xe):
    k = xe.kernel
    sm = expected_counts(None, k, MODELS["sm"])
    f = xe.likelihood
    prof = likelihood.profile_pulls(sm, f.background, xe.data, f.sigma_signal, f.sigma_background)
    # Zero up to rounding: each bin's mu - n + n ln(n/mu) cancels to ~eps * n,
    # with n ~ 4e4 counts per bin and 15 bins -> ~1e-10 at most.
    assert abs(float(prof.chi2)) < 1e-9
    np.testing.assert_allclose(prof.nuisances, [1.0, 1.0], atol=1e-9)
    assert abs(float(xe.chi2_ref)) < 1e-9


def test_profile_converges_everywhere(xe):
    gs = jnp.array([0.0, 1e-6, 1e-5, 3e-4, 1e-3, 1e-2, 0.3])
    prof = jax.jit(jax.vmap(lambda g: xe.likelihood.profile(
        expected_counts(LightZPrime(10.0, g), xe.kernel, MODELS["lmu-ltau"]), xe.data)))(gs)
    assert bool(jnp.all(prof.converged)), prof.decrement
    assert bool(jnp.all(prof.chi2 >= -1e-9))   # chi2_min >= chi2 at truth (Asimov), up to rounding


def test_delta_chi2_monotone_below_first_crossing(ar):
    gs = np.logspace(-7, -5.3, 12)
    d = jax.jit(jax.vmap(lambda g: likelihood.delta_chi2(LightZPrime(50.0, g), (ar,), MODELS["universal"])[0]))(gs)
    assert np.all(np.diff(np.asarray(d)) > 0)    # destructive interference grows with g here


def test_combination_is_sum(xe, ar):
    p = LightZPrime(20.0, 2e-5)
    model = MODELS["b-l"]
    total, conv = likelihood.delta_chi2(p, (xe, ar), model)
    parts = likelihood.delta_chi2(p, (xe,), model)[0] + likelihood.delta_chi2(p, (ar,), model)[0]
    assert bool(conv)
    np.testing.assert_allclose(total, parts, rtol=1e-12)   # same arithmetic, summed


def test_chi2_check_grads():
    rng = np.random.default_rng(2)
    s, b = jnp.asarray(rng.uniform(10, 100, 5)), jnp.asarray(rng.uniform(10, 100, 5))
    n = s + b + 3.0

    def f(xi, s):
        return poisson.chi2_with_pulls(xi, s, b, n, 0.1, 0.01)

    # second order: the xi_B curvature is 2/sigma_B^2 = 2e4, so the central-difference
    # error of the second derivative is ~1e-5 relative; allow 1e-4
    check_grads(f, (jnp.array([0.97, 1.01]), s), order=2, modes=("fwd", "rev"), rtol=1e-4, atol=1e-4)


def test_profiled_delta_chi2_gradients(ar):
    model = MODELS["universal"]

    def f(log_g, log_m):
        return likelihood.delta_chi2(LightZPrime(10.0**log_m, 10.0**log_g), (ar,), model)[0]

    # reverse mode through the unrolled Newton iterations; eps in log10 units
    check_grads(f, (-5.2, 1.3), order=1, modes=("rev",), eps=1e-4, atol=1e-3, rtol=1e-3)
    grad_g0 = jax.grad(lambda g: likelihood.delta_chi2(LightZPrime(10.0, g), (ar,), model)[0])(0.0)
    assert np.isfinite(float(grad_g0)) and float(grad_g0) == 0.0   # Delta chi2 ~ g^4 at g = 0


def test_vmap_equals_loop_and_jit_equals_eager(ar):
    model = MODELS["lmu-ltau"]
    ms = np.array([1.0, 10.0, 100.0])
    gs = np.array([1e-4, 5e-4, 2e-3])

    def f(m, g):
        return likelihood.delta_chi2(LightZPrime(m, g), (ar,), model)[0]

    batched = jax.vmap(f)(ms, gs)
    looped = [f(m, g) for m, g in zip(ms[:2], gs[:2])]
    jitted = [jax.jit(f)(m, g) for m, g in zip(ms[:2], gs[:2])]
    # vmapped/jitted XLA may fuse differently: agree to rounding of sums of ~1e3 terms
    np.testing.assert_allclose(batched[:2], looped, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(jitted, looped, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------
# Fast profile (analytic derivatives, one pass per trial point)
# ---------------------------------------------------------------------------
def _edge_cases():
    rng = np.random.default_rng(7)
    s0 = rng.uniform(50, 500, size=12)
    b0 = rng.uniform(100, 1000, size=12)
    cases = {f"scale_{a!r}": (a * s0, b0, s0 + b0, 0.1, 0.01)
             for a in (1.0, 1.03, 1.4, 0.6, 3.0, 1e4, 1e12, 1e-3, 0.0)}
    shape = s0 * np.linspace(0.2, 3.0, 12) ** 2                      # far from the SM in shape
    cases["shape"] = (30 * shape, b0, s0 + b0, 0.1, 0.01)
    zero_sig = s0.copy()
    zero_sig[[0, 5, 11]] = 0.0
    cases["zero_signal_bins"] = (1.7 * zero_sig, b0, s0 + b0, 0.1, 0.01)
    n_zero = s0 + b0
    n_zero[[2, 3]] = 0.0
    cases["n_zero_bins"] = (1.2 * s0, b0, n_zero, 0.1, 0.01)
    b_zero = b0.copy()
    b_zero[[4, 7]] = 0.0
    n_bz = s0 + b_zero
    n_bz[7] = 0.0                                                     # n = 0 and background 0: only signal there
    cases["n_and_b_zero"] = (0.8 * s0, b_zero, n_bz, 0.1, 0.01)
    small = rng.uniform(0.5, 3.0, size=8)
    cases["small_counts"] = (2.5 * small, 0.3 * small, 1.3 * small, 0.1, 0.01)
    cases["single_bin"] = (np.array([1234.5]), np.array([345.6]), np.array([1000.0 + 345.6]), 0.1, 0.01)
    cases["single_bin_far"] = (np.array([3.2e9]), np.array([12.0]), np.array([2400.0]), 0.1, 0.01)
    cases["wide_sigmas"] = (2.0 * s0, b0, s0 + b0, 0.3, 0.05)
    return cases


EDGE_CASES = _edge_cases()
_robust_jit = jax.jit(likelihood.profile_pulls)
_fast_jit = jax.jit(likelihood.profile_pulls_fast, static_argnames=("passes",))


def _case(name):
    s, b, n, ss, sb = EDGE_CASES[name]
    return jnp.asarray(s), jnp.asarray(b), jnp.asarray(n), ss, sb


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_fast_profile_matches_robust(name):
    s, b, n, ss, sb = _case(name)
    robust = _robust_jit(s, b, n, ss, sb)
    fast = _fast_jit(s, b, n, ss, sb)
    assert bool(robust.converged) and bool(fast.converged), (robust.decrement, fast.decrement)
    # both within their 1e-9 convergence tolerance of the same minimum (plus rounding of sums of ~1e4 counts)
    assert abs(float(fast.chi2) - float(robust.chi2)) < 3e-9 * max(1.0, abs(float(robust.chi2)))
    assert float(fast.chi2_lower) <= float(robust.chi2) + 1e-9 * max(1.0, abs(float(robust.chi2)))
    assert float(fast.chi2_lower) >= float(fast.chi2) - 1e-8 * max(1.0, abs(float(fast.chi2)))
    assert int(fast.passes) <= poisson_fast.FAST_PASSES


@pytest.mark.parametrize("scale", [1.0, 1.4, 0.6, 3.0])
def test_fast_profile_matches_scipy_minimize(scale):
    rng = np.random.default_rng(1)
    signal0 = rng.uniform(50, 500, size=12)
    background = rng.uniform(100, 1000, size=12)
    data = signal0 + background
    prof = likelihood.profile_pulls_fast(jnp.asarray(scale * signal0), jnp.asarray(background), jnp.asarray(data),
                                    0.1, 0.01)
    ref, xi = _scipy_profile(scale * signal0, background, data, 0.1, 0.01)
    assert bool(prof.converged)
    assert abs(float(prof.chi2) - ref) < 1e-7 * max(1.0, ref)
    np.testing.assert_allclose(prof.nuisances, xi, rtol=1e-5)


def test_total_count_start_is_the_single_bin_profile():
    for s, b, n in ((1234.5, 345.6, 1345.6), (3.2e9, 12.0, 2400.0), (10.0, 50.0, 90.0)):
        pd = poisson_fast.pull_data(jnp.array([b]), jnp.array([n]), 0.1, 0.01)
        xs, xb = poisson_fast.total_count_start(jnp.asarray(s), pd)
        robust = _robust_jit(jnp.array([s]), jnp.array([b]), jnp.array([n]), 0.1, 0.01)
        # the robust fit locates the minimiser to ~sqrt(chi^2 tolerance)
        np.testing.assert_allclose([xs, xb], robust.nuisances, rtol=1e-6)


@pytest.mark.parametrize("name", ["shape", "zero_signal_bins", "n_zero_bins", "n_and_b_zero", "small_counts"])
def test_evaluate_matches_autodiff(name):
    """The fast profile's chi^2, gradient and Hessian (three sums over the bins and the totals: the
    gradient from the Hessian's sums) against autodiff of ``poisson.chi2_with_pulls`` (eq. 4.1 per bin,
    tested against its closed form above), at pulls above and below 1
    and at a negative xi_S with every mu > 0 (where the identity's terms are of both signs): 1e-10
    relative (rounding of sums of ~1e3 terms; the per-bin and identity forms differ only there); mu <= 0 in
    a bin with data is +inf."""
    s, b, n, ss, sb = _case(name)
    pd = poisson_fast.pull_data(b, n, ss, sb)
    xs_neg = -0.5 * float(jnp.min(jnp.where(s > 0, b / jnp.where(s > 0, s, 1.0), jnp.inf)))
    points = ((1.0, 1.0), (0.7, 1.3), (1.9, 0.8)) + (((xs_neg, 1.0),) if xs_neg < 0 else ())  # b > 0 in every bin
    for xi in points:
        xi = jnp.asarray(xi)
        ev = jax.jit(poisson_fast._evaluate)(xi[0], xi[1], s, pd)
        g = jax.grad(poisson.chi2_with_pulls)(xi, s, b, n, ss, sb)
        h = jax.hessian(poisson.chi2_with_pulls)(xi, s, b, n, ss, sb)
        scale = float(jnp.max(jnp.abs(h)))
        assert float(ev.chi2) == pytest.approx(float(poisson.chi2_with_pulls(xi, s, b, n, ss, sb)), rel=1e-10)
        np.testing.assert_allclose([ev.gs, ev.gb], g, rtol=1e-10, atol=1e-10 * scale)
        np.testing.assert_allclose([ev.hss, ev.hsb, ev.hbb], [h[0, 0], h[0, 1], h[1, 1]], rtol=1e-10)
    infeasible = jax.jit(poisson_fast._evaluate)(jnp.asarray(-1.0), jnp.asarray(0.5), s, pd)
    assert float(infeasible.chi2) == np.inf


@pytest.mark.parametrize("name", ["single_bin", "single_bin_far"])
def test_one_bin_warm_solve_is_the_closed_form(name):
    """A one-bin measurement's warm solve is its closed form, certified in one pass from any start; it
    matches the robust profile (3e-9: both within their 1e-9 tolerances) and empty data gives the exact
    zero-data minimum."""
    s, b, n, ss, sb = _case(name)
    robust = _robust_jit(s, b, n, ss, sb)
    pd = poisson_fast.pull_data(b, n, ss, sb)
    warm = jax.jit(poisson_fast.solve_pulls_warm)
    for start in ((1.0, 1.0), (3.0, 0.2), tuple(robust.nuisances)):
        st = warm(s, pd, *(jnp.asarray(x) for x in start))
        assert bool(poisson_fast.solver_converged(st)) and int(st.passes) == 1
        assert float(st.chi2) == pytest.approx(float(robust.chi2), rel=3e-9, abs=3e-9)
    pd_empty = poisson_fast.pull_data(b, jnp.zeros(1), ss, sb)
    empty = warm(s, pd_empty, jnp.asarray(1.0), jnp.asarray(1.0))
    exact = poisson_fast.zero_data_minimum(jnp.sum(s), pd_empty)
    assert float(empty.chi2) == float(exact[2]) and bool(poisson_fast.solver_converged(empty))


@pytest.mark.parametrize("bins", [1, 15, 19, 59, 70])
def test_bin_sum_is_the_same_at_every_batch_position(bins):
    """``bin_sum`` (the sums of the fast profile, a product with ones) of a row gives the same bits at any
    position in a vmapped batch and any batch width >= 2 (what parts of a scan computed apart rely on), and
    the sum to rounding (1e-14 relative of the sum of |terms|)."""
    rng = np.random.default_rng(bins)
    rows = rng.standard_normal((600, bins)) * 10.0 ** rng.uniform(-6, 6, (600, bins))
    summed = jax.jit(jax.vmap(poisson_fast.bin_sum))
    whole = np.asarray(summed(jnp.asarray(rows)))
    for start, width in ((0, 2), (3, 7), (1, 131), (5, 250), (64, 512)):
        part = np.asarray(summed(jnp.asarray(rows[start:start + width])))
        np.testing.assert_array_equal(part, whole[start:start + width])
    exact = np.array([math.fsum(r) for r in rows])
    assert np.all(np.abs(whole - exact) <= 1e-14 * np.sum(np.abs(rows), axis=1))


def test_self_concordance_gap_bounds_its_closed_form():
    """The gap that :func:`chi2_lower_bound` takes, lambda^2/(2 (1 - lambda)), is at least the
    self-concordance gap -lambda - ln(1 - lambda) for every lambda in [0, 1) (so the bound stays rigorous)
    and within 31% of it up to lambda = 1/2. The closed form by its series sum_k>=2 lambda^k/k below 0.1
    (no cancellation), by log1p above (1e-14 relative: the cancellation there is below 20 to 1)."""
    lam = np.concatenate([np.logspace(-12, -1, 200), np.linspace(0.1, 0.999, 400)])
    series = np.array([math.fsum(x**k / k for k in range(2, 40)) for x in lam])
    exact = np.where(lam < 0.1, series, -lam - np.log1p(-lam))
    taken = 0.5 * lam * lam / (1.0 - lam)
    assert np.all(taken >= exact * (1.0 - 1e-14))
    assert np.all(taken[lam <= 0.5] <= 1.31 * exact[lam <= 0.5])
    st = poisson_fast.SolverState(*(jnp.asarray(v) for v in (1.0, 1.0, 5.0, 100.0, 100.0, 0.0, 0.0, 0.02, 1.0, 1)))
    pd = poisson_fast.pull_data(jnp.ones(3), jnp.full(3, 2.0), 0.1, 0.1)   # s = 1/4; dual gap 50: not taken
    lam0 = math.sqrt(0.25 * 0.02)
    assert float(poisson_fast.chi2_lower_bound(st, pd)) == pytest.approx(5.0 - 0.5 * lam0**2 / (1 - lam0) / 0.25,
                                                                         rel=1e-15)


def test_fast_lower_bound_brackets_the_minimum():
    """With too few passes to converge, chi2_lower <= chi2_min <= chi2 still holds."""
    for name in ("scale_10000.0", "shape", "scale_3.0", "small_counts", "n_zero_bins"):
        s, b, n, ss, sb = _case(name)
        exact = float(_robust_jit(s, b, n, ss, sb).chi2)
        for passes in (1, 2):
            fast = _fast_jit(s, b, n, ss, sb, passes=passes, start=jnp.array([1.0, 1.0]))
            tol = 1e-9 * max(1.0, exact)
            assert float(fast.chi2_lower) <= exact + tol <= float(fast.chi2) + 2 * tol, (name, passes)


def test_fast_profile_vmaps_and_warm_starts():
    s, b, n, ss, sb = _case("shape")
    scales = jnp.array([0.01, 0.3, 1.0, 2.0])
    batched = jax.jit(jax.vmap(lambda a: likelihood.profile_pulls_fast(a * s, b, n, ss, sb)))(scales)
    for i, a in enumerate(scales):
        single = _fast_jit(a * s, b, n, ss, sb)
        assert float(batched.chi2[i]) == pytest.approx(float(single.chi2), rel=1e-12, abs=1e-10)
        warm = _fast_jit(a * s, b, n, ss, sb, start=single.nuisances * 1.001)
        assert bool(warm.converged) and int(warm.passes) <= int(single.passes) + 1
        assert float(warm.chi2) == pytest.approx(float(single.chi2), rel=1e-10, abs=1e-9)


def test_fast_profile_gradients(xe):
    """First derivatives against finite differences of the value (which matches the robust profile),
    second derivatives (with the implicit, Schur-complement term) against differences of the first."""
    model = MODELS["universal"]
    ms = (xe,)

    def f(log_g, log_m):
        return likelihood.delta_chi2(LightZPrime(10.0**log_m, 10.0**log_g), ms, model, method="fast")[0]

    value = jax.jit(f)
    grad = jax.jit(jax.grad(f, argnums=(0, 1)))
    hess = jax.jit(jax.hessian(f, argnums=(0, 1)))
    eps = 1e-4
    for pt in ((-4.6, 1.3), (-3.5, 0.4)):
        x = np.array(pt)
        h = np.asarray(hess(*pt))
        for i in range(2):
            dx = np.zeros(2)
            dx[i] = eps
            fd1 = (float(value(*(x + dx))) - float(value(*(x - dx)))) / (2 * eps)
            assert float(grad(*pt)[i]) == pytest.approx(fd1, rel=1e-5, abs=1e-5)
            fd2 = (np.asarray(grad(*(x + dx))) - np.asarray(grad(*(x - dx)))) / (2 * eps)
            np.testing.assert_allclose(h[:, i], fd2, rtol=1e-5, atol=1e-4)


def test_fast_delta_chi2_equals_robust(xe, ar):
    model = MODELS["lmu-ltau"]
    ms, gs = jnp.array([1.0, 10.0, 100.0, 1000.0]), jnp.array([1e-5, 3e-4, 2e-3, 3e-2])
    f = jax.jit(jax.vmap(lambda m, g: likelihood.delta_chi2(LightZPrime(m, g), (xe, ar), model, method="fast")))
    r = jax.jit(jax.vmap(lambda m, g: likelihood.delta_chi2(LightZPrime(m, g), (xe, ar), model)))
    (df, cf), (dr, cr) = f(ms, gs), r(ms, gs)
    assert bool(jnp.all(cf)) and bool(jnp.all(cr))
    np.testing.assert_allclose(df, dr, rtol=3e-9, atol=3e-9)
    with pytest.raises(ValueError, match="method"):
        likelihood.delta_chi2(LightZPrime(1.0, 1e-4), (xe,), model, method="newton")


def test_log_positive_matches_log():
    """The vectorisable logarithm of eq. 4.1 (``poisson_fast.log_positive``) against NumPy's log: within 3 ulp
    over the normal float64 range and near 1 (its series bound; measured 3), +inf at +inf, ln of the smallest
    normal below it (documented), and its derivative 1/x (custom JVP)."""
    x = np.concatenate([np.geomspace(2.3e-308, 1.7e308, 20001), np.linspace(0.5, 2.0, 20001),
                        1.0 + np.linspace(-1e-6, 1e-6, 2001)])
    got = np.asarray(jax.jit(poisson_fast.log_positive)(jnp.asarray(x)))
    ref = np.log(x)
    nonzero = ref != 0
    assert np.all(np.abs(got - ref)[nonzero] <= 3 * np.spacing(np.abs(ref[nonzero])))
    assert np.all(got[~nonzero] == 0.0)
    edge = np.asarray(poisson_fast.log_positive(jnp.array([np.inf, 1e-320])))
    assert edge[0] == np.inf and edge[1] == pytest.approx(np.log(np.finfo(float).tiny), rel=1e-15)
    pts = jnp.array([1e-3, 0.7, 1.0, 42.0, 3e5])
    d1 = jax.vmap(jax.grad(poisson_fast.log_positive))(pts)
    d2 = jax.vmap(jax.grad(jax.grad(poisson_fast.log_positive)))(pts)
    np.testing.assert_allclose(d1, 1.0 / pts, rtol=1e-15)
    np.testing.assert_allclose(d2, -1.0 / pts**2, rtol=1e-15)
    check_grads(poisson_fast.log_positive, (jnp.array([0.7, 1.0, 42.0]),), order=2, modes=["fwd", "rev"])


@pytest.mark.parametrize("name", ["scale_10000.0", "shape", "small_counts"])
def test_warm_solve_resumes_to_the_minimum(name):
    """The loop-free warm solve (``solve_pulls_warm``: two passes) from a poor start is unfinished, and
    ``resume_pulls`` repeated while ``pulls_unfinished`` reaches the robust minimum (1e-9: the convergence
    tolerance on half the decrement); from the minimum itself the two passes are converged."""
    s, b, n, ss, sb = _case(name)
    robust = _robust_jit(s, b, n, ss, sb)
    pd = poisson_fast.pull_data(b, n, ss, sb)
    warm = jax.jit(poisson_fast.solve_pulls_warm)
    resume = jax.jit(poisson_fast.resume_pulls, static_argnums=3)
    st = warm(s, pd, jnp.asarray(3.0), jnp.asarray(0.2))
    assert bool(poisson_fast.pulls_unfinished(st, 48))
    while bool(poisson_fast.pulls_unfinished(st, 48)):
        st = resume(st, s, pd, 48)
    assert bool(poisson_fast.solver_converged(st)) and int(st.passes) < 48
    assert float(st.chi2) == pytest.approx(float(robust.chi2), abs=1e-9 * max(1.0, float(robust.chi2)) + 1e-9)
    at_min = warm(s, pd, *robust.nuisances)
    assert bool(poisson_fast.solver_converged(at_min)) and int(at_min.passes) == 2
