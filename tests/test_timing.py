"""Arrival times at a pulsed pi-DAR source (physics/timing.py) against SciPy: the exponentially modified
Gaussian of scipy.stats.exponnorm, and a numerical convolution for the delayed component."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

from zprime_jax.physics import timing
from zprime_jax.physics.constants import TAU_MUON_NS, TAU_PION_CHARGED_NS

MEAN, SIGMA = 440.0, 150.0      # the LAr release's snsPOTTraceTiming (ns)
TIMES = np.array([-500.0, 0.0, 300.0, 440.0, 700.0, 1500.0, 4000.0, 9000.0])


def _prompt_ref(t):
    return stats.exponnorm.pdf(t, TAU_PION_CHARGED_NS / SIGMA, loc=MEAN, scale=SIGMA)


def _delayed_ref(t):
    """The prompt density convolved with the muon decay, by quadrature."""
    lam = 1.0 / TAU_MUON_NS
    # the prompt density is negligible (< 1e-40 of its peak) outside MEAN - 2000 ns ... MEAN + 3000 ns
    lo, hi = max(0.0, t - MEAN - 3000.0), max(0.0, t - MEAN + 2000.0)
    if hi <= lo:
        return 0.0
    peak = [t - MEAN] if lo < t - MEAN < hi else None
    val, _ = integrate.quad(lambda u: _prompt_ref(t - u) * lam * math.exp(-lam * u), lo, hi, points=peak,
                            limit=400, epsabs=1e-18, epsrel=1e-11)
    return val


def test_prompt_is_scipys_exponnorm():
    # closed forms on both sides: agreement to rounding (1e-10 relative where the density is not tiny)
    np.testing.assert_allclose(timing.arrival_pdf(TIMES, "prompt", MEAN, SIGMA), _prompt_ref(TIMES),
                               rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(timing.arrival_cdf(TIMES, "prompt", MEAN, SIGMA),
                               stats.exponnorm.cdf(TIMES, TAU_PION_CHARGED_NS / SIGMA, loc=MEAN, scale=SIGMA),
                               rtol=1e-10, atol=1e-15)


def test_delayed_is_the_convolution_with_the_muon_decay():
    ref = np.array([_delayed_ref(t) for t in TIMES])
    # quadrature to 1e-11 relative; 1e-8 leaves room for its error estimate
    np.testing.assert_allclose(timing.arrival_pdf(TIMES, "delayed", MEAN, SIGMA), ref, rtol=1e-8, atol=1e-18)


@pytest.mark.parametrize("component, mean", [("prompt", MEAN + TAU_PION_CHARGED_NS),
                                             ("delayed", MEAN + TAU_PION_CHARGED_NS + TAU_MUON_NS)])
def test_normalised_with_the_lifetimes_as_mean_delays(component, mean):
    def pdf(t):
        return float(timing.arrival_pdf(t, component, MEAN, SIGMA))

    norm, _ = integrate.quad(pdf, -3000.0, 60000.0, limit=400, points=[MEAN, MEAN + 500.0])
    first, _ = integrate.quad(lambda t: t * pdf(t), -3000.0, 60000.0, limit=400, points=[MEAN, MEAN + 500.0])
    assert norm == pytest.approx(1.0, abs=1e-9)            # the tails beyond the limits are < 1e-11
    assert first == pytest.approx(mean, rel=1e-8)
    assert float(timing.arrival_cdf(1e6, component, MEAN, SIGMA)) == pytest.approx(1.0, abs=1e-14)


def test_binned_fractions_and_gradients():
    edges = jnp.arange(0.0, 6001.0, 500.0)                  # the LAr release's 0.5 us time bins
    for c in timing.COMPONENTS:
        f = timing.binned_fractions(edges, c, MEAN, SIGMA)
        cdf = timing.arrival_cdf(edges, c, MEAN, SIGMA)
        assert float(f.sum()) == pytest.approx(float(cdf[-1] - cdf[0]), abs=1e-15)
        assert bool(jnp.all(f >= 0))
        # d/d(pulse mean, width): finite everywhere and equal to central differences (h = 1e-3 ns)
        jac = jax.jacfwd(lambda p, c=c: timing.binned_fractions(edges, c, p[0], p[1]))(jnp.array([MEAN, SIGMA]))
        h = 1e-3
        for k in range(2):
            dp = jnp.zeros(2).at[k].set(h)
            fd = (timing.binned_fractions(edges, c, *(jnp.array([MEAN, SIGMA]) + dp))
                  - timing.binned_fractions(edges, c, *(jnp.array([MEAN, SIGMA]) - dp))) / (2 * h)
            np.testing.assert_allclose(jac[:, k], fd, rtol=1e-6, atol=1e-12)
    extreme = jax.grad(lambda m: timing.arrival_pdf(1e5, "delayed", m, SIGMA))(MEAN)
    assert np.isfinite(float(extreme))
    with pytest.raises(ValueError, match="component"):
        timing.arrival_pdf(0.0, "late", MEAN, SIGMA)
