"""Train page: pick data, a budget, a seed and the personalities; press Train; watch each personality learn
(a background job: queued, bounded, cancellable, re-attached after navigation); then read the run's model
card and send the agents into the arena."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from core import PERSONALITIES
from core.personalities import get_personality
from layouts import fmt, grid, ids
from layouts.components import card, page_header
from layouts.forecast import job_backend_note

BUNDLED = ("AAPL", "TSLA", "BTC-USD")
TIMESTEP_CHOICES: tuple[int, ...] = (2_000, 10_000, 50_000, 150_000)
"""PPO steps per personality the page offers (users never type a budget; core.runs caps it too)."""
DEFAULT_STEPS = 10_000
SOURCES = [
    {"label": "Bundled snapshot", "value": "bundled"},
    {"label": "Any ticker", "value": "ticker"},
    {"label": "My CSV", "value": "file"},
]

METRIC_COLUMNS = [
    grid.col("agent", "Agent", tip="The personality", key=True),
    grid.col("period", "Period", tip="In-sample: the training bars; out-of-sample: the held-out last 20%, never "
                                     "seen in training", key=True),
    grid.col("total_return", "Return", "signed_pct", rule="sign", key=True,
             tip="Net total return of the agent over the period, after commission and slippage"),
    grid.col("buy_hold_return", "Buy & hold", "signed_pct", rule="sign",
             tip="Buy-and-hold's net return over the same bars, same costs"),
    grid.col("beats", "Beats B&H?", rule="verdict", tip="The agent's return is above buy-and-hold's"),
    grid.col("max_drawdown", "Max DD", "pct", tip="Largest fall of equity from a previous peak"),
    grid.col("buy_hold_max_drawdown", "B&H max DD", "pct", tip="Buy-and-hold's largest fall from a peak"),
    grid.col("exposure", "Exposure", "pct", tip="Average share of equity held in the market"),
    grid.col("trades", "Trades", "count", tip="Fills over the period"),
    grid.col("costs_paid", "Costs", "money", tip="Commission and slippage paid"),
    grid.col("train_time_s", "Train time (s)", "number", digits=1,
             tip="Wall time of this personality's training and evaluation"),
]

RUN_COLUMNS = [
    grid.col("run_id", "Run", tip="Run id (16 hex digits): the arena loads the agents by it", key=True),
    grid.col("ticker", "Data", tip="Ticker or CSV the agents trained on", key=True),
    grid.col("source", "Source", tip="Where the data came from"),
    grid.col("agents", "Agents", tip="Personalities trained"),
    grid.col("timesteps", "Steps / agent", "count", tip="PPO steps per personality"),
    grid.col("seed", "Seed", "count"),
    grid.col("created", "Trained", tip="When the run finished (server time)"),
    grid.col("wall_time_s", "Wall time (s)", "number", digits=1, tip="The whole job, data to published run"),
    grid.col("oos_mean", "Mean OOS return", "signed_pct", rule="sign",
             tip="Mean out-of-sample return of the run's agents, after costs"),
    grid.col("oos_buy_hold", "OOS buy & hold", "signed_pct", rule="sign", tip="Buy-and-hold over the same bars"),
]


def steps_label(steps: int) -> str:
    return f"{steps // 1000:,}k" if steps >= 1000 and steps % 1000 == 0 else f"{steps:,}"


def controls(ticker: str, minimum: int) -> dbc.Card:
    options = [{"label": t, "value": t} for t in BUNDLED]
    steps = [{"label": steps_label(s), "value": s} for s in TIMESTEP_CHOICES]
    default_steps = DEFAULT_STEPS if DEFAULT_STEPS in TIMESTEP_CHOICES else TIMESTEP_CHOICES[0]
    personalities = [{"label": get_personality(n).label, "value": n} for n in PERSONALITIES]
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label("Data"),
                     dbc.RadioItems(id=ids.TR_SOURCE, options=SOURCES, value="bundled" if ticker in BUNDLED
                                    else "ticker", className="neon-radio")],
                    md=2, xs=6),
            dbc.Col([dbc.Label("Bundled ticker", html_for=ids.TR_TICKER),
                     dcc.Dropdown(id=ids.TR_TICKER, options=options,
                                  value=ticker if ticker in BUNDLED else "AAPL", clearable=False)], md=2, xs=6),
            dbc.Col([dbc.Label("Any ticker", html_for=ids.TR_CUSTOM),
                     dbc.Input(id=ids.TR_CUSTOM, type="text", placeholder="e.g. MSFT", debounce=True,
                               value="" if ticker in BUNDLED else ticker, maxLength=32)], md=2, xs=6),
            dbc.Col([dbc.Label("Or an OHLCV CSV"),
                     dcc.Upload(id=ids.TR_UPLOAD, multiple=False, accept=".csv,text/csv",
                                children=html.Div(["Drop a CSV or ", html.A("browse")]), className="neon-upload")],
                    md=3, xs=6),
            dbc.Col(html.Small(id=ids.TR_SOURCE_LINE, className="text-muted"), md=3),
        ], className="g-3 align-items-end"),
        dbc.Row([
            dbc.Col([dbc.Label("PPO steps per personality"),
                     dbc.RadioItems(id=ids.TR_STEPS, options=steps, value=default_steps, inline=True,
                                    className="neon-radio")], lg=4, md=6),
            dbc.Col([dbc.Label("Seed", html_for=ids.TR_SEED),
                     dbc.Input(id=ids.TR_SEED, type="number", value=0, min=0, max=9999, step=1)], lg=1, md=2, xs=4),
            dbc.Col([dbc.Label("Personalities"),
                     dbc.Checklist(id=ids.TR_PERSONALITIES, options=personalities, value=list(PERSONALITIES),
                                   inline=True, className="neon-radio")], lg=7, md=12),
        ], className="g-3 mt-1 align-items-end"),
        html.Small(f"Data needs at least {minimum:,} daily bars: the indicator warm-up, 250 training bars and 50 "
                   "test bars (the last 20% is held out, never seen in training). On 2 quiet cores the four "
                   "personalities take about 10 s at 10k or 50k steps and under a minute at 150k (the shipped "
                   "models' budget), of which about 5 s is starting the trainers; a busy server takes longer.", className="text-muted d-block mt-2"),
        dbc.Row([
            dbc.Col(html.Div([
                dbc.Button("Train", id=ids.TR_RUN, color="info", n_clicks=0, className="neon-run"),
                dbc.Button("Cancel", id=ids.TR_CANCEL, color="danger", outline=True, n_clicks=0, disabled=True),
            ], className="d-flex gap-2"), md="auto"),
            dbc.Col([html.Div("Press Train: the agents learn in the background; you can keep working on other "
                              "pages and come back.", id=ids.TR_STATUS, className="job-status"),
                     job_backend_note()], className="flex-grow-1"),
        ], className="g-3 mt-1 align-items-center"),
    ]), className="neon-card mb-3")


def progress_rows() -> list:
    rows = []
    for name in PERSONALITIES:
        pers = get_personality(name)
        rows.append(dbc.Row([
            dbc.Col(html.Span(pers.label, style={"color": pers.colour}, className="fw-bold"), md=2, xs=12),
            dbc.Col([
                dbc.Progress(id=f"{ids.TR_BAR}{name}", value=0, label="", striped=True, animated=True,
                             color=pers.colour, className="neon-progress", style={"height": "16px"}),
                html.Div("idle", id=f"{ids.TR_DETAIL}{name}", className="job-status small mt-1"),
            ], md=10, xs=12),
        ], className="g-2 mb-2 align-items-center"))
    return rows


def layout(ticker: str | None = None, **_query) -> html.Div:
    """The page tree; `?ticker=TSLA` preselects a bundled ticker, any other symbol fills "Any ticker"."""
    from core.training import min_rows

    chosen = "".join(ch for ch in (ticker or "AAPL").strip().upper() if ch.isalnum() or ch in ".-^=_")[:15]
    return html.Div([
        page_header("Train", "Train the four personalities on your data, watch them learn, then send them into "
                             "the arena."),
        controls(chosen or "AAPL", min_rows(0.2)),
        html.Div(id=ids.TR_ALERT),
        card("Training progress", progress_rows(),
               right=html.Small("mean episode reward: the shaped reward each agent learns from, last 20 episodes",
                                className="text-muted")),
        card("Your run", [
            html.Div(id=ids.TR_RUN_INFO, children=html.Small("No run yet: train one, or pick one of this "
                                                             "session's runs.", className="text-muted")),
            grid.data_grid(ids.TR_METRICS, METRIC_COLUMNS, height=320, filters=False, export_name="train_metrics"),
        ], right=html.Div([
            dcc.Dropdown(id=ids.TR_RUN_PICK, options=[], placeholder="This session's runs", clearable=False,
                         style={"minWidth": "340px"}),
            dcc.Link("Battle with these agents", id=ids.TR_BATTLE_LINK, href="/arena",
                     className="btn btn-outline-info btn-sm disabled", style={"whiteSpace": "nowrap"}),
        ], className="d-flex gap-2 align-items-center")),
        card("Runs in this session", [
            grid.data_grid(ids.TR_RUNS, RUN_COLUMNS, height=240, export_name="train_runs"),
            html.Small("Runs belong to this browser session; the server keeps the newest ones and removes the "
                       "oldest first.", className="text-muted"),
        ]),
        dcc.Store(id=ids.TR_UPLOAD_STORE),
        dcc.Store(id=ids.TR_RESULT),
        dcc.Interval(id=ids.TR_POLL, interval=700, disabled=True),
    ])


# ----------------------------------------------------------------------------------------------------
# a run's views (pure: a core.runs.run_card dict -> what the page shows)


def battle_href(run: dict) -> str:
    """The Arena with this run's agents: /arena?ticker=T&agents=<run_id>."""
    from urllib.parse import urlencode

    return "/arena?" + urlencode({"ticker": run["ticker"], "agents": run["run_id"]})


def _when(created) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(float(created)).strftime("%Y-%m-%d %H:%M")


def run_rows(runs: list[dict]) -> list[dict]:
    """Rows of the runs grid (RunInfo dicts, newest first)."""
    rows = []
    for run in runs:
        oos = [a["out_of_sample"] for a in run.get("agents", {}).values() if "out_of_sample" in a]
        rows.append({
            "run_id": run["run_id"], "ticker": run["ticker"], "source": run["data"].get("label")
            or run["data"].get("source", ""),
            "agents": ", ".join(get_personality(n).label for n in run["personalities"]),
            "timesteps": run["timesteps"], "seed": run["seed"], "created": _when(run["created"]),
            "wall_time_s": run["wall_time_s"],
            "oos_mean": sum(o["total_return"] for o in oos) / len(oos) if oos else None,
            "oos_buy_hold": oos[0]["buy_hold_return"] if oos else None,
        })
    return rows


def metric_rows(card: dict) -> list[dict]:
    """Each agent's in-sample and out-of-sample metrics next to buy-and-hold (same bars, same costs)."""
    rows = []
    for name, agent in card["cards"].items():
        for period, label in (("out_of_sample", "out-of-sample"), ("in_sample", "in-sample")):
            m = agent["metrics"][period]
            rows.append({"agent": get_personality(name).label, "period": label, **m,
                         "beats": "YES" if m["total_return"] > m["buy_hold_return"] else "no",
                         "train_time_s": agent.get("wall_time_s")})
    return rows


def run_info(card: dict) -> html.Div:
    """The run's model card: data, dates, seed, budget, hyperparameters, costs, versions, wall time."""
    run = card["run"]
    first = next(iter(card["cards"].values()))
    cfg, split, data = first["config"], first["split"], run["data"]
    train, test = split["train"], split["test"]
    items = [
        ("Run", f"{run['run_id']} · trained {_when(run['created'])} · {run['wall_time_s']:.1f} s wall time"),
        ("Data", f"{run['ticker']} · {data.get('label') or data.get('source', '?')} · {int(data.get('rows', 0)):,} "
                 f"bars · sha256 {str(data.get('sha256', ''))[:12]}…"),
        ("Training period (in-sample)", f"{train['start']} → {train['end']} · {train['bars']:,} bars"),
        ("Test period (out-of-sample)", f"{test['start']} → {test['end']} · {test['bars']:,} bars, never seen in "
                                        "training"),
        ("Budget", f"{run['timesteps']:,} PPO steps per personality · seed {run['seed']}"),
        ("Hyperparameters", f"lr {cfg['learning_rate']:g} · {cfg['n_envs']} envs × {cfg['n_steps']} steps per "
                            f"rollout · batch {cfg['batch_size']} · {cfg['n_epochs']} epochs · gamma {cfg['gamma']:g}"
                            f" · GAE lambda {cfg['gae_lambda']:g} · entropy {cfg['ent_coef']:g} · clip "
                            f"{cfg['clip_range']:g} · net {tuple(cfg['net_arch'])} tanh · episodes of "
                            f"{cfg['episode_bars']} bars"),
        ("Costs", f"commission {fmt.bps(cfg['commission_bps'])} + slippage {fmt.bps(cfg['slippage_bps'])} per "
                  f"fill · starting cash {fmt.money(cfg['cash0'])}"),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in sorted(first.get("versions", {}).items()))),
    ]
    terms = []
    for term, value in items:
        terms.extend([html.Dt(term, className="col-sm-3"), html.Dd(value, className="col-sm-9")])
    return html.Div([html.Dl(terms, className="row model-card mb-2"),
                     html.Small("Every number below is net of costs; buy-and-hold runs on the same bars with the "
                                "same costs.", className="text-muted")])
