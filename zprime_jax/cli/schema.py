"""``zprime-jax schema experiment|model``: the JSON Schema of experiment specs or of model files
(:mod:`zprime_jax.spec.json_schema`; the same document as the shipped ``spec/schemas/*.schema.json``)."""

from __future__ import annotations

from .options import add_common


def register(subparsers) -> None:
    """Add the ``schema`` subcommand."""
    from ..spec.json_schema import KINDS

    sp = subparsers.add_parser("schema", help="print the JSON Schema (draft 2020-12) of experiment specs or "
                                              "model files")
    add_common(sp)
    sp.add_argument("kind", choices=KINDS, help="experiment (a spec TOML file) or model (a charges TOML file)")
    sp.set_defaults(func=cmd_schema)


def cmd_schema(args):
    """The schema document; printed indented here (the shipped file's text), as one JSON line with --json."""
    from ..spec.json_schema import dumps, generate

    document = generate(args.kind)
    if not args.json:
        print(dumps(document))
    return document
