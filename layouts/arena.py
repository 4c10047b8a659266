"""Arena page: the four agents and the benchmarks on one window, with markers, equity, leaderboard, costs."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import grid, ids, state
from layouts.components import card, page_header
from layouts.figures import empty_figure

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True}

WINDOW_OPTIONS = [
    {"label": "Out-of-sample (test)", "value": "out-of-sample"},
    {"label": "In-sample (training)", "value": "in-sample"},
    {"label": "Custom dates", "value": "custom"},
]


def _tickers() -> list[str]:
    from core.service import arena_tickers

    return arena_tickers()


def controls(spec: dict) -> dbc.Card:
    return dbc.Card(dbc.CardBody([dbc.Row([
        dbc.Col([dbc.Label("Ticker", html_for=ids.ARN_TICKER),
                 dcc.Dropdown(id=ids.ARN_TICKER, options=_tickers(), value=spec["ticker"], clearable=False)],
                md=2),
        dbc.Col([dbc.Label("Window"),
                 dbc.RadioItems(id=ids.ARN_WINDOW, options=WINDOW_OPTIONS, value=spec["window"], inline=True,
                                className="neon-radio"),
                 dbc.Switch(id=ids.ARN_SHARED, value=bool(spec.get("shared_market")), className="mt-1 neon-radio",
                            label="Shared market: the agents' net order flow moves their fill price")], md=4),
        dbc.Col([dbc.Label("Custom dates"),
                 dcc.DatePickerRange(id=ids.ARN_DATES, display_format="YYYY-MM-DD", clearable=True,
                                     start_date=spec.get("start"), end_date=spec.get("end"),
                                     min_date_allowed=None, max_date_allowed=None,
                                     disabled=spec["window"] != "custom", className="neon-dates")], md=3),
        dbc.Col([dbc.Label("Commission (bps)", html_for=ids.ARN_COMMISSION),
                 dbc.Input(id=ids.ARN_COMMISSION, type="number", value=spec["commission_bps"], min=0, max=1000,
                           step=0.5, debounce=True)], md=1, xs=6),
        dbc.Col([dbc.Label("Slippage (bps)", html_for=ids.ARN_SLIPPAGE),
                 dbc.Input(id=ids.ARN_SLIPPAGE, type="number", value=spec["slippage_bps"], min=0, max=1000,
                           step=0.5, debounce=True)], md=1, xs=6),
    ], className="g-3 align-items-end"), dbc.Row([
        dbc.Col([dbc.Label("Agents", html_for=ids.ARN_AGENTS),
                 dcc.Dropdown(id=ids.ARN_AGENTS, options=[{"label": "Shipped agents · 5 seeds each",
                                                           "value": spec.get("agents") or "shipped"}],
                              value=spec.get("agents") or "shipped", clearable=False, searchable=False)], md=5),
        dbc.Col(html.Small(["The shipped agents, or agents you trained in this tab on the ",
                            dcc.Link("Train page", href="/train"),
                            ". A run battles on its own data: the ticker is the run's."],
                           className="text-muted"), md=7),
    ], className="g-3 align-items-end mt-1")]), className="neon-card mb-3")


BOARD_COLUMNS = [
    grid.col("contestant", "Contestant", tip="The four trained PPO personalities and four rule-based benchmarks",
             min_width=132, key=True),
    grid.col("type", "Type", tip="agent: a trained PPO personality; benchmark: a fixed rule (buy-and-hold, cash, "
             "SMA 20/50 crossover, RSI 30/70)", min_width=100),
    grid.col("total_return", "Return", "signed_pct", rule="sign", key=True,
             tip="Net total return over the window: commission and slippage are paid on every fill"),
    grid.col("beats", "Beats B&H?", rule="verdict", key=True,
             tip="YES when the net return is above buy-and-hold's on the same window and costs"),
    grid.col("cagr", "CAGR", "signed_pct", rule="sign", tip="Compound annual growth rate of equity"),
    grid.col("volatility", "Vol", "pct",
             tip="Annualised volatility of daily returns (252 bars a year for stocks, 365 for crypto)"),
    grid.col("sharpe", "Sharpe", "ratio", rule="sign", key=True,
             tip="Annualised mean / standard deviation of daily returns (risk-free rate 0)"),
    grid.col("sharpe_ci_low", "Sharpe 95% CI", "ratio", interval_high="sharpe_ci_high", min_width=112,
             tip="Bootstrap 95% confidence interval of the Sharpe ratio; sorts by its lower bound. An "
                 "interval that straddles 0 means the Sharpe is not distinguishable from zero"),
    grid.col("sortino", "Sortino", "ratio", tip="Like Sharpe, but divides by the downside deviation only"),
    grid.col("max_drawdown", "Max DD", "pct", key=True,
             tip="Largest fall of equity from a previous peak (negative)"),
    grid.col("calmar", "Calmar", "ratio", tip="CAGR / |max drawdown|"),
    grid.col("win_rate", "Win rate", "pct",
             tip="Share of CLOSED round trips (flat -> in the market -> flat) that made money. A contestant that "
                 "stays invested closes few or none: a high return can sit next to a 0% or empty win rate"),
    grid.col("trades", "Fills", "count", tip="Number of fills (each buy or sell order executed)"),
    grid.col("exposure", "Exposure", "pct", tip="Average share of equity held in the asset"),
    grid.col("turnover", "Turnover", "ratio",
             tip="Traded notional / average equity over the window (not annualised)"),
    grid.col("costs_paid", "Costs", "money", tip="Commission + slippage paid in dollars, on 100,000 starting cash"),
    grid.col("var_95", "VaR 95", "pct",
             tip="Historical one-day 95% Value at Risk: the daily loss exceeded on 5% of days (positive = loss)"),
    grid.col("cvar_95", "CVaR 95", "pct",
             tip="Historical one-day 95% Conditional VaR: the average loss on the worst 5% of days"),
]


SEED_COLUMNS = [
    grid.col("contestant", "Agent", tip="A trained PPO personality: every training seed battled on this window",
             min_width=132, key=True),
    grid.col("n_seeds", "Seeds", "count", tip="Training seeds of this personality (same data, same budget)"),
    grid.col("shown_seed", "Seed shown", "count",
             tip="The median seed by net total return: the one every chart, the leaderboard, Replay and Journal "
                 "show"),
    grid.col("return_median", "Return (median)", "signed_pct", rule="sign", key=True,
             tip="Median net total return across the seeds, after every cost"),
    grid.col("return_min", "Return range", "signed_pct", interval_high="return_max", min_width=130,
             tip="Lowest to highest net total return of any seed: what luck of the training seed alone does"),
    grid.col("sharpe_median", "Sharpe (median)", "ratio", rule="sign", tip="Median annualised Sharpe across seeds"),
    grid.col("sharpe_min", "Sharpe range", "ratio", interval_high="sharpe_max", min_width=112,
             tip="Lowest to highest annualised Sharpe of any seed"),
    grid.col("beats", "Beats B&H", key=True, tip="In how many seeds the net return beats buy-and-hold's"),
    grid.col("p_value", "p vs B&H", "number", digits=2, key=True,
             tip="One-sided p-value that the shown seed's Sharpe beats buy-and-hold's: paired stationary block "
                 "bootstrap of the Sharpe difference on the same days (mean block length below). Small = "
                 "unlikely to be luck; 0.05 is the usual bar"),
    grid.col("behaviour", "Behaviour", rule="flag", min_width=150,
             tip="Trivial-policy check on the shown seed: long or flat on at least 95% of bars, or daily returns "
                 "correlated above 0.98 with buy-and-hold, means the agent learned no real strategy"),
]


def seed_grid():
    return grid.data_grid(ids.ARN_SEEDS, SEED_COLUMNS, height="auto", export_name="seeds", filters=False,
                          dash_grid_options={"domLayout": "autoHeight"})


def leaderboard_grid():
    return grid.data_grid(ids.ARN_BOARD, BOARD_COLUMNS, height="auto", export_name="leaderboard", filters=False,
                          dash_grid_options={"domLayout": "autoHeight"},  # eight rows: no inner scrolling
                          rowClassRules={"neon-benchmark": "params.data.type === 'benchmark'"})


def layout(**query) -> html.Div:
    """The arena. The battle comes from the URL (`?ticker=TSLA&window=in-sample&commission=20`), else the
    session's last battle, else the default (layouts/state.py); the callbacks restore it on load."""
    spec, _messages = state.parse_battle_query(query)
    spec = spec or state.default_spec()
    downloads = html.Div([
        html.Span("Leaderboard", className="grid-note"),
        dbc.Button("CSV", id=ids.ARN_BOARD_CSV, size="sm", color="secondary", n_clicks=0),
        dbc.Button("Excel", id=ids.ARN_BOARD_XLSX, size="sm", color="secondary", n_clicks=0),
        html.Span("Whole journal", className="grid-note ms-2"),
        dbc.Button("CSV", id=ids.ARN_JOURNAL_CSV, size="sm", color="secondary", n_clicks=0),
        dbc.Button("Excel", id=ids.ARN_JOURNAL_XLSX, size="sm", color="secondary", n_clicks=0),
    ], className="grid-toolbar")
    return html.Div([
        page_header("Battle Arena", "Four PPO personalities and four benchmarks, same window, same costs",
                    right=html.Div(id=ids.ARN_SAMPLE_TAG)),
        controls(spec),
        html.Div(id=ids.ARN_NOTE),
        html.Div(id=ids.ARN_ALERT),
        html.Div(id=ids.ARN_KPIS, className="kpi-row"),
        # no dcc.Loading around the main chart: its placeholder says what is coming, and the spinner's
        # hide/show would cost the first paint another full redraw
        card("Trades on the price", dcc.Graph(id=ids.ARN_CANDLES, figure=empty_figure("Running the battle..."),
                                              config=GRAPH_CONFIG),
             right=html.Small("filled marker = buy, open marker = sell; click a legend entry to hide an agent",
                              className="text-muted")),
        card("Leaderboard · net of costs · agents: their median seed · hover a header for its definition",
             leaderboard_grid(), right=downloads),
        card("Across seeds and against luck", [
            html.Div(id=ids.ARN_LUCK, className="luck-notes"),
            seed_grid(),
        ], right=html.Small("is an edge more than the luck of one training seed or of the window?",
                            className="text-muted")),
        dbc.Row([
            dbc.Col(card("Equity against the market · agents: median seed, band = every seed's range",
                         dcc.Loading(dcc.Graph(
                id=ids.ARN_EQUITY, figure=empty_figure("Running the battle...", 420), config=GRAPH_CONFIG),
                type="dot", color="#00f0ff", delay_show=250)), lg=7),
            dbc.Col(card("Cost stress: net return at 0 / 10 / 25 / 50 bps per fill", [
                dcc.Loading([dcc.Graph(id=ids.ARN_STRESS_FIG, figure=empty_figure("Computing...", 300),
                                       config=GRAPH_CONFIG),
                             html.Div(id=ids.ARN_STRESS_TABLE, className="stress-table")],
                            type="dot", color="#ff2bd6", delay_show=250),
            ]), lg=5),
        ]),
        dcc.Download(id=ids.ARN_DOWNLOAD),
        # always present: the battle callback waits for the restore callback, which needs this input
        state.query_store(ids.ARN_QUERY, query),
    ])
