"""Risk page (not built yet): says plainly what will be here; shows no numbers until they are real."""

from __future__ import annotations

from layouts.components import coming_soon


def layout(**_query):
    return coming_soon(
        "Risk",
        "Value at Risk, Expected Shortfall and where the returns came from",
        [
            "Historical and parametric VaR 95 / CVaR 95 for every agent and benchmark, out-of-sample, after costs",
            "The daily return distribution of each contestant against buy-and-hold",
            "Monthly-return and cross-contestant correlation heatmaps",
            "Rolling VaR through the test period, and a downloadable risk table",
        ],
        "The risk analytics arrive with the risk / forecast / background-jobs milestone.",
    )
