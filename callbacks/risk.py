"""Risk page callbacks: the battle the page follows (URL, then session) -> core.risk_report -> figures.

One BattleResult per spec (core.service caches it) and one RiskReport per battle (core.risk_report caches
it): switching contestants or the focus only redraws."""

from __future__ import annotations

import math

from dash import Input, Output, State, ctx, no_update

from callbacks import (
    BattleSource,
    battle_file_stem,
    battle_header,
    battle_meta,
    error_alert,
    failed,
    unexpected_error_alert,
)
from core import service
from layouts import fmt, grid, ids, state
from layouts.components import kpi
from layouts.risk import DEFAULT_CONTESTANTS, VAR_COLUMNS

METHOD_LABELS = {"historical": "Historical", "parametric": "Parametric (normal)", "cornish_fisher": "Cornish-Fisher"}
TEN_DAYS = math.sqrt(10)


def report_for(spec: dict, source=None):
    from core.risk_report import battle_risk

    view = BattleSource.of(source).view(spec)
    return view, battle_risk(view.result)


_num = fmt.finite  # raw finite floats for grid rows (None for NaN/inf/missing)


def var_rows(report, names: list[str]) -> list[dict]:
    """Grid rows of the VaR/CVaR table for the chosen contestants (raw numbers; the grid formats them)."""
    rows = []
    for record in report.var_table.to_dict("records"):
        if record["contestant"] not in names:
            continue
        var = _num(record["var"])
        rows.append({"contestant": record["contestant"], "label": record["label"], "method": record["method"],
                     "method_label": METHOD_LABELS.get(record["method"], record["method"]),
                     "level": float(record["level"]), "var": var, "cvar": _num(record["cvar"]),
                     "var_10d": None if var is None else var * TEN_DAYS,
                     "n_returns": int(record["n_returns"]), "note": record.get("note") or ""})
    return rows


def drawdown_rows(report, names: list[str]) -> list[dict]:
    rows = []
    for c in report.contestants:
        if c.name not in names:
            continue
        for d in c.drawdowns.to_dict("records"):
            rows.append({"label": c.label, "depth": _num(d["depth"]), "peak": str(d["peak"])[:10],
                         "trough": str(d["trough"])[:10], "recovery": str(d["recovery"])[:10],
                         "length": int(d["length"])})
    rows.sort(key=lambda r: r["depth"] if r["depth"] is not None else 0.0)
    return rows


def focus_kpis(c, report) -> list:
    s = c.stats
    bt = c.backtests.get(0.99)
    light = (bt.traffic_light or {}) if bt is not None else {}
    zone = light.get("zone")
    return [
        kpi("Focus", c.label, "", f"{s.get('count', 0):,} daily returns"),
        kpi("Volatility (ann.)", fmt.pct(s.get("volatility_annualised")), "", "daily volatility x √periods"),
        kpi("Worst day", fmt.signed_pct(s.get("worst"), 2), "down", s.get("worst_date") or ""),
        kpi("Best day", fmt.signed_pct(s.get("best"), 2), "up", s.get("best_date") or ""),
        kpi("Skew / excess kurtosis", f"{fmt.ratio(s.get('skew'))} / {fmt.ratio(s.get('excess_kurtosis'))}", "",
            "0 / 0 for a normal distribution"),
        kpi("Basel zone (99%)", (zone or "n/a").upper(), {"green": "up", "red": "down"}.get(zone or "", ""),
            f"{light.get('exceptions', '–')} exceptions in the last {light.get('days', 250)} days"
            if zone else "needs 251+ returns"),
    ]


def verdict_alert(text: str, bt):
    """The backtest's sentence, coloured by its worst finding (Basel zone or a rejected test)."""
    import dash_bootstrap_components as dbc

    zone = (bt.traffic_light or {}).get("zone") if bt is not None else None
    p_values = [] if bt is None else [_num(bt.kupiec.get("p_value")), _num(bt.christoffersen.get("p_cc"))]
    rejected = any(p is not None and p < 0.05 for p in p_values)
    colour = ("secondary" if bt is None else "danger" if zone == "red" else
              "warning" if zone == "yellow" or rejected else "success")
    return dbc.Alert(text, color=colour, className="risk-verdict-text", fade=False, id="rsk-verdict-text")


def load_outputs(query, session_spec, market_choice, source=None) -> tuple:
    """(spec store, sample tag, alert, options, options, chosen, focus) for the battle the page follows."""
    spec, message = state.spec_from_query_and_session(query, session_spec, market_choice)
    try:
        view, _report = report_for(spec, source)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 7, 2, "computing the risk report")
    result = view.result
    options = [{"label": c.label, "value": c.name} for c in result.contestants]
    notes = [message] if message else []
    if not view.agents_ready:
        notes.append(view.agents_message + " The risk report covers the benchmarks only.")
    alert = error_alert(" ".join(notes), color="info") if notes else None
    have = [c.name for c in result.contestants]
    chosen = [n for n in DEFAULT_CONTESTANTS if n in have] or have
    focus = "buy_and_hold" if "buy_and_hold" in have else have[0]
    return spec, battle_header(result, view.spec.run_id), alert, options, options, chosen, focus


_FIGURES = service.LRU(maxsize=64)


def figure(report, what: str, build, *params) -> dict:
    """A figure dict built once per (battle, figure, parameters): reports are keyed by input hash."""
    return _FIGURES.get_or_compute((report.cache_key, what, *params), lambda: build().to_dict())


def view_outputs(spec, names, focus, level, source=None) -> tuple:
    """(kpis, table rows, notes, histogram, verdict, rolling VaR, underwater, drawdown rows, monthly,
    contestant correlation, asset correlation, alert)."""
    from core.risk_report import asset_correlation
    from layouts import risk_figures as figs

    if not spec:
        return (no_update,) * 12
    try:
        view, report = report_for(spec, source)
        have = [c.name for c in report.contestants]
        names = [n for n in (names or []) if n in have] or [n for n in DEFAULT_CONTESTANTS if n in have]
        focus = focus if focus in have else ("buy_and_hold" if "buy_and_hold" in have else have[0])
        c = report.contestant(focus)
        level = float(level or 0.99)
        bt = c.backtests.get(level)
        verdict = (bt.verdict() if bt is not None else
                   f"No backtest for {c.label}: {c.backtest_note or 'too few returns'}. VaR is still shown above.")
        labels = {x.name: x.label for x in report.contestants}
        chosen = [n for n in have if n in names]
        corr = report.correlation.loc[chosen, chosen]
        assets = asset_correlation()
        notes = " ".join(report.notes)
        key = tuple(chosen)
        return (
            focus_kpis(c, report),
            var_rows(report, names),
            notes,
            figure(report, "hist", lambda: figs.histogram_figure(c, report.var_table), focus),
            verdict_alert(verdict, bt),
            figure(report, "rolling", lambda: figs.rolling_var_figure(c, level), focus, level),
            figure(report, "underwater", lambda: figs.underwater_figure(report, chosen), key),
            drawdown_rows(report, names),
            figure(report, "monthly", lambda: figs.monthly_heatmap(c), focus),
            figure(report, "corr", lambda: figs.correlation_heatmap(corr, [labels[n] for n in chosen]), key),
            figure(report, "assets", lambda: figs.correlation_heatmap(assets.matrix, height=380).update_layout(
                title=dict(text=f"{assets.n_common:,} common days, {assets.start} → {assets.end}", x=0.01, y=0.97,
                           font=dict(size=12))), tuple(sorted(assets.sha256.items()))),
            no_update,  # keep the page's info alert (e.g. "no trained agents") from _load
        )
    except Exception as exc:  # noqa: BLE001
        return failed(exc, 12, 11, "drawing the risk report")


def export_table(which: str, spec, rows, column_state, source=None):
    result = BattleSource.of(source).view(spec).result
    kind = "xlsx" if which == ids.RSK_XLSX else "csv"
    meta = {**battle_meta(result), "returns": "daily simple returns of each equity curve, net of costs"}
    return grid.export_download(kind, rows or [], VAR_COLUMNS, column_state, meta=meta,
                                name=battle_file_stem("risk", result), sheet="VaR")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.RSK_SPEC, "data"),
        Output(ids.RSK_SAMPLE_TAG, "children"),
        Output(ids.RSK_ALERT, "children"),
        Output(ids.RSK_CONTESTANTS, "options"),
        Output(ids.RSK_FOCUS, "options"),
        Output(ids.RSK_CONTESTANTS, "value"),
        Output(ids.RSK_FOCUS, "value"),
        *state.follow_arena(ids.RSK_QUERY),
    )
    def _load(query, session_spec, market_choice, session):
        return load_outputs(query, session_spec, market_choice, BattleSource.of(settings, session))

    @app.callback(
        Output(ids.RSK_KPIS, "children"),
        Output(ids.RSK_TABLE, "rowData"),
        Output(ids.RSK_NOTES, "children"),
        Output(ids.RSK_HIST, "figure"),
        Output(ids.RSK_VERDICT, "children"),
        Output(ids.RSK_ROLLING, "figure"),
        Output(ids.RSK_UNDERWATER, "figure"),
        Output(ids.RSK_DRAWDOWNS, "rowData"),
        Output(ids.RSK_MONTHLY, "figure"),
        Output(ids.RSK_CORR, "figure"),
        Output(ids.RSK_ASSET_CORR, "figure"),
        Output(ids.RSK_ALERT, "children", allow_duplicate=True),
        Input(ids.RSK_SPEC, "data"),
        Input(ids.RSK_CONTESTANTS, "value"),
        Input(ids.RSK_FOCUS, "value"),
        Input(ids.RSK_LEVEL, "value"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _view(spec, names, focus, level, session):
        return view_outputs(spec, names, focus, level, BattleSource.of(settings, session))

    @app.callback(
        Output(ids.RSK_DOWNLOAD, "data"),
        Input(ids.RSK_CSV, "n_clicks"),
        Input(ids.RSK_XLSX, "n_clicks"),
        State(ids.RSK_SPEC, "data"),
        State(ids.RSK_TABLE, "virtualRowData"),
        State(ids.RSK_TABLE, "columnState"),
        State(ids.SESSION, "data"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, spec, rows, column_state, session):
        if not spec:
            return no_update
        try:
            return export_table(ctx.triggered_id, spec, rows, column_state, BattleSource.of(settings, session))
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the risk download")
            return no_update
