"""Confidence levels as Delta chi^2 thresholds (Wilks), written once."""

from __future__ import annotations

import math
from statistics import NormalDist

from ..errors import InputError

CL90_1DOF = 2.705543454095404  # chi^2_1 quantile at 90%: one parameter at fixed mass (or cos beta)


def delta_chi2_for_cl(cl: float, dof: int = 1) -> float:
    """The Delta chi^2 of a two-sided confidence level ``cl`` for ``dof`` parameters (0.9, 1 -> 2.7055).

    dof = 1: the square of the normal quantile at (1 + cl)/2; dof = 2: -2 ln(1 - cl).
    Raises InputError (field ``cl``) outside (0, 1).
    """
    if not (isinstance(cl, int | float) and math.isfinite(cl) and 0 < cl < 1):
        raise InputError(f"cl: must be a number in (0, 1), got {cl!r}")
    if dof == 1:
        return NormalDist().inv_cdf(0.5 * (1.0 + cl)) ** 2
    if dof == 2:
        return -2.0 * math.log1p(-cl)
    raise InputError(f"dof: 1 or 2 parameters are supported, got {dof!r}")


def cl_for_delta_chi2(level: float, dof: int = 1) -> float:
    """The confidence level of a Delta chi^2 threshold, the inverse of :func:`delta_chi2_for_cl`.

    dof = 1: erf(sqrt(level / 2)); dof = 2: 1 - exp(-level / 2). Raises InputError (field
    ``delta_chi2``) unless ``level`` is finite and > 0.
    """
    if not (isinstance(level, int | float) and math.isfinite(level) and level > 0):
        raise InputError(f"delta_chi2: must be a finite number > 0, got {level!r}")
    if dof == 1:
        return math.erf(math.sqrt(0.5 * level))
    if dof == 2:
        return -math.expm1(-0.5 * level)
    raise InputError(f"dof: 1 or 2 parameters are supported, got {dof!r}")
