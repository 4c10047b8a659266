"""core.data: bundled loads, the live -> cache -> bundled chain with fakes of yfinance's failure modes,
validation messages, canonical hashing, ranges, tickers. Never touches the network."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import stat
import threading

import numpy as np
import pandas as pd
import pytest

import core.data as data
from core.data import (
    DataError,
    Provenance,
    frame_sha256,
    load_ohlcv,
    normalise_ticker,
    periods_per_year,
    read_ohlcv_csv,
    validate_ohlcv,
)

# (rows, first date, last date) from data/README.md
BUNDLED = {
    "AAPL": (3956, dt.date(2011, 1, 3), dt.date(2026, 9, 25)),
    "TSLA": (4093, dt.date(2010, 6, 29), dt.date(2026, 10, 6)),
    "BTC-USD": (4091, dt.date(2014, 9, 18), dt.date(2025, 11, 29)),
}


def yf_frame(frame: pd.DataFrame, ticker: str = "AAPL", tz: str | None = None) -> pd.DataFrame:
    """What yfinance 1.x `download(ticker, auto_adjust=True)` returns: dates in a DatetimeIndex named Date,
    (Price, Ticker) MultiIndex columns sorted by field, no "Adj Close"."""
    index = pd.DatetimeIndex(frame["date"], name="Date")
    if tz is not None:
        index = index.tz_localize(tz)
    fields = {"Close": "close", "High": "high", "Low": "low", "Open": "open", "Volume": "volume"}
    columns = pd.MultiIndex.from_tuples([(f, ticker) for f in fields], names=["Price", "Ticker"])
    return pd.DataFrame(
        np.column_stack([frame[c].to_numpy() for c in fields.values()]), index=index, columns=columns
    )


def yf_empty() -> pd.DataFrame:
    """yfinance's frame for no network / bad ticker / rate limit (shape observed with yfinance 1.7)."""
    fields = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_tuples([(f, "ZZZZ") for f in fields], names=["Price", "Ticker"])
    return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="Date"), dtype=float)


class Fetcher:
    """A fake live source that counts its calls; `result` is a frame to return or an exception to raise."""

    def __init__(self, result):
        self.result, self.calls = result, []

    def __call__(self, ticker, timeout):
        self.calls.append((ticker, timeout))
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result.copy()


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


# ------------------------------------------------------------------------------------------------ bundled
@pytest.mark.parametrize("ticker", list(BUNDLED))
def test_bundled_snapshot_loads_with_documented_rows_and_dates(ticker):
    rows, first, last = BUNDLED[ticker]
    frame, prov = load_ohlcv(ticker.lower(), live=False, use_cache=False)
    assert (prov.source, prov.ticker, prov.rows, prov.start, prov.end) == (
        "bundled",
        ticker,
        rows,
        first,
        last,
    )
    assert prov.label == f"bundled snapshot, as of {last.isoformat()}"
    assert prov.fetched_at is None and prov.note == ""
    assert list(frame.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert frame["date"].dtype == "datetime64[ns]" and (frame["date"] == frame["date"].dt.normalize()).all()
    assert all(frame[c].dtype == np.float64 for c in ["open", "high", "low", "close", "volume"])
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == rows
    assert frame["date"].is_monotonic_increasing and frame["date"].is_unique
    # the bundled files are already in canonical form, so the hash is the file's own sha256
    assert prov.sha256 == hashlib.sha256((data.DATA_DIR / f"{ticker}.csv").read_bytes()).hexdigest()


def test_repeated_loads_return_independent_copies():
    first, _ = load_ohlcv("AAPL", live=False, use_cache=False)
    first.loc[0, "close"] = -1.0
    del first["volume"]
    again, prov = load_ohlcv("AAPL", live=False, use_cache=False)
    assert again.loc[0, "close"] == 9.8573 and "volume" in again.columns and prov.rows == 3956


def test_aapl_values_match_the_file_text():
    frame, _ = load_ohlcv("AAPL", live=False, use_cache=False)
    assert frame.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        9.7398,
        9.878,
        9.7158,
        9.8573,
        445138400.0,
    ]


# ----------------------------------------------------------------------------- live -> cache -> bundled
def test_live_success_writes_cache_atomically_and_says_live(aapl_ohlcv, cache_dir, monkeypatch):
    recent = aapl_ohlcv.tail(300).reset_index(drop=True)
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(
        data.cache.os, "replace", lambda src, dst: (replaced.append((src, dst)), real_replace(src, dst))
    )
    fetch = Fetcher(yf_frame(recent))
    frame, prov = load_ohlcv("aapl", fetcher=fetch, cache_dir=cache_dir, timeout=3.5)

    assert fetch.calls == [("AAPL", 3.5)]
    pd.testing.assert_frame_equal(frame, recent)
    assert prov.source == "live" and prov.label == "live, as of 2026-09-25" and prov.note == ""
    assert prov.sha256 == frame_sha256(recent)
    assert prov.fetched_at is not None and prov.fetched_at.tzinfo is not None
    assert abs((dt.datetime.now(dt.UTC) - prov.fetched_at).total_seconds()) < 600

    csv_path, meta_path = cache_dir / "AAPL.csv", cache_dir / "AAPL.json"
    assert csv_path.read_text() == data.canonical_csv(recent)
    meta = json.loads(meta_path.read_text())
    assert meta["sha256"] == prov.sha256 and meta["fetched_at"] == prov.fetched_at.isoformat()
    # written through a temp file in the same folder, then renamed over the target
    assert [dst for _, dst in replaced] == [csv_path, meta_path]
    assert all(os.path.dirname(src) == str(cache_dir) and src != str(dst) for src, dst in replaced)
    assert sorted(p.name for p in cache_dir.iterdir()) == ["AAPL.csv", "AAPL.json"]
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_live_failure_then_uses_cached_copy_with_offline_label(aapl_ohlcv, cache_dir):
    recent = aapl_ohlcv.tail(300).reset_index(drop=True)
    _, live = load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(recent)), cache_dir=cache_dir)
    frame, prov = load_ohlcv("AAPL", fetcher=Fetcher(ConnectionError("network down")), cache_dir=cache_dir)
    pd.testing.assert_frame_equal(frame, recent)
    assert prov.source == "cache" and prov.sha256 == live.sha256 and prov.fetched_at == live.fetched_at
    assert prov.label == f"offline: cached copy from {live.fetched_at.date().isoformat()}"
    assert prov.note.startswith("live source unreachable (ConnectionError: network down")


def test_failed_cache_write_keeps_the_old_copy_and_still_returns_live(aapl_ohlcv, cache_dir, monkeypatch):
    load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(aapl_ohlcv.head(100))), cache_dir=cache_dir)
    before = (cache_dir / "AAPL.csv").read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(data.cache.os, "replace", broken_replace)
    frame, prov = load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(aapl_ohlcv.head(120))), cache_dir=cache_dir)
    assert prov.source == "live" and len(frame) == 120
    assert (cache_dir / "AAPL.csv").read_bytes() == before
    assert sorted(p.name for p in cache_dir.iterdir()) == ["AAPL.csv", "AAPL.json"]  # no temp file left


def test_unwritable_cache_location_does_not_break_a_live_load(aapl_ohlcv, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    frame, prov = load_ohlcv(
        "AAPL", fetcher=Fetcher(yf_frame(aapl_ohlcv.head(80))), cache_dir=blocker / "cache"
    )
    assert prov.source == "live" and len(frame) == 80


def test_empty_frame_falls_back_to_cache_then_bundled(aapl_ohlcv, cache_dir):
    empty = Fetcher(yf_empty())
    _, prov = load_ohlcv("AAPL", fetcher=empty, cache_dir=cache_dir)
    assert prov.source == "bundled" and prov.note == "live source returned no data" and prov.rows == 3956
    load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(aapl_ohlcv.head(200))), cache_dir=cache_dir)
    frame, prov = load_ohlcv("AAPL", fetcher=empty, cache_dir=cache_dir)
    assert prov.source == "cache" and len(frame) == 200 and prov.note == "live source returned no data"
    assert len(empty.calls) == 2  # an empty frame is not a network failure: no breaker


def test_multiindex_tz_aware_frame_is_parsed_by_local_calendar_day(aapl_ohlcv, cache_dir):
    recent = aapl_ohlcv.tail(60).reset_index(drop=True)
    for tz in ("America/New_York", "Asia/Tokyo"):
        frame, prov = load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(recent, tz=tz)), cache_dir=cache_dir)
        pd.testing.assert_frame_equal(frame, recent)
        assert prov.source == "live"


def test_several_tickers_in_one_frame_are_refused(aapl_ohlcv):
    both = pd.concat([yf_frame(aapl_ohlcv.head(60), "AAPL"), yf_frame(aapl_ohlcv.head(60), "MSFT")], axis=1)
    with pytest.raises(DataError, match=r"several tickers in one frame \(AAPL, MSFT\)"):
        validate_ohlcv(both)


def test_adj_close_is_only_a_fallback_for_close(make_ohlcv):
    frame = make_ohlcv(60)
    both = frame.rename(columns={"close": "Close"}).assign(**{"Adj Close": frame["close"] * 0.5})
    assert validate_ohlcv(both)["close"].tolist() == frame["close"].tolist()
    only_adj = frame.rename(columns={"close": "Adj Close"})
    assert validate_ohlcv(only_adj)["close"].tolist() == frame["close"].tolist()


def test_fetcher_raising_falls_back_with_a_note_and_does_not_trip_the_breaker(cache_dir):
    failing = Fetcher(RuntimeError("HTTP 429 rate limited"))
    _, prov = load_ohlcv("TSLA", fetcher=failing, cache_dir=cache_dir)
    assert prov.source == "bundled"
    assert prov.note == "live download failed (RuntimeError: HTTP 429 rate limited)"
    load_ohlcv("TSLA", fetcher=failing, cache_dir=cache_dir)
    assert len(failing.calls) == 2


def test_invalid_live_frame_is_never_passed_on(aapl_ohlcv, cache_dir):
    bad = aapl_ohlcv.tail(100).reset_index(drop=True)
    bad.loc[10, "high"] = bad.loc[10, "low"] / 2
    _, prov = load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(bad)), cache_dir=cache_dir)
    assert prov.source == "bundled" and "live data rejected" in prov.note and "high < low" in prov.note
    assert not (cache_dir / "AAPL.csv").exists()


def test_network_failure_opens_the_breaker_for_every_ticker(aapl_ohlcv, cache_dir):
    down = Fetcher(OSError("curl: (6) Could not resolve host: query2.finance.yahoo.com"))
    _, prov = load_ohlcv("AAPL", fetcher=down, cache_dir=cache_dir)
    assert prov.source == "bundled" and "unreachable" in prov.note
    assert data.live_blocked_until() is not None
    healthy = Fetcher(yf_frame(aapl_ohlcv.head(60), "TSLA"))
    _, prov = load_ohlcv("TSLA", fetcher=healthy, cache_dir=cache_dir)
    assert healthy.calls == [] and prov.source == "bundled" and "not retried before" in prov.note
    data.reset_live_breaker()
    _, prov = load_ohlcv("TSLA", fetcher=healthy, cache_dir=cache_dir)
    assert len(healthy.calls) == 1 and prov.source == "live"


@pytest.mark.parametrize(
    ("fetcher", "reason"),
    [
        (None, "live download is disabled (offline)"),
        (Fetcher(ConnectionError("no route")), "the live source is unreachable"),
        (
            Fetcher(yf_empty()),
            "the live source returned no data (unknown or delisted ticker, or a rate limit)",
        ),
    ],
)
def test_unknown_ticker_says_why_and_lists_offline_tickers(fetcher, reason, cache_dir):
    with pytest.raises(DataError) as err:
        load_ohlcv("zzzz", live=fetcher is not None, fetcher=fetcher, cache_dir=cache_dir)
    assert str(err.value) == (
        f"No data for ZZZZ: {reason} and there is no cached copy. Available offline: AAPL, TSLA, BTC-USD."
    )


def test_offline_listing_includes_cached_tickers(make_ohlcv, cache_dir):
    load_ohlcv("ETH-USD", fetcher=Fetcher(yf_frame(make_ohlcv(70, freq="D"), "ETH-USD")), cache_dir=cache_dir)
    frame, prov = load_ohlcv("ETH-USD", live=False, cache_dir=cache_dir)
    assert prov.source == "cache" and len(frame) == 70
    with pytest.raises(DataError, match=r"Available offline: AAPL, TSLA, BTC-USD, ETH-USD\.$"):
        load_ohlcv("ZZZZ", live=False, cache_dir=cache_dir)


def test_damaged_cache_falls_back_to_bundled_with_a_note(cache_dir):
    cache_dir.mkdir()
    (cache_dir / "AAPL.csv").write_text("date,open\n2020-01-02,1\n")
    _, prov = load_ohlcv("AAPL", live=False, cache_dir=cache_dir)
    assert (
        prov.source == "bundled" and "cached copy unusable" in prov.note and "missing column(s)" in prov.note
    )


def test_cache_without_matching_sidecar_dates_from_file_mtime(make_ohlcv, cache_dir):
    cache_dir.mkdir()
    (cache_dir / "XYZ.csv").write_text(data.canonical_csv(make_ohlcv(60)))
    os.utime(cache_dir / "XYZ.csv", (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC
    _, prov = load_ohlcv("XYZ", live=False, cache_dir=cache_dir)
    assert prov.label == "offline: cached copy from 2023-11-14"


def test_use_cache_false_ignores_the_cache(aapl_ohlcv, cache_dir):
    load_ohlcv("AAPL", fetcher=Fetcher(yf_frame(aapl_ohlcv.head(90))), cache_dir=cache_dir)
    _, prov = load_ohlcv("AAPL", live=False, cache_dir=cache_dir, use_cache=False)
    assert prov.source == "bundled" and prov.rows == 3956


def test_concurrent_live_loads_of_one_ticker_leave_one_valid_cache(aapl_ohlcv, cache_dir):
    frames = [yf_frame(aapl_ohlcv.head(60 + i)) for i in range(8)]
    errors: list[BaseException] = []

    def worker(i):
        try:
            load_ohlcv("AAPL", fetcher=Fetcher(frames[i]), cache_dir=cache_dir)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    frame, prov = load_ohlcv("AAPL", live=False, cache_dir=cache_dir)
    assert prov.source == "cache" and 60 <= len(frame) < 68
    assert sorted(p.name for p in cache_dir.iterdir()) == ["AAPL.csv", "AAPL.json"]


# --------------------------------------------------------------------------------------- yfinance_fetch
@pytest.fixture
def fake_yfinance(monkeypatch):
    """Replace yfinance's network entry points; the test sets `.result` and `.log` (what yfinance logs)."""
    yf = pytest.importorskip("yfinance")

    class Fake:
        result, log, calls, tz_dirs = None, None, [], []

        def download(self, *args, **kwargs):
            self.calls.append((args, kwargs))
            if self.log:
                logging.getLogger("yfinance").error(self.log)
            return self.result

    fake = Fake()
    monkeypatch.setattr(yf, "download", fake.download)
    monkeypatch.setattr(yf, "set_tz_cache_location", fake.tz_dirs.append)
    monkeypatch.setattr(data.live, "_yf_ready", False)
    return fake


def test_yfinance_fetch_calls_download_as_documented(fake_yfinance, aapl_ohlcv):
    fake_yfinance.result = yf_frame(aapl_ohlcv.head(60))
    frame = data.yfinance_fetch("AAPL", 2.5)
    assert fake_yfinance.calls == [
        (
            ("AAPL",),
            dict(period="max", interval="1d", auto_adjust=True, progress=False, threads=False, timeout=2.5),
        )
    ]
    assert fake_yfinance.tz_dirs == [str(data.DEFAULT_CACHE_DIR / "yfinance")]
    pd.testing.assert_frame_equal(validate_ohlcv(frame), aapl_ohlcv.head(60))


def test_yfinance_empty_frame_becomes_a_typed_failure(fake_yfinance):
    fake_yfinance.result = yf_empty()
    fake_yfinance.log = "['ZZZZ']: DNSError('Failed to perform, curl: (6) Could not resolve host: query2')"
    with pytest.raises(ConnectionError, match="Could not resolve host"):
        data.yfinance_fetch("ZZZZ", 1.0)
    fake_yfinance.log = "['ZZZZ']: possibly delisted; no price data found"
    with pytest.raises(LookupError, match="possibly delisted"):
        data.yfinance_fetch("ZZZZ", 1.0)


def test_yfinance_cache_setup_failure_never_breaks_a_load(fake_yfinance, monkeypatch, aapl_ohlcv):
    import yfinance as yf

    def locked(_):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(yf, "set_tz_cache_location", locked)
    fake_yfinance.result = yf_frame(aapl_ohlcv.head(60))
    assert len(data.yfinance_fetch("AAPL", 1.0)) == 60


# ------------------------------------------------------------------------------------------- validation
def _broken(make_ohlcv, **cells):
    frame = make_ohlcv(60)
    for key, value in cells.items():
        col, row = key.rsplit("_", 1)
        frame[col] = frame[col].astype(object) if isinstance(value, str) else frame[col]
        frame.loc[int(row), col] = value
    return frame


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"close_3": "abc"}, "non-numeric value(s) in column close: 1 row, first 'abc' on 2021-01-07"),
        (
            {"close_5": np.nan, "close_9": np.nan},
            "NaN (missing) value(s) in column close: 2 rows, first on 2021-01-11",
        ),
        ({"open_2": np.inf}, "infinite value(s) in column open: 1 row, first on 2021-01-06"),
        ({"low_4": 0.0}, "non-positive price(s) in column low: 1 row, first on 2021-01-08"),
        ({"high_7": 1.0, "high_8": 1.0, "high_20": 1.0}, "high < low on 3 rows, first on 2021-01-13"),
        ({"open_6": 1000.0}, "open outside [low, high] on 1 row, first on 2021-01-12"),
        ({"volume_11": -5.0}, "negative volume on 1 row, first on 2021-01-19"),
    ],
)
def test_each_bad_value_is_named_with_column_count_and_first_date(make_ohlcv, cells, message):
    with pytest.raises(DataError) as err:
        validate_ohlcv(_broken(make_ohlcv, **cells), name="prices.csv")
    assert str(err.value) == f"prices.csv: {message}"


def test_close_below_low_is_named(make_ohlcv):
    frame = make_ohlcv(60)
    frame.loc[30, "close"] = frame.loc[30, "low"] * 0.9
    with pytest.raises(DataError, match=r"^data: close outside \[low, high\] on 1 row, first on 2021-02-15$"):
        validate_ohlcv(frame)


def test_missing_columns_are_listed_by_name(make_ohlcv):
    with pytest.raises(
        DataError, match=r"^data: missing column\(s\): close, volume \(found: date, open, high, low\)$"
    ):
        validate_ohlcv(make_ohlcv(60).drop(columns=["close", "volume"]))


def test_duplicate_dates_name_the_first_duplicate(make_ohlcv):
    frame = make_ohlcv(60)
    frame.loc[10, "date"] = frame.loc[9, "date"]
    with pytest.raises(DataError, match=r"^data: duplicate date 2021-01-15 \(1 duplicated row in all\)$"):
        validate_ohlcv(frame)


def test_unsorted_dates_are_refused_not_reordered(make_ohlcv):
    frame = make_ohlcv(60)
    frame.loc[[20, 21], "date"] = frame.loc[[21, 20], "date"].to_numpy()
    before = frame.copy()
    with pytest.raises(
        DataError, match=r"dates are not in ascending order: 2021-02-01 comes after 2021-02-02 \(row 22\)"
    ):
        validate_ohlcv(frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(DataError, match="descending order"):
        validate_ohlcv(make_ohlcv(60).iloc[::-1])


def test_too_few_rows_says_how_many_are_needed(make_ohlcv):
    with pytest.raises(DataError, match=r"^data: only 12 rows; at least 50 are needed for the indicators$"):
        validate_ohlcv(make_ohlcv(12))
    assert len(validate_ohlcv(make_ohlcv(12), min_rows=12)) == 12
    with pytest.raises(DataError, match="no rows"):
        validate_ohlcv(make_ohlcv(60).iloc[:0])


def test_unreadable_date_is_named(make_ohlcv):
    frame = make_ohlcv(60)
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d").astype(object)
    frame.loc[4, "date"] = "2021-13-45"
    with pytest.raises(DataError, match=r"1 row without a readable date, first '2021-13-45' in row 5"):
        validate_ohlcv(frame)


def test_names_are_case_insensitive_aliases_accepted_extras_dropped(make_ohlcv):
    frame = make_ohlcv(60)
    shuffled = frame.rename(
        columns={"date": "Datetime", "open": "OPEN", "high": "High", "close": " Close ", "volume": "Volume"}
    )[["Volume", " Close ", "low", "High", "OPEN", "Datetime"]].assign(Dividends=0.0)
    pd.testing.assert_frame_equal(validate_ohlcv(shuffled), frame)
    with pytest.raises(DataError, match="both look like 'close'"):
        validate_ohlcv(frame.assign(Close=frame["close"]))


def test_times_are_normalised_to_midnight_and_epoch_seconds_accepted(make_ohlcv):
    frame = make_ohlcv(60)
    timed = frame.assign(date=frame["date"] + pd.Timedelta(hours=16))
    pd.testing.assert_frame_equal(validate_ohlcv(timed), frame)
    epoch = frame.assign(date=(frame["date"] - pd.Timestamp(0)) // pd.Timedelta(seconds=1)).rename(
        columns={"date": "timestamp"}
    )
    pd.testing.assert_frame_equal(validate_ohlcv(epoch), frame)


@pytest.mark.parametrize(
    "fmt", ["%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%b %d, %Y", "%Y-%m-%dT16:00:00-04:00"]
)
def test_common_date_spellings_in_a_csv_read_the_same_days(make_ohlcv, fmt):
    frame = make_ohlcv(60)
    raw = frame.assign(date=frame["date"].dt.strftime(fmt)).to_csv(index=False).encode()
    pd.testing.assert_frame_equal(read_ohlcv_csv(raw)[0], frame)


def test_dates_that_read_both_day_and_month_first_are_refused(make_ohlcv):
    frame = make_ohlcv(3).assign(date=["01/01/2021", "01/02/2021", "01/03/2021"])
    with pytest.raises(DataError, match=r"ambiguous dates such as '01/01/2021' \(day or month first\?\)"):
        validate_ohlcv(frame, min_rows=3)
    numbers = make_ohlcv(60)
    numbers["date"] = numbers["date"].dt.strftime("%Y%m%d").astype(int)  # an int YYYYMMDD, not epoch seconds
    pd.testing.assert_frame_equal(validate_ohlcv(numbers), make_ohlcv(60))


def test_float_round_off_within_tolerance_passes(make_ohlcv):
    frame = make_ohlcv(60)
    frame.loc[5, "open"] = frame.loc[5, "high"] * (1 + 1e-9)
    assert len(validate_ohlcv(frame)) == 60


def test_validate_does_not_touch_its_input(make_ohlcv):
    frame = make_ohlcv(60).rename(columns={"close": "Close"})
    before = frame.copy()
    validate_ohlcv(frame)
    pd.testing.assert_frame_equal(frame, before)


# ------------------------------------------------------------------------------------------- CSV + hash
def test_sha256_is_the_same_whatever_the_source_formatting(tmp_path, aapl_ohlcv):
    frame = aapl_ohlcv.head(80)
    reference = frame_sha256(frame)
    variants = {
        "padded.csv": frame.to_csv(index=False, float_format="%.12f"),
        "shuffled.csv": frame[["volume", "close", "date", "low", "high", "open"]].to_csv(index=False),
        "upper.csv": frame.rename(columns=str.title).to_csv(index=False, date_format="%Y-%m-%dT00:00:00"),
        "crlf_bom.csv": "\ufeff" + frame.to_csv(index=False).replace("\n", "\r\n"),
        "semicolon.csv": frame.to_csv(index=False, sep=";"),
        "indexed.csv": frame.to_csv(index=True),
    }
    for name, text in variants.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", newline="")
        got, prov = read_ohlcv_csv(path)
        assert prov.sha256 == reference, name
        pd.testing.assert_frame_equal(got, frame.reset_index(drop=True))
    changed = frame.copy()
    changed.loc[40, "close"] = np.nextafter(changed.loc[40, "close"], np.inf)  # one ulp
    assert frame_sha256(changed) != reference


def test_yfinance_style_csv_with_three_header_lines(tmp_path, aapl_ohlcv):
    path = tmp_path / "AAPL_yf.csv"
    yf_frame(aapl_ohlcv.head(60)).to_csv(path)
    assert path.read_text().splitlines()[:3] == [
        "Price,Close,High,Low,Open,Volume",
        "Ticker,AAPL,AAPL,AAPL,AAPL,AAPL",
        "Date,,,,,",
    ]
    frame, _ = read_ohlcv_csv(path)
    pd.testing.assert_frame_equal(frame, aapl_ohlcv.head(60))


def test_uploaded_bytes_keep_only_the_file_name(aapl_ohlcv):
    raw = aapl_ohlcv.head(60).to_csv(index=False).encode()
    frame, prov = read_ohlcv_csv(raw, name="../../etc/my prices.csv")
    assert (prov.source, prov.ticker, prov.file_name, prov.label) == (
        "file",
        "my prices",
        "my prices.csv",
        "file: my prices.csv",
    )
    assert prov.fetched_at is None and prov.rows == 60


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "upload.csv: the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "upload.csv: not a text CSV file (binary content)"),
        (b"date,open,high\n2020-01-01,1,2\n2020-01-02,1,2,3,4\n", "upload.csv: not a readable CSV"),
    ],
)
def test_malformed_uploads_are_refused_clearly(raw, message):
    with pytest.raises(DataError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        read_ohlcv_csv(raw)


def test_csv_path_goes_through_load_ohlcv_as_a_file(tmp_path, make_ohlcv):
    path = tmp_path / "mine.csv"
    path.write_text(make_ohlcv(70).to_csv(index=False))
    frame, prov = load_ohlcv(str(path), live=True, fetcher=Fetcher(AssertionError("no live for files")))
    assert prov.source == "file" and prov.label == "file: mine.csv" and len(frame) == 70
    with pytest.raises(DataError, match="file not found"):
        load_ohlcv(tmp_path / "absent.csv")


# ------------------------------------------------------------------------------------ ranges, tickers, ppy
def test_start_end_filter_is_inclusive_and_rehashes():
    full, _ = load_ohlcv("AAPL", live=False, use_cache=False)
    frame, prov = load_ohlcv("AAPL", "2020-01-01", dt.date(2020, 12, 31), live=False, use_cache=False)
    expected = full[(full["date"] >= "2020-01-01") & (full["date"] <= "2020-12-31")].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, expected)
    assert (prov.rows, prov.start, prov.end) == (253, dt.date(2020, 1, 2), dt.date(2020, 12, 31))
    assert prov.sha256 == frame_sha256(expected) and prov.label == "bundled snapshot, as of 2020-12-31"
    frame, _ = load_ohlcv("AAPL", "2020-01-02", "2020-03-31", live=False, use_cache=False)
    assert frame["date"].iloc[0] == pd.Timestamp("2020-01-02") and frame["date"].iloc[-1] == pd.Timestamp(
        "2020-03-31"
    )


def test_too_short_range_names_the_range():
    with pytest.raises(DataError) as err:
        load_ohlcv("AAPL", "2020-01-01", "2020-01-31", live=False, use_cache=False)
    assert str(err.value) == (
        "AAPL: only 21 rows between 2020-01-01 and 2020-01-31; at least 50 are needed for the indicators "
        "(the data covers 2011-01-03 to 2026-09-25)"
    )
    with pytest.raises(DataError, match="start 2021-01-01 is after end 2020-01-01"):
        load_ohlcv("AAPL", "2021-01-01", "2020-01-01", live=False)
    with pytest.raises(DataError, match="start '2020-13-01' is not a date"):
        load_ohlcv("AAPL", "2020-13-01", live=False)


def test_normalise_ticker():
    assert [normalise_ticker(t) for t in [" aapl ", "btc-usd", "^gspc", "brk.b", "eurusd=x"]] == [
        "AAPL",
        "BTC-USD",
        "^GSPC",
        "BRK.B",
        "EURUSD=X",
    ]
    for bad in ["../etc", "A B", "", "   ", "....", "A" * 16, "AAPL;rm", "a/b", "%2e%2e"]:
        with pytest.raises(DataError):
            normalise_ticker(bad)
    with pytest.raises(DataError, match="invalid ticker"):
        load_ohlcv("../etc", live=False)


def test_periods_per_year(make_ohlcv):
    assert [periods_per_year(t) for t in ["BTC-USD", "eth-usdt", "SOL-EUR", "AAPL", "BRK-B", "^GSPC"]] == [
        365,
        365,
        365,
        252,
        252,
        252,
    ]
    assert periods_per_year(data.DATA_DIR / "BTC-USD.csv") == 365
    btc, prov = load_ohlcv("BTC-USD", live=False, use_cache=False)
    aapl, _ = load_ohlcv("AAPL", live=False, use_cache=False)
    assert (periods_per_year(btc), periods_per_year(aapl), periods_per_year(prov)) == (365, 252, 365)
    assert periods_per_year(make_ohlcv(60, freq="D")) == 365


def test_provenance_round_trips_through_json():
    _, prov = load_ohlcv("TSLA", live=False, use_cache=False)
    live = Provenance(
        "live",
        "X",
        dt.date(2020, 1, 1),
        dt.date(2020, 6, 1),
        100,
        "ab" * 32,
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        note="n",
    )
    for item in (prov, live):
        restored = Provenance.from_dict(json.loads(json.dumps(item.to_dict())))
        assert restored == item and restored.label == item.label
    assert live.to_dict()["fetched_at"] == "2026-01-02T03:04:05+00:00"
