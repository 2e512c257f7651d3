"""How results read for people: aligned plain-text tables and one-line summaries.

Pure (no MLflow, no Typer), so the CLI, the examples and any pipeline log render alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from mlflow_allowance.selection import Selection

if TYPE_CHECKING:
    from mlflow_allowance.audit import AuditRecord
    from mlflow_allowance.outcomes import Evaluation, Promotion

__all__ = [
    "evaluation",
    "explain",
    "history_table",
    "number",
    "one_line",
    "promotion_line",
    "record_line",
    "table",
    "winner_line",
]


def one_line(text: str) -> str:
    """``text`` on one line: its non-blank lines, stripped, joined by spaces."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Rows as plain-text columns, aligned, two spaces apart; the last column is not padded.

    Columns are aligned by display width, the terminal cells ``rich`` measures: ``模型`` and ``🚀`` take
    two cells a character, a combining accent none. A cell that spans lines is joined onto one (see
    :func:`one_line`), so each row is one line, for ``grep``.

    >>> print(table(["ENV", "MODEL", "ALLOWANCE"], [["prod", "*", "<=1.0"], ["int", "AImodel", "==2.0"]]))
    ENV   MODEL    ALLOWANCE
    prod  *        <=1.0
    int   AImodel  ==2.0
    """
    # Imported here rather than at the top: commands that print no table do not pay for importing rich.
    from rich.cells import cell_len

    lines = [[_single_line(cell) for cell in line] for line in [headers, *rows]]
    widths = [max(cell_len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(
            cell + " " * (width - cell_len(cell)) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )


def _single_line(cell: str) -> str:
    """``cell`` as it is if it holds no line break, else :func:`one_line` of it."""
    return cell if cell.splitlines() == [cell] else one_line(cell)


def number(value: float | None) -> str:
    """A metric for a table: six significant digits, ``-`` for none."""
    return "-" if value is None else f"{value:.6g}"


def explain(environment: str, selection: Selection) -> str:
    """The policy, then every candidate: its metric, whether it is eligible and why (winner marked ``*``)."""
    policy = selection.policy
    winner = selection.winner
    header = f"{environment}: {policy.describe()}"  # names each model's allowance when they differ
    rows = [
        [
            "*" if verdict is winner else " ",
            verdict.candidate.name,
            str(verdict.candidate.version),
            verdict.candidate.semver or "-",
            number(verdict.metric),
            "yes" if verdict.eligible else "no",
            verdict.reason,
        ]
        for verdict in selection.candidates
    ]
    metric = policy.metric or "METRIC"
    body = table(["", "MODEL", "VERSION", "SEMVER", metric, "ELIGIBLE", "REASON"], rows)
    if not rows:
        body = "(no versions registered)"
    return f"{header}\n{body}"


#: The metrics an evaluation table shows, when MLflow's evaluator logged them (the rest are in --json).
_SHOWN_METRICS = ("f1_score", "accuracy_score", "roc_auc", "root_mean_squared_error", "r2_score")


def evaluation(result: Evaluation) -> str:
    """The dataset, then one row per version: scored now, kept from before, failed, or skipped, and why.

    >>> from mlflow_allowance import DatasetRef, Evaluation
    >>> from mlflow_allowance.datasets import DatasetInfo, Score
    >>> ref = DatasetRef("wine-holdout", "0a64f9dd")
    >>> info = DatasetInfo(ref, "/data/wine-holdout.csv", "target", 45, "classifier", 0)
    >>> print(evaluation(Evaluation("prod", info, scored=(Score("AImodel", 2, ref, {"f1_score": 0.93}),),
    ...     skipped=(("AImodel", 3, "2.0 is outside <=1.0"),))))
    prod: wine-holdout@0a64f9dd (45 rows, target target, classifier; /data/wine-holdout.csv)
    MODEL    VERSION  OUTCOME  f1_score  NOTE
    AImodel  2        scored   0.93
    AImodel  3        skipped  -         2.0 is outside <=1.0
    1 scored, 0 kept, 0 failed, 1 skipped
    """
    info = result.dataset
    shown = [key for key in _SHOWN_METRICS if any(key in s.metrics for s in (*result.scored, *result.kept))]
    rows = []
    for outcome, scores in (("scored", result.scored), ("kept", result.kept), ("failed", result.failed)):
        for score in scores:
            values = [number(score.metrics.get(key)) for key in shown]
            note = score.error or ""
            if outcome == "kept" and score.failed:
                outcome, note = "failed", f"earlier (--retry-failed to score again): {note}"
            rows.append([score.model, str(score.version), outcome, *values, note])
    for model, version, reason in result.skipped:
        rows.append([model, str(version), "skipped", *["-" for _ in shown], reason])
    if not shown:
        for row in rows:
            row.insert(3, "-")
        shown = ["SCORE"]
    header = (
        f"{result.environment}: {info.ref} ({info.rows} rows, target {info.target}, {info.model_type}"
        + (f"; {info.source})" if info.source else ")")
    )
    body = table(["MODEL", "VERSION", "OUTCOME", *shown, "NOTE"], rows) if rows else "(no versions)"
    kept = len(result.kept) - (len(result.failures) - len(result.failed))
    counts = (
        f"{len(result.scored)} scored, {kept} kept, {len(result.failures)} failed, "
        f"{len(result.skipped)} skipped"
    )
    errors = {score.error for score in result.failures}
    if len(result.failures) > 1 and len(errors) == 1 and not result.scored:
        counts += "; every version failed alike: the data may be at fault (fix it, then --retry-failed)"
    return f"{header}\n{body}\n{counts}"


def winner_line(environment: str, selection: Selection) -> str:
    """``prod: AImodel/3 (version 2.0) — winner: highest F1 (0.99)``; the selection must have a winner."""
    winner = selection.winner
    assert winner is not None
    return f"{environment}: {winner.candidate.key} (version {winner.candidate.semver}) — {winner.reason}"


def promotion_line(promotion: Promotion, verb: str = "promoted") -> str:
    """What a promotion or rollback did (or would do, on a dry run), in one line."""
    env = promotion.environment
    old = promotion.old or "nothing"
    stage = f" (stage {promotion.stage})" if promotion.stage else ""
    if promotion.dry_run:
        if promotion.old == promotion.new:
            return f"{env}: @{env} already on {promotion.new}{stage}; dry run, nothing written"
        return f"{env}: would move @{env} {old} → {promotion.new}{stage}; dry run, nothing written"
    if not promotion.changed:
        return f"{env}: @{env} already on {promotion.new}{stage}; nothing written"
    return f"{env}: {verb} @{env} {old} → {promotion.new}{stage}"


def record_line(record: AuditRecord) -> str:
    """One audit record in one line: ``prod #4 repair AImodel/3 → AImodel/2 (complete): reason``."""
    number = f" #{record.seq}" if record.seq is not None else ""
    change = f"{record.old or '-'} → {record.new or '-'}"
    return f"{record.environment}{number} {record.kind} {change} ({record.state}): {one_line(record.reason)}"


def history_table(records: Sequence[AuditRecord]) -> str:
    """Audit records as a table: time (UTC), user, kind, environment, model, old → new, reason."""
    rows = [
        [
            record.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            record.user,
            record.kind if record.done else f"{record.kind} [{record.state}]",
            record.environment,
            record.model or "*",
            f"{record.old or '-'} → {record.new or '-'}",
            record.reason,
        ]
        for record in records
    ]
    return table(["TIME (UTC)", "USER", "KIND", "ENV", "MODEL", "CHANGE", "REASON"], rows)
