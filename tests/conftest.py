"""Shared test configuration: float64 everywhere, and lazily built rate kernels.

``jax_numpy_rank_promotion = "raise"`` (house style) is deliberately NOT set:
package code relies on implicit rank promotion, so build_kernel and every
model fail under it. First offenders (found with the "warn" setting):
fluxes.py:123/125 (``half * (_GL_X + 1.0)``: (K, 1) x (16,)), models.py:100
(loop integrand (..., 1) x (48,)), models.py:126 and 184 ((6, 1, 1) + (T, K)),
rates.py:248 (``form_factor * (Z[:, None] * gp ...)``: (T, K) x (F, T, K))."""

import jax

jax.config.update("jax_enable_x64", True)

import pytest  # noqa: E402

PRESETS = ("ess-csi", "ess-si", "ess-xe", "ess-ge", "ess-ar", "ess-c3f8")


class _LazyKernels(dict):
    """name -> zprime_jax.kernels.rates.build_kernel(name), built on first access and cached."""

    def __missing__(self, name):
        if name not in PRESETS:
            raise KeyError(f"no kernel fixture for {name!r}; presets: {PRESETS}")
        from zprime_jax.kernels.rates import build_kernel

        kernel = build_kernel(name)
        self[name] = kernel
        return kernel


@pytest.fixture(scope="session")
def kernels():
    """Session-wide dict of rate kernels for the six ESS presets (built lazily)."""
    return _LazyKernels()
