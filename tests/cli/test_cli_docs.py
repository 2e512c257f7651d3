"""docs/cli.md carries a command reference generated from the Typer app; this test keeps it up to date.

After changing a command, regenerate the reference with::

    MLFLOW_ALLOWANCE_UPDATE_DOCS=1 python -m pytest tests/cli/test_cli_docs.py
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from typer.core import TyperGroup

from mlflow_allowance.cli import PROG_NAME, app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
BEGIN = (
    "<!-- BEGIN GENERATED REFERENCE: edit mlflow_allowance/_cli_*.py, then see tests/cli/test_cli_docs.py -->"
)
END = "<!-- END GENERATED REFERENCE -->"
UPDATE_ENV = "MLFLOW_ALLOWANCE_UPDATE_DOCS"
#: Help is wrapped at a fixed width so the reference does not depend on the terminal.
WIDTH = 100


def render_reference() -> str:
    """Usage, help and options of ``mlflow-allowance`` and of each command, as Markdown."""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    settings = {**group.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    root = typer.Context(group, info_name=PROG_NAME, **settings)
    parts = [f"### `{PROG_NAME}`", "", "```text", group.get_help(root).rstrip(), "```"]
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        assert command is not None
        ctx = typer.Context(
            command, info_name=name, parent=root, terminal_width=WIDTH, max_content_width=WIDTH
        )
        parts += ["", f"### `{PROG_NAME} {name}`", "", "```text", command.get_help(ctx).rstrip(), "```"]
    return "\n".join(parts) + "\n"


def _splice(document: str, reference: str) -> str:
    head, found_begin, rest = document.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    assert found_begin, f"{DOCS} lacks the marker {BEGIN!r}"
    assert found_end, f"{DOCS} lacks the marker {END!r}"
    return f"{head}{BEGIN}\n\n{reference}\n{END}{tail}"


def test_reference_is_up_to_date() -> None:
    document = DOCS.read_text(encoding="utf-8")
    expected = _splice(document, render_reference())
    if os.environ.get(UPDATE_ENV) and expected != document:
        DOCS.write_text(expected, encoding="utf-8")
        document = expected
    assert document == expected, f"docs/cli.md is stale: run `{UPDATE_ENV}=1 pytest {__file__}`"


def test_reference_documents_every_command_and_option() -> None:
    """Every option is in the generated reference; a hidden one (a deprecated spelling) in the page's
    table of deprecated spellings instead."""
    reference = render_reference()
    deprecated = DOCS.read_text(encoding="utf-8").partition("### Deprecated spellings")[2].partition("##")[0]
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    for name, command in group.commands.items():
        assert f"### `{PROG_NAME} {name}`" in reference
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if not opt.startswith("-"):
                    continue
                if getattr(param, "hidden", False):
                    assert f"`{name} {opt}" in deprecated, (name, opt)
                else:
                    assert opt in reference, (name, opt)


def test_every_command_is_in_the_api_table() -> None:
    """The table "Commands and their Python API" names every command, each with an API function."""
    table = DOCS.read_text(encoding="utf-8").partition("## Commands and their Python API")[2]
    table = table.partition("\nThe options keep one meaning")[0]
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    for name in group.commands:
        rows = [line for line in table.splitlines() if line.startswith(f"| `{name}")]
        assert len(rows) == 1, name
        assert "(" in rows[0].split("|")[2], rows[0]
