"""Shared test configuration: float64 and strict rank promotion everywhere, lazily built rate kernels.

``jax_numpy_rank_promotion = "raise"`` (house style): an operation between
arrays of different ranks must broadcast explicitly, so a shape mistake is an
error rather than a silent outer product.
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

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
