"""Terminal tables of comparative statics (docs/sensitivity.md): one row per output and one
column per parameter path (``θ1``, ``θ2``, … named in the caption), elasticities first, then
derivatives; fitted to the terminal's width."""

from __future__ import annotations

from rich.console import RenderableType

from emgame.analysis.sensitivity import Sensitivity
from emgame.report.layout import DEFAULT_WIDTH, Column, fit, fmt, text


def _columns(result: Sensitivity, elasticities: bool) -> tuple[list[Column], list[list[int]]]:
    n = len(result.outputs)
    cols: list[Column] = [text("output", list(result.labels), key=True),
                          Column("value", [fmt(v) for v in result.levels])]
    groups: list[list[int]] = [[1]]
    for k, p in enumerate(result.parameters, start=1):
        start = len(cols)
        if p.status == "ok":
            a = p.elasticity if elasticities else p.derivative
            cols.append(Column(f"θ{k}", [fmt(v) for v in a] if a is not None else ["—"] * n))
        elif p.status == "switch":
            for side, a in (("−", p.left_elasticity if elasticities else p.left),
                            ("+", p.right_elasticity if elasticities else p.right)):
                cols.append(Column(f"θ{k}{side}", [fmt(v) for v in a] if a is not None
                                   else ["—"] * n))
        else:
            cols.append(Column(f"θ{k}", ["—"] * n))
        groups.append(list(range(start, len(cols))))
    return cols, groups


def _value(p) -> str:  # noqa: ANN001
    if len(p.targets) > 1:
        return f"{len(p.targets)} values, mean {fmt(p.value)}: each moved together"
    return fmt(p.value)


def sensitivity_tables(result: Sensitivity, *, width: int = DEFAULT_WIDTH
                       ) -> list[RenderableType]:
    """The elasticity and derivative tables of ``result`` (rich renderables; nothing is
    printed)."""
    legend = "; ".join(f"θ{k} = {p.path} ({_value(p)})"
                       for k, p in enumerate(result.parameters, start=1))
    notes = [legend]
    for k, p in enumerate(result.parameters, start=1):
        if p.status == "switch":
            notes.append(f"θ{k}: {p.reason}; θ{k}− / θ{k}+: one-sided, θ decreasing / "
                         "increasing")
        elif p.status != "ok":
            notes.append(f"θ{k}: {p.status}: {p.reason}")
        elif p.reason:
            notes.append(f"θ{k}: {p.reason}")
    status = f" ({result.status})" if result.status not in ("ok", "switch") else ""
    cols, groups = _columns(result, True)
    out = fit(f"Elasticities, {result.concept}{status}", cols, width=width, groups=groups,
              caption="\n".join(notes + [
                  "elasticity (θ/y) dy/dθ of each output y (rows) with respect to each "
                  "parameter θ (columns)",
                  "welfare: Σ n_i dU_i/(λ_i p⁰), the money-metric change in goods; its "
                  "elasticity is relative to income Σ_t B^t/p⁰; — where y or θ is 0"]))
    cols, groups = _columns(result, False)
    out += fit(f"Derivatives dy/dθ, {result.concept}{status}", cols, width=width,
               groups=groups)
    return out


def sensitivity_html(concept: str, doc: dict) -> str:  # noqa: ANN001
    """An HTML section from the JSON form (``Sensitivity.to_dict()``, the ``sensitivity`` key
    of ``emgame solve --json --sensitivity``): elasticities by output and parameter."""
    from emgame.report.html import _e, table

    outputs = doc.get("outputs") or []
    params = doc.get("parameters") or []
    levels = doc.get("levels") or {}
    headers = ["output", "value"]
    cols: list[list] = []
    notes = []
    for k, p in enumerate(params, start=1):
        if p.get("status") == "ok":
            headers.append(f"ε θ{k}")
            cols.append([(p.get("elasticity") or {}).get(o) for o in outputs])
        elif p.get("status") == "switch":
            headers += [f"ε θ{k}−", f"ε θ{k}+"]
            cols.append([(p.get("left_elasticity") or {}).get(o) for o in outputs])
            cols.append([(p.get("right_elasticity") or {}).get(o) for o in outputs])
        else:
            headers.append(f"θ{k}")
            cols.append(["—"] * len(outputs))
        notes.append(f"θ{k} = {p.get('path')}"
                     + (f" ({p.get('status')}: {p.get('reason')})" if p.get("reason") else ""))
    rows = [[o, levels.get(o), *[c[i] for c in cols]] for i, o in enumerate(outputs)]
    return (f"<h3>Sensitivity ({_e(concept)}): elasticities (θ/y) dy/dθ</h3>"
            + table(headers, rows, text_columns=(0,))
            + f"<p class=\"note\">{_e('; '.join(notes))}. Derivatives by the implicit function "
              "theorem on the equilibrium conditions of the solution's regime; the JSON holds "
              "the derivatives too. Welfare's elasticity is its money-metric change relative "
              "to income.</p>")
