"""MkDocs hook of the documentation site: the pages made from the sources at build time.

Nothing here writes into the source tree: every page below is added to the build's
files on every ``mkdocs build``, generated in memory (``File.generated``) or read in
place from outside ``docs/``:

* ``cli.md``: the ``zprime-jax`` command reference, the ``format_help()`` of the
  real parser (``zprime_jax.cli.main.build_parser``) and of every subcommand,
  so it cannot drift from the CLI;
* ``notebooks/README.md`` and ``notebooks/*.ipynb``, taken from the repository's
  ``notebooks/`` (outside ``docs/``), the notebooks rendered by mkdocs-jupyter, not executed,
  each page with a link to its ``.ipynb``;
* on ``api/zprime_jax.md``, the ``<!-- public-api -->`` marker becomes the table of
  ``zprime_jax.__all__``, each name cross-referenced (a target that is not rendered
  fails the strict build), each value shown.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
HELP_COLUMNS = "100"     # argparse wraps at $COLUMNS: fixed, so the page is the same on every machine
PUBLIC_API_MARKER = "<!-- public-api -->"

# The pages describe this checkout (as griffe does, `paths: [.]` in mkdocs.yml), not whatever
# zprime_jax happens to be installed.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def _columns(value: str):
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def _subcommands(parser: argparse.ArgumentParser):
    """(name, parser) of every subcommand, recursively, in the order they were registered."""
    for action in parser._actions:       # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for subname, subsub in _subcommands(sub):
                    yield f"{name} {subname}", subsub


def cli_markdown() -> str:
    """The CLI reference page: the top-level help, then one section per subcommand."""
    from zprime_jax.cli.main import build_parser

    with _columns(HELP_COLUMNS):
        parser = build_parser()
        lines = [
            "# Command-line reference",
            "",
            "Generated at build time from the parser itself (`zprime_jax.cli.main.build_parser()`):",
            "each section is the subcommand's `zprime-jax COMMAND --help`.",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
            "",
        ]
        for name, sub in _subcommands(parser):
            lines += [f"## `{name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def public_api_markdown() -> str:
    """The table of ``zprime_jax.__all__``, made from the package itself.

    Every name but ``__version__`` links to its documentation (a non-optional cross-reference:
    a target that is not rendered fails the strict build); a value (a constant, a registry)
    also shows what it holds.
    """
    import inspect

    import zprime_jax

    rows = ["| name | what | defined in |", "|---|---|---|"]
    for name in zprime_jax.__all__:
        obj = getattr(zprime_jax, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            module, path = obj.__module__, f"{obj.__module__}.{obj.__qualname__}"
            what = "class" if inspect.isclass(obj) else "function"
        else:
            module = f"zprime_jax.{zprime_jax._PUBLIC[name]}" if name in zprime_jax._PUBLIC else "zprime_jax"
            path = f"{module}.{name}" if module != "zprime_jax" else None
            if isinstance(obj, dict):
                what = f"{type(obj).__name__} of {len(obj)}: " + ", ".join(f"`{key}`" for key in obj)
            else:
                what = f"`{obj!r}`"
        label = f"[`{name}`][{path}]" if path else f"`{name}`"
        rows.append(f"| {label} | {what} | `{module}` |")
    return "\n".join(rows)


@event_priority(100)      # before mkdocs-jupyter's on_files, which must see the notebooks
def on_files(files, config):
    files.append(File.generated(config, "cli.md", content=cli_markdown()))
    # The notebooks folder as it is, not copies: real files whose source folder is the repository
    # (mkdocs-jupyter cannot wrap a File.generated notebook); pages notebooks/README.md (the index,
    # whose links to the .ipynb files stay valid) and notebooks/*.ipynb.
    for path in [NOTEBOOKS / "README.md", *sorted(NOTEBOOKS.glob("*.ipynb"))]:
        files.append(File(path.relative_to(ROOT).as_posix(), str(ROOT), config["site_dir"],
                          config["use_directory_urls"]))
    return files


NOTEBOOKS_NOTE = """!!! note "On this site"
    The notebooks are shown as committed, without outputs: the site's build does
    not run them. Each notebook's page links to its `.ipynb` file.

"""


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "notebooks/README.md":
        return NOTEBOOKS_NOTE + markdown
    if PUBLIC_API_MARKER in markdown:
        return markdown.replace(PUBLIC_API_MARKER, public_api_markdown())
    return markdown


def on_page_content(html, page, config, files):
    if page.file.src_uri.endswith(".ipynb"):       # mkdocs-jupyter copies the file beside the page
        name = Path(page.file.src_uri).name
        return (f'<p><a href="{name}" download>Download {name}</a> (no outputs: run it to see '
                f'the results)</p>\n' + html)
    return html
