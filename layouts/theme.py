"""The dark neon "cyber" look: one palette and ONE plotly template used by every figure."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

BG = "#07080f"
PANEL = "#0d1020"
GRID = "rgba(120, 140, 255, 0.10)"
TEXT = "#d6e2ff"
MUTED = "#7f8bb3"
CYAN = "#00f0ff"
MAGENTA = "#ff2bd6"
LIME = "#39ff14"
AMBER = "#ffb800"
VIOLET = "#9d4dff"
RED = "#ff3860"
GREEN = "#00ff9c"
UP = GREEN
DOWN = RED
FONT = "'JetBrains Mono', 'Fira Code', 'DejaVu Sans Mono', Menlo, Consolas, monospace"

TEMPLATE_NAME = "neon"


def rgba(hex_colour: str, alpha: float) -> str:
    """"#rrggbb" as a translucent "rgba(r, g, b, alpha)" (bands and fills behind a line of that colour)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha:g})"

_template = go.layout.Template(
    layout=go.Layout(
        paper_bgcolor=PANEL,
        plot_bgcolor=PANEL,
        font=dict(family=FONT, color=TEXT, size=12),
        colorway=[CYAN, MAGENTA, LIME, AMBER, VIOLET, "#ff7a00", "#4dd2ff", "#f5f5f5"],
        xaxis=dict(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID, showspikes=True,
                   spikecolor=MUTED, spikethickness=1, spikedash="dot", spikemode="across"),
        yaxis=dict(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID),
        legend=dict(bgcolor="rgba(0,0,0,0)", font=dict(color=TEXT)),
        hoverlabel=dict(bgcolor="#111633", bordercolor=CYAN, font=dict(family=FONT, color=TEXT)),
        margin=dict(l=56, r=24, t=40, b=36),
        hovermode="x unified",
    )
)
pio.templates[TEMPLATE_NAME] = _template
