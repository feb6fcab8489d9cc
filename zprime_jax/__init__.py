"""zprime_jax: differentiable CEvNS and nu-e sensitivities to new neutral gauge bosons.

Data flow: experiment spec (TOML) -> build_kernel (once) -> expected_counts
(jit/vmap/grad) -> chi2 with profiled pulls -> grid scans, limits, plots.

The library does not switch on float64 at import; call
``zprime_jax.enable_x64()`` (the CLI, tests and notebooks do).
"""

from __future__ import annotations

__version__ = "0.1.0"


def enable_x64() -> None:
    """Switch JAX to float64, required for the physics in this package."""
    import jax

    jax.config.update("jax_enable_x64", True)
