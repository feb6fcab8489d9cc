"""The shipped TOML files of a package folder, and a name that is either one of them or a path.

One rule for experiment specs (``spec/presets``) and model files (``physics/model_files``): a name with a
``.toml`` suffix or a ``/`` is a path; any other name is a shipped file's stem.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped(package: str, folder: str) -> dict[str, Path]:
    """{stem: path} of the ``.toml`` files in ``folder`` of ``package``."""
    root = resources.files(package) / folder
    return {Path(p.name).stem: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def preset_or_path(name_or_path: str, presets: dict[str, Path], error, field: str, what: str) -> Path | None:
    """The shipped file ``name_or_path`` names, or the file at that path (``error(f"{field}: {what} file not
    found: ...")`` where it is missing); None where it is neither a shipped name nor a path."""
    if name_or_path in presets:
        return presets[name_or_path]
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise error(f"{field}: {what} file not found: {name_or_path}")
        return path
    return None
