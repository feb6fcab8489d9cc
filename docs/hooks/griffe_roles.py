"""Griffe extension of the documentation site: the docstrings' Sphinx roles and angle brackets as Markdown.

The package's docstrings are Google style, with Sphinx-style roles for names
(``:func:`build_kernel```, ``:class:`~.context.Context```, ``:mod:`.poisson```).
Markdown has no roles, so mkdocstrings would print them as literal text. This
extension rewrites each role before the docstrings are parsed:

* a target that griffe resolves in the scope of the documented object
  (absolute ``zprime_jax.…``, relative ``.module``, or a name visible from the
  object, e.g. ``models.LightZPrime`` in a module that imports ``models``)
  becomes an *optional* autorefs cross-reference to its canonical path: a link
  where the target is rendered on the site, plain code where it is not (a
  private helper, the CLI modules), and never a warning;
* anything else (``matplotlib.figure.Figure``, a name griffe cannot see)
  becomes inline code.

And ``<...>`` in prose (``<R>``, ``<E_fission>``: averages) is escaped, since
Markdown would take it for an HTML tag and drop it from the page.

A broken reference written in a page (``[x][zprime_jax.nonexistent]`` or
``::: zprime_jax.nonexistent``) is not optional and still fails
``mkdocs build --strict``.
"""

from __future__ import annotations

import html
import re

import griffe

ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|mod|attr|data|obj|exc|const):`(?P<tilde>~)?(?P<target>[^`<>\s]+)`"
)
# What Python-Markdown takes for an inline HTML tag (its HTML_RE): in this package's prose these
# are averages, ``<R>``, ``<E_fission>``, ``<r_p^2>^(1/2)``, which would vanish from the page.
ANGLE = re.compile(r"<(/?[a-zA-Z][^<>@ ]*(?: [^<>]*)?)>")
CODE_SPAN = re.compile(r"(`+).*?\1", re.DOTALL)


def _lookup(collection, path: str) -> str | None:
    """The canonical path of ``path`` in the loaded modules, or None."""
    try:
        obj = collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError):
        return None
    try:
        return obj.canonical_path
    except griffe.AliasResolutionError:
        return None


def resolve(obj: griffe.Object, target: str) -> str | None:
    """The canonical path that ``target`` names in the scope of ``obj`` (Sphinx's reading), or None."""
    collection = obj.modules_collection
    if target.startswith("."):
        dots = len(target) - len(target.lstrip("."))
        module = obj.module
        base = module if module.is_init_module else module.parent
        for _ in range(dots - 1):
            base = base.parent if base is not None else None
        if base is None:
            return None
        return _lookup(collection, f"{base.path}.{target[dots:]}")
    head, _, rest = target.partition(".")
    if head in collection.members:                      # absolute (zprime_jax.…)
        return _lookup(collection, target)
    scope = obj
    while scope is not None:                             # the object, its parents, then the module's names
        try:
            full = scope.resolve(head)
        except griffe.NameResolutionError:
            full = None
        if full is not None:
            found = _lookup(collection, f"{full}.{rest}" if rest else full)
            if found is not None:
                return found
        scope = scope.parent
    return None


SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Yields|Raises|Attributes|Note|Notes|Example|Examples):\s*$")


def _escape_prose(text: str) -> str:
    out, last = [], 0
    for span in CODE_SPAN.finditer(text):
        out += [ANGLE.sub(r"&lt;\1>", text[last:span.start()]), span.group()]
        last = span.end()
    out.append(ANGLE.sub(r"&lt;\1>", text[last:]))
    return "".join(out)


def escape_angles(text: str) -> str:
    """``text`` with ``<...>`` written ``&lt;...>``, except in code spans and indented code blocks.

    A code block is Markdown's: lines indented by 4 or more after a blank line, outside a
    Google section (whose items are indented, and are prose).
    """
    chunks: list[tuple[bool, list[str]]] = []
    in_code = in_section = False
    prev_blank = True
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip())
        if not line.strip():
            prev_blank = True
        else:
            if SECTION.match(line):
                in_section = True
            elif indent == 0:
                in_section = False
            in_code = indent >= 4 and not in_section and (prev_blank or in_code)
            prev_blank = False
        if chunks and chunks[-1][0] == in_code:
            chunks[-1][1].append(line)
        else:
            chunks.append((in_code, [line]))
    return "\n".join("\n".join(lines) if code else _escape_prose("\n".join(lines)) for code, lines in chunks)


def rewrite(obj: griffe.Object, text: str) -> str:
    """``text`` with its angle brackets escaped and every role replaced by an optional
    cross-reference or inline code (in this order: the cross-references are HTML)."""
    text = escape_angles(text)

    def replace(match: re.Match) -> str:
        target = match["target"]
        title = target.rsplit(".", 1)[-1] if match["tilde"] else target
        path = resolve(obj, target)
        if path is None:
            return f"`{title}`"
        return f'<autoref identifier="{html.escape(path)}" optional><code>{html.escape(title)}</code></autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj, obj.docstring.value)
            stack.extend(member for member in obj.members.values() if not member.is_alias)
