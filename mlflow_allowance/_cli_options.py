"""What the command line's options mean: each shared option defined once, and what is typed parsed into the
values the API takes (a :class:`~mlflow_allowance.SelectionRequest`, tags, a dataset reference).

One meaning per name across commands: ``--model/-m NAME`` is always the registered model (or models) the
command is about, ``ENV`` always the environment, positional, ``--metric M`` the metric to judge by (one;
``evaluate`` alone takes several, the metrics it checks the evaluator logs), ``--dataset NAME[@DIGEST]``
the evaluation dataset, ``--pre/--no-pre`` whether pre-releases may win.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from mlflow_allowance._environments import validate_environment, validate_model_name
from mlflow_allowance.allowance import VersionAllowance
from mlflow_allowance.datasets import DatasetRef
from mlflow_allowance.errors import InputError, shown
from mlflow_allowance.request import SelectionRequest
from mlflow_allowance.versions import SemanticVersion

__all__ = [
    "Data",
    "Dataset",
    "Env",
    "Explain",
    "Jobs",
    "Json",
    "Metric",
    "Minimize",
    "Pre",
    "Reason",
    "RequireTag",
    "RetryFailed",
    "Target",
    "VersionRunTag",
    "Wait",
    "check",
    "dataset_ref",
    "model_option",
    "request",
    "tags",
    "warn",
]

Env = Annotated[str, typer.Argument(metavar="ENV", help="Environment, e.g. prod (its MLflow alias: @prod).")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of text.")]


def model_option(about: str, *, repeat: bool = False, default: str | None = None) -> Any:
    """``--model/-m NAME``: the registered model the command is about, ``about`` saying how (one help
    pattern for every command)."""
    notes = [note for note in ("repeat for more" if repeat else None, default) if note]
    suffix = f" ({'; '.join(notes)})" if notes else ""
    return typer.Option("--model", "-m", metavar="NAME", help=f"The registered model {about}{suffix}.")


Metric = Annotated[
    str | None,
    typer.Option(
        metavar="M",
        help="Judge by this one metric: each version's training run's, or its score on --dataset "
        "(default: the latest semantic version wins).",
    ),
]
Minimize = Annotated[bool, typer.Option("--minimize", help="Lower --metric is better (a loss).")]
Dataset = Annotated[
    str | None,
    typer.Option(
        metavar="NAME[@DIGEST]",
        help="Judge --metric on the scores evaluate recorded on this dataset (NAME: its current content; "
        "@DIGEST: that content).",
    ),
]
Data = Annotated[
    Path | None,
    typer.Option(metavar="PATH", help="Evaluation data: a .csv or .parquet file with the target column."),
]
Target = Annotated[str | None, typer.Option(metavar="COL", help="The data's label column.")]
Jobs = Annotated[int, typer.Option(metavar="N", min=1, help="Score in N worker processes.")]
RetryFailed = Annotated[
    bool, typer.Option("--retry-failed", help="Score again the versions that failed on this data before.")
]
Explain = Annotated[bool, typer.Option("--explain", help="Show every candidate and why it won or lost.")]
RequireTag = Annotated[
    list[str] | None,
    typer.Option(
        "--require-tag",
        metavar="KEY=VALUE",
        help="Only versions carrying this model-version tag (repeat for more).",
    ),
]
Pre = Annotated[
    bool | None,
    typer.Option(
        "--pre/--no-pre",
        help="Allow pre-releases (2.0rc1) even if the allowance names none / never allow them (default: "
        "only if the allowance names one).",
        show_default=False,
    ),
]
VersionRunTag = Annotated[
    str | None,
    typer.Option(metavar="TAG", help="Run tag holding the semantic version of versions that carry none."),
]
Reason = Annotated[str, typer.Option(metavar="TEXT", help="Why, for the audit trail.")]
Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        min=0,
        help="Wait up to SECONDS while another writer changes ENV (default: fail at once, exit 3).",
    ),
]


def check(
    *,
    env: str | None = None,
    envs: Sequence[str] | None = None,
    model: str | None = None,
    models: Sequence[str] | None = None,
    spec: str | None = None,
    semver: str | None = None,
    dataset: str | None = None,
) -> None:
    """Reject what the pure core can judge on its own, before MLflow is imported (the API checks again)."""
    for name in ([env] if env is not None else []) + list(envs or ()):
        validate_environment(name)
    for name in ([model] if model is not None else []) + list(models or ()):
        validate_model_name(name)
    if spec is not None:
        VersionAllowance.parse(spec)
    if semver is not None:
        SemanticVersion.parse(semver)
    if dataset is not None:
        dataset_ref(dataset)


def dataset_ref(text: str) -> DatasetRef:
    """``--dataset NAME[@DIGEST]`` as a reference (:class:`InputError` if malformed)."""
    return DatasetRef.parse(text)


def request(
    models: Sequence[str],
    metric: str | None,
    minimize: bool,
    require_tag: Iterable[str] | None,
    pre: bool | None,
    version_run_tag: str | None,
    dataset: str | None = None,
) -> SelectionRequest:
    """The one selection request ``select`` and ``promote`` build from their shared options."""
    return SelectionRequest(
        models,
        metric=metric,
        maximize=not minimize,
        required_tags=tags(require_tag),
        prereleases=pre,
        version_run_tag=version_run_tag,
        dataset=dataset,
    )


def tags(pairs: Iterable[str] | None) -> dict[str, str]:
    """``--require-tag KEY=VALUE`` options as a mapping.

    >>> tags(["validated=true", "team = ml"])
    {'validated': 'true', 'team': ' ml'}
    """
    found: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"Invalid --require-tag {shown(pair)}: expected KEY=VALUE, e.g. validated=true")
        found[key.strip()] = value
    return found


def warn(text: str) -> None:
    """One ``warning:`` line on stderr (a deprecated spelling, versions with no score)."""
    typer.echo(f"warning: {text}", err=True)
