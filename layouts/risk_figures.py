"""Pure functions: core.risk_report results -> the Risk page's figures. No Dash callbacks, no I/O."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from layouts import fmt, theme

DIVERGING = [[0.0, theme.RED], [0.5, "#151a33"], [1.0, theme.GREEN]]
"""Red for losses, dark at zero, green for gains (centred on 0 with zmid=0)."""


def _layout(fig: go.Figure, height: int, **extra) -> go.Figure:
    fig.update_layout(template=theme.TEMPLATE_NAME, height=height, **extra)
    return fig


def histogram_figure(c, var_rows: pd.DataFrame) -> go.Figure:
    """The contestant's daily returns with its historical VaR and CVaR (95% and 99%) as vertical lines."""
    edges = np.asarray(c.histogram["edges"], dtype=float)
    counts = np.asarray(c.histogram["counts"], dtype=float)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Bar(x=centres, y=counts, width=np.diff(edges), name="days",
                           marker=dict(color=c.colour, line=dict(width=0)), opacity=0.75,
                           hovertemplate="%{x:.2%}: %{y} days<extra></extra>"))
    styles = {(0.95, "var"): ("VaR 95", theme.AMBER, "dash"), (0.95, "cvar"): ("CVaR 95", theme.AMBER, "dot"),
              (0.99, "var"): ("VaR 99", theme.RED, "dash"), (0.99, "cvar"): ("CVaR 99", theme.RED, "dot")}
    hist = var_rows[(var_rows["contestant"] == c.name) & (var_rows["method"] == "historical")]
    shapes = []
    for row in hist.to_dict("records"):
        for what in ("var", "cvar"):
            key = (round(float(row["level"]), 4), what)
            if key not in styles or not np.isfinite(row[what]):
                continue
            name, colour, dash = styles[key]
            # shapes in one layout update: add_vline re-validates the whole figure per line (slow)
            shapes.append(dict(type="line", xref="x", yref="paper", x0=-row[what], x1=-row[what], y0=0, y1=1,
                               line=dict(color=colour, dash=dash, width=1.6)))
            fig.add_trace(go.Scatter(x=[-row[what]], y=[0], mode="markers", name=f"{name}: {fmt.pct(row[what], 2)}",
                                     marker=dict(color=colour, size=1), hoverinfo="skip"))
    return _layout(fig, 360, bargap=0, xaxis=dict(title="daily return", tickformat=".1%"), shapes=shapes,
                   yaxis=dict(title="days"), legend=dict(orientation="h", y=1.12, x=0), hovermode="closest")


def rolling_var_figure(c, level: float) -> go.Figure:
    """Realised daily returns, minus the one-day-ahead VaR forecast, and each exception marked."""
    fig = go.Figure()
    r = c.returns
    fig.add_trace(go.Bar(x=r.index, y=r.to_numpy(), name="daily return", marker=dict(color=theme.MUTED),
                         opacity=0.55, hovertemplate="%{x|%Y-%m-%d}: %{y:.2%}<extra></extra>"))
    bt = c.backtests.get(level)
    if bt is not None:
        var = bt.var if isinstance(bt.var, pd.Series) else pd.Series(bt.var, index=r.index[-len(bt.var):])
        fig.add_trace(go.Scatter(x=var.index, y=-var.to_numpy(), name=f"-VaR {level:.0%} (previous 250 days)",
                                 mode="lines", line=dict(color=theme.AMBER, width=1.6),
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.2%}<extra>-VaR</extra>"))
        dates = pd.DatetimeIndex(bt.exception_dates)
        hits = r.reindex(dates)
        fig.add_trace(go.Scatter(x=dates, y=hits.to_numpy(), mode="markers", name=f"exceptions ({len(dates)})",
                                 marker=dict(color=theme.RED, size=7, symbol="x"),
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.2%}<extra>exception</extra>"))
    return _layout(fig, 360, bargap=0, yaxis=dict(title="daily return", tickformat=".1%"),
                   legend=dict(orientation="h", y=1.12, x=0), hovermode="x unified")


def underwater_figure(report, names: list[str]) -> go.Figure:
    """Drawdown from the running peak of every chosen contestant (0 = at a new high)."""
    fig = go.Figure()
    for c in report.contestants:
        if c.name not in names:
            continue
        fig.add_trace(go.Scatter(x=c.underwater.index, y=c.underwater.to_numpy(), name=c.label, mode="lines",
                                 line=dict(color=c.colour, width=1.5),
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.1%}<extra>" + c.label + "</extra>"))
    return _layout(fig, 360, yaxis=dict(title="drawdown", tickformat=".0%"), legend=dict(orientation="h", y=1.15, x=0))


def monthly_heatmap(c) -> go.Figure:
    """Years x months of compounded returns, diverging colours centred on 0, the value on each cell."""
    table = c.monthly
    months = [m for m in table.columns if m not in ("Year", "year")]
    z = table[months].to_numpy(dtype=float)
    text = [[fmt.signed_pct(v) if np.isfinite(v) else "" for v in row] for row in z]
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 0.01
    fig = go.Figure(go.Heatmap(z=z, x=months, y=[str(y) for y in table.index], text=text, texttemplate="%{text}",
                               colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit, xgap=2, ygap=2,
                               colorbar=dict(tickformat=".0%", thickness=10),
                               hovertemplate="%{y} %{x}: %{text}<extra></extra>"))
    return _layout(fig, max(220, 40 + 32 * len(table)), yaxis=dict(autorange="reversed", type="category"),
                   xaxis=dict(side="top"), hovermode="closest")


def correlation_heatmap(matrix: pd.DataFrame, labels: list[str] | None = None, height: int = 380) -> go.Figure:
    """A correlation matrix, -1 red to +1 green, the value on each cell."""
    names = labels or [str(n) for n in matrix.columns]
    z = matrix.to_numpy(dtype=float)
    text = [[fmt.ratio(v) if np.isfinite(v) else "n/a" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, text=text, texttemplate="%{text}", colorscale=DIVERGING,
                               zmid=0, zmin=-1, zmax=1, xgap=2, ygap=2, colorbar=dict(thickness=10),
                               hovertemplate="%{y} / %{x}: %{text}<extra></extra>"))
    return _layout(fig, height, yaxis=dict(autorange="reversed", automargin=True), xaxis=dict(automargin=True),
                   hovermode="closest", margin=dict(l=20, t=48))
