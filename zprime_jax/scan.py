"""Grid scans and coupling limits: jit + vmap, chunked, with progress on stderr.

* :func:`delta_chi2_grid` evaluates Delta chi^2 on a (log m, log g) raster.
  The grid is flattened and cut into fixed-size chunks; one compiled,
  vmapped function runs every chunk (the last one padded), so there is one
  compilation per (analysis, model, chunk size) and memory is bounded by the
  chunk. Progress goes to stderr.
* :func:`coupling_limits` finds, per mass, the smallest excluded coupling:
  the first crossing of Delta chi^2 = level from below along a log-spaced
  coarse scan in g, refined by bisection in log g (fixed iteration count,
  vmapped over masses).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .models import LightZPrime
from .rates import counts_coupling_polynomial
from .stats import delta_chi2, delta_chi2_from_signals

CL90_1DOF = 2.705543454095404  # chi^2_1 quantile at 90% (one parameter at fixed mass)


def _progress(label: str, done: int, total: int, start: float, stream=sys.stderr) -> None:
    if stream is None:
        return
    frac = done / total
    bar = "#" * int(30 * frac)
    elapsed = time.perf_counter() - start
    stream.write(f"\r{label} [{bar:<30}] {done}/{total} ({elapsed:.1f} s)")
    if done == total:
        stream.write("\n")
    stream.flush()


def chunked_map(fn, inputs: tuple[np.ndarray, ...], chunk: int, static=(), label: str = "scan",
                progress=sys.stderr):
    """Apply a jitted ``fn(*chunk_inputs, *static)`` to flat inputs in fixed-size chunks.

    Args:
      fn: a ``jax.jit``-ed function mapping arrays of shape (chunk,) (plus the
        extra arguments ``static``, e.g. the measurements pytree) to a pytree
        of arrays with leading dimension ``chunk``. Being a module-level jitted
        function, it is compiled once per argument structure and reused by
        later calls (no recompilation for new parameter values).
      inputs: 1-D arrays of equal length n.
      chunk: chunk size; the last chunk is padded with the first point.
    Returns: the outputs with leading dimension n, and (compile_s, run_s).
    """
    n = inputs[0].shape[0]
    n_chunks = max(1, math.ceil(n / chunk))
    padded = [np.concatenate([x, np.repeat(x[:1], n_chunks * chunk - n)]) for x in inputs]
    t0 = time.perf_counter()
    fn.lower(*[jnp.asarray(p[:chunk]) for p in padded], *static).compile()  # cached by jit
    compile_s = time.perf_counter() - t0
    outs = []
    t1 = time.perf_counter()
    for i in range(n_chunks):
        sl = slice(i * chunk, (i + 1) * chunk)
        outs.append(fn(*[jnp.asarray(p[sl]) for p in padded], *static))
        _progress(label, i + 1, n_chunks, t1, progress)
    jax.block_until_ready(outs)
    run_s = time.perf_counter() - t1
    out = jax.tree_util.tree_map(lambda *xs: np.concatenate([np.asarray(x) for x in xs])[:n], *outs)
    return out, (compile_s, run_s)


@partial(jax.jit, static_argnums=3)
def _grid_chunk(masses, couplings, measurements, model):
    """General path: every (mass, coupling) point evaluates the full rate."""
    def one(mass, coupling):
        return delta_chi2(LightZPrime(mass, coupling), measurements, model)
    return jax.vmap(one)(masses, couplings)


def _polynomials(mass, measurements, model):
    return [counts_coupling_polynomial(mass, m.kernel, model) for m in measurements]


def _poly_delta_chi2(coeffs, g, measurements):
    g2 = g * g
    signals = [c[0] + g2 * (c[1] + g2 * c[2]) for c in coeffs]
    return delta_chi2_from_signals(signals, measurements)


@partial(jax.jit, static_argnums=3)
def _grid_rows(masses, couplings, measurements, model):
    """Fast path: three nodal sums per mass, then a polynomial in g^2 per coupling."""
    def row(mass):
        coeffs = _polynomials(mass, measurements, model)
        return jax.vmap(lambda g: _poly_delta_chi2(coeffs, g, measurements))(couplings)
    return jax.vmap(row)(masses)


@dataclass(frozen=True)
class GridResult:
    """Delta chi^2 on a (mass, coupling) raster (``delta_chi2[i_mass, i_coupling]``)."""

    masses_mev: np.ndarray
    couplings: np.ndarray
    delta_chi2: np.ndarray
    converged: np.ndarray
    compile_s: float
    run_s: float


def delta_chi2_grid(measurements, model, masses_mev, couplings, chunk: int = 2048,
                    method: str = "polynomial", progress=sys.stderr) -> GridResult:
    """Delta chi^2 over the outer product of ``masses_mev`` [MeV] and ``couplings``.

    ``method="polynomial"`` (default) uses that the counts are a quadratic
    polynomial in g^2 at fixed mass (:func:`rates.counts_coupling_polynomial`):
    rows of the grid are evaluated per mass, chunked over masses so that one
    chunk holds about ``chunk`` points. ``method="general"`` evaluates the full
    rate at every point (any model). Both are one compiled vmapped function
    per chunk shape; progress on ``progress`` (None: silent).
    """
    masses = np.asarray(masses_mev, dtype=float)
    gs = np.asarray(couplings, dtype=float)
    ms = tuple(measurements)
    if method == "polynomial":
        rows = min(max(1, chunk // gs.size), masses.size)   # no padding beyond the grid
        (d, conv), (c_s, r_s) = chunked_map(_grid_rows, (masses,), rows, static=(jnp.asarray(gs), ms, model),
                                            label="grid", progress=progress)
        return GridResult(masses, gs, d, conv, c_s, r_s)
    if method != "general":
        raise ValueError(f"method: must be 'polynomial' or 'general', got {method!r}")
    mm, gg = np.meshgrid(masses, gs, indexing="ij")
    (d, conv), (c_s, r_s) = chunked_map(_grid_chunk, (mm.ravel(), gg.ravel()), min(chunk, mm.size),
                                        static=(ms, model), label="grid", progress=progress)
    return GridResult(masses, gs, d.reshape(mm.shape), conv.reshape(mm.shape), c_s, r_s)


@partial(jax.jit, static_argnums=(2, 6, 7))
def _limits_chunk(masses, measurements, model, level, log_lo, log_hi, n_coarse, bisections):
    log_g = jnp.linspace(log_lo, log_hi, n_coarse)

    def one_mass(mass):
        coeffs = _polynomials(mass, measurements, model)

        def dchi2(mass, lg):
            return _poly_delta_chi2(coeffs, 10.0**lg, measurements)

        values, conv = jax.vmap(lambda lg: dchi2(mass, lg))(log_g)
        above = values >= level
        found = jnp.any(above)
        idx = jnp.argmax(above)                      # first coarse point above the level
        a = log_g[jnp.maximum(idx - 1, 0)]
        b = log_g[idx]

        def bisect(_, ab):
            a, b = ab
            mid = 0.5 * (a + b)
            up = dchi2(mass, mid)[0] >= level
            return jnp.where(up, a, mid), jnp.where(up, mid, b)

        a, b = jax.lax.fori_loop(0, bisections, bisect, (a, b))
        below = found & (idx == 0)
        coupling = jnp.where(found & ~below, 10.0 ** (0.5 * (a + b)), jnp.nan)
        return coupling, below, jnp.all(conv)

    return jax.vmap(one_mass)(masses)


def coupling_limits(measurements, model, masses_mev, level: float = CL90_1DOF,
                    coupling_range=(1e-8, 1.0), n_coarse: int = 161, bisections: int = 50,
                    chunk: int = 8, progress=sys.stderr):
    """Smallest coupling with Delta chi^2 >= level at each mass (first crossing from below).

    A coarse log-spaced scan of ``n_coarse`` couplings over ``coupling_range``
    brackets the first crossing; ``bisections`` halvings in log10 g refine it
    (50 halvings of a 0.05-dex bracket: far below double precision).

    Returns a dict of arrays: ``mass_mev``, ``coupling`` (NaN where the level
    is not reached inside ``coupling_range``), ``below_range`` (already
    excluded at the lowest coupling scanned), ``converged`` (all pull fits
    along the coarse scan converged).
    """
    lo, hi = (math.log10(c) for c in coupling_range)
    masses = np.asarray(masses_mev, dtype=float)
    (g, below, conv), _ = chunked_map(
        _limits_chunk, (masses,), chunk,
        static=(tuple(measurements), model, float(level), lo, hi, n_coarse, bisections),
        label="limits", progress=progress)
    return {"mass_mev": masses, "coupling": g, "below_range": below, "converged": conv}


def contour_lines(grid: GridResult, level: float = CL90_1DOF):
    """Contour lines Delta chi^2 = level of a grid, in (log10 m, log10 g), as a list of (n, 2) arrays.

    The interpolation is done in the log variables the grid is spaced in.
    Returned coordinates are in MeV and dimensionless coupling.
    """
    import contourpy

    gen = contourpy.contour_generator(np.log10(grid.couplings), np.log10(grid.masses_mev),
                                      grid.delta_chi2)
    lines = gen.lines(level)
    return [np.column_stack([10.0 ** ln[:, 1], 10.0 ** ln[:, 0]]) for ln in lines]
