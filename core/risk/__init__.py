"""Risk numbers over daily simple returns: VaR and CVaR (historical, Gaussian, Cornish-Fisher), the rolling
one-day-ahead VaR backtest (Kupiec, Christoffersen, Basel traffic light), drawdown episodes, monthly
returns, return distribution statistics and correlations.

Sign convention: VaR and CVaR are *positive numbers meaning losses* (0.021 = "a 2.1% loss"); a series
whose tail is a gain gives a negative VaR. Functions take an ndarray or a pandas Series and give back the
same kind (a Series keeps its index); NaN and infinite returns are dropped first, and the functions whose
results depend on it report how many. Each module's docstring states its conventions:

- core.risk.var       VaR/CVaR by method (`var_cvar`, `var_table`), Cornish-Fisher terms, 10-day scaling,
                      the trailing `rolling_var`.
- core.risk.backtest  `var_backtest(s)`, `kupiec_pof`, `christoffersen`, `traffic_light`, verdicts.
- core.risk.tables    `underwater`, `worst_drawdowns`, `monthly_returns`, `distribution_stats`,
                      `correlation_matrix`, `aligned_returns`, `risk_table`.

The battle-level report for the web page is core.risk_report (`battle_risk`, `asset_correlation`).
"""

from __future__ import annotations

from core.risk._common import RiskDataError, _finite, moments
from core.risk.backtest import (
    BACKTEST_WINDOW,
    BASEL_DAYS,
    SIGNIFICANCE,
    VaRBacktest,
    chi2_sf,
    christoffersen,
    kupiec_pof,
    rolling_var_forecasts,
    traffic_light,
    transition_counts,
    var_backtest,
    var_backtests,
)
from core.risk.tables import (
    DRAWDOWN_COLUMNS,
    MONTH_NAMES,
    NOT_YET,
    aligned_returns,
    correlation_matrix,
    distribution_stats,
    monthly_returns,
    risk_table,
    underwater,
    worst_drawdowns,
)
from core.risk.var import (
    METHOD_LABELS,
    METHODS,
    MIN_RETURNS,
    VAR_TABLE_COLUMNS,
    VaRResult,
    cornish_fisher_cvar,
    cornish_fisher_tail_mean,
    cornish_fisher_var,
    cornish_fisher_z,
    historical_cvar,
    historical_var,
    parametric_cvar,
    parametric_var,
    rolling_var,
    scale_to_horizon,
    var_cvar,
    var_table,
)

__all__ = [
    "BACKTEST_WINDOW", "BASEL_DAYS", "DRAWDOWN_COLUMNS", "METHODS", "METHOD_LABELS", "MIN_RETURNS",
    "MONTH_NAMES", "NOT_YET", "SIGNIFICANCE", "VAR_TABLE_COLUMNS", "RiskDataError", "VaRBacktest",
    "VaRResult", "_finite", "aligned_returns", "chi2_sf", "christoffersen", "cornish_fisher_cvar",
    "cornish_fisher_tail_mean", "cornish_fisher_var", "cornish_fisher_z", "correlation_matrix",
    "distribution_stats", "historical_cvar", "historical_var", "kupiec_pof", "moments", "monthly_returns",
    "parametric_cvar", "parametric_var", "risk_table", "rolling_var", "rolling_var_forecasts",
    "scale_to_horizon", "traffic_light", "transition_counts", "underwater", "var_backtest",
    "var_backtests", "var_cvar", "var_table", "worst_drawdowns",
]
