"""``--method toys`` on the command line: Feldman-Cousins limits (:mod:`zprime_jax.inference.toys`) as JSON."""

from __future__ import annotations

import math

from .options import UsageError


def check_toy_forms(analysis) -> None:
    """Before any scan: every measurement has a Poisson form (else an error naming --method)."""
    from ..errors import InputError
    from ..inference.toys import check_forms

    try:
        check_forms(analysis)
    except InputError as err:
        raise UsageError(str(err)) from None


def toy_limits_of(args, analysis, model, fixed_values, t_wilks, cl, t_range, axis, increasing, progress):
    """Run the construction with the command's ``--toys`` and ``--seed``; a form without toys names --method."""
    from ..errors import InputError
    from ..inference.toys import toy_limits

    try:
        return toy_limits(analysis, model, fixed_values, t_wilks, n_toys=args.toys, cl=cl,
                          t_range=t_range, axis=axis, increasing=increasing, seed=args.seed, progress=progress)
    except InputError as err:
        raise UsageError(str(err)) from None


def toy_rows(wilks_rows, toy, key: str, value_of):
    """The ``limits`` rows with the Feldman-Cousins value under ``key`` (``value_of(t)``), the Wilks one
    beside it (``wilks_<key>``), the critical Delta chi^2 at the limit and its Monte-Carlo error, the status."""
    out = []
    for row, t, status, crit, err in zip(wilks_rows, toy["t"], toy["status"], toy["critical_delta_chi2"],
                                         toy["critical_error"]):
        found = math.isfinite(t)
        out.append({**row, key: float(value_of(t)) if found else None, f"wilks_{key}": row[key],
                    "critical_delta_chi2": float(crit) if found else None,
                    "critical_delta_chi2_error": float(err) if found else None, "toy_status": status})
    return out


def toy_summary(args, toy) -> dict:
    """Settings, timing and every test point of the construction (JSON)."""
    from ..inference.toys import GRID_POINTS, TEST_OFFSETS

    return {"per_test_point": args.toys, "seed": args.seed,
            "test_points_per_window": len(TEST_OFFSETS), "minimum_grid_points": GRID_POINTS,
            "compile_s": toy["compile_s"], "run_s": toy["run_s"], "profiled_toys": toy["toys"],
            "toys_per_s": toy["toys"] / toy["run_s"] if toy["run_s"] > 0 else None, "test_points": toy["tests"],
            "ordering": "Feldman-Cousins (likelihood ratio to the best fit at x >= 0, per fixed value)"}


def toy_warnings(rows) -> list[str]:
    """Why a Feldman-Cousins limit is null."""
    meaning = {"below-test-points": "the data are beyond the critical value already below the lowest test point",
               "above-test-points": "the critical value is not crossed on the test points",
               "no-wilks-limit": "there is no Wilks limit to place the test points around"}
    return [f"limits[{i}] is null ({r['toy_status']}): {meaning[r['toy_status']]}"
            for i, r in enumerate(rows) if r["toy_status"] != "limit"]
