"""`run_forecast`: the one entry point of a forecast (CLI, web job, bench, notebook).

Steps (the bar plan is in config.py, what is fit on what in backtest.py):

1. backtest-fit: the LSTM on c[0..a1] with early stopping on the end of that part (best epoch recorded).
2. calibrate: its forecasts at the C calibration origins give the conformal scores, per horizon step.
3. backtest: every method at the K backtest origins; metrics, Diebold-Mariano LSTM vs naive, coverage of
   the calibrated 80% / 95% bands, the verdict.
4. final-fit: the LSTM refit on ALL closes for the backtest fit's best epoch count (no validation), and
   the baselines, from the last bar; its band uses the scores of the calibration AND backtest origins
   (all out-of-sample for the model that made them), on the NYSE or every-day calendar.
5. save (when cache_dir is given): result JSON + card + state_dict, atomically, keyed by data and config.

torch is imported inside `run_forecast` only (through core.forecast.lstm).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from core.forecast import conformal, store
from core.forecast.backtest import OriginForecasts, dm_versus, method_metrics, origin_forecasts
from core.forecast.baselines import baseline_forecasts
from core.forecast.calendar import future_dates
from core.forecast.config import ForecastConfig, ForecastInputError, Plan, make_plan
from core.forecast.inputs import data_sha256, prepare_series, trades_every_day
from core.forecast.progress import CancelFn, ProgressFn, Reporter
from core.forecast.result import ForecastResult, clean
from core.forecast.scores import verdict

VERSIONED = ("torch", "numpy", "pandas", "scikit-learn", "scipy")


@dataclass
class Evaluation:
    """Steps 2 and 3: the calibration scores and the scored backtest of the backtest-fit LSTM."""

    cal_scores: np.ndarray
    """(C, H) |log(actual / LSTM forecast)| at the calibration origins."""
    quantiles: dict[float, np.ndarray]
    """Band half-width in log-price per horizon step, by level (0.8, 0.95)."""
    origins: OriginForecasts
    """Every method's forecasts at the backtest origins."""
    bands: dict[float, tuple[np.ndarray, np.ndarray]]
    """(lower, upper) price bands of the LSTM at the backtest origins, by level."""
    table: dict[str, dict[str, float]]
    """method -> metrics (the LSTM's with its band coverage)."""
    dm: tuple[float, float]
    """Diebold-Mariano (statistic, p-value) of the LSTM vs naive."""


def evaluate(close: np.ndarray, plan: Plan, config: ForecastConfig, model, report: Reporter) -> Evaluation:
    """Calibrate the band on the calibration origins, then score every method at the backtest origins."""
    h = config.horizon
    report("calibrate", 0.51, f"calibrating the band on {len(plan.calibration)} origins")
    cal_actual = np.stack([close[o + 1 : o + 1 + h] for o in plan.calibration])
    cal_scores = conformal.log_scores(cal_actual, model.predict(close, plan.calibration))
    quantiles = {lvl: conformal.conformal_quantiles(cal_scores, lvl) for lvl in conformal.LEVELS}

    report("backtest", 0.53, f"backtest at {len(plan.backtest)} origins")
    lstm_paths = model.predict(close, plan.backtest)
    of = origin_forecasts(close, plan.backtest, lstm_paths, config.window, h, config.ridge_alpha)
    bands = {lvl: conformal.band(lstm_paths, q) for lvl, q in quantiles.items()}
    table = method_metrics(of)
    table["lstm"] |= {f"coverage_{round(lvl * 100)}": conformal.coverage(of.actual, *bands[lvl]) for lvl in bands}
    return Evaluation(cal_scores, quantiles, of, bands, table, dm_versus(of, "lstm", "naive", h))


def _iso(dates) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(dates)]


def _version(lib: str) -> str:
    try:
        return version(lib)
    except PackageNotFoundError:
        return "missing"


def _backtest_overlay(dates, close, plan: Plan, ev: Evaluation, h: int) -> dict:
    """Every backtest origin's forecasts, realised prices and band, for the chart overlay."""
    of, (lo80, up80), (lo95, up95) = ev.origins, ev.bands[0.8], ev.bands[0.95]
    return {
        "start": _iso(dates[[plan.backtest[0] + 1]])[0],
        "end": _iso(dates[[plan.backtest[-1] + h]])[0],
        "origins": [
            {
                "origin_date": _iso(dates[[o]])[0],
                "origin_close": float(close[o]),
                "dates": _iso(dates[o + 1 : o + 1 + h]),
                "actual": of.actual[i],
                **{method: paths[i] for method, paths in of.forecasts.items()},
                "lower_80": lo80[i], "upper_80": up80[i], "lower_95": lo95[i], "upper_95": up95[i],
            }
            for i, o in enumerate(plan.backtest)
        ],
    }


def assemble(
    name: str, sha: str, prov: dict | None, config: ForecastConfig, every_day: bool, dates, close, plan: Plan,
    ev: Evaluation, bt_model, final_model,
) -> ForecastResult:
    """Step 4's forecast from the last bar (LSTM, band, baselines) and the ForecastResult around it."""
    h, last = config.horizon, len(close) - 1
    path = final_model.predict(close, [last])[0]
    scores = np.vstack([ev.cal_scores, conformal.log_scores(ev.origins.actual, ev.origins.forecasts["lstm"])])
    final_q = {lvl: conformal.conformal_quantiles(scores, lvl) for lvl in conformal.LEVELS}
    (lo80, up80), (lo95, up95) = (conformal.band(path, final_q[lvl]) for lvl in conformal.LEVELS)
    hist = slice(max(0, len(close) - config.history_bars), len(close))
    table, (dm_stat, dm_p) = ev.table, ev.dm
    return ForecastResult(
        ticker=name,
        data_sha256=sha,
        config=config,
        every_day=every_day,
        history_dates=_iso(dates[hist]),
        history_close=close[hist].tolist(),
        dates=_iso(future_dates(dates[-1], h, every_day=every_day)),
        forecast=path.tolist(),
        lower_80=lo80.tolist(), upper_80=up80.tolist(), lower_95=lo95.tolist(), upper_95=up95.tolist(),
        baselines={k: v.tolist() for k, v in baseline_forecasts(close, last, config.window, h, config.ridge_alpha).items()},
        metrics_table=table,
        dm_statistic=dm_stat,
        dm_p_value=dm_p,
        coverage_80=table["lstm"]["coverage_80"],
        coverage_95=table["lstm"]["coverage_95"],
        verdict=verdict(name, table["lstm"]["mase"], table["naive"]["mase"], dm_stat, dm_p),
        backtest=clean(_backtest_overlay(dates, close, plan, ev, h)),
        calibration=clean({
            "origins": len(plan.calibration),
            "step": config.calibration_step,
            "start": _iso(dates[[plan.calibration[0]]])[0],
            "end": _iso(dates[[plan.calibration[-1]]])[0],
            "quantile_80": ev.quantiles[0.8],
            "quantile_95": ev.quantiles[0.95],
            "final_band_origins": int(scores.shape[0]),
            "final_quantile_80": final_q[0.8],
            "final_quantile_95": final_q[0.95],
        }),
        training={
            "train_end": _iso(dates[[plan.train_end]])[0],
            "train_end_bar": plan.train_end,
            "final_epochs": final_model.epochs_run,
            "backtest_model": bt_model.card(),
            "final_model": final_model.card(),
        },
        versions={lib: _version(lib) for lib in VERSIONED},
        provenance=clean(prov) if prov is not None else None,
    )


def model_card(result: ForecastResult) -> dict:
    """The JSON card saved beside the state_dict."""
    return clean({
        "format": 1,
        "ticker": result.ticker,
        "data_sha256": result.data_sha256,
        "provenance": result.provenance,
        "config": result.config.to_dict(),
        "train_end": result.training["train_end"],
        "backtest_model": result.training["backtest_model"],
        "final_model": result.training["final_model"],
        "metrics": result.lstm_metrics(),
        "verdict": result.verdict,
        "versions": result.versions,
        "wall_time_s": result.wall_time_s,
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    })


def run_forecast(
    frame: pd.DataFrame,
    *,
    provenance=None,
    ticker: str | None = None,
    config: ForecastConfig | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> ForecastResult:
    """Backtest the LSTM and the baselines, calibrate the band, and forecast `horizon` bars past the end.

    Parameters
    ----------
    frame: daily bars with 'date' and 'close' (an OHLCV frame from core.data.load_ohlcv).
    provenance: the frame's core.data.Provenance (or its dict), carried into the result.
    ticker: the name shown (default: the provenance's ticker, else "the data"); crypto pairs such as
        BTC-USD and frames with weekend bars get an every-day calendar, others NYSE trading days.
    config: ForecastConfig (default: ForecastConfig()).
    cache_dir: folder of the result cache (store.default_cache_dir() is data/cache/forecast); None: no
        cache is read or written.
    progress: called with a ForecastProgress at least once per epoch; an exception it raises aborts the
        run, and nothing is written.
    should_cancel: polled before every training batch and at every progress report; True raises
        ForecastCancelled and nothing is written.

    Raises ForecastInputError (a ValueError; InsufficientData for too few rows) on bad input.
    """
    t0 = time.perf_counter()
    config = config if config is not None else ForecastConfig()
    if not isinstance(config, ForecastConfig):
        raise ForecastInputError(f"config must be a ForecastConfig, got {type(config).__name__}")
    dates, close = prepare_series(frame)
    prov = provenance.to_dict() if hasattr(provenance, "to_dict") else provenance
    label = ticker or (prov or {}).get("ticker")
    name, every_day = str(label or "the data"), trades_every_day(dates, label)
    plan = make_plan(len(close), config)
    sha = data_sha256(frame, dates, close)
    key = store.cache_key(sha, config, name, every_day)
    report = Reporter(progress, should_cancel)
    if cache_dir is not None:
        cached = store.load_cached(cache_dir, key, sha, config)
        if cached is not None:
            report("done", 1.0, "loaded from the forecast cache")
            cached.provenance = clean(prov) if prov is not None else None  # today's source label
            return cached

    from core.forecast.lstm import fit_lstm, save_state  # torch: only now

    report("prepare", 0.0, f"{len(close)} bars; {len(plan.calibration)} calibration and {len(plan.backtest)} backtest origins")
    report("backtest-fit", 0.02, f"backtest fit on bars up to {dates[plan.train_end].date()}: starting")
    bt_model = fit_lstm(close[: plan.train_end + 1], config, should_cancel=report.check,
                        on_epoch=report.epochs("backtest-fit", "backtest fit", 0.02, 0.50))
    ev = evaluate(close, plan, config, bt_model, report)
    report("final-fit", 0.55, f"final fit on all {len(close)} bars for {max(1, bt_model.best_epoch)} epochs: starting")
    final_model = fit_lstm(close, config, epochs=max(1, bt_model.best_epoch), validate=False,
                           should_cancel=report.check,
                           on_epoch=report.epochs("final-fit", "final fit on all data", 0.55, 0.96))
    result = assemble(name, sha, prov, config, every_day, dates, close, plan, ev, bt_model, final_model)
    result.wall_time_s = round(time.perf_counter() - t0, 3)

    def finish() -> None:
        report("done", 1.0, f"done in {time.perf_counter() - t0:.1f} s")

    if cache_dir is None:
        finish()
    else:
        report("save", 0.97, "saving the model and the result")
        store.save_run(cache_dir, key, result, model_card(result), lambda p: save_state(final_model, p), finish)
    return result
