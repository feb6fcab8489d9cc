"""zprime_jax: differentiable CEvNS and nu-e sensitivities to new neutral gauge bosons.

Data flow (design.md): experiment spec (TOML) -> ``build_kernel`` (once) ->
``measurement`` (kernel, likelihood form, data) -> ``delta_chi2(params,
analysis, model)`` (jit/vmap/grad) -> limits, grids, contours, best fit,
posterior.

The names in ``__all__`` are the public API; they are imported on first use,
so ``import zprime_jax`` stays cheap (no JAX until one is touched). The
library does not switch on float64 at import: call ``zprime_jax.enable_x64()``
(the CLI, tests and notebooks do). Global settings are in :mod:`zprime_jax.config`.
"""

from __future__ import annotations

import importlib

from .config import enable_x64 as enable_x64
from .errors import InputError as InputError
from .errors import SpecError as SpecError
from .errors import ZPrimeError as ZPrimeError

__version__ = "0.1.0"

# public name -> module that owns it (imported lazily, PEP 562)
_PUBLIC = {
    "load_experiment": "spec", "list_experiments": "spec",
    "build_kernel": "kernels.rates", "expected_counts": "kernels.rates", "counts_polynomial": "kernels.rates",
    "get_model": "physics.models", "MODELS": "physics.models", "LightZPrime": "physics.models",
    "HeavyZPrime": "physics.models",
    "PoissonPulls": "likelihood", "Coherent2017": "likelihood", "Projection": "likelihood", "GaussianSM": "likelihood",
    "likelihood_for": "likelihood", "Measurement": "likelihood", "Analysis": "likelihood",
    "measurement": "likelihood", "asimov_measurement": "likelihood", "observed_measurement": "likelihood",
    "delta_chi2": "likelihood", "CL90_1DOF": "likelihood", "delta_chi2_for_cl": "likelihood",
    "coupling_limits": "inference.limits", "mass_limits": "inference.limits",
    "delta_chi2_grid": "inference.scan", "raster": "inference.scan",
    "mass_limit": "inference.heavy", "delta_chi2_plane": "inference.heavy",
    "trace_sensitivity": "inference.contours", "trace_e6_plane": "inference.contours",
    "best_fit": "inference.fit", "reference_to_best_fit": "inference.fit",
    "run_posterior": "inference.posterior",
}

__all__ = sorted(["__version__", "enable_x64", "ZPrimeError", "SpecError", "InputError", *_PUBLIC])


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zprime_jax' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
