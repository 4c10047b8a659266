"""Pure figure builders for battle results (arena, replay): BattleResult -> go.Figure."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layouts import theme
from layouts.figures import _round, _sig

BENCH_DASH = {"buy_and_hold": "solid", "cash": "dot", "sma_crossover": "dash", "rsi_30_70": "dashdot"}


def _dates(result) -> np.ndarray:
    return np.asarray([d.strftime("%Y-%m-%d") for d in result.dates])


def high_low(result) -> tuple[np.ndarray, np.ndarray]:
    """The window's highs and lows (falls back to closes for results that do not carry them)."""
    close = np.asarray(result.close, dtype=float)
    high = getattr(result, "high", None)
    low = getattr(result, "low", None)
    return (close if high is None else np.asarray(high, dtype=float),
            close if low is None else np.asarray(low, dtype=float))


def _marker_points(result, contestant):
    """Buy markers under the fill bar's low, sell markers above its high (offset by 1.5% of the range)."""
    trades = contestant.trades
    if trades.empty:
        return None
    dates = _dates(result)
    index = {d: i for i, d in enumerate(dates)}
    fill_dates = [d.strftime("%Y-%m-%d") for d in trades["date"]]
    pos = np.asarray([index[d] for d in fill_dates])
    high, low = high_low(result)
    pad = 0.015 * (np.nanmax(high) - np.nanmin(low))
    buy = (trades["side"] == "buy").to_numpy()
    y = np.where(buy, low[pos] - pad, high[pos] + pad)
    text = [
        f"{contestant.label} {s.upper()} {q:,.2f} @ {p:,.2f}<br>decision: {a}<br>cost {c:,.2f}"
        + (f"<br>{pr}" if pr else "")
        for s, q, p, a, c, pr in zip(trades["side"], trades["quantity"], trades["price"], trades["decision"],
                                     trades["cost"], trades.get("probabilities", [""] * len(trades)), strict=False)
    ]
    return np.asarray(fill_dates), y, buy, text


def battle_candles_figure(result, height: int = 560, upto: int | None = None) -> go.Figure:
    """Candles of the battle window with every agent's buy (filled) and sell (open) markers.

    One legend group per agent, so clicking an agent in the legend toggles all of its markers.
    """
    dates = _dates(result)
    ind = result.indicators
    high, low = high_low(result)
    fig = go.Figure()
    fig.add_trace(go.Candlestick(
        x=dates, open=_sig(result.open), high=_sig(high), low=_sig(low), close=_sig(result.close),
        name=result.ticker, increasing=dict(line=dict(color=theme.UP, width=1), fillcolor=theme.UP),
        decreasing=dict(line=dict(color=theme.DOWN, width=1), fillcolor=theme.DOWN), showlegend=False,
    ))
    if "sma20" in ind:
        fig.add_trace(go.Scatter(x=dates, y=_sig(ind["sma20"]), name="SMA 20", mode="lines",
                                 line=dict(color="rgba(255,184,0,0.6)", width=1)))
    for c in result.contestants:
        if c.kind != "agent":
            continue
        points = _marker_points(result, c)
        if points is None:
            fig.add_trace(go.Scatter(x=[], y=[], name=f"{c.label} (no trades)", legendgroup=c.name,
                                     mode="markers", marker=dict(color=c.colour, symbol=c.symbol)))
            continue
        x, y, buy, text = points
        for side, mask, symbol in (("buy", buy, c.symbol), ("sell", ~buy, f"{c.symbol}-open")):
            fig.add_trace(go.Scatter(
                x=x[mask], y=_sig(y[mask]), mode="markers", name=f"{c.label} {side}",
                legendgroup=c.name, legendgrouptitle_text=None,
                marker=dict(color=c.colour, symbol=symbol, size=10, line=dict(color=c.colour, width=2)),
                hovertext=np.asarray(text)[mask], hoverinfo="text", showlegend=True,
            ))
    fig.update_layout(
        template=theme.TEMPLATE_NAME, height=height, hovermode="closest",
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=11)),
        xaxis=dict(rangeslider=dict(visible=False), type="date"),
        yaxis=dict(title="Price"), margin=dict(l=56, r=20, t=50, b=30), uirevision=result.cache_key,
    )
    if result.periods_per_year == 252:
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
    return fig


def _index(values, start: float) -> np.ndarray:
    """Equity indexed to 100 at `start`, to 0.1 (the leaderboard's precision), as float32: an index near 100
    needs no more, and it halves the bytes sent."""
    return _round(100 * np.asarray(values, dtype=float) / start, 1).astype(np.float32)


def _seed_band(fig: go.Figure, dates, c, start: float) -> None:
    """The min-max band of an agent's equity across its training seeds, behind its median-seed line; it hides
    and shows with the agent's legend entry (same legend group)."""
    low = _index(c.equity_low, start)
    high = _index(c.equity_high, start)
    fill = theme.rgba(c.colour, 0.13)
    fig.add_trace(go.Scatter(x=dates, y=low, mode="lines", line=dict(width=0), legendgroup=c.name, showlegend=False,
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=dates, y=high, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=fill,
                             legendgroup=c.name, showlegend=False, name=f"{c.label} seeds",
                             hovertemplate=f"{len(c.seed_runs)} seeds: %{{y:.1f}} max<extra></extra>"))


def equity_figure(result, height: int = 420) -> go.Figure:
    """Every contestant's equity (indexed to 100 at the window's start) against the market itself; each agent
    is its median seed with the band of all its seeds (min to max) behind it."""
    dates = _dates(result)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=dates, y=_index(result.close, float(result.close[0])), name=f"{result.ticker} price",
                             mode="lines",
                             line=dict(color="rgba(214,226,255,0.35)", width=1), hovertemplate="%{y:.1f}"))
    for c in result.contestants:
        eq = _index(c.equity, float(c.equity[0]))
        is_agent = c.kind == "agent"
        if is_agent and c.equity_low is not None and len(c.seed_runs) > 1:
            _seed_band(fig, dates, c, float(c.equity[0]))
        fig.add_trace(go.Scatter(
            x=dates, y=eq, name=c.label, mode="lines", legendgroup=c.name, hovertemplate="%{y:.1f}",
            line=dict(color=c.colour, width=2.4 if is_agent else 1.4,
                      dash="solid" if is_agent else BENCH_DASH.get(c.name, "dash")),
        ))
    fig.update_layout(template=theme.TEMPLATE_NAME, height=height, yaxis=dict(title="Equity (start = 100)"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      margin=dict(l=56, r=20, t=40, b=30))
    # no weekend rangebreaks here: lines simply join across weekends, and breaks cost render time
    return fig


def cost_stress_figure(stress, styles: dict[str, tuple[str, str]], height: int = 360) -> go.Figure:
    """Net total return of each contestant at each tested cost level (grouped bars)."""
    fig = go.Figure()
    table = stress.returns
    for name in table.index:
        label, colour = styles.get(name, (name, theme.MUTED))
        fig.add_trace(go.Bar(x=[f"{c:g} bps" for c in stress.levels_bps], y=100 * table.loc[name].to_numpy(),
                             name=label, marker=dict(color=colour, line=dict(width=0))))
    fig.update_layout(template=theme.TEMPLATE_NAME, height=height, barmode="group", hovermode="x",
                      yaxis=dict(title="Net total return (%)", ticksuffix="%"),
                      xaxis=dict(title="Cost per fill"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      margin=dict(l=56, r=20, t=40, b=40))
    return fig


def replay_base_figure(result, height: int = 620) -> go.Figure:
    """Two panels (price with markers; equity) that the replay page reveals bar by bar on the client."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.62, 0.38])
    fig.update_layout(template=theme.TEMPLATE_NAME, height=height, hovermode="x unified",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      margin=dict(l=56, r=20, t=40, b=30))
    fig.update_xaxes(rangeslider=dict(visible=False), type="date")
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_yaxes(title_text="Equity (start = 100)", row=2, col=1)
    return fig
