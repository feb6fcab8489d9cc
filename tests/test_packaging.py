"""The package as a user installs it: a wheel in a fresh environment outside the checkout, and the
declared dependencies against what the code imports."""

import ast
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import zprime_jax

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "zprime_jax"


def _requirement_name(req: str) -> str:
    """The distribution name of a requirement string, normalised (PEP 503)."""
    for stop in "<>=!~[; ":
        req = req.split(stop, 1)[0]
    return req.strip().lower().replace("_", "-")


def _imported_top_level_modules() -> set[str]:
    """Every absolute import of the package's source, as top-level module names."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_imported_library_is_a_declared_dependency():
    """What the package imports is in [project] dependencies (required), not only in an extra, and every
    declared dependency is imported somewhere (no dead declaration)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {_requirement_name(r) for r in project["dependencies"]}
    dists = metadata.packages_distributions()
    stdlib = sys.stdlib_module_names
    third_party = {m for m in _imported_top_level_modules() if m not in stdlib and m != "zprime_jax"}
    used = set()
    for module in sorted(third_party):
        assert module in dists, f"{module}: imported by zprime_jax but installed by no distribution"
        names = {d.lower().replace("_", "-") for d in dists[module]}
        used |= names
        assert names & required, f"{module} ({names}): imported by zprime_jax but not in [project] dependencies"
    # jaxlib is needed by jax at run time; flatbuffers by jax.export's serialization (imported inside JAX)
    assert required - used <= {"jaxlib", "flatbuffers"}, f"declared but never imported: {required - used}"


def _run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{cmd}: {done.stderr[-3000:]}"
    return done.stdout


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """``pip wheel`` of the checkout, installed into a new virtual environment elsewhere on disk (the
    dependencies from this environment, the package only from the wheel): the presets and data files
    come with it, and ``zprime-jax`` gives there the numbers it gives here."""
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("zprime_jax-*.whl")
    assert wheel.name.startswith(f"zprime_jax-{zprime_jax.__version__}-")
    assert "zprime_jax/likelihood/poisson_pass.cc" in zipfile.ZipFile(wheel).namelist()   # the native pass
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    # this environment's libraries (jax, numpy, ...) as a plain path: its .pth files, the editable
    # install of the checkout among them, are not read there
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)])
    work = tmp_path / "work"
    work.mkdir()
    # the user's compilation cache, as for every command the tests run: the same code gives the same
    # programs (keyed by the source's hash), so the installed copy reuses what the checkout compiled
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)
    where = _run([str(python), "-c", "import zprime_jax; print(zprime_jax.__file__)"], cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(env_dir), where
    cli = str(env_dir / "bin" / "zprime-jax")
    assert _run([cli, "--version"], cwd=work, env=env).strip() == f"zprime-jax {zprime_jax.__version__}"

    from zprime_jax.kernels.rates import build_kernel, expected_counts
    from zprime_jax.physics.models import MODELS

    zprime_jax.enable_x64()
    for name in ("ess-csi", "coherent-csi-2021"):        # a preset; a shipped real-data release
        out = json.loads(_run([cli, "rates", "--experiment", name, "--json"], cwd=work, env=env))
        sm = np.asarray(expected_counts(None, build_kernel(name), MODELS["sm"]))
        here = float((sm[0] if sm.ndim == 2 else sm).sum())  # with shape variants (CsI 2021): the nominal row
        assert out["sm_total"] == pytest.approx(here, rel=1e-12), name   # same code, same numbers
    out = json.loads(_run([cli, "sensitivity", "--experiment", "ess-ar", "--model", "universal", "--masses-mev",
                           "10", "--json", "--quiet"], cwd=work, env=env))
    assert out["converged"] and 1e-6 < out["limits"][0]["coupling"] < 1e-3
