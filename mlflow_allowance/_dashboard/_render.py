"""The dashboard as one self-contained HTML page: Jinja2 templates, the vendored uPlot inlined."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from importlib import resources
from typing import TYPE_CHECKING, Any

from mlflow_allowance.errors import MissingExtraError, redact

if TYPE_CHECKING:
    from mlflow_allowance._dashboard._data import Dashboard, EnvironmentView

__all__ = ["PAGE_SIZE", "render", "require_extra"]

#: Rows per page of the candidates and audit tables.
PAGE_SIZE = 50
_EXTRA = "pip install 'mlflow-allowance[dashboard]'"


def require_extra() -> None:
    """Raise :class:`MissingExtraError` naming the ``dashboard`` extra when Jinja2 is missing."""
    try:
        import jinja2  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f"the dashboard needs the dashboard extra (missing {exc.name or 'jinja2'}): {_EXTRA}"
        ) from None


def render(dashboard: Dashboard) -> str:
    """The page of ``dashboard``: one HTML document with its script, styles and chart library inlined."""
    require_extra()
    import jinja2
    from markupsafe import Markup

    def finalize(value: object) -> object:
        # Every text the page prints goes through redact: no URI credential can reach it.
        if isinstance(value, str) and not isinstance(value, Markup):
            return redact(value)
        return value

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mlflow_allowance._dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    environment.filters["number"] = _number
    template = environment.get_template("page.html.j2")
    return template.render(
        dashboard=dashboard,
        charts={view.name: _chart(view) for view in dashboard.environments},
        candidates={view.name: _candidates(view) for view in dashboard.environments},
        page_size=PAGE_SIZE,
        uplot_js=Markup(_asset("uplot/uPlot.iife.min.js")),
        uplot_css=Markup(_asset("uplot/uPlot.min.css")),
        script=Markup(_asset("dashboard.js")),
        style=Markup(_asset("dashboard.css")),
    )


def _asset(name: str) -> str:
    text = (
        resources.files("mlflow_allowance._dashboard").joinpath("static", *name.split("/")).read_text("utf-8")
    )
    # Inlined in a <script>/<style> element: a closing tag inside would end it early.
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def _chart(view: EnvironmentView) -> dict[str, Any]:
    """The chart's data as uPlot takes it: one x axis (registry versions) and, per model, three series
    (inside the allowance, outside it, holder), ``None`` where a series has no point."""
    xs = sorted({p.version for p in view.points})
    index = {x: i for i, x in enumerate(xs)}
    models = list(dict.fromkeys(p.model for p in view.points))
    series: list[dict[str, Any]] = []
    for model in models:
        for role in ("inside", "outside", "holder"):
            values: list[float | None] = [None] * len(xs)
            for p in view.points:
                if p.model != model:
                    continue
                kind = "holder" if p.holder else ("inside" if p.inside else "outside")
                if kind == role:
                    values[index[p.version]] = p.metric
            if any(v is not None for v in values):
                series.append({"model": model, "role": role, "values": values})
    aggregated = any(p.count > 1 for p in view.points)
    return {
        "metric": view.metric or "",
        "x": xs,
        "series": series,
        "points": len(view.points),
        "versions": view.versions,
        "aggregated": aggregated,
    }


def _candidates(view: EnvironmentView) -> list[list[Any]]:
    """The candidates table as rows of data, drawn a page at a time by the page's script: model, registry
    version, semantic version and its rank in version order, metric, eligible, reason, holder. Text is
    redacted here, as the template's finalize does for what it prints."""
    if view.selection is None:
        return []
    verdicts = view.selection.candidates
    ordered = sorted({v.semver for v in verdicts if v.semver is not None})
    rank = {version: index for index, version in enumerate(ordered)}
    return [
        [
            redact(v.candidate.name),
            v.candidate.version,
            redact(v.candidate.semver or ""),
            None if v.semver is None else rank[v.semver],
            v.metric if v.metric is not None and math.isfinite(v.metric) else None,
            _number(v.metric),
            v.eligible,
            redact(v.reason),
            view.name in v.candidate.aliases,
        ]
        for v in verdicts
    ]


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4g}"
