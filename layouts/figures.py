"""Pure functions: engine results -> plotly figures. No Dash, no I/O; every figure uses the neon template."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layouts import theme


def _round(values: pd.Series | np.ndarray, digits: int = 4) -> np.ndarray:
    # Rounding keeps the figure JSON small; 4 significant decimals are below a price tick anyway.
    return np.round(np.asarray(values, dtype=float), digits)


def empty_figure(message: str, height: int = 420) -> go.Figure:
    """A themed, axis-free figure that shows one line of text (used for 'no data yet' states)."""
    fig = go.Figure()
    fig.update_layout(
        template=theme.TEMPLATE_NAME,
        height=height,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        annotations=[dict(text=message, showarrow=False, font=dict(size=15, color=theme.MUTED),
                          xref="paper", yref="paper", x=0.5, y=0.5)],
    )
    return fig


def stock_rangebreaks(dates) -> list[dict]:
    """Rangebreaks that hide weekends and the weekdays without a bar (holidays) for daily stock data;
    [] for data that trades at weekends (crypto). Candles then sit side by side with no gaps."""
    d = pd.to_datetime(pd.Series(dates))
    if d.empty or d.dt.day_of_week.max() >= 5:
        return []
    weekdays = pd.bdate_range(d.iloc[0], d.iloc[-1])
    missing = weekdays.difference(pd.DatetimeIndex(d))
    breaks: list[dict] = [dict(bounds=["sat", "mon"])]
    if len(missing):
        breaks.append(dict(values=missing.strftime("%Y-%m-%d").tolist()))
    return breaks


def _sig(values, digits: int = 2) -> np.ndarray:
    """Prices as a chart needs them: `digits` decimals (a cent) when they are >= 1, six for tiny prices.

    Figures carry no more than they show; the exports and the journal keep full precision."""
    arr = np.asarray(values, dtype=float)
    top = float(np.nanmax(np.abs(arr))) if arr.size and np.isfinite(arr).any() else 1.0
    return np.round(arr, digits if top >= 1 else 6)


def market_figure(frame: pd.DataFrame, title: str = "", height: int = 820, log: bool = False) -> go.Figure:
    """Candlesticks + SMA 20 + volume, RSI(14) with 30/70 bands, MACD(12, 26, 9), and a range slider that
    previews the close.

    `frame` holds date, open, high, low, close, volume and the columns of core.indicators.add_indicators.
    Lean JSON: prices rounded to what a tick shows, volume and the MACD histogram split into up/down traces
    (two colours instead of one colour string per bar).
    """
    dates = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d").to_numpy()
    # Row 5 is a hair-thin strip that only carries the close for the range slider's preview: a range
    # slider shows the traces of its own x axis, and every other x axis follows it.
    fig = make_subplots(
        rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.022,
        row_heights=[0.55, 0.12, 0.145, 0.175, 0.006],
    )
    fig.add_trace(go.Candlestick(
        x=dates, open=_sig(frame["open"]), high=_sig(frame["high"]), low=_sig(frame["low"]),
        close=_sig(frame["close"]), name="OHLC",
        increasing=dict(line=dict(color=theme.UP, width=1), fillcolor=theme.UP),
        decreasing=dict(line=dict(color=theme.DOWN, width=1), fillcolor=theme.DOWN),
    ), row=1, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_sig(frame["sma20"]), name="SMA 20", mode="lines",
                             line=dict(color=theme.AMBER, width=1.4)), row=1, col=1)
    up = (frame["close"] >= frame["open"]).to_numpy()
    volume = np.round(np.asarray(frame["volume"], dtype=float))
    for mask, colour, name in ((up, "rgba(0,255,156,0.45)", "Volume up"), (~up, "rgba(255,56,96,0.45)", "Volume down")):
        fig.add_trace(go.Bar(x=dates[mask], y=volume[mask], name=name, marker=dict(color=colour, line=dict(width=0)),
                             showlegend=False, hovertemplate="%{y:,.0f}<extra>Volume</extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(x=dates, y=np.round(np.asarray(frame["rsi"], dtype=float), 2), name="RSI 14",
                             mode="lines", line=dict(color=theme.VIOLET, width=1.3)), row=3, col=1)
    for level, colour in ((70, theme.RED), (30, theme.GREEN)):
        fig.add_hline(y=level, line=dict(color=colour, width=1, dash="dot"), row=3, col=1)
    hist = np.asarray(frame["macd_hist"], dtype=float)
    pos = np.nan_to_num(hist) >= 0
    for mask, colour in ((pos, "rgba(0,240,255,0.5)"), (~pos, "rgba(255,43,214,0.5)")):
        fig.add_trace(go.Bar(x=dates[mask], y=_sig(hist[mask], 3), name="MACD hist", showlegend=False,
                             marker=dict(color=colour, line=dict(width=0))), row=4, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_sig(frame["macd"], 3), name="MACD", mode="lines",
                             line=dict(color=theme.CYAN, width=1.2)), row=4, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_sig(frame["macd_signal"], 3), name="Signal", mode="lines",
                             line=dict(color=theme.MAGENTA, width=1.2)), row=4, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_sig(frame["close"]), name="Close (range slider)", mode="lines",
                             line=dict(color=theme.CYAN, width=1), showlegend=False, hoverinfo="skip"),
                  row=5, col=1)
    fig.update_layout(
        template=theme.TEMPLATE_NAME, height=height, meta=dict(title=title),
        legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom"),
        bargap=0, barmode="overlay", uirevision=title, margin=dict(l=60, r=20, t=50, b=20),
    )
    fig.update_xaxes(rangeslider=dict(visible=False))
    # (no plotly range-selector buttons: the page's 1Y / 2Y / 5Y / All presets choose what the figure carries)
    fig.update_xaxes(rangeslider=dict(visible=True, thickness=0.06, bgcolor="#0a0d1a",
                                      bordercolor="rgba(0,240,255,0.25)", borderwidth=1), row=5, col=1)
    fig.update_xaxes(type="date")
    breaks = stock_rangebreaks(dates)
    if breaks:  # stocks: hide weekends and holidays so candles stay contiguous (not for crypto)
        fig.update_xaxes(rangebreaks=breaks)
    fig.update_yaxes(title_text="Price", type="log" if log else "linear", row=1, col=1)
    fig.update_yaxes(title_text="Vol", row=2, col=1, showticklabels=False)
    fig.update_yaxes(title_text="RSI", row=3, col=1, range=[0, 100], tickvals=[30, 50, 70])
    fig.update_yaxes(title_text="MACD", row=4, col=1)
    fig.update_yaxes(visible=False, row=5, col=1)
    return fig
