"""Pure functions: a forecast result's JSON (core.forecast.ForecastResult.to_json) -> what the Forecast page
shows. No Dash callbacks, no I/O, no torch: the web process only ever sees the JSON."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from layouts import fmt, grid, theme
from layouts.components import kpi, sample_tag

METHOD_STYLE = {
    "lstm": ("LSTM", theme.MAGENTA, "solid"),
    "naive": ("Naive (last value)", theme.MUTED, "dash"),
    "drift": ("Drift (random walk)", theme.AMBER, "dot"),
    "linear": ("Linear (Ridge)", theme.LIME, "dashdot"),
}

TABLE_COLUMNS = [
    grid.col("label", "Method", tip="Forecasting method; every one is fit only on data before each origin",
             key=True),
    grid.col("mase", "MASE", "ratio", key=True,
             tip="Mean absolute error scaled by the in-sample one-step naive MAE (Hyndman). Compare with the "
                 "naive forecast's MASE on the same origins: lower is better"),
    grid.col("mae", "MAE", "price", tip="Mean absolute error, in price units, over every origin and step"),
    grid.col("rmse", "RMSE", "price", tip="Root mean squared error, in price units (punishes big misses)"),
    grid.col("mape", "MAPE", "pct", tip="Mean absolute percentage error"),
    grid.col("directional_accuracy", "Direction", "pct", key=True,
             tip="Share of horizon steps where the forecast's move from the origin has the sign of the real "
                 "move (a 'no change' forecast has no direction: n/a)"),
    grid.col("coverage_95", "95% band coverage", "pct",
             tip="Share of realised prices inside the 95% band (LSTM only); close to 95% means an honest band"),
    grid.col("coverage_80", "80% band coverage", "pct", tip="Share of realised prices inside the 80% band"),
]


def skill(fc: dict) -> bool:
    """True only when the LSTM beats the naive forecast significantly (DM test, 5%, lower loss)."""
    p, stat = fc["dm"].get("p_value"), fc["dm"].get("statistic")
    return p is not None and stat is not None and p < 0.05 and stat < 0


def _line(x, y, name, colour, dash="solid", width=2.0, **extra) -> go.Scatter:
    return go.Scatter(x=x, y=y, name=name, mode="lines", line=dict(color=colour, dash=dash, width=width), **extra)


def _band(x, low, high, name, alpha) -> list[go.Scatter]:
    return [
        go.Scatter(x=x, y=high, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip",
                   legendgroup=name),
        go.Scatter(x=x, y=low, mode="lines", line=dict(width=0), fill="tonexty", name=name, legendgroup=name,
                   fillcolor=f"rgba(255, 43, 214, {alpha})", hoverinfo="skip"),
    ]


def forecast_figure(fc: dict) -> go.Figure:
    """History, the LSTM forecast with its 80/95% bands, and the three baselines, joined at the last bar."""
    hist = fc["history"]
    x0, y0 = [fc["last_date"]], [fc["last_close"]]
    future = x0 + fc["dates"]
    fig = go.Figure()
    fig.add_trace(_line(hist["dates"], hist["close"], f"{fc['ticker']} close", theme.CYAN, width=1.6))
    fig.add_traces(_band(future, y0 + fc["lower_95"], y0 + fc["upper_95"], "95% band", 0.10))
    fig.add_traces(_band(future, y0 + fc["lower_80"], y0 + fc["upper_80"], "80% band", 0.20))
    for method in ("naive", "drift", "linear"):
        name, colour, dash = METHOD_STYLE[method]
        fig.add_trace(_line(future, y0 + fc["baselines"][method], name, colour, dash, width=1.5))
    lstm_name = "LSTM" if skill(fc) else "LSTM (no proven skill over naive)"
    fig.add_trace(_line(future, y0 + fc["forecast"], lstm_name, theme.MAGENTA, width=2.6))
    fig.add_vline(x=fc["last_date"], line=dict(color=theme.MUTED, dash="dot", width=1))
    note = ("LSTM beats naive on the backtest" if skill(fc) else
            f"No skill shown: DM p = {fmt.ratio(fc['dm'].get('p_value'))} vs naive")
    fig.add_annotation(x=fc["dates"][-1], y=fc["forecast"][-1], text=note, showarrow=True, arrowhead=0,
                       ax=-10, ay=-40, xanchor="right",
                       font=dict(color=theme.GREEN if skill(fc) else theme.AMBER, size=12),
                       bgcolor="rgba(7,8,15,0.85)", bordercolor=theme.GREEN if skill(fc) else theme.AMBER)
    fig.update_layout(template=theme.TEMPLATE_NAME, height=520, hovermode="x unified",
                      legend=dict(orientation="h", y=1.08, x=0),
                      yaxis=dict(title="price", tickformat=",.2f"), margin=dict(t=56))
    if not fc.get("every_day"):
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
    return fig


def backtest_figure(fc: dict) -> go.Figure:
    """The realised price over the backtest and each origin's LSTM, naive and linear paths."""
    fig = go.Figure()
    origins = fc["backtest"].get("origins", [])
    for i, o in enumerate(origins):
        x = [o["origin_date"], *o["dates"]]
        fig.add_trace(_line(x, [o["origin_close"], *o["actual"]], "Realised", theme.CYAN, width=1.6,
                            legendgroup="actual", showlegend=i == 0))
        for method in ("naive", "linear", "lstm"):
            name, colour, dash = METHOD_STYLE[method]
            fig.add_trace(_line(x, [o["origin_close"], *o[method]], name, colour, dash,
                                width=2.2 if method == "lstm" else 1.3, legendgroup=method, showlegend=i == 0))
    fig.update_layout(template=theme.TEMPLATE_NAME, height=360, legend=dict(orientation="h", y=1.12, x=0),
                      yaxis=dict(title="price", tickformat=",.2f"), margin=dict(t=48))
    return fig


def verdict_banner(fc: dict) -> dbc.Alert:
    good = skill(fc)
    head = "The LSTM beats the naive forecast here." if good else "The LSTM does not beat the naive forecast here."
    return dbc.Alert([html.Strong(head + " "), fc["verdict"]], color="success" if good else "warning",
                     className="neon-verdict", fade=False, id="fc-verdict-text")


def kpis(fc: dict) -> list:
    m = fc["metrics"]
    better = (m.get("mase") is not None and m.get("naive_mase") is not None and m["mase"] < m["naive_mase"])
    return [
        kpi("LSTM MASE", fmt.ratio(m.get("mase")), "up" if better else "down",
            f"naive {fmt.ratio(m.get('naive_mase'))} on the same origins"),
        kpi("Diebold-Mariano p", fmt.ratio(m.get("dm_p_value")), "up" if skill(fc) else "",
            "LSTM vs naive, squared errors"),
        kpi("Direction right", fmt.pct(m.get("directional_accuracy")), "", "of horizon steps (50% = a coin)"),
        kpi("95% band coverage", fmt.pct(m.get("coverage_95")), "", "realised prices inside the band"),
        kpi("Last close", fmt.price(fc["last_close"]), "", fc["last_date"]),
        kpi(f"LSTM in {len(fc['dates'])} bars", fmt.price(fc["forecast"][-1]),
            "up" if fc["forecast"][-1] >= fc["last_close"] else "down", fc["dates"][-1]),
    ]


SHORT_LABELS = {"lstm": "LSTM", "naive": "Naive", "drift": "Drift", "linear": "Linear (Ridge)"}


def table_rows(fc: dict) -> list[dict]:
    return [{**row, "label": SHORT_LABELS.get(row["method"], row["label"])} for row in fc["metrics_table"]]


def _dl(items: list[tuple[str, str]]) -> html.Dl:
    children = []
    for term, value in items:
        children += [html.Dt(term, className="col-sm-4"), html.Dd(value, className="col-sm-8")]
    return html.Dl(children, className="row model-card mb-0")


def model_card(fc: dict) -> html.Div:
    cfg, training = fc["config"], fc.get("training", {})
    final, backtest = training.get("final_model", {}) or {}, training.get("backtest_model", {}) or {}
    prov = fc.get("provenance") or {}
    wall = fc.get("wall_time_s")
    return html.Div([
        html.P(fc.get("sample_note", ""), className="small"),
        _dl([
            ("Data", f"{fc['ticker']} · {prov.get('source', '?')} · sha256 {fc['data_sha256'][:12]}…"),
            ("Network", f"LSTM {cfg['num_layers']} layer(s) × {cfg['hidden_size']} units, dropout "
                        f"{cfg['dropout']}, window {cfg['window']}, horizon {cfg['horizon']}"),
            ("What is scaled", "daily log returns, MinMax-scaled on the training part only"),
            ("Training", f"backtest fit: {backtest.get('epochs_run', '?')} epochs (best "
                         f"{backtest.get('best_epoch', '?')}), final refit: {final.get('epochs_run', '?')} epochs, "
                         f"batch {cfg['batch_size']}, lr {cfg['learning_rate']}, seed {cfg['seed']}"),
            ("Calendar", fc.get("calendar", "")),
            ("Run", ("from cache" if fc.get("from_cache") else "computed") +
             (f" · {wall:.1f} s" if isinstance(wall, (int, float)) and math.isfinite(wall) else "")),
            ("Libraries", ", ".join(f"{k} {v}" for k, v in (fc.get("versions") or {}).items())),
        ]),
    ])


def forecast_view(fc: dict) -> tuple:
    """(sample tag, verdict banner, kpis, forecast figure, backtest figure, table rows, model card)."""
    bt = fc["backtest"]
    detail = (f"backtest {bt.get('start')} → {bt.get('end')} · {fc['config']['backtest_origins']} origins × "
              f"{fc['config']['horizon']} bars · forecast from {fc['last_date']}")
    return (
        sample_tag("out-of-sample", detail),
        verdict_banner(fc),
        kpis(fc),
        forecast_figure(fc).to_dict(),
        backtest_figure(fc).to_dict(),
        table_rows(fc),
        model_card(fc),
    )
