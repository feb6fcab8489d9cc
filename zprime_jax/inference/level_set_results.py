"""Results of a level-set trace: :class:`Branch` and :class:`TraceResult`.

Plain frozen dataclasses of NumPy arrays and counters, returned by
:func:`zprime_jax.inference.level_set.trace_level_set` (and re-exported by
that module); ``EDGE_REASONS`` lists how a branch end can terminate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EDGE_REASONS = ("edge", "closed", "stalled", "max_steps")


@dataclass(frozen=True)
class Branch:
    """One connected piece of the level set.

    Attributes:
      points: (n, 2) array of (x, y) on the level set, in the coordinates of f,
        ordered along the curve. A closed branch repeats its first point last.
      closed: True for a closed loop.
      ends: how the two ends terminated, each one of "edge" (on the domain
        boundary), "closed", "stalled" (step below min_step) or "max_steps".
    """

    points: np.ndarray
    closed: bool
    ends: tuple[str, str]


@dataclass(frozen=True)
class TraceResult:
    """Level set f = level traced by :func:`trace_level_set`.

    Attributes:
      branches: the connected pieces, in the order they were found.
      level: the level c.
      x_range, y_range: the domain.
      n_value_evals: evaluations of f alone (ray samples, bisection).
      n_grad_evals: evaluations of f with its gradient (corrector).
      n_seeds: roots found on the rays (before deduplication).
      n_steps, n_rejected: accepted and rejected continuation steps.
      wall_s: wall time of the whole trace [s] (compilation included).
    """

    branches: tuple[Branch, ...]
    level: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    n_value_evals: int
    n_grad_evals: int
    n_seeds: int
    n_steps: int
    n_rejected: int
    wall_s: float

    @property
    def n_branches(self) -> int:
        return len(self.branches)

    @property
    def n_evaluations(self) -> int:
        """Value evaluations plus value-and-gradient evaluations (each counted once)."""
        return self.n_value_evals + self.n_grad_evals
