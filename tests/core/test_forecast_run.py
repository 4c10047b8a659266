"""run_forecast end to end on tiny budgets: shapes, calendar, no look-ahead, scaler, determinism, cache,
state_dict round trip, cancel and failing hooks, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.forecast import (
    ForecastCancelled,
    ForecastConfig,
    ForecastInputError,
    InsufficientData,
    nyse_holidays,
    run_forecast,
)
from core.forecast.config import make_plan
from core.forecast.progress import STAGES
from core.forecast.store import load_card, load_final_model, result_key
from core.forecast.windows import log_returns
from tests.conftest import synthetic_ohlcv

TINY = ForecastConfig(
    window=10, horizon=5, hidden_size=8, epochs=3, batch_size=32, patience=2, backtest_origins=3,
    calibration_origins=19, calibration_step=1, min_train_windows=40, history_bars=20,
)
N = 160


def stock_frame(n: int = N, end: str = "2026-11-24", seed: int = 0) -> pd.DataFrame:
    start = pd.bdate_range(end=end, periods=n)[0]
    return synthetic_ohlcv(n, start=str(start.date()), freq="B", seed=seed)


def scaled(frame: pd.DataFrame, after: int, factor) -> pd.DataFrame:
    """A copy whose prices after bar `after` are multiplied by `factor` (a number or an array)."""
    out = frame.copy()
    for col in ("open", "high", "low", "close"):
        out.loc[after + 1 :, col] = out.loc[after + 1 :, col].to_numpy() * factor
    return out


@pytest.fixture(scope="module")
def base():
    frame = stock_frame()
    return frame, run_forecast(frame, ticker="SYN", config=TINY)


def test_shapes_json_and_stock_calendar(base):
    frame, result = base
    h = TINY.horizon
    payload = result.to_json()
    text = json.dumps(payload, allow_nan=False)  # JSON-safe
    assert json.loads(text)["ticker"] == "SYN"
    for key in ("dates", "forecast", "lower", "upper", "lower_80", "upper_80", "lower_95", "upper_95"):
        assert len(payload[key]) == h, key
    assert set(payload["baselines"]) == {"naive", "drift", "linear"}
    assert all(len(v) == h for v in payload["baselines"].values())
    assert payload["baselines"]["naive"] == [float(frame["close"].iloc[-1])] * h
    f, lo, up = (np.array(payload[k]) for k in ("forecast", "lower_80", "upper_80"))
    assert np.all(np.array(payload["lower_95"]) <= lo) and np.all(lo < f) and np.all(f < up)
    assert np.all(up <= np.array(payload["upper_95"]))
    # last bar Tuesday 2026-11-24: Thanksgiving (Thursday 26th) and the weekend are skipped
    assert payload["dates"] == ["2026-11-25", "2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"]
    assert payload["calendar"] == "NYSE trading days" and payload["sample"] == "out-of-sample"
    assert len(payload["history"]["dates"]) == TINY.history_bars and payload["last_date"] == "2026-11-24"
    for key in ("mae", "rmse", "mase", "directional_accuracy", "naive_mae", "dm_p_value", "coverage_95"):
        assert key in payload["metrics"]
    assert [row["method"] for row in payload["metrics_table"]] == ["lstm", "naive", "drift", "linear"]
    assert payload["verdict"].startswith("On SYN the LSTM's MASE is")
    assert len(payload["backtest"]["origins"]) == TINY.backtest_origins
    origin = payload["backtest"]["origins"][0]
    assert len(origin["dates"]) == len(origin["actual"]) == len(origin["lstm"]) == h
    assert result.metrics_frame().shape[0] == 4 and not result.from_cache


def test_crypto_forecast_runs_every_day():
    frame = synthetic_ohlcv(N, start="2026-01-01", freq="D")
    result = run_forecast(frame, ticker="BTC-USD", config=TINY)
    last = frame["date"].iloc[-1]
    assert result.every_day and result.dates == [
        (last + pd.Timedelta(days=i)).strftime("%Y-%m-%d") for i in range(1, TINY.horizon + 1)
    ]


def test_stock_horizon_spanning_christmas_skips_holidays():
    config = ForecastConfig(**{**TINY.to_dict(), "horizon": 30, "min_train_windows": 20})
    frame = stock_frame(config.min_rows() + 5, end="2026-11-20")
    result = run_forecast(frame, ticker="SYN", config=config)
    dates = pd.to_datetime(result.dates)
    assert dates[0] == pd.Timestamp("2026-11-23") and len(dates) == 30
    assert not dates.isin(nyse_holidays("2026-11-01", "2027-02-01")).any()
    assert (dates.day_of_week < 5).all() and pd.Timestamp("2026-12-24") in dates


def test_deterministic_with_the_same_seed(base):
    frame, result = base
    again = run_forecast(frame, ticker="SYN", config=TINY).to_json()
    first = result.to_json()
    for payload in (first, again):
        payload.pop("wall_time_s")
    assert again == first
    other = run_forecast(frame, ticker="SYN", config=ForecastConfig(**{**TINY.to_dict(), "seed": 1}))
    assert other.forecast != result.forecast


def test_scaler_is_fit_on_the_training_part_only(base):
    frame, result = base
    plan = make_plan(len(frame), TINY)
    rng = np.random.default_rng(3)
    changed = scaled(frame, plan.train_end, np.exp(np.cumsum(rng.normal(0, 0.05, len(frame) - plan.train_end - 1))))
    other = run_forecast(changed, ticker="SYN", config=TINY)
    bounds = result.training["backtest_model"]["scaler"]
    assert other.training["backtest_model"]["scaler"] == bounds
    expected = log_returns(frame["close"].to_numpy()[: plan.train_end + 1])
    assert bounds == {"data_min": expected.min(), "data_max": expected.max()}
    assert other.training["final_model"]["scaler"] != result.training["final_model"]["scaler"]  # it saw them


def test_scaler_object_ignores_prices_after_the_training_end():
    from core.forecast.lstm import fit_lstm

    close = stock_frame()["close"].to_numpy()
    fitted = fit_lstm(close[:100], TINY, epochs=1)
    wild = close.copy()
    wild[100:] *= 50.0
    again = fit_lstm(wild[:100], TINY, epochs=1)
    assert fitted.scaler.data_min_ == again.scaler.data_min_ and fitted.scaler.data_max_ == again.scaler.data_max_


def test_no_look_ahead_at_a_backtest_origin(base):
    frame, result = base
    plan = make_plan(len(frame), TINY)
    k = 1
    origin = plan.backtest[k]
    rng = np.random.default_rng(11)
    changed = scaled(frame, origin, np.exp(rng.normal(0.2, 0.1, len(frame) - origin - 1)))
    other = run_forecast(changed, ticker="SYN", config=TINY)
    before, after = result.backtest["origins"], other.backtest["origins"]
    for i in range(k + 1):  # this origin and every earlier one: identical forecasts for every method
        for method in ("lstm", "naive", "drift", "linear", "lower_95", "upper_95"):
            assert before[i][method] == after[i][method], (i, method)
        assert before[i]["actual"] == after[i]["actual"] or i == k
    assert before[k + 1]["naive"] != after[k + 1]["naive"]  # later origins do see the change
    assert result.calibration["quantile_95"] == other.calibration["quantile_95"]


def test_cache_state_dict_round_trip_and_card(base, tmp_path):
    frame, _ = base
    result = run_forecast(frame, ticker="SYN", config=TINY, cache_dir=tmp_path)
    key = result_key(result)
    assert sorted(p.name for p in (tmp_path / key).iterdir()) == ["card.json", "model.pt", "result.json"]
    assert (tmp_path.stat().st_mode & 0o777) == 0o700
    model = load_final_model(tmp_path, key)
    path = model.predict(frame["close"].to_numpy(), [len(frame) - 1])[0]
    assert path.tolist() == result.forecast  # identical, not merely close
    card = load_card(tmp_path, key)
    assert card["data_sha256"] == result.data_sha256 and card["config"] == TINY.to_dict()
    assert {"data_min", "data_max"} == set(card["final_model"]["scaler"])
    assert card["backtest_model"]["best_epoch"] >= 1 and "torch" in card["versions"] and card["wall_time_s"] > 0
    cached = run_forecast(frame, ticker="SYN", config=TINY, cache_dir=tmp_path)
    assert cached.from_cache and cached.forecast == result.forecast
    assert cached.to_json()["metrics"] == result.to_json()["metrics"]
    renamed = run_forecast(frame, ticker="OTHER", config=TINY, cache_dir=tmp_path)  # name and calendar: own entry
    assert not renamed.from_cache and renamed.ticker == "OTHER" and renamed.forecast == result.forecast


@pytest.mark.parametrize("when", ["backtest-fit", "final-fit", "save"])
def test_cancel_mid_run_writes_nothing(base, tmp_path, when):
    frame, _ = base
    stages = []

    def should_cancel() -> bool:
        return when in stages  # cancelled during that stage (per batch in the fits; before publishing at save)

    with pytest.raises(ForecastCancelled):
        run_forecast(frame, config=TINY, cache_dir=tmp_path, should_cancel=should_cancel,
                     progress=lambda e: stages.append(e.stage))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.parametrize("fail_at", ["backtest-fit", "final-fit", "done"])
def test_a_failing_progress_hook_leaves_nothing_written(base, tmp_path, fail_at):
    frame, _ = base
    seen = []

    def progress(event) -> None:
        seen.append(event)
        if event.stage == fail_at:
            raise RuntimeError("hook broke")

    with pytest.raises(RuntimeError, match="hook broke"):
        run_forecast(frame, config=TINY, cache_dir=tmp_path, progress=progress)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    fractions = [e.fraction for e in seen]
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)


def test_progress_reports_every_epoch(base):
    frame, _ = base
    events = []
    result = run_forecast(frame, config=TINY, progress=events.append)
    assert [e.stage for e in events if e.epoch is None] == list(STAGES[:5]) + ["done"]  # each stage starts
    fits = [e for e in events if e.stage == "backtest-fit" and e.epoch is not None]
    assert len(fits) == result.training["backtest_model"]["epochs_run"]
    assert all(e.val_loss is not None and e.epochs == TINY.epochs for e in fits)
    final = [e for e in events if e.stage == "final-fit" and e.epoch is not None]
    assert len(final) == result.training["final_epochs"] == result.training["backtest_model"]["best_epoch"]
    assert events[-1].stage == "done" and events[-1].fraction == 1.0
    assert {"stage", "fraction", "message", "epoch", "epochs", "val_loss"} == set(events[-1].to_dict())


def test_bad_input_messages():
    frame = stock_frame()
    nan = frame.copy()
    nan.loc[50, "close"] = np.nan
    with pytest.raises(ForecastInputError, match=r"missing \(NaN\) or non-numeric closes: 1 row\(s\), first on"):
        run_forecast(nan, config=TINY)
    negative = frame.copy()
    negative.loc[[60, 70], "close"] = [-1.0, 0.0]
    with pytest.raises(ForecastInputError, match=r"non-positive closes: 2 row\(s\)"):
        run_forecast(negative, config=TINY)
    with pytest.raises(InsufficientData, match=f"^90 rows are too few: .* needs at least {TINY.min_rows()} rows"):
        run_forecast(frame.iloc[:90], config=TINY)
    with pytest.raises(ForecastInputError, match="no 'close' column"):
        run_forecast(frame.drop(columns="close"), config=TINY)
    with pytest.raises(ForecastInputError, match="horizon must be between 1 and 120"):
        run_forecast(frame, config=ForecastConfig(horizon=10000))
