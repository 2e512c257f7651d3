"""How the command line shows a failure: one line on stderr, with the CLI's way to give each hint, and an
exit code.

Messages from below the faces name no command-line flag; an error says which settings would remedy it
(:attr:`~mlflow_allowance.errors.AllowanceError.hints`), and :data:`HINTS` says how the command line takes
each. Usage errors (an unknown option, a missing argument) become the same one line, with where to read
the usage. Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import typer

from mlflow_allowance.errors import AllowanceError, Hint, redact
from mlflow_allowance.report import one_line

__all__ = ["HINTS", "error_line", "fail", "hint_text", "is_usage_error", "usage_line"]

#: The command line's way to give each setting an error hints at; ``{prog}`` is the program's name
#: (``mlflow-allowance`` or ``mlflow allowance``).
HINTS: Mapping[Hint, str] = {
    "tracking_uri": "--tracking-uri URI or MLFLOW_TRACKING_URI",
    "timeout": "--timeout SECONDS or MLFLOW_HTTP_REQUEST_TIMEOUT",
    "wait": "--wait SECONDS",
    "force": "--force",
    "fix": "`{prog} check --fix`",
    "target": "--target COL",
    "evaluate": "`{prog} evaluate ENV --model NAME --data PATH --target COL`",
    "metric": "--metric M",
}

#: Longest run of non-blank characters an error line repeats; longer ones (huge input) are cut.
WORD_LIMIT = 200


def hint_text(hints: Iterable[Hint], message: str = "", program: str = "mlflow-allowance") -> str:
    """`` (use ...)``: the flags for ``hints``, each once, in order; a flag ``message`` already names, or a
    hint this command line does not know, is left out (``""`` if none is left).

    >>> hint_text(("tracking_uri", "timeout"))
    ' (use --tracking-uri URI or MLFLOW_TRACKING_URI; --timeout SECONDS or MLFLOW_HTTP_REQUEST_TIMEOUT)'
    >>> hint_text(("fix",), program="mlflow allowance")
    ' (use `mlflow allowance check --fix`)'
    >>> hint_text(("wait",), "retry, or wait with --wait SECONDS")
    ''
    """
    shown: list[str] = []
    for hint in dict.fromkeys(hints):
        flag = HINTS.get(hint)
        if flag is None:
            continue
        first = flag.split()[0]
        if first.startswith("--") and first in message:
            continue
        shown.append(flag.format(prog=program))
    return f" (use {'; '.join(shown)})" if shown else ""


def error_line(message: str) -> str:
    """``Error: <message>`` on one line: secrets redacted, each overlong word cut (the last line of defence
    against echoing huge input).

    >>> error_line("MLflow failed:\\n  at http://alice:s3cr3t@host")
    'Error: MLflow failed: at http://alice:***@host'
    """

    def cut(found: re.Match[str]) -> str:
        word = found.group()
        return f"{word[: WORD_LIMIT - 50]}...{word[-10:]} ({len(word)} chars)"

    line = re.sub(rf"\S{{{WORD_LIMIT + 1},}}", cut, one_line(redact(message)))
    return f"Error: {line}"


def fail(exc: BaseException, code: int, *, debug: bool, program: str) -> NoReturn:
    """Show ``exc`` as one line on stderr (after the traceback, with ``debug``) and exit with ``code``."""
    if debug:
        import traceback

        # Redacted too: the frames' exception messages name the tracking URI.
        typer.echo(redact("".join(traceback.format_exception(exc))), err=True, nl=False)
    message = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, AllowanceError):
        message += hint_text(exc.hints, message, program)
    else:
        hint = "" if debug else " (run with --debug for the traceback)"
        message = f"unexpected {type(exc).__name__}: {message}{hint}"
    typer.echo(error_line(message), err=True)
    raise typer.Exit(code)


def is_usage_error(exc: BaseException) -> bool:
    """Whether ``exc`` is Typer's usage error (bad or missing arguments and options, an unknown command).

    Told by Typer's public exception type and the exit status it gives usage errors, 2: Typer's own
    classes for them live in its private, vendored copy of click.
    """
    return isinstance(exc, typer.TyperException) and exc.exit_code == 2


def usage_line(exc: typer.TyperException, program: str) -> str:
    """A usage error as one line, with where to read the usage: ``Error: No such option: --x (see
    mlflow-allowance get --help)``."""
    ctx: Any = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else program
    return f"{error_line(exc.format_message())} (see {command} --help)"
