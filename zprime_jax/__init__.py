"""zprime_jax: differentiable CEvNS and nu-e sensitivities to new neutral gauge bosons.

Data flow: experiment spec (TOML) -> build_kernel (once) -> expected_counts
(jit/vmap/grad) -> chi2 with profiled pulls -> grid scans, limits, plots.

The library does not switch on float64 at import; call
``zprime_jax.enable_x64()`` (the CLI, tests and notebooks do). The global
settings (float64, host device count, compilation cache) are in
:mod:`zprime_jax.config`.
"""

from __future__ import annotations

from .config import enable_x64

__version__ = "0.1.0"

__all__ = ["__version__", "enable_x64"]
