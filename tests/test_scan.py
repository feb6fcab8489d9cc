"""Grid scans, first-crossing limits, contours, and no recompilation."""

import jax
import numpy as np
import pytest

import zprime_jax
from zprime_jax import likelihood
from zprime_jax.inference import limits, scan, sharding
from zprime_jax.kernels.rates import build_kernel
from zprime_jax.physics.models import MODELS, LightZPrime

zprime_jax.enable_x64()


@pytest.fixture(scope="module")
def ar():
    return (likelihood.asimov_measurement(build_kernel("ess-ar")),)


@jax.jit
def _dchi2_universal(ms, gs, measurements):
    f = lambda m, g: likelihood.delta_chi2(LightZPrime(m, g), measurements, MODELS["universal"])[0]  # noqa: E731
    return jax.vmap(f)(ms, gs)


def test_limit_sits_on_the_level_and_is_first_crossing(ar):
    model = MODELS["universal"]
    res = limits.coupling_limits(ar, model, [1.0, 30.0, 300.0], progress=None)
    assert np.all(res["converged"]) and not np.any(res["below_range"])
    d = _dchi2_universal(res["mass_mev"], res["coupling"], ar)
    # 50 bisections in log g: the crossing is located far below 1e-6 in Delta chi2
    np.testing.assert_allclose(d, scan.CL90_1DOF, atol=1e-6)
    for m, g in zip(res["mass_mev"], res["coupling"]):
        below = np.logspace(-8, np.log10(g) - 1e-6, 400)
        vals = _dchi2_universal(np.full(below.size, m), below, ar)
        assert np.max(vals) < scan.CL90_1DOF          # nothing excluded below the first crossing


def _cache_sizes():
    return {key: f._cache_size() for key, f in sharding._COMPILED.items()}


def test_no_recompilation_for_new_parameters(ar):
    model = MODELS["b-l"]
    limits.coupling_limits(ar, model, [2.0, 20.0], progress=None)
    sizes = _cache_sizes()
    limits.coupling_limits(ar, model, [3.0, 40.0], progress=None)   # same shapes, new values
    assert _cache_sizes() == sizes
    for method in ("polynomial", "general"):
        scan.delta_chi2_grid(ar, model, [1.0, 10.0], [1e-5, 1e-4], chunk=64, method=method, progress=None)
        sizes = _cache_sizes()
        scan.delta_chi2_grid(ar, model, [7.0, 70.0], [3e-5, 3e-4], chunk=64, method=method, progress=None)
        assert _cache_sizes() == sizes, method


def test_grid_equals_pointwise(ar):
    model = MODELS["lmu-ltau"]
    masses, gs = np.array([3.0, 30.0]), np.array([1e-4, 1e-3, 1e-2])
    grid = scan.delta_chi2_grid(ar, model, masses, gs, chunk=4, method="general",
                                progress=None)  # exercises padding
    for i, m in enumerate(masses):
        for j, g in enumerate(gs):
            ref = float(likelihood.delta_chi2(LightZPrime(m, g), ar, model)[0])
            # same function under vmap vs alone: rounding only
            assert grid.delta_chi2[i, j] == pytest.approx(ref, rel=1e-10, abs=1e-10)
    assert grid.converged.all()
    assert grid.compile_s >= 0 and grid.run_s >= 0


def test_contour_points_lie_on_level(ar):
    model = MODELS["universal"]
    grid = scan.delta_chi2_grid(ar, model, np.logspace(0, 3, 24), np.logspace(-6.5, -3, 60),
                                progress=None)
    lines = scan.contour_lines(grid)
    assert lines, "the 90% CL contour must cross this grid"
    pts = np.concatenate(lines)
    sg = 10 ** np.diff(np.log10(grid.couplings))[0]
    sm = 10 ** np.diff(np.log10(grid.masses_mev))[0]
    # the interpolated contour lies within one grid cell of the true level set:
    # Delta chi2 - level changes sign among the corners of the cell around each
    # point and the point itself (the point is needed inside the thin
    # blind-spot strip, narrower than a cell, where all corners are above the level)
    corners = np.stack([_dchi2_universal(pts[:, 0] * a, pts[:, 1] * b, ar) - scan.CL90_1DOF
                        for a in (1 / sm, 1.0, sm) for b in (1 / sg, 1.0, sg)])
    assert np.all((corners.min(axis=0) < 0) & (corners.max(axis=0) > 0))


@pytest.mark.parametrize("model_name", ["universal", "b-l", "lmu-ltau"])
def test_coupling_polynomial_equals_full_rate(model_name):
    from zprime_jax.kernels.rates import counts_polynomial, expected_counts

    kernel = build_kernel("ess-c3f8")
    model = MODELS[model_name]
    for mass in (0.5, 30.0, 2000.0):
        c = counts_polynomial(kernel, model, mass)
        for g in (0.0, 3e-6, 1e-4, 2e-2):
            direct = expected_counts(LightZPrime(mass, g), kernel, model)
            poly = c[0] + g**2 * c[1] + g**4 * c[2]
            # exact identity (Q linear in g^2); rounding from c0 ~ 1e3 and the g^4 c2 term
            np.testing.assert_allclose(poly, direct, rtol=1e-10, atol=1e-9)


def test_polynomial_grid_equals_general_grid(ar):
    model = MODELS["universal"]
    masses, gs = np.logspace(0, 3, 5), np.logspace(-7, -2, 7)
    fast = scan.delta_chi2_grid(ar, model, masses, gs, method="polynomial", progress=None)
    slow = scan.delta_chi2_grid(ar, model, masses, gs, method="general", progress=None)
    np.testing.assert_allclose(fast.delta_chi2, slow.delta_chi2, rtol=1e-8, atol=1e-8)
    assert fast.converged.all() and slow.converged.all()


@pytest.fixture(scope="module")
def csi_ar():
    return (likelihood.asimov_measurement(build_kernel("ess-csi")),
            likelihood.asimov_measurement(build_kernel("ess-ar")))


def test_fast_grid_matches_robust_and_certifies_the_level(csi_ar):
    """The warm-started fast rows agree with the robust profile; with too few passes to converge
    everywhere, the lower bounds still bracket the robust values and ``decided`` is never wrong."""
    model = MODELS["universal"]
    masses, gs = np.logspace(0, 3, 6), np.logspace(-7, -2, 15)
    robust = scan.delta_chi2_grid(csi_ar, model, masses, gs, profile="robust", progress=None)
    fast = scan.delta_chi2_grid(csi_ar, model, masses, gs, progress=None)
    assert robust.converged.all() and fast.converged.all() and fast.decided.all()
    np.testing.assert_allclose(fast.delta_chi2, robust.delta_chi2, rtol=3e-9, atol=3e-9)
    rough = scan.delta_chi2_grid(csi_ar, model, masses, gs, passes=2, refine=False, progress=None)
    exact = robust.delta_chi2
    tol = 1e-8 * np.maximum(1.0, np.abs(exact))
    assert not rough.converged.all()                      # 2 passes are not enough everywhere here
    assert np.all(rough.delta_chi2_lower <= exact + tol) and np.all(exact <= rough.delta_chi2 + tol)
    above = exact >= scan.CL90_1DOF
    d = rough.decided
    assert np.array_equal(above[d], (rough.delta_chi2 >= scan.CL90_1DOF)[d])
    assert np.all(d[rough.converged]) and d.sum() > rough.converged.sum()   # bounds decide unconverged points
    refined = scan.delta_chi2_grid(csi_ar, model, masses, gs, passes=2, progress=None)   # refine=True
    assert refined.refined == int((~rough.converged).sum()) and refined.converged.all()
    np.testing.assert_allclose(refined.delta_chi2, exact, rtol=3e-9, atol=3e-9)


def test_grid_components_are_each_measurement_alone(csi_ar):
    """One run of a two-detector grid also gives each detector's own grid (the CLI's per-experiment
    contours): equal to that detector's grid alone up to XLA's vectorisation of the other program
    (1e-9, as above), and summing to the combination exactly (the same additions in the same order)."""
    model = MODELS["universal"]
    masses, gs = np.logspace(0, 3, 6), np.logspace(-7, -2, 15)
    both = scan.delta_chi2_grid(csi_ar, model, masses, gs, passes=2, progress=None, components=True)  # refined too
    assert both.refined > 0 and both.component_delta_chi2.shape == (6, 15, 2)
    np.testing.assert_array_equal(both.component_delta_chi2[..., 0] + both.component_delta_chi2[..., 1],
                                  both.delta_chi2)
    for i, m in enumerate(csi_ar):
        alone = scan.delta_chi2_grid((m,), model, masses, gs, passes=2, progress=None)
        part = both.component(i)
        assert part.converged.all() and alone.converged.all()
        np.testing.assert_allclose(part.delta_chi2, alone.delta_chi2, rtol=3e-9, atol=3e-9)
    plain = scan.delta_chi2_grid(csi_ar, model, masses, gs, passes=2, progress=None)    # not asked for
    assert plain.component_delta_chi2 is None
    np.testing.assert_allclose(plain.delta_chi2, both.delta_chi2, rtol=3e-9, atol=3e-9)
    robust = scan.delta_chi2_grid(csi_ar, model, masses, gs, profile="robust", progress=None, components=True)
    assert robust.component_delta_chi2 is None          # the robust profile is of the analysis as a whole
    with pytest.raises(ValueError, match="component"):
        robust.component(0)


def test_grid_coupling_order_does_not_matter(ar):
    model = MODELS["universal"]
    gs = np.array([3e-4, 1e-6, 2e-5, 1e-3, 4e-6])
    order = np.argsort(gs)
    a = scan.delta_chi2_grid(ar, model, [2.0, 200.0], gs, progress=None)
    b = scan.delta_chi2_grid(ar, model, [2.0, 200.0], gs[order], progress=None)
    np.testing.assert_allclose(a.delta_chi2[:, order], b.delta_chi2, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="profile"):
        scan.delta_chi2_grid(ar, model, [2.0], gs, profile="newton", progress=None)
