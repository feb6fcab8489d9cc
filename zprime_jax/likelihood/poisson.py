"""Binned Poisson chi^2 with pull terms (light-mediator paper eq. 4.1) and its profiling.

    chi2(theta, xi_S, xi_B) = sum_i 2 [mu_i - n_i + n_i ln(n_i / mu_i)]
                              + ((1 - xi_S)/sigma_S)^2 + ((1 - xi_B)/sigma_B)^2,
    mu_i = xi_S N_i(theta) + xi_B N_B,i,

with n_i the data (Asimov: N_SM,i + N_B,i). The written form of eq. 4.1,
2[mu - n(1 - ln(n/mu))], is the same expression.

Two profilers of the pulls, both jit/vmap/grad friendly, both reporting
convergence per point (half the Newton decrement below ``CONVERGENCE_TOL``):

* :func:`profile_pulls` (robust, the reference): damped Newton on the autodiff
  gradient and Hessian in (xi_S, xi_B), 16 fixed iterations, a 5-candidate
  line search with chi^2 values at every iteration. The objective is strictly
  convex in xi (the Poisson deviance is convex in mu, mu is linear in xi, the
  pulls are quadratic).
* :func:`profile_pulls_fast`: Newton on the analytic gradient and Hessian
  (eq. 4.1 differentiated by hand), one pass over the bins per trial point.
  The iterations need no logarithms (one division per bin): a trial step is
  accepted when chi^2 certainly decreased -- the slope along the step is
  still <= 0 at the trial point, or self-concordance guarantees it (below) --
  else it is shrunk (secant on the slope). They stop as soon as one more full
  step is certain to converge; that step is taken in a last pass that also
  evaluates chi^2 (the logarithms) and the decrement that certifies it. It
  starts from the closed-form profile of the total counts
  (:func:`total_count_start`; exact for a single-bin experiment) or from a
  caller's warm start, and returns a rigorous lower bound on chi^2_min
  (:func:`chi2_lower_bound`), which lets a scan decide on which side of a
  level a point lies before it has converged. The grid and limit scans
  (:mod:`zprime_jax.scan`) use its building blocks (:func:`solve_pulls_warm`,
  :func:`resume_pulls`, :func:`warm_start`) with warm starts along the
  coupling axis, each corrected by the extrapolated miss of the previous
  points: two passes for all but about one point in a thousand of the
  six-detector ESS grid.

The fast profile's machinery (self-concordance safeguards, warm starts,
certified bounds) is in :mod:`.poisson_fast`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

from ..errors import InputError
from .poisson_fast import (
    PullData,
    SolverState,
    bin_sum,
    chi2_lower_bound,
    cold_start,
    profile_pulls_fast,
    pull_data,
    pulls_unfinished,
    resume_pulls,
    solve_pulls_warm,
    solver_converged,
    warm_start,
    zero_data_minimum,
)
from .profile import CONVERGENCE_TOL, Normalisations, Profile

NEWTON_ITERATIONS = 16
# Step fractions tried in order; the first that lowers chi^2 is taken.
_STEP_FRACTIONS = jnp.asarray([1.0, 0.5, 0.25, 0.0625, 0.0])


def poisson_deviance(mu, n):
    """2 [mu - n + n ln(n/mu)] per bin (0 ln 0 = 0); +inf where mu <= 0 < n."""
    safe_mu = jnp.where(mu > 0, mu, 1.0)
    dev = 2.0 * (mu - n + xlogy(n, n) - xlogy(n, safe_mu))
    return jnp.where(mu > 0, dev, jnp.where(n > 0, jnp.inf, 2.0 * (mu - n)))


def chi2_with_pulls(xi, signal, background, data, sigma_signal, sigma_background):
    """Eq. 4.1 at fixed pulls xi = (xi_S, xi_B).

    Args:
      xi: array (2,).
      signal: expected signal counts per bin, shape (B,).
      background: expected background counts per bin, shape (B,).
      data: observed (or Asimov) counts per bin, shape (B,).
      sigma_signal: fractional normalisation uncertainty of the signal.
      sigma_background: fractional normalisation uncertainty of the background.
    """
    mu = xi[0] * signal + xi[1] * background
    pulls = ((1.0 - xi[0]) / sigma_signal) ** 2 + ((1.0 - xi[1]) / sigma_background) ** 2
    return jnp.sum(poisson_deviance(mu, data)) + pulls


def _newton_direction(g, h):
    det = h[0, 0] * h[1, 1] - h[0, 1] * h[1, 0]
    d = jnp.stack([h[1, 1] * g[0] - h[0, 1] * g[1], h[0, 0] * g[1] - h[1, 0] * g[0]]) / det
    return jnp.where(jnp.isfinite(d), d, 0.0)


def profile_pulls(signal, background, data, sigma_signal, sigma_background,
                  iterations: int = NEWTON_ITERATIONS) -> Profile:
    """min over (xi_S, xi_B) of eq. 4.1 by damped Newton on autodiff derivatives.

    Pure and fixed-shape: jit/vmap/grad friendly. Gradients with respect to
    ``signal`` flow through the unrolled iterations (at convergence they
    equal the envelope-theorem derivative).
    """
    def f(xi):
        return chi2_with_pulls(xi, signal, background, data, sigma_signal, sigma_background)

    grad = jax.grad(f)
    hess = jax.hessian(f)

    def step(_, xi):
        newton = _newton_direction(grad(xi), hess(xi))
        # Largest fraction of the step that keeps every mu_i positive (the
        # Poisson term is a barrier at mu = 0): stay 10% inside it.
        mu = xi[0] * signal + xi[1] * background
        d = newton[0] * signal + newton[1] * background
        t_max = jnp.min(jnp.where(d > 0, mu / jnp.where(d > 0, d, 1.0), jnp.inf))
        scale = jnp.minimum(1.0, 0.9 * t_max)
        candidates = xi[None, :] - (scale * _STEP_FRACTIONS)[:, None] * newton[None, :]
        values = jax.vmap(f)(candidates)
        values = jnp.where(jnp.isnan(values), jnp.inf, values)
        better = values < f(xi)
        pick = jnp.argmax(better)                   # first fraction that decreases chi^2
        pick = jnp.where(jnp.any(better), pick, _STEP_FRACTIONS.shape[0] - 1)
        return candidates[pick]

    # Start from the nominal pulls (1, 1) or, if better, from the signal
    # normalisation that matches the total observed counts (far from the
    # SM the optimum xi_S can be orders of magnitude below 1).
    ones = jnp.ones(2, dtype=jnp.result_type(signal))
    total_signal = jnp.sum(signal)
    ratio = (jnp.sum(data) - jnp.sum(background)) / jnp.where(total_signal > 0, total_signal, 1.0)
    matched = jnp.stack([jnp.where(ratio > 0, ratio, 1.0), 1.0])
    xi0 = jnp.where(f(matched) < f(ones), matched, ones)
    xi = jax.lax.fori_loop(0, iterations, step, xi0)
    g = jax.lax.stop_gradient(grad(xi))
    decrement = 0.5 * jnp.dot(g, _newton_direction(g, jax.lax.stop_gradient(hess(xi))))
    converged = jnp.isfinite(decrement) & (jnp.abs(decrement) < CONVERGENCE_TOL)
    empty = jnp.sum(data) == 0                           # every bin empty: the exact minimum (mu >= 0)
    xs0, xb0, _ = zero_data_minimum(jnp.sum(signal), pull_data(background, data, sigma_signal, sigma_background))
    xi = jnp.where(empty, jnp.stack([xs0, xb0]), xi)
    converged = converged | empty
    decrement = jnp.where(empty, 0.0, decrement)
    chi2 = f(xi)
    return Profile(chi2=chi2, nuisances=xi, converged=converged, decrement=decrement,
                   chi2_lower=jnp.where(converged, jax.lax.stop_gradient(chi2), -jnp.inf),
                   passes=jnp.asarray(iterations, dtype=jnp.int32))


class ScanState(NamedTuple):
    """What a scan carries from one point to the next: the solver state and the total signal there, the
    warm start's prediction of the pulls there and its miss at the point before (NaN after a cold start),
    which correct the next start (:func:`warm_start`)."""

    solver: SolverState
    total_signal: jax.Array
    predicted_s: jax.Array
    predicted_b: jax.Array
    missed_s: jax.Array
    missed_b: jax.Array


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class PoissonPulls(Normalisations):
    """Binned Poisson chi^2 with Gaussian-constrained normalisation pulls (light-mediator paper eq. 4.1).

    mu_i = xi_S N_i + xi_B N_B,i; chi^2 = sum_i 2[mu_i - n_i + n_i ln(n_i/mu_i)]
    + ((1 - xi_S)/sigma_S)^2 + ((1 - xi_B)/sigma_B)^2 (module docstring).

    Fields: ``background`` (B,) expected background counts per bin;
    ``sigma_signal``, ``sigma_background``: fractional normalisation
    uncertainties (arrays: differentiable); ``names`` (static): the names of
    the two nuisances (xi_S, xi_B). Measurements of one analysis whose
    nuisances carry the same name share them.
    """

    background: jax.Array
    sigma_signal: jax.Array
    sigma_background: jax.Array
    names: tuple[str, str] = field(default=("signal_norm", "background_norm"), metadata={"static": True})

    form: ClassVar[str] = "pulls-poisson"
    equation: ClassVar[str] = "light-mediator paper eq. 4.1 (binned Poisson, signal and background pulls)"



    def sigmas(self) -> jax.Array:
        """Gaussian widths of the nuisances' constraints, (2,)."""
        return jnp.stack([jnp.asarray(self.sigma_signal), jnp.asarray(self.sigma_background)])

    def data_chi2(self, nuisances, signal, data):
        """-2 ln(Poisson likelihood ratio) at fixed nuisances (no constraint terms)."""
        mu = nuisances[0] * signal + nuisances[1] * self.background
        return jnp.sum(poisson_deviance(mu, data))

    def asimov_data(self, sm_signal):
        """The Asimov data set: SM signal plus background, per bin."""
        return sm_signal + self.background

    def toy_mean(self, nuisances, signal):
        """Expected counts per bin at the nuisances, the mean of Poisson toy data: xi_S N + xi_B N_B."""
        return nuisances[0] * signal + nuisances[1] * self.background

    def profile(self, signal, data, method: str = "robust", start=None) -> Profile:
        """chi^2 profiled over (xi_S, xi_B): ``method`` "robust" (:func:`profile_pulls`, the reference)
        or "fast" (:func:`profile_pulls_fast`, optionally from ``start`` (2,))."""
        if method == "fast":
            return profile_pulls_fast(signal, self.background, data, self.sigma_signal, self.sigma_background,
                                      start=start)
        return profile_pulls(signal, self.background, data, self.sigma_signal, self.sigma_background)

    def with_luminosity(self, ratio):
        raise InputError("luminosity_ratio: does not apply to eq. 4.1 (pulls-poisson); scale the exposure "
                         "(design.gradients.scaled_kernel) instead")

    def with_projection_uncertainty(self, sigma):
        """Itself: eq. 4.1 has its own pulls, not the projection uncertainties of eq. 22."""
        return self

    # --- warm-started scans (zprime_jax.inference.scan) --------------------------------------------------
    def prepare(self, data) -> PullData:
        """Per-data constants of the fast profile, computed once per scan."""
        return pull_data(self.background, data, self.sigma_signal, self.sigma_background)

    def scan_start(self, signal, prepared: PullData) -> ScanState:
        """A state of the right structure to seed a scan (the cold start, unsolved)."""
        total = bin_sum(signal)
        xs, xb = cold_start(total, prepared)
        z = jnp.zeros_like(xs)
        nan = z + jnp.nan
        return ScanState(SolverState(xs, xb, z, z, z, z, z, z, z + 1.0, jnp.zeros_like(xs, dtype=jnp.int32)),
                         total, nan, nan, nan, nan)

    def scan_solve(self, signal, prepared: PullData, previous: ScanState, cold, passes: int) -> ScanState:
        """Fast profile at ``signal``, warm-started from the previous point's state (``cold``: a traced
        flag to start from scratch instead): the two passes of :func:`solve_pulls_warm`; a scan goes on
        with :meth:`scan_continue` while :meth:`scan_unfinished` (``passes``: the budget, there)."""
        total = bin_sum(signal)
        (xs0, xb0), predicted, missed = warm_start(previous.solver, previous.total_signal, total, prepared,
                                                   (previous.predicted_s, previous.predicted_b),
                                                   (previous.missed_s, previous.missed_b))
        xs_c, xb_c = cold_start(total, prepared)
        xs0, xb0 = jnp.where(cold, xs_c, xs0), jnp.where(cold, xb_c, xb0)
        predicted, missed = ([jnp.where(cold, jnp.nan, a) for a in pair] for pair in (predicted, missed))
        return ScanState(solve_pulls_warm(signal, prepared, xs0, xb0), total, *predicted, *missed)

    def scan_unfinished(self, state: ScanState, prepared: PullData, passes: int):
        """Whether :meth:`scan_continue` would go on (not converged, fewer than ``passes`` passes)."""
        return pulls_unfinished(state.solver, passes)

    def scan_continue(self, state: ScanState, signal, prepared: PullData, passes: int) -> ScanState:
        """One more pass where :meth:`scan_unfinished` (:func:`resume_pulls`), else the state itself."""
        return state._replace(solver=resume_pulls(state.solver, signal, prepared, passes))

    def scan_values(self, state: ScanState, prepared: PullData):
        """(chi^2, its certified lower bound, converged) of a scan state."""
        st = state.solver
        return st.chi2, chi2_lower_bound(st, prepared), solver_converged(st)
