"""The pressure of a gas TPC as a differentiable design parameter (nuBDX-DRIFT).

Light-mediator paper sec. 3.1: raising the CS2 pressure adds targets (eq. 3.3)
but raises the thresholds (eq. 3.4). The paper picks 60 and 411 Torr by eye;
here the pressure is a continuous input of a differentiable kernel
(:func:`rates.build_gas_tpc_kernel`), so

* the SM count N(P) and its derivative come from autodiff;
* the excluded coupling g*(m, P), defined by Delta chi^2(g*, m, P) = level,
  is differentiated by the implicit-function theorem,
  dg*/dP = -(d Delta chi^2/dP) / (d Delta chi^2/dg) at g = g*,
  not by finite differences (:func:`coupling_limit` is a ``jax.custom_jvp``);
* both are optimised over log P with an Optax optimiser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..errors import InputError
from ..inference.implicit import implicit_root
from ..inference.limits import LIGHT_AXIS, crossing_one
from ..io.progress import progress_bar
from ..kernels.rates import build_gas_tpc_kernel, expected_counts
from ..likelihood import CL90_1DOF, Analysis, asimov_measurement, delta_chi2
from ..physics.models import MODELS, LightZPrime


def _check_gas_tpc(spec):
    if spec.detector.kind != "gas-tpc":
        raise InputError(f"experiment {spec.name!r}: the pressure applies to gas-TPC detectors only")


@partial(jax.jit, static_argnums=1)
def sm_events(pressure_torr, spec):
    """Expected SM counts per target (T,) at the pressure [Torr] (R = R(C) + 2R(S), eq. 3.5)."""
    k = build_gas_tpc_kernel(spec, pressure_torr)
    return expected_counts(None, k, MODELS["sm"], breakdown=True).sum(axis=(0, 2))


PRESSURE_BATCH = 32     # pressures evaluated together by pressure_scan


def pressure_scan(spec, pressures_torr) -> dict:
    """SM counts versus pressure, per target, with the crossover and the maximum.

    Returns a dict: ``pressure_torr``, ``total``, ``by_target`` {isotope: counts},
    ``crossover_torr`` (where the first target overtakes the second, by
    linear interpolation in log P; None if they do not cross), and
    ``max_torr`` (the maximum of the total, refined by Newton on the
    autodiff derivative in log P).
    """
    _check_gas_tpc(spec)
    p = np.asarray(pressures_torr, dtype=float)
    if np.any(p <= 0):
        raise InputError("pressure_torr: every pressure must be > 0")
    # in batches: one pressure's kernel holds a few MB, so the memory stays bounded for any number of points
    per = np.asarray(jax.lax.map(lambda x: sm_events(x, spec), jnp.asarray(p), batch_size=PRESSURE_BATCH))  # (n, T)
    targets = build_gas_tpc_kernel(spec, float(p[0])).targets
    total = per.sum(axis=1)
    out = {"pressure_torr": p, "total": total,
           "by_target": {t: per[:, i] for i, t in enumerate(targets)}, "crossover_torr": None}
    if len(targets) == 2:
        diff = per[:, 0] - per[:, 1]
        idx = np.nonzero(np.diff(np.sign(diff)))[0]
        if idx.size:
            i = idx[0]
            lp = np.log(p[i]) + (np.log(p[i + 1]) - np.log(p[i])) * diff[i] / (diff[i] - diff[i + 1])
            out["crossover_torr"] = float(np.exp(lp))
    out["max_torr"] = maximise_sm_events_newton(spec, float(p[np.argmax(total)]))
    return out


def maximise_sm_events_newton(spec, start_torr: float, iterations: int = 30) -> float:
    """Stationary point of log N(P) in log P by Newton's method on autodiff derivatives."""
    f = lambda u: jnp.log(jnp.sum(sm_events(jnp.exp(u), spec)))   # noqa: E731
    d1, d2 = jax.grad(f), jax.grad(jax.grad(f))
    u = math.log(start_torr)
    for _ in range(iterations):
        step = float(d1(u) / d2(u))
        u -= max(-0.5, min(0.5, step))
        if abs(step) < 1e-10:
            break
    return math.exp(u)


def _asimov_at(pressure_torr, spec):
    return asimov_measurement(build_gas_tpc_kernel(spec, pressure_torr))


@dataclass(frozen=True)
class _PressureLevel:
    """f(t, (P, m)) = Delta chi^2(g = 10^t; m, P) - level of a gas TPC's Asimov data (hashable: static)."""

    spec: object
    model: object
    level: float

    def __call__(self, t, theta):
        pressure, mass = theta
        return delta_chi2(LightZPrime(mass, 10.0**t), (_asimov_at(pressure, self.spec),), self.model)[0] - self.level


@partial(jax.jit, static_argnums=(2, 3, 4, 5))
def coupling_limit(pressure_torr, mass_mev, spec, model, level=CL90_1DOF, coupling_range=(1e-8, 1.0)):
    """Smallest excluded coupling g*(m, P) (first crossing of ``level``), differentiable in P and m.

    The value comes from the bracketed search (:func:`limits.crossing_one`:
    coarse log scan + bisection, traceable, so this works under ``jit``);
    derivatives with respect to the pressure and the mass from the implicit-limit
    rule (:func:`inference.implicit.implicit_root`). Compiled once per (spec, model, level, range):
    new pressures and masses reuse it.
    """
    lo, hi = (math.log10(c) for c in coupling_range)
    meas = _asimov_at(pressure_torr, spec)
    t_star = crossing_one(jnp.asarray(mass_mev), Analysis((meas,)), jnp.asarray(float(level)), jnp.asarray(lo),
                          jnp.asarray(hi), model, 161, 50, *LIGHT_AXIS, False)[0]
    theta = (jnp.asarray(pressure_torr, dtype=float), jnp.asarray(mass_mev, dtype=float))
    return 10.0 ** implicit_root(_PressureLevel(spec, model, float(level)), t_star, theta)


def optimize_pressure(spec, objective: str = "sm-events", model=None, mass_mev: float | None = None,
                      start_torr: float = 100.0, steps: int = 150, learning_rate: float = 0.1,
                      progress=None) -> dict:
    """Optimise the pressure with Optax (Adam on u = log P, decaying step size).

    objective:
      ``"sm-events"``: maximise the SM count N(P) (loss -log N).
      ``"limit"``: minimise the excluded coupling g*(m, P) at ``mass_mev``
        for ``model`` (loss log g*, gradient by implicit differentiation).
    Returns {"objective", "pressure_torr", "sm_events", "coupling", "history"}.
    """
    _check_gas_tpc(spec)
    if objective == "sm-events":
        def loss(u):
            return -jnp.log(jnp.sum(sm_events(jnp.exp(u), spec)))
    elif objective == "limit":
        if model is None or mass_mev is None or not mass_mev > 0:
            raise InputError("objective 'limit' needs a Z' model and mass_mev > 0")

        def loss(u):
            return jnp.log(coupling_limit(jnp.exp(u), jnp.asarray(float(mass_mev)), spec, model))
    else:
        raise InputError(f"objective: must be 'sm-events' or 'limit', got {objective!r}")

    value_and_grad = jax.jit(jax.value_and_grad(loss))
    # Adam with a constant step for 50 iterations, then decaying x0.98 per step
    # (to ~1e-2 of it after 150 steps) so that the iterate settles on the optimum.
    schedule = optax.exponential_decay(learning_rate, transition_steps=1, decay_rate=0.98,
                                       transition_begin=min(50, steps // 3))
    opt = optax.adam(schedule)
    u = jnp.asarray(math.log(start_torr))
    state = opt.init(u)
    history = []
    with progress_bar(f"optimize-pressure [{objective}]", steps, progress, "step") as bar:
        for i in range(steps):
            value, grad = value_and_grad(u)
            history.append((float(jnp.exp(u)), float(value)))
            updates, state = opt.update(grad, state, u)
            u = optax.apply_updates(u, updates)
            if progress is not None and (i % 10 == 0 or i == steps - 1):
                bar.set_postfix_str(f"P = {float(jnp.exp(u)):.2f} Torr, loss = {float(value):.6g}", refresh=False)
            bar.update(1)
    p = float(jnp.exp(u))
    out = {"objective": objective, "pressure_torr": p,
           "sm_events": float(jnp.sum(sm_events(p, spec))), "history": history}
    if objective == "limit":
        out["coupling"] = float(coupling_limit(jnp.asarray(p), jnp.asarray(float(mass_mev)), spec, model))
    return out
