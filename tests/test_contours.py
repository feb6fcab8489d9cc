"""Gradient-based contour tracing: analytic level sets, branch finding, physics planes, compilation, input errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import zprime_jax
from zprime_jax import likelihood
from zprime_jax.inference import contours, heavy, level_set, limits
from zprime_jax.kernels.rates import build_kernel
from zprime_jax.physics.models import LightZPrime, get_model

zprime_jax.enable_x64()

A, B = 1.5, 1.0


def ellipse(x, y):
    return x**2 / A**2 + y**2 / B**2


def islands_and_line(x, y):
    """Two Gaussian bumps (closed islands at level 0.5) plus a wavy sigmoid step in y (an open curve)."""
    bumps = jnp.exp(-((x - 1.0) ** 2 + y**2) / 0.1) + jnp.exp(-((x + 1.0) ** 2 + y**2) / 0.1)
    return bumps + 1.0 / (1.0 + jnp.exp(-(y - 1.2 - 0.2 * jnp.sin(2.0 * x)) / 0.1))


def shoelace(p):
    return 0.5 * abs(np.sum(p[:-1, 0] * p[1:, 1] - p[1:, 0] * p[:-1, 1]))


def test_ellipse_closed_on_curve_and_area():
    res = level_set.trace_level_set(ellipse, 1.0, (-2.0, 2.0), (-1.5, 1.5), max_angle=0.05, target_angle=0.01)
    assert res.n_branches == 1
    br = res.branches[0]
    assert br.closed and br.ends == ("closed", "closed")
    p = br.points
    np.testing.assert_array_equal(p[0], p[-1])
    # distance to the ellipse ~ |f - 1| / |grad f| with |grad f| >= 2/A: xtol 1e-10 of a 4-wide domain
    assert np.max(np.abs(ellipse(p[:, 0], p[:, 1]) - 1.0)) < 1e-8
    # inscribed polygon with a turn of ~0.01 rad per step: relative area deficit ~ 0.01^2/6 ~ 2e-5
    assert shoelace(p) == pytest.approx(math.pi * A * B, rel=1e-4)
    assert shoelace(p) < math.pi * A * B                 # a convex curve's inscribed polygon is smaller
    assert res.n_grad_evals > 0 and res.n_value_evals > 0
    assert res.n_evaluations == res.n_value_evals + res.n_grad_evals


def test_two_islands_and_an_open_curve():
    res = level_set.trace_level_set(islands_and_line, 0.5, (-2.0, 2.0), (-1.0, 2.0))
    assert res.n_branches == 3
    closed = [b for b in res.branches if b.closed]
    open_ = [b for b in res.branches if not b.closed]
    assert len(closed) == 2 and len(open_) == 1
    line = open_[0].points
    assert open_[0].ends == ("edge", "edge")
    assert sorted([line[0, 0], line[-1, 0]]) == [-2.0, 2.0]          # crosses the domain left to right
    centres = sorted(np.mean(b.points[:-1, 0]) for b in closed)
    np.testing.assert_allclose(centres, [-1.0, 1.0], atol=0.02)
    for b in res.branches:
        f = np.asarray(islands_and_line(b.points[:, 0], b.points[:, 1]))
        np.testing.assert_allclose(f, 0.5, atol=1e-8)
    assert res.n_seeds > 3                                             # duplicates were skipped


def test_no_recompilation_across_steps_and_calls():
    traces = []

    def counted(x, y):
        traces.append(1)                       # runs only while JAX traces f
        return ellipse(x, y)

    before = level_set._step._cache_size()
    first = level_set.trace_level_set(counted, 1.0, (-2.0, 2.0), (-1.5, 1.5))
    assert first.n_steps > 50                  # many steps ...
    assert level_set._step._cache_size() == before + 1          # ... one compilation of the step
    n_traces = len(traces)
    sizes = (level_set._ray_values._cache_size(), level_set._bisect._cache_size(), level_set._step._cache_size())
    second = level_set.trace_level_set(counted, 0.7, (-2.0, 2.0), (-1.5, 1.5))   # new level, same shapes
    assert second.n_steps > 50
    assert len(traces) == n_traces
    assert (level_set._ray_values._cache_size(), level_set._bisect._cache_size(),
            level_set._step._cache_size()) == sizes


@pytest.mark.parametrize("kwargs, name", [
    ({"x_range": (1.0, 1.0)}, "x_range"),
    ({"y_range": (2.0, -2.0)}, "y_range"),
    ({"x_range": (0.0, float("inf"))}, "x_range"),
    ({"level": float("nan")}, "level"),
    ({"level": "high"}, "level"),
    ({"samples": 2}, "samples"),
    ({"max_step": -0.1}, "max_step"),
    ({"min_step": 0.5}, "min_step"),
    ({"columns": 0, "rows": 0}, "columns"),
])
def test_bad_input_names_the_argument(kwargs, name):
    args = {"f": ellipse, "level": 1.0, "x_range": (-2.0, 2.0), "y_range": (-1.5, 1.5)} | kwargs
    with pytest.raises(ValueError, match=name):
        level_set.trace_level_set(**args)


def test_bad_physics_input_names_the_argument():
    with pytest.raises(ValueError, match="measurements"):
        contours.trace_sensitivity([], get_model("universal"))
    with pytest.raises(ValueError, match="mass_range_mev"):
        contours.trace_sensitivity([object()], get_model("universal"), mass_range_mev=(0.0, 10.0))
    with pytest.raises(ValueError, match="coupling_range"):
        contours.trace_sensitivity([object()], get_model("universal"), coupling_range=(1e-3, 1e-5))
    with pytest.raises(ValueError, match="cos_beta_range"):
        contours.trace_e6_plane([object()], cos_beta_range=(-1.0, 1.0))
    with pytest.raises(ValueError, match="mass_range_gev"):
        contours.trace_e6_plane([object()], mass_range_gev=(-1.0, 10.0))


@jax.jit
def _light_dchi2(masses, couplings, measurements):
    model = get_model("universal")
    return jax.vmap(lambda m, g: likelihood.delta_chi2(LightZPrime(m, g), measurements, model)[0])(masses, couplings)


def _bisect_log(fn, lo, hi, level, iterations=40):
    """Vectorised bisection of fn(x) = level on [lo, hi] (arrays); requires a sign change."""
    s_lo = np.sign(fn(lo) - level)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        same = np.sign(fn(mid) - level) == s_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def test_light_trace_matches_bisection_in_coupling():
    ms = (likelihood.asimov_measurement(build_kernel("ess-ar")),)
    res = contours.trace_sensitivity(ms, get_model("universal"), mass_range_mev=(1.0, 1.0e3),
                                     coupling_range=(1e-6, 1e-2))
    # ess-ar (one total-rate bin): the first crossing and the two edges of the thin blind-spot
    # strip (Delta chi2 = 0 where N = N_SM), joined into two open branches
    assert res.n_branches == 2 and not any(res.closed)
    assert res.converged
    pts = np.concatenate(res.branches)
    m, g = pts[:, 0], pts[:, 1]
    level = res.level
    delta = 0.005                               # the accuracy target: 0.5% in g
    fn = lambda lg: np.asarray(_light_dchi2(m, 10.0**lg, ms))  # noqa: E731
    lo, hi = np.log10(g * (1 - delta)), np.log10(g * (1 + delta))
    bracketed = np.sign(fn(lo) - level) != np.sign(fn(hi) - level)
    # a root inside +-0.5% everywhere except where the curve turns back in mass (two roots in the bracket)
    assert np.mean(bracketed) > 0.97
    root = 10.0 ** _bisect_log(fn, lo, hi, level)
    rel = np.abs(root[bracketed] / g[bracketed] - 1.0)
    # the accuracy target of the issue is 0.5% in g; the corrector actually puts points on the level set to
    # ~1e-10 of the domain, so the independent root (general path, 40 bisections of a 1%-wide bracket) agrees
    # far better -- 1e-7 bounds both
    assert np.max(rel) < 1e-7
    # Delta chi2 at the traced points is the level
    np.testing.assert_allclose(np.asarray(_light_dchi2(m, g, ms)), level, atol=1e-5)
    # the limit (first crossing from below) read off the traced polyline agrees with the scan's to 0.5%
    # (the accuracy target; the chord between traced points deviates from the curve by < 0.2%)
    masses = np.array([1.5, 10.0, 100.0, 700.0])
    first = np.array([c.min() for c in res.crossings(masses)])
    lim = limits.coupling_limits(ms, get_model("universal"), masses, coupling_range=(1e-6, 1e-2), progress=None)
    np.testing.assert_allclose(first, lim["coupling"], rtol=0.005)


def test_e6_plane_matches_bisection_in_mass():
    ms = (heavy.measurement(build_kernel("conus")),)          # Asimov projection: chi2_min = 0 (the SM)
    model = get_model("e6")
    res = contours.trace_e6_plane(ms, model, samples=65)
    assert res.chi2_min == pytest.approx(0.0, abs=1e-12)
    assert res.n_reference_evals == 41 * 41 + 1
    # the outer contour (left edge to the blind point cos b = -sqrt(5/32), cos b = 0 to the right edge),
    # an arch above the blind region and the two edges of the strip where N = N_SM
    assert res.n_branches == 5 and not any(res.closed)
    pts = np.concatenate(res.branches)
    cb, mass = pts[:, 0], pts[:, 1]
    chi2 = jax.jit(jax.vmap(lambda c, lm: heavy.chi2_of_mass(jnp.reshape(10.0**lm, (1,)), ms, model, c)[0]))
    fn = lambda lm: np.asarray(chi2(cb, lm))  # noqa: E731
    lo, hi = np.log10(mass * 0.995), np.log10(mass * 1.005)
    bracketed = np.sign(fn(lo) - res.level) != np.sign(fn(hi) - res.level)
    assert np.mean(bracketed) > 0.9            # not where the contour is vertical (near the blind points)
    root = 10.0 ** _bisect_log(fn, lo, hi, res.level)
    assert np.max(np.abs(root[bracketed] / mass[bracketed] - 1.0)) < 1e-7
