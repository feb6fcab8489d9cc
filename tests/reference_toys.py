"""Independent SciPy reference for the Feldman-Cousins statistic of one bin (tests/test_toys.py,
benchmarks/bench_toys.py). Imports nothing of ``zprime_jax``: the counts polynomial is an input."""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize


def statistic(n, coeffs, background, sigma_s, sigma_b, x_test, t_range=(-7.0, -2.0), grid_points=201):
    """q(x_test) = chi2(x_test) - min_{x >= 0} chi2 of one bin with n events: eq. 4.1 profiled over
    (xi_S, xi_B) >= 0 by Nelder-Mead, signal c0 + c1 x + c2 x^2 (x = g^2), the minimum over a log grid in
    g on ``t_range`` (log10 g), x = 0 and a bounded Brent refinement around the best grid point."""
    c0, c1, c2 = coeffs

    def chi2(x):
        s = c0 + x * (c1 + x * c2)

        def f(xi):
            mu = xi[0] * s + xi[1] * background
            if n > 0 and mu <= 0:
                return math.inf
            dev = 2 * (mu - n + (n * math.log(n / mu) if n > 0 else 0.0))
            return dev + ((1 - xi[0]) / sigma_s) ** 2 + ((1 - xi[1]) / sigma_b) ** 2
        return optimize.minimize(f, [1.0, 1.0], method="Nelder-Mead", bounds=[(0, None), (0, None)],
                                 options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000}).fun

    lg = np.linspace(*t_range, grid_points)
    values = [chi2(10 ** (2 * t)) for t in lg]
    j = int(np.argmin(values))
    res = optimize.minimize_scalar(lambda t: chi2(10 ** (2 * t)), method="bounded",
                                   bounds=(lg[max(j - 1, 0)], lg[min(j + 1, grid_points - 1)]),
                                   options={"xatol": 1e-9})
    return chi2(x_test) - min(chi2(0.0), values[j], res.fun)
