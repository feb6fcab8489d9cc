"""The outcome of profiling a likelihood form over its nuisances, with its status as data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp

# Converged when half the Newton decrement g^T H^-1 g (the predicted chi^2 decrease still
# available) is below this: far below any Delta chi^2 of interest. The rule of every profiler.
CONVERGENCE_TOL = 1e-9


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Profile:
    """chi^2 minimised over a form's own nuisances, and how the minimisation went (a pytree).

    Fields (arrays; a vmapped profile has a leading axis on each):
      chi2: the profiled chi^2 (differentiable: implicit or envelope derivative).
      nuisances: (P,) the nuisances at the minimum, in ``form.nuisance_names`` order
        (normalisation factors, nominal 1).
      converged: the minimisation met its tolerance (closed forms: always True).
      decrement: half the Newton decrement g^T H^-1 g left at the end (0 for closed forms).
      chi2_lower: a lower bound on the true minimum (equal to ``chi2`` for closed
        forms; certified by self-concordance for the fast eq. 4.1 profile; ``chi2``
        where converged and -inf elsewhere for the robust one).
      passes: passes over the bins (fast profile) or Newton iterations (robust); 0 for closed forms.
    """

    chi2: jax.Array
    nuisances: jax.Array
    converged: jax.Array
    decrement: jax.Array
    chi2_lower: jax.Array
    passes: jax.Array


class Normalisations:
    """Shared behaviour of forms whose nuisances are normalisation factors (nominal 1) named by ``names``."""

    @property
    def nuisance_names(self) -> tuple[str, ...]:
        return self.names

    def nominal(self) -> jax.Array:
        """Nominal values of the nuisances: every normalisation factor is 1."""
        return jnp.ones(len(self.names), dtype=jnp.result_type(float))


class ClosedForm:
    """Shared behaviour of the forms whose profile has a closed form (heavy-Z' paper eqs. 21-23).

    A subclass defines ``minimum(signal, data) -> (chi2, nuisances)``; the profile,
    and the scan interface that the warm-started scans use for every form
    (``prepare``, ``scan_start``, ``scan_solve``, ``scan_values``), follow: there is
    nothing to warm-start, every point is exact.
    """

    def profile(self, signal, data, method: str = "robust", start=None) -> Profile:
        """The exact minimum over the nuisances (``method`` and ``start`` do not apply)."""
        chi2, nuisances = self.minimum(signal, data)
        zero = jnp.zeros_like(chi2)
        return Profile(chi2=chi2, nuisances=nuisances, converged=jnp.isfinite(chi2), decrement=zero,
                       chi2_lower=chi2, passes=jnp.zeros_like(chi2, dtype=jnp.int32))

    def with_luminosity(self, ratio):
        """The form with the luminosity ratio F'/F = ``ratio`` (Fig. 3 of the heavy-Z' paper)."""
        return dataclasses.replace(self, luminosity=jnp.asarray(ratio, dtype=jnp.result_type(float)))

    def with_projection_uncertainty(self, sigma):
        """The form with sigma_stat = sigma_sys = ``sigma`` where it is a projection (eq. 22); else itself."""
        return self

    def prepare(self, data):
        return data

    def scan_start(self, signal, prepared):
        return self.minimum(signal, prepared)[0]

    def scan_solve(self, signal, prepared, previous, cold, passes: int):
        return self.minimum(signal, prepared)[0]

    def scan_values(self, state, prepared):
        return state, state, jnp.isfinite(state)


# Backtracking fractions of a damped Newton step, tried in order (the first that lowers chi^2 is taken):
# 1, 1/4, ..., 4^-11, then stay.
NEWTON_STEPS = tuple([4.0 ** -k for k in range(12)] + [0.0])


def solve_small(a, b):
    """x with a x = b for a small dense (P, P) system: Gaussian elimination with partial pivoting in plain
    array operations (unrolled over P). No LAPACK call: inside sharded scans on several CPU devices a
    LAPACK custom call in every iteration of every point deadlocked XLA:CPU (observed with jax 0.10)."""
    n = a.shape[0]
    m = jnp.concatenate([a, b[:, None]], axis=1)
    rows = jnp.arange(n)
    for k in range(n):
        piv = k + jnp.argmax(jnp.abs(m[k:, k]))
        m = m[jnp.where(rows == k, piv, jnp.where(rows == piv, k, rows))]
        pivot = jnp.where(m[k, k] == 0, 1e-300, m[k, k])
        factors = jnp.where(rows == k, 0.0, m[:, k] / pivot)
        m = m - factors[:, None] * m[k][None, :]
    return m[:, n] / jnp.diagonal(m)


def damped_newton(f, x0, free, iterations: int):
    """Minimise f (a scalar function of a (P,) vector) from x0 over the coordinates where ``free`` is 1:
    Newton on autodiff derivatives, a diagonally scaled gradient step where the Newton step does not
    descend (a non-convex region), a backtracking line search over :data:`NEWTON_STEPS`, a fixed number of
    iterations (jit/vmap/grad friendly). The one damped Newton of the package's iterative profiles.

    Returns (x, decrement, converged): half the Newton decrement g^T H^-1 g left at the end, and whether it
    is below :data:`CONVERGENCE_TOL`.
    """
    steps = jnp.asarray(NEWTON_STEPS)

    def direction(x):
        g = jax.grad(f)(x) * free
        h = jax.hessian(f)(x) * free[:, None] * free[None, :] + jnp.diag(1.0 - free)
        d = solve_small(h, g)
        diag = jnp.abs(jnp.diagonal(h))
        fallback = g / jnp.where(diag > 0, diag, 1.0)
        d = jnp.where(jnp.all(jnp.isfinite(d)) & (jnp.dot(g, d) > 0), d, fallback)
        return jnp.where(jnp.isfinite(d), d, 0.0), g

    def step(_, x):
        d, _g = direction(x)
        candidates = x[None, :] - steps[:, None] * d[None, :]
        values = jax.vmap(f)(candidates)
        values = jnp.where(jnp.isnan(values), jnp.inf, values)
        better = values < f(x)
        pick = jnp.where(jnp.any(better), jnp.argmax(better), steps.shape[0] - 1)
        return candidates[pick]

    x = jax.lax.fori_loop(0, iterations, step, x0)
    d, g = direction(jax.lax.stop_gradient(x))
    decrement = 0.5 * jnp.dot(g, d)
    return x, decrement, jnp.isfinite(decrement) & (jnp.abs(decrement) < CONVERGENCE_TOL)
