"""The sensitivity figure: every experiment visible, blind-spot strips as closed filled regions."""

from types import SimpleNamespace

import numpy as np

from zprime_jax.plotting import blind_spot_strips, sensitivity_figure


def _grid(columns):
    """A grid whose Delta chi^2 along the couplings (increasing) is ``columns[i]`` at mass i."""
    d = np.asarray(columns, dtype=float)
    return SimpleNamespace(masses_mev=np.logspace(0, 1, d.shape[0]), couplings=np.logspace(-6, -3, d.shape[1]),
                           delta_chi2=d)


def test_strips_are_the_allowed_points_above_the_first_excluded_one():
    g = _grid([[0, 1, 5, 5, 1, 2, 5],      # excluded from the third coupling, a strip of two above it
               [0, 0, 0, 0, 0, 0, 0],      # never excluded: no strip (the region below a limit is not one)
               [9, 1, 9, 9, 9, 9, 9]])     # excluded at the first coupling: the dip above it is a strip
    expected = [[0, 0, 0, 0, 1, 1, 0], [0] * 7, [0, 1, 0, 0, 0, 0, 0]]
    np.testing.assert_array_equal(blind_spot_strips(g, 2.7), np.asarray(expected, dtype=bool))


def test_figure_draws_each_experiment_with_its_own_width_and_fills_the_strips(tmp_path, monkeypatch):
    """Two experiments with identical curves (as CsI and Xe nearly are) stay distinguishable: the first is
    drawn wider; a strip is a filled region in its experiment's colour, the excluded side is shaded."""
    from matplotlib.axes import Axes

    columns = [[0, 1, 5, 5, 1, 5, 5, 5]] * 6
    grids = {"combined": _grid(columns), "ess-csi": _grid(columns), "ess-xe": _grid(columns)}
    lines = [np.column_stack([np.logspace(0, 1, 6), np.full(6, 1e-5)])]
    plotted, filled = [], []
    real_plot, real_contourf = Axes.plot, Axes.contourf
    monkeypatch.setattr(Axes, "plot", lambda self, *a, **k: plotted.append(k) or real_plot(self, *a, **k))
    monkeypatch.setattr(Axes, "contourf", lambda self, *a, **k: filled.append(k) or real_contourf(self, *a, **k))
    path = sensitivity_figure(tmp_path / "s.png", "universal", 0.9, {"combined": (lines[0][:, 0], lines[0][:, 1])},
                              {"combined": lines, "ess-csi": lines, "ess-xe": lines}, grids=grids,
                              levels=dict.fromkeys(grids, 2.7))
    assert path.stat().st_size > 10_000
    width = {k["label"]: k["lw"] for k in plotted if k.get("label")}
    assert width["CsI"] > width["Xe"]
    assert [k["colors"] for k in filled] == [["0.9"], ["tab:blue"], ["tab:red"]]   # shade, then the two strips
