"""Arena page callbacks: run (or fetch from cache) the battle for the chosen spec and draw it."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update

from callbacks import battle_caption, error_alert, failed, unexpected_error_alert
from core import service
from layouts import ids
from layouts.battle_figures import battle_candles_figure, cost_stress_figure, equity_figure
from layouts.components import kpi, sample_tag

PCT = {"total_return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure", "var_95", "cvar_95"}
BOARD_COLUMNS = [
    ("contestant", "Contestant"), ("type", "Type"), ("total_return", "Return"),
    ("beats", "Beats buy-and-hold?"), ("cagr", "CAGR"),
    ("volatility", "Vol"), ("sharpe", "Sharpe"), ("sharpe_ci", "Sharpe 95% CI"), ("sortino", "Sortino"),
    ("max_drawdown", "Max DD"), ("calmar", "Calmar"), ("win_rate", "Win rate"), ("trades", "Trades"),
    ("exposure", "Exposure"), ("turnover", "Turnover"), ("costs_paid", "Costs paid"), ("var_95", "VaR 95"),
    ("cvar_95", "CVaR 95"),
]


_FIGURES = service.LRU(maxsize=32)


def battle_figures(result) -> tuple[dict, dict]:
    """(candles with markers, equity) as plotly dicts, built once per battle (results are keyed by input hash)."""
    return _FIGURES.get_or_compute(
        result.cache_key or id(result),
        lambda: (battle_candles_figure(result).to_dict(), equity_figure(result).to_dict()),
    )


def _num(value, digits: int = 2):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return round(value, digits) if math.isfinite(value) else None


def leaderboard_rows(result) -> list[dict]:
    """Display rows of the leaderboard (numbers stay numbers so the table sorts them correctly)."""
    rows = []
    for c in result.contestants:
        m = c.metrics
        low, high = _num(m.get("sharpe_ci_low")), _num(m.get("sharpe_ci_high"))
        row = {"contestant": c.label, "type": c.kind,
               "sharpe_ci": f"[{low:.2f}, {high:.2f}]" if low is not None and high is not None else "n/a",
               "beats": "—" if c.name == "buy_and_hold" else ("YES" if m.get("beats_buy_and_hold") else "no")}
        for key in ("total_return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure", "var_95",
                    "cvar_95"):
            row[key] = _num(m.get(key), 4)
        for key in ("sharpe", "sortino", "calmar", "turnover"):
            row[key] = _num(m.get(key))
        row["trades"] = int(m.get("trades", 0))
        row["costs_paid"] = _num(m.get("costs_paid"))
        rows.append(row)
    rows.sort(key=lambda r: -1e9 if r["total_return"] is None else -r["total_return"])
    return rows


def leaderboard_columns() -> list[dict]:
    from dash.dash_table import FormatTemplate
    from dash.dash_table.Format import Format, Group, Scheme

    columns = []
    for key, name in BOARD_COLUMNS:
        col = {"id": key, "name": name}
        if key in PCT:
            col.update(type="numeric", format=FormatTemplate.percentage(1))
        elif key in ("sharpe", "sortino", "calmar", "turnover"):
            col.update(type="numeric", format=Format(precision=2, scheme=Scheme.fixed))
        elif key == "costs_paid":
            col.update(type="numeric", format=Format(precision=0, scheme=Scheme.fixed, group=Group.yes))
        elif key == "trades":
            col.update(type="numeric")
        columns.append(col)
    return columns


def arena_kpis(result) -> list:
    agents = [c for c in result.contestants if c.kind == "agent"]
    bh = next((c for c in result.contestants if c.name == "buy_and_hold"), None)
    out = []
    if bh is not None:
        r = bh.metrics["total_return"]
        out.append(kpi("Buy-and-hold", f"{r:+.1%}", "up" if r >= 0 else "down", hint="the yardstick, after costs"))
    if agents:
        best = max(agents, key=lambda c: c.metrics["total_return"])
        r = best.metrics["total_return"]
        out.append(kpi("Best agent", best.label, hint=f"{r:+.1%} net of costs"))
        beating = sum(bool(c.metrics.get("beats_buy_and_hold")) for c in agents)
        out.append(kpi("Agents beating B&H", f"{beating} / {len(agents)}", "up" if beating else "down"))
        trades = sum(int(c.metrics["trades"]) for c in agents)
        out.append(kpi("Agent fills", f"{trades:,}", hint="all four agents"))
    out.append(kpi("Window", f"{len(result.dates):,} bars", hint=f"{result.test_start:%Y-%m-%d} → {result.test_end:%Y-%m-%d}"))
    return out


def agents_alert(view: service.ArenaView):
    if view.agents_ready:
        warnings = list(getattr(view.result, "warnings", []) or [])
        return error_alert(" ".join(warnings), color="warning") if warnings else None
    ticker = view.result.ticker
    corrupt = "cannot be used" in view.agents_message
    return dbc.Alert([
        html.Strong("Benchmarks only. "),
        (view.agents_message + " ") if corrupt else f"There are no trained agents for {ticker} yet. ",
        html.Br(),
        "Train the four personalities for this ticker with ",
        html.Code(f"python -m core train --ticker {ticker}"),
        " (a few minutes on 2 cores), then reload this page. In-app training jobs with progress and cancel "
        "arrive with the background-jobs milestone.",
    ], color="warning" if corrupt else "info", className="neon-alert")


def spec_from_inputs(ticker, window, start, end, commission, slippage, shared=False) -> service.BattleSpec:
    if commission is None or slippage is None:
        raise service.SpecError("Commission and slippage must be numbers between 0 and 1000 basis points.")
    return service.BattleSpec(ticker=ticker or "AAPL", window=window or "out-of-sample",
                              start=start if window == "custom" else None,
                              end=end if window == "custom" else None,
                              commission_bps=float(commission), slippage_bps=float(slippage),
                              shared_market=bool(shared))


def arena_outputs(ticker, window, start, end, commission, slippage, models_dir=None, shared=False) -> tuple:
    """(sample tag, alert, kpis, candles, equity, board rows, board columns, spec store, dates disabled).

    On bad input: an alert and every other output unchanged (the previous battle stays on screen).
    """
    try:
        spec = spec_from_inputs(ticker, window, start, end, commission, slippage, shared)
        view = service.run_arena(spec, models_dir=models_dir)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 9, 1, "running the battle")[:8] + (window != "custom",)
    result = view.result
    candles, equity = battle_figures(result)
    return (
        sample_tag(result.sample, battle_caption(result)),
        agents_alert(view),
        arena_kpis(result),
        candles,
        equity,
        leaderboard_rows(result),
        leaderboard_columns(),
        spec.to_dict(),
        window != "custom",
    )


def stress_outputs(spec_dict: dict | None, models_dir=None):
    from layouts import theme

    if not spec_dict:
        return no_update, no_update
    try:
        spec = service.BattleSpec.from_dict(spec_dict)
        stress = service.arena_cost_stress(spec, models_dir=models_dir)
        view = service.run_arena(spec, models_dir=models_dir)
    except Exception as exc:  # noqa: BLE001 - bad input or bug: an alert, never a trace
        return failed(exc, 2, 1, "running the cost stress test")
    styles = {c.name: (c.label, c.colour) for c in view.result.contestants}
    styles.setdefault("buy_and_hold", ("Buy-and-hold", theme.TEXT))
    table = stress.table()
    agents = [n for n in stress.returns.index if n in stress.break_even]
    rows = [html.Tr([html.Td(styles.get(n, (n,))[0], style={"color": styles.get(n, (n, theme.TEXT))[1]}),
                     html.Td(table.loc[table["contestant"] == n, "break_even"].iloc[0])]) for n in agents]
    body = html.Table([html.Thead(html.Tr([html.Th("Agent"), html.Th("Break-even cost (vs buy-and-hold)")])),
                       html.Tbody(rows)], className="table table-sm neon-mini-table") if rows else html.Small(
        "No agents in this battle: nothing to break even.", className="text-muted")
    return cost_stress_figure(stress, styles).to_dict(), body


def export_leaderboard(which: str, spec_dict: dict | None, models_dir=None):
    from core.journal import table_to_csv_bytes, table_to_excel_bytes

    spec = service.BattleSpec.from_dict(spec_dict)
    result = service.run_arena(spec, models_dir=models_dir).result
    table = pd.DataFrame(leaderboard_rows(result))
    table.insert(0, "sample", result.sample)
    table.insert(1, "window", f"{result.test_start:%Y-%m-%d}..{result.test_end:%Y-%m-%d}")
    table.insert(2, "cost_bps", result.cost_bps)
    name = f"leaderboard_{result.ticker}_{result.sample}"
    if which == ids.ARN_BOARD_XLSX:
        return dcc.send_bytes(table_to_excel_bytes(table, sheet_name="Leaderboard"), f"{name}.xlsx")
    return dcc.send_bytes(table_to_csv_bytes(table), f"{name}.csv")


def register(app, settings) -> None:
    @app.callback(
        Output(ids.ARN_SAMPLE_TAG, "children"),
        Output(ids.ARN_ALERT, "children"),
        Output(ids.ARN_KPIS, "children"),
        Output(ids.ARN_CANDLES, "figure"),
        Output(ids.ARN_EQUITY, "figure"),
        Output(ids.ARN_BOARD, "data"),
        Output(ids.ARN_BOARD, "columns"),
        Output(ids.BATTLE_SPEC, "data"),
        Output(ids.ARN_DATES, "disabled"),
        Input(ids.ARN_TICKER, "value"),
        Input(ids.ARN_WINDOW, "value"),
        Input(ids.ARN_DATES, "start_date"),
        Input(ids.ARN_DATES, "end_date"),
        Input(ids.ARN_COMMISSION, "value"),
        Input(ids.ARN_SLIPPAGE, "value"),
        Input(ids.ARN_SHARED, "value"),
    )
    def _battle(ticker, window, start, end, commission, slippage, shared):
        return arena_outputs(ticker, window, start, end, commission, slippage, settings.models_dir, shared)

    @app.callback(
        Output(ids.ARN_STRESS_FIG, "figure"),
        Output(ids.ARN_STRESS_TABLE, "children"),
        Input(ids.BATTLE_SPEC, "data"),
    )
    def _stress(spec):
        return stress_outputs(spec, settings.models_dir)

    @app.callback(
        Output(ids.ARN_DOWNLOAD, "data"),
        Input(ids.ARN_BOARD_CSV, "n_clicks"),
        Input(ids.ARN_BOARD_XLSX, "n_clicks"),
        State(ids.BATTLE_SPEC, "data"),
        prevent_initial_call=True,
    )
    def _download(_csv, _xlsx, spec):
        try:
            return export_leaderboard(ctx.triggered_id, spec, settings.models_dir)
        except Exception as exc:  # noqa: BLE001
            unexpected_error_alert(exc, "preparing the leaderboard download")
            return no_update
