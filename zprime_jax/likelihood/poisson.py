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
  (:mod:`zprime_jax.scan`) use its building blocks (:func:`solve_pulls`,
  :func:`warm_start`) with warm starts along the coupling axis: about two
  passes per point.

Safeguards of the fast profile (self-concordance). Each term -2 n_i ln mu_i
is (2/sqrt(2 n_i))-self-concordant, so phi = s chi^2 with
s = 1/(2 min_{n_i > 0} n_i) is standard self-concordant; with
lambda = sqrt(s g^T H^-1 g) (its Newton decrement):
  - the step 1/(1 + lambda) stays feasible and lowers chi^2 (so a rejected
    trial step is never shrunk below it);
  - a full step lowers chi^2 when lambda < 0.25, and the next decrement is
    lambda_+ <= (lambda/(1 - lambda))^2 (the stopping rule);
  - chi^2 - chi^2_min <= (-lambda - ln(1 - lambda))/s for lambda < 1.
And the pulls make chi^2 strongly convex (Hessian >= diag(2/sigma_S^2,
2/sigma_B^2)), so chi^2 - chi^2_min <= (sigma_S^2 g_S^2 + sigma_B^2 g_B^2)/4
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

from ..errors import InputError
from .profile import Profile

NEWTON_ITERATIONS = 16
# Step fractions tried in order; the first that lowers chi^2 is taken.
_STEP_FRACTIONS = jnp.asarray([1.0, 0.5, 0.25, 0.0625, 0.0])
# Converged when half the Newton decrement g^T H^-1 g (the predicted chi^2
# decrease still available) is below this: far below any Delta chi^2 of interest.
CONVERGENCE_TOL = 1e-9


def poisson_deviance(mu, n):
    """2 [mu - n + n ln(n/mu)] per bin (0 ln 0 = 0); +inf where mu <= 0 < n."""
    safe_mu = jnp.where(mu > 0, mu, 1.0)
    dev = 2.0 * (mu - n + xlogy(n, n) - xlogy(n, safe_mu))
    return jnp.where(mu > 0, dev, jnp.where(n > 0, jnp.inf, 2.0 * (mu - n)))


def chi2_with_pulls(xi, signal, background, data, sigma_signal, sigma_background):
    """Eq. 4.1 at fixed pulls xi = (xi_S, xi_B).

    Args:
      xi: array (2,).
      signal, background, data: counts per bin, shape (B,).
      sigma_signal, sigma_background: fractional normalisation uncertainties.
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
    chi2 = f(xi)
    return Profile(chi2=chi2, nuisances=xi, converged=converged, decrement=decrement,
                   chi2_lower=jnp.where(converged, jax.lax.stop_gradient(chi2), -jnp.inf),
                   passes=jnp.asarray(iterations, dtype=jnp.int32))


# ---------------------------------------------------------------------------
# Fast profile: analytic derivatives, one pass over the bins per trial point
# ---------------------------------------------------------------------------
FAST_PASSES = 48          # maximum passes (trial points) of a cold-started fast profile
_FULL_STEP_LAMBDA = 0.25  # self-concordant decrement below which a full Newton step is safe


class PullData(NamedTuple):
    """What the fast profile needs of an experiment, precomputed once (a pytree).

    ``scale``: the self-concordance scale s = 1/(2 min_{n_i > 0} n_i) (1 when
    no bin has data); ``background_total``, ``data_total``: sums over bins.
    """

    background: jax.Array
    data: jax.Array
    sigma_signal: jax.Array
    sigma_background: jax.Array
    scale: jax.Array
    background_total: jax.Array
    data_total: jax.Array


def pull_data(background, data, sigma_signal, sigma_background) -> PullData:
    """:class:`PullData` of an experiment (background and data per bin, fractional sigmas)."""
    b = jnp.asarray(background)
    n = jnp.asarray(data)
    n_min = jnp.min(jnp.where(n > 0, n, jnp.inf))
    scale = jnp.where(jnp.isfinite(n_min), 0.5 / n_min, 1.0)
    return PullData(b, n, jnp.asarray(sigma_signal, dtype=n.dtype), jnp.asarray(sigma_background, dtype=n.dtype),
                    scale, jnp.sum(b), jnp.sum(n))


class _Eval(NamedTuple):
    chi2: jax.Array
    gs: jax.Array
    gb: jax.Array
    hss: jax.Array
    hsb: jax.Array
    hbb: jax.Array


def _evaluate(xs, xb, signal, pd: PullData, with_chi2: bool = True) -> _Eval:
    """Eq. 4.1 with its analytic gradient and Hessian in (xi_S, xi_B): one pass over the bins.

    chi^2 = 2 sum[mu - n + n ln(n/mu)] + pulls; g_S = 2 sum s (1 - n/mu) - 2 (1 - xi_S)/sigma_S^2;
    H_SS = 2 sum n s^2/mu^2 + 2/sigma_S^2, H_SB = 2 sum n s b/mu^2, and alike for B.
    Bins with n = 0 contribute 2 mu (also for mu <= 0, as :func:`poisson_deviance`);
    mu <= 0 in a bin with n > 0 gives chi^2 = +inf. ``with_chi2=False`` skips
    the logarithms (the costliest part): ``chi2`` is then 0 where feasible, +inf where not.
    """
    b, n = pd.background, pd.data
    mu = xs * signal + xb * b
    pos = n > 0
    feasible = jnp.all((mu > 0) | ~pos)
    v = 1.0 / jnp.where(mu > 0, mu, 1.0)
    r = n * v                                   # n/mu (0 where n = 0)
    rv = r * v                                  # n/mu^2
    omr = 1.0 - r
    terms = [signal * omr, b * omr, rv * signal * signal, rv * signal * b, rv * b * b]
    if with_chi2:
        terms.append((mu - n) + n * jnp.log(jnp.where(pos, r, 1.0)))
    sums = [jnp.sum(term) for term in terms]    # XLA fuses them into one pass over the bins
    iss = 1.0 / pd.sigma_signal**2
    isb = 1.0 / pd.sigma_background**2
    if with_chi2:
        chi2 = 2.0 * sums[5] + (1.0 - xs) ** 2 * iss + (1.0 - xb) ** 2 * isb
        chi2 = jnp.where(feasible & jnp.isfinite(chi2), chi2, jnp.inf)
    else:
        chi2 = jnp.where(feasible, 0.0, jnp.inf)
    return _Eval(chi2, 2.0 * sums[0] - 2.0 * (1.0 - xs) * iss, 2.0 * sums[1] - 2.0 * (1.0 - xb) * isb,
                 2.0 * sums[2] + 2.0 * iss, 2.0 * sums[3], 2.0 * sums[4] + 2.0 * isb)


def _newton_step(ev: _Eval):
    """(d_S, d_B, g^T H^-1 g) with d = H^-1 g (the step is -d); l2 = +inf where H is unusable."""
    det = ev.hss * ev.hbb - ev.hsb * ev.hsb
    ds = (ev.hbb * ev.gs - ev.hsb * ev.gb) / det
    db = (ev.hss * ev.gb - ev.hsb * ev.gs) / det
    l2 = ev.gs * ds + ev.gb * db
    ok = jnp.isfinite(ds) & jnp.isfinite(db) & jnp.isfinite(l2) & (det > 0) & jnp.isfinite(ev.chi2)
    zero = jnp.zeros_like(ds)
    return jnp.where(ok, ds, zero), jnp.where(ok, db, zero), jnp.where(ok, l2, jnp.inf)


class SolverState(NamedTuple):
    """State of the fast profile at a point (all per point; a pytree).

    ``xs, xb``: the pulls; ``chi2``: chi^2 there (+inf if infeasible; 0 inside
    the log-free iterations); ``gs, gb``: the gradient; ``ds, db``: the Newton
    step (the next trial is xi - t d); ``l2`` = g^T H^-1 g (twice the
    decrement); ``t``: the next trial fraction; ``passes``: passes used.
    """

    xs: jax.Array
    xb: jax.Array
    chi2: jax.Array
    gs: jax.Array
    gb: jax.Array
    ds: jax.Array
    db: jax.Array
    l2: jax.Array
    t: jax.Array
    passes: jax.Array


def _state(xs, xb, ev: _Eval, passes) -> SolverState:
    ds, db, l2 = _newton_step(ev)
    return SolverState(xs, xb, ev.chi2, ev.gs, ev.gb, ds, db, l2, jnp.ones_like(ev.gs), passes)


def _lambda(st: SolverState, pd: PullData):
    """The self-concordant Newton decrement sqrt(s g^T H^-1 g)."""
    return jnp.sqrt(jnp.maximum(pd.scale * st.l2, 0.0))


def _one_pass(st: SolverState, signal, pd: PullData) -> SolverState:
    """One log-free pass: the trial xi - t d is accepted when chi^2 certainly decreased, else t shrinks.

    Accepted: the slope of chi^2 along the step is still <= 0 at the trial
    (chi^2 decreased all along, by convexity), or the step is one that
    self-concordance guarantees (lambda < 0.25, or t <= 1/(1 + lambda)).
    Rejected: t moves to the zero of the slope's secant (clipped to
    [0.1 t, 0.9 t], never below 1/(1 + lambda)).
    """
    lam = _lambda(st, pd)
    t_safe = 1.0 / (1.0 + lam)
    xs_t = st.xs - st.t * st.ds
    xb_t = st.xb - st.t * st.db
    ev = _evaluate(xs_t, xb_t, signal, pd, with_chi2=False)
    feasible = jnp.isfinite(ev.chi2)
    slope = -(ev.gs * st.ds + ev.gb * st.db)    # d chi^2/dt at the trial point (t along -d)
    accept = feasible & ((slope <= 0) | (lam < _FULL_STEP_LAMBDA) | (st.t <= t_safe))
    t_secant = st.t * st.l2 / (st.l2 + slope)   # zero of the slope's secant through t = 0 and t
    t_reject = jnp.where(feasible & (slope > 0), jnp.clip(t_secant, 0.1 * st.t, 0.9 * st.t), 0.1 * st.t)
    t_reject = jnp.maximum(t_reject, t_safe)
    new = _state(xs_t, xb_t, ev, st.passes + 1)
    return jax.tree_util.tree_map(lambda a, b: jnp.where(accept, a, b), new,
                                  st._replace(t=t_reject, passes=st.passes + 1))


def _final_pass(st: SolverState, signal, pd: PullData) -> SolverState:
    """The last pass: the pending Newton step where it is safe (lambda < 0.25), then chi^2 (with logs)."""
    step = _lambda(st, pd) < _FULL_STEP_LAMBDA
    xs = jnp.where(step, st.xs - st.ds, st.xs)
    xb = jnp.where(step, st.xb - st.db, st.xb)
    return _state(xs, xb, _evaluate(xs, xb, signal, pd), st.passes + 1)


def _final_step_suffices(st: SolverState, pd: PullData):
    """After one more full Newton step half the decrement will be < CONVERGENCE_TOL (self-concordance:
    lambda_+ <= (lambda/(1 - lambda))^2)."""
    lam = _lambda(st, pd)
    nxt = (lam / (1.0 - jnp.minimum(lam, 0.5))) ** 2
    return (lam < _FULL_STEP_LAMBDA) & (0.5 * nxt * nxt / pd.scale < CONVERGENCE_TOL)


def solver_converged(st: SolverState):
    """Half the Newton decrement below ``CONVERGENCE_TOL`` at a finite chi^2 (same rule as :func:`profile_pulls`)."""
    return jnp.isfinite(st.chi2) & (0.5 * st.l2 < CONVERGENCE_TOL)


def solve_pulls(signal, pd: PullData, xs0, xb0, max_passes: int) -> SolverState:
    """Fast profile of one point from the start (xs0, xb0), at most ``max_passes`` passes over the bins.

    Log-free Newton passes (:func:`_one_pass`) until one more full step is
    certain to converge, then :func:`_final_pass` (the step, chi^2 with logs,
    and the derivatives that certify the result). Per point (vmap it); the
    ``lax.while_loop`` lanes stop once done, so a batch costs the passes of
    its slowest point. Not differentiated through: :func:`profile_pulls_fast`
    adds the implicit derivative.
    """
    ev = _evaluate(xs0, xb0, signal, pd, with_chi2=False)
    st = _state(xs0, xb0, ev, jnp.ones_like(ev.gs, dtype=jnp.int32))
    st = jax.lax.while_loop(lambda s: (s.passes < max_passes - 1) & ~_final_step_suffices(s, pd),
                            lambda s: _one_pass(s, signal, pd), st)
    return _final_pass(st, signal, pd)


def total_count_start(total_signal, pd: PullData):
    """The profile of eq. 4.1 for the total counts (one bin): closed form, (xi_S, xi_B).

    Stationarity gives 1 - xi_S = S sigma_S^2 u, 1 - xi_B = B sigma_B^2 u with
    u = 1 - N/mu and mu = T - u V (T = S + B, V = S^2 sigma_S^2 + B^2 sigma_B^2),
    so V u^2 - (T + V) u + (T - N) = 0; the root with mu > 0 is taken in its
    cancellation-free form. Exact for single-bin experiments; the start of
    the fast profile otherwise (it matches the totals and the pulls, the
    spectral shape is left to Newton).
    """
    ss2 = pd.sigma_signal**2
    sb2 = pd.sigma_background**2
    s_tot, b_tot, n_tot = total_signal, pd.background_total, pd.data_total
    t = s_tot + b_tot
    v = s_tot * s_tot * ss2 + b_tot * b_tot * sb2
    u = 2.0 * (t - n_tot) / ((t + v) + jnp.sqrt((t - v) ** 2 + 4.0 * v * n_tot))
    xb = 1.0 - b_tot * sb2 * u
    shift = s_tot * ss2 * u
    # xi_S = 1 - S sigma_S^2 u cancels when the signal is huge (xi_S -> (N - B)/S, u -> 1/(S sigma_S^2));
    # there mu = N/(1 - u) and xi_S = (mu - xi_B B)/S is the accurate form.
    mu = n_tot / (1.0 - u)
    xs = jnp.where(shift < 0.5, 1.0 - shift, (mu - xb * b_tot) / jnp.where(s_tot > 0, s_tot, 1.0))
    return xs, xb


def _positive_or(xs, xb, xs_alt, xb_alt):
    ok = jnp.isfinite(xs) & jnp.isfinite(xb) & (xs > 0) & (xb > 0)
    return jnp.where(ok, xs, xs_alt), jnp.where(ok, xb, xb_alt)


def cold_start(total_signal, pd: PullData):
    """:func:`total_count_start` where it has positive pulls, else (1, 1)."""
    xs, xb = total_count_start(total_signal, pd)
    one = jnp.ones_like(xs)
    return _positive_or(xs, xb, one, one)


def warm_start(st: SolverState, total_prev, total_new, pd: PullData):
    """Start for a neighbouring point from a solved one (total signal ``total_prev`` -> ``total_new``).

    The pulls move as the total-count profile moves (xi_S scaled by its ratio,
    xi_B shifted by its change); where the solved point's pending Newton step
    is safe (lambda < 0.25) it is taken first. Falls back to :func:`cold_start`.
    """
    safe = _lambda(st, pd) < _FULL_STEP_LAMBDA
    xs = jnp.where(safe, st.xs - st.ds, st.xs)
    xb = jnp.where(safe, st.xb - st.db, st.xb)
    a0, b0 = total_count_start(total_prev, pd)
    a1, b1 = total_count_start(total_new, pd)
    xs_c, xb_c = cold_start(total_new, pd)
    return _positive_or(xs * (a1 / a0), xb + (b1 - b0), xs_c, xb_c)


def chi2_lower_bound(st: SolverState, pd: PullData):
    """A rigorous lower bound on chi^2_min from the accepted point (chi^2, gradient, decrement).

    min of the self-concordance bound (-lambda - ln(1 - lambda))/s (lambda < 1)
    and the strong-convexity bound (sigma_S^2 g_S^2 + sigma_B^2 g_B^2)/4.
    """
    lam = _lambda(st, pd)
    inside = lam < 1.0
    lam_in = jnp.where(inside, lam, 0.0)
    sc_gap = jnp.where(inside, (-lam_in - jnp.log1p(-lam_in)) / pd.scale, jnp.inf)
    dual_gap = 0.25 * (pd.sigma_signal**2 * st.gs**2 + pd.sigma_background**2 * st.gb**2)
    return st.chi2 - jnp.minimum(sc_gap, dual_gap)


def _implicit_chi2(st: SolverState, signal, pd: PullData):
    """chi^2 at the solved pulls with the derivatives of the profiled chi^2 (one more pass).

    F(theta) = chi^2(xi*, theta) - g^T H^-1 g / 2 (the Newton model's minimum
    at fixed xi*) has, where g = 0, the first derivative of chi^2_min
    (envelope theorem) and the second (H_theta theta - H_theta xi H^-1
    H_xi theta); its value is replaced by chi^2(xi*) exactly. Also returns the
    pulls with their implicit-function derivative -H^-1 dg/dtheta.
    """
    sg = jax.lax.stop_gradient
    xs, xb = sg(st.xs), sg(st.xb)
    ev = _evaluate(xs, xb, signal, pd)
    ds, db, l2 = _newton_step(ev)
    model_min = ev.chi2 - 0.5 * jnp.where(jnp.isfinite(l2), l2, 0.0)
    tangent = jnp.where(jnp.isfinite(model_min), model_min - sg(model_min), 0.0)
    xi = jnp.stack([xs - (ds - sg(ds)), xb - (db - sg(db))])
    return sg(st.chi2) + tangent, xi


def profile_pulls_fast(signal, background, data, sigma_signal, sigma_background, passes: int = FAST_PASSES,
                       start=None) -> Profile:
    """min over (xi_S, xi_B) of eq. 4.1: the fast profile (module docstring), one point.

    Args: as :func:`profile_pulls`; ``passes``: at most this many passes over
      the bins (trial points), stopping early once converged; ``start``: an
      optional (2,) start (default: :func:`cold_start`, the total-count profile).
    jit/vmap/grad friendly: the iterations are not differentiated; gradients
    (first and second order) of ``chi2`` with respect to the signal, data and
    background are those of the profiled chi^2 (implicit differentiation), exact
    at convergence.
    """
    sg = jax.lax.stop_gradient
    pd = pull_data(background, data, sigma_signal, sigma_background)
    sig0, pd0 = sg(jnp.asarray(signal)), jax.tree_util.tree_map(sg, pd)
    if start is None:
        xs0, xb0 = cold_start(jnp.sum(sig0), pd0)
    else:
        start = sg(jnp.asarray(start, dtype=sig0.dtype))
        xs0, xb0 = _positive_or(start[0], start[1], *cold_start(jnp.sum(sig0), pd0))
    st = solve_pulls(sig0, pd0, xs0, xb0, passes)
    chi2, xi = _implicit_chi2(st, jnp.asarray(signal), pd)
    return Profile(chi2=chi2, nuisances=xi, converged=solver_converged(st), decrement=0.5 * st.l2,
                   chi2_lower=chi2_lower_bound(st, pd0), passes=st.passes)




class ScanState(NamedTuple):
    """What a scan carries from one point to the next: the solver state and the total signal there."""

    solver: SolverState
    total_signal: jax.Array


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class PoissonPulls:
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

    @property
    def nuisance_names(self) -> tuple[str, ...]:
        return self.names

    def nominal(self) -> jax.Array:
        """Nominal values of the nuisances (both normalisations 1)."""
        return jnp.ones(2, dtype=jnp.result_type(self.background))

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
        total = jnp.sum(signal)
        xs, xb = cold_start(total, prepared)
        z = jnp.zeros_like(xs)
        return ScanState(SolverState(xs, xb, z, z, z, z, z, z, z + 1.0, jnp.zeros_like(xs, dtype=jnp.int32)),
                         total)

    def scan_solve(self, signal, prepared: PullData, previous: ScanState, cold, passes: int) -> ScanState:
        """Fast profile at ``signal``, warm-started from the previous point's state (``cold``: a traced
        flag to start from scratch instead), at most ``passes`` passes over the bins."""
        total = jnp.sum(signal)
        xs0, xb0 = warm_start(previous.solver, previous.total_signal, total, prepared)
        xs_c, xb_c = cold_start(total, prepared)
        xs0, xb0 = jnp.where(cold, xs_c, xs0), jnp.where(cold, xb_c, xb0)
        return ScanState(solve_pulls(signal, prepared, xs0, xb0, passes), total)

    def scan_values(self, state: ScanState, prepared: PullData):
        """(chi^2, its certified lower bound, converged) of a scan state."""
        st = state.solver
        return st.chi2, chi2_lower_bound(st, prepared), solver_converged(st)
