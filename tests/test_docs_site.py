"""The documentation site's sources are complete (fast; mkdocs itself is not needed).

`mkdocs build --strict` (CI, after the tests) is the full check: it fails on a
broken reference, link or anchor and on a page missing from the nav. These tests
catch the same omissions in the default test run, without mkdocs installed:

- every module of the package has a `::: module` block on an API page (docs/api/),
  and every block names a module or object that exists;
- every page under docs/ and every notebook is in the nav, and every nav entry
  exists (cli.md is generated at build time by docs/hooks/zprime_docs.py);
- the links between pages stay inside the site; the gallery shows every image.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "zprime_jax"
GENERATED = {"cli.md"}                        # made by docs/hooks/zprime_docs.py on every build
NOT_IN_API = ("zprime_jax.cli",)              # the CLI has its own page, generated from the parser
DIRECTIVE = re.compile(r"^::: (\S+)\s*$", re.MULTILINE)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def _nav_paths(nav) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_paths(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_paths(value)]
    raise TypeError(f"unexpected nav entry {nav!r}")


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] in ("__init__", "__main__"):
            parts = parts[:-1]
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        name = ".".join(parts)
        if name and not name.startswith(NOT_IN_API):
            names.append(name)
    return names


def _directives() -> list[str]:
    return [name for page in sorted((DOCS / "api").glob("*.md"))
            for name in DIRECTIVE.findall(page.read_text(encoding="utf-8"))]


def _notebook_pages() -> set[str]:
    """The site paths of the pages docs/hooks/zprime_docs.py takes from notebooks/."""
    return {f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")} | {"notebooks/README.md"}


def _pages() -> list[Path]:
    return [p for p in sorted(DOCS.rglob("*.md")) if "hooks" not in p.relative_to(DOCS).parts]


def test_every_module_is_documented_once():
    directives = _directives()
    modules = _modules()
    missing = sorted(set(modules) - set(directives))
    assert not missing, f"modules without a '::: name' block in docs/api/*.md: {missing}"
    repeated = sorted({name for name in directives if directives.count(name) > 1})
    assert not repeated, f"modules documented twice: {repeated}"


def test_every_directive_names_a_module():
    modules = set(_modules())
    unknown = [name for name in _directives() if name not in modules]
    assert not unknown, f"'::: name' blocks naming no module of the package: {unknown}"


def test_nav_lists_every_page_and_notebook():
    nav = _nav_paths(_config()["nav"])
    assert len(nav) == len(set(nav)), "a page is in the nav twice"
    pages = {p.relative_to(DOCS).as_posix() for p in _pages()}
    notebooks = _notebook_pages()
    assert not (pages | notebooks) - set(nav), "pages missing from the nav of mkdocs.yml"
    dangling = [p for p in nav if p not in pages | notebooks | GENERATED]
    assert not dangling, f"nav entries without a page: {dangling}"


def test_links_between_pages_stay_in_the_site():
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*") if p.is_file()} | GENERATED | _notebook_pages()
    broken = []
    for page in _pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue                      # external (https:, mailto:) or in-page
            path = (page.parent / target.split("#")[0]).resolve()
            try:
                rel = path.relative_to(DOCS.resolve()).as_posix()
            except ValueError:
                rel = None                    # outside docs/: not part of the site
            if rel not in pages:
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, f"links to files that are not site pages (link the API page instead): {broken}"


def test_gallery_shows_every_image():
    text = (DOCS / "gallery.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted((DOCS / "gallery").glob("*.png")) if f"(gallery/{p.name})" not in text]
    assert not missing, f"gallery images not on docs/gallery.md: {missing}"


def test_cli_page_lists_every_subcommand():
    pytest.importorskip("mkdocs")             # the hook imports mkdocs (docs extra)
    import argparse
    import importlib.util

    spec = importlib.util.spec_from_file_location("zprime_docs_hook", DOCS / "hooks" / "zprime_docs.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    from zprime_jax.cli.main import build_parser

    page = hook.cli_markdown()
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [name for name in sub.choices if f"## `{name}`" not in page]
    assert not missing, f"subcommands missing from the CLI page: {missing}"
