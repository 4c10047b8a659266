"""Pure functions: engine results -> plotly figures. No Dash, no I/O; every figure uses the neon template."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from layouts import theme

RANGE_BUTTONS = [
    dict(count=1, label="1M", step="month", stepmode="backward"),
    dict(count=6, label="6M", step="month", stepmode="backward"),
    dict(count=1, label="YTD", step="year", stepmode="todate"),
    dict(count=1, label="1Y", step="year", stepmode="backward"),
    dict(count=5, label="5Y", step="year", stepmode="backward"),
    dict(step="all", label="All"),
]


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


def market_figure(frame: pd.DataFrame, title: str = "", height: int = 820) -> go.Figure:
    """Candlesticks + SMA 20 + volume, RSI(14) with 30/70 bands, MACD(12, 26, 9), and a range slider.

    `frame` holds date, open, high, low, close, volume and the columns of core.indicators.add_indicators.
    """
    dates = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d").to_numpy()
    fig = make_subplots(
        rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.025,
        row_heights=[0.56, 0.12, 0.15, 0.17],
    )
    fig.add_trace(go.Candlestick(
        x=dates, open=_round(frame["open"]), high=_round(frame["high"]), low=_round(frame["low"]),
        close=_round(frame["close"]), name="OHLC",
        increasing=dict(line=dict(color=theme.UP, width=1), fillcolor=theme.UP),
        decreasing=dict(line=dict(color=theme.DOWN, width=1), fillcolor=theme.DOWN),
    ), row=1, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_round(frame["sma20"]), name="SMA 20", mode="lines",
                             line=dict(color=theme.AMBER, width=1.4)), row=1, col=1)
    up = (frame["close"] >= frame["open"]).to_numpy()
    fig.add_trace(go.Bar(x=dates, y=np.asarray(frame["volume"], dtype=float), name="Volume",
                         marker=dict(color=np.where(up, "rgba(0,255,156,0.45)", "rgba(255,56,96,0.45)"),
                                     line=dict(width=0)),
                         showlegend=False), row=2, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_round(frame["rsi"], 2), name="RSI 14", mode="lines",
                             line=dict(color=theme.VIOLET, width=1.3)), row=3, col=1)
    for level, colour in ((70, theme.RED), (30, theme.GREEN)):
        fig.add_hline(y=level, line=dict(color=colour, width=1, dash="dot"), row=3, col=1)
    hist = np.asarray(frame["macd_hist"], dtype=float)
    fig.add_trace(go.Bar(x=dates, y=_round(hist), name="MACD hist", showlegend=False,
                         marker=dict(color=np.where(hist >= 0, "rgba(0,240,255,0.5)", "rgba(255,43,214,0.5)"),
                                     line=dict(width=0))), row=4, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_round(frame["macd"]), name="MACD", mode="lines",
                             line=dict(color=theme.CYAN, width=1.2)), row=4, col=1)
    fig.add_trace(go.Scatter(x=dates, y=_round(frame["macd_signal"]), name="Signal", mode="lines",
                             line=dict(color=theme.MAGENTA, width=1.2)), row=4, col=1)
    fig.update_layout(
        template=theme.TEMPLATE_NAME, height=height, meta=dict(title=title),
        legend=dict(orientation="h", x=0.99, xanchor="right", y=1.02, yanchor="bottom"),
        bargap=0, uirevision=title, margin=dict(l=60, r=20, t=50, b=20),
        # Linear/log price scale, switched in the browser (no callback round trip).
        updatemenus=[dict(
            type="buttons", direction="right", x=0.33, xanchor="left", y=1.02, yanchor="bottom",
            bgcolor="#111633", bordercolor="rgba(0,240,255,0.3)", font=dict(color=theme.TEXT, size=11),
            pad=dict(t=0, b=0, l=0, r=0), showactive=False,
            buttons=[dict(label="Linear scale", method="relayout", args=[{"yaxis.type": "linear"}]),
                     dict(label="Log scale", method="relayout", args=[{"yaxis.type": "log"}])],
        )],
    )
    fig.update_xaxes(rangeslider=dict(visible=False))
    fig.update_xaxes(rangeselector=dict(buttons=RANGE_BUTTONS, bgcolor="#111633", activecolor="#27306b",
                                        font=dict(color=theme.TEXT), x=0, y=1.02, yanchor="bottom"), row=1, col=1)
    fig.update_xaxes(rangeslider=dict(visible=True, thickness=0.05, bgcolor="#0a0d1a"), row=4, col=1)
    fig.update_xaxes(type="date")
    if frame["date"].dt.day_of_week.max() < 5:  # stocks: hide weekends so candles stay contiguous
        fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_yaxes(title_text="Vol", row=2, col=1, showticklabels=False)
    fig.update_yaxes(title_text="RSI", row=3, col=1, range=[0, 100], tickvals=[30, 50, 70])
    fig.update_yaxes(title_text="MACD", row=4, col=1)
    return fig
