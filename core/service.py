"""The engine's facade for clients (the web app, notebooks): one call per thing a page shows.

Clients never reach into core's modules directly for page work; they call these functions, which add
indicators, cache, and raise only `ValueError` subclasses whose messages are fit to show a user.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.indicators import add_indicators
from core.lru import LRU


@dataclass(frozen=True)
class MarketData:
    """A validated OHLCV frame with indicators, where it came from, and the window shown."""

    frame: pd.DataFrame
    provenance: Any  # core.data.Provenance
    periods_per_year: int

    def summary(self) -> dict[str, Any]:
        """Headline numbers of the shown window: last close, last bar's change, period return, annualised
        volatility of daily log returns, max drawdown of the close (negative), last RSI (NaN in warm-up)."""
        from core.metrics import max_drawdown, total_return

        close = self.frame["close"].to_numpy(dtype=float)
        log_returns = np.diff(np.log(close))
        volatility = (float(np.std(log_returns, ddof=1) * np.sqrt(self.periods_per_year))
                      if log_returns.size > 1 else float("nan"))
        return {
            "last_close": float(close[-1]),
            "change": float(close[-1] / close[-2] - 1),
            "period_return": total_return(close),
            "volatility": volatility,
            "max_drawdown": max_drawdown(close),
            "rsi": float(self.frame["rsi"].iloc[-1]),
        }

    @property
    def key(self) -> str:
        """Identifies the data shown (for caching figures): data hash plus the shown window."""
        first, last = self.frame["date"].iloc[0], self.frame["date"].iloc[-1]
        return f"{self.provenance.sha256}:{first:%Y-%m-%d}:{last:%Y-%m-%d}"


def _window(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    out = frame
    if start:
        out = out[out["date"] >= pd.Timestamp(start)]
    if end:
        out = out[out["date"] <= pd.Timestamp(end)]
    return out.reset_index(drop=True)


def _finish(frame: pd.DataFrame, provenance, start, end) -> MarketData:
    from core.data import DataError, periods_per_year

    # Indicators are computed on the whole history, then the window is cut: the first bars of a window
    # keep their real (causal) indicator values instead of a fresh warm-up.
    full = add_indicators(frame)
    shown = _window(full, start, end)
    if len(shown) < 2:
        raise DataError(
            f"The range {start or 'first bar'} to {end or 'last bar'} holds {len(shown)} bar(s) of "
            f"{provenance.ticker}; its data runs from {provenance.start} to {provenance.end}."
        )
    return MarketData(frame=shown, provenance=provenance, periods_per_year=periods_per_year(frame))


LIVE_TTL_SECONDS = 15 * 60
"""A live download is reused for this long: page callbacks must not hit Yahoo on every click."""
_LIVE: dict[str, tuple[float, Any]] = {}
_LIVE_LOCK = threading.Lock()


def _load_ticker(symbol: str, live: bool):
    from core.data import load_ohlcv

    if not live:
        return load_ohlcv(symbol, live=False)
    now = time.monotonic()
    with _LIVE_LOCK:
        hit = _LIVE.get(symbol)
    if hit is not None and now - hit[0] < LIVE_TTL_SECONDS:
        frame, provenance = hit[1]
        return frame.copy(), provenance
    loaded = load_ohlcv(symbol, live=True)
    with _LIVE_LOCK:
        _LIVE[symbol] = (now, loaded)
        if len(_LIVE) > 64:  # bounded: drop the oldest
            del _LIVE[min(_LIVE, key=lambda k: _LIVE[k][0])]
    return loaded[0].copy(), loaded[1]


def load_market(ticker: str, start=None, end=None, *, live: bool = True) -> MarketData:
    """Market data for a ticker through the live -> cache -> bundled chain, with indicators."""
    from core.data import normalise_ticker

    frame, provenance = _load_ticker(normalise_ticker(ticker), live)
    return _finish(frame, provenance, start, end)


def load_market_csv(content: bytes, name: str, start=None, end=None) -> MarketData:
    """Market data from an uploaded or local CSV file's bytes, validated, with indicators."""
    from core.data import read_ohlcv_csv

    frame, provenance = read_ohlcv_csv(content, name=name)
    return _finish(frame, provenance, start, end)



# ----------------------------------------------------------------------------------------------------
# battle arena (arena, replay and journal pages share one cached BattleResult per spec)

WINDOWS = ("out-of-sample", "in-sample", "custom")
_AGENTS = LRU(maxsize=8)


SHIPPED = "shipped"
"""BattleSpec.agents for the registry's (shipped) agents."""


class SpecError(ValueError):
    """A battle request that cannot be run; the message says what to change."""


@dataclass(frozen=True)
class BattleSpec:
    """What a user asked the arena for. Built from page inputs or a session store; validated here."""

    ticker: str = "AAPL"
    """Instrument; its agents are loaded from the registry by (ticker, personality) only."""
    window: str = "out-of-sample"
    """"out-of-sample" (the agents' test period), "in-sample" (their training period) or "custom"."""
    start: str | None = None
    """Custom window: first date (inclusive)."""
    end: str | None = None
    """Custom window: last date (inclusive)."""
    commission_bps: float = 10.0
    """Commission per fill in basis points."""
    slippage_bps: float = 5.0
    """Slippage per fill in basis points."""
    shared_market: bool = False
    """The agents' net order flow moves their fill price (price impact): they compete for liquidity."""
    agents: str = SHIPPED
    """Whose agents fight: "shipped" (the registry's, every seed) or the id of a run the asking session
    trained on the Train page (core.runs: 16 hex digits; it battles on the run's own data and ticker)."""

    def __post_init__(self) -> None:
        from core.runs import RUN_ID_PATTERN

        if self.agents != SHIPPED and not (isinstance(self.agents, str) and RUN_ID_PATTERN.match(self.agents)):
            raise SpecError(f"agents must be {SHIPPED!r} or a run id (16 hex digits), got {str(self.agents)[:40]!r}")
        if self.window not in WINDOWS:
            raise SpecError(f"window must be one of {', '.join(WINDOWS)}, got {self.window!r}")
        if self.window == "custom" and not (self.start or self.end):
            raise SpecError("a custom window needs a start or an end date")
        self.costs()  # validates the cost numbers with core.sim's message

    def costs(self):
        from core.sim import Costs

        try:
            return Costs(commission_bps=float(self.commission_bps), slippage_bps=float(self.slippage_bps))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"Costs: {exc}") from None

    @classmethod
    def from_dict(cls, data: dict | None) -> BattleSpec:
        data = dict(data or {})
        known = {k: data[k] for k in ("ticker", "window", "start", "end", "commission_bps", "slippage_bps",
                                      "shared_market", "agents") if data.get(k) is not None}
        if "shared_market" in known:
            known["shared_market"] = bool(known["shared_market"])
        for key in ("commission_bps", "slippage_bps"):
            if key in known:
                try:
                    known[key] = float(known[key])
                except (TypeError, ValueError):
                    raise SpecError(f"{key.replace('_bps', '')} must be a number of basis points") from None
        return cls(**known)

    def to_dict(self) -> dict:
        return {"ticker": self.ticker, "window": self.window, "start": self.start, "end": self.end,
                "commission_bps": self.commission_bps, "slippage_bps": self.slippage_bps,
                "shared_market": self.shared_market, "agents": self.agents}

    @property
    def run_id(self) -> str | None:
        """The run whose agents fight, or None for the shipped agents."""
        return None if self.agents == SHIPPED else self.agents


@dataclass
class ArenaView:
    """A battle ready to show, plus the state of the agents (so a page can offer training)."""

    spec: BattleSpec
    result: Any  # core.arena.BattleResult
    agents_ready: bool
    agents_message: str
    """Empty when the agents loaded; otherwise what is wrong and what to do."""


def arena_tickers(models_dir=None) -> list[str]:
    """Tickers the arena offers: those with shipped/trained agents first, then the bundled ones."""
    from core.data import BUNDLED_TICKERS
    from core.registry import available_tickers

    try:
        trained = available_tickers(models_dir)
    except (OSError, ValueError):
        trained = []
    return list(dict.fromkeys([*trained, *BUNDLED_TICKERS]))


def _models_stamp(ticker: str, models_dir) -> tuple:
    from core.registry import models_root, validate_ticker

    root = Path(models_dir) if models_dir else models_root()
    folder = root / validate_ticker(ticker)
    if not folder.is_dir():
        return ()
    return tuple(sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size)
                        for p in folder.rglob("*") if p.is_file()))


def load_agents_for(ticker: str, data_sha256: str | None, models_dir=None):
    """(AgentSeeds | None, message): every training seed of the ticker's agents from the registry (what the
    arena battles: core.agents.load_agent_seeds), cached; a readable message when unusable."""
    from core.agents import load_agent_seeds
    from core.registry import ModelCorrupt, ModelMissing

    key = (ticker, str(models_dir), _models_stamp(ticker, models_dir), data_sha256)
    try:
        return _AGENTS.get_or_compute(
            key, lambda: load_agent_seeds(ticker, models_dir=models_dir, data_sha256=data_sha256)), ""
    except ModelMissing as exc:
        return None, f"No trained agents for {ticker}: {exc}"
    except ModelCorrupt as exc:
        return None, f"The trained agents for {ticker} cannot be used: {exc}"


def battle_data(ticker: str):
    """(frame, provenance) the arena battles on: the bundled snapshot for bundled tickers (the shipped
    agents were trained on it, so their out-of-sample window and data hash refer to it), else the last
    cached download."""
    from core.data import BUNDLED_TICKERS, load_ohlcv

    return load_ohlcv(ticker, live=False, use_cache=ticker not in BUNDLED_TICKERS)


def session_runs(runs_dir, session: str) -> list:
    """The session's trained runs, newest first (core.runs.RunInfo: .run_id, .label, .ticker, ...), for an
    agent picker: an empty list for a session without runs, core.runs.RunError for a malformed session id."""
    from core.runs import list_runs

    return list_runs(runs_dir, session)


RUN_ELSEWHERE = ("The agents of run {run_id} can only be used in the browser tab that trained them (runs are "
                 "private to their session); showing the benchmarks. Train agents on the Train page, or pick "
                 "the shipped agents.")


def _run_battle_inputs(spec: BattleSpec, runs_dir, session):
    """(spec, frame, provenance, agents, message) for a battle of a trained run (spec.agents is its id): the
    run's own training data and agents; a run this session cannot load leaves the spec's market, benchmarks
    only, and a message that says why."""
    from core.data import normalise_ticker
    from core.runs import RunError, load_run_agents, load_run_data

    run_id = spec.run_id
    try:
        if runs_dir is None or not session:
            raise RunError(RUN_ELSEWHERE.format(run_id=run_id))
        frame, provenance = load_run_data(runs_dir, run_id, session)
        key = ("run", str(runs_dir), run_id, session, provenance.sha256)
        agents = _AGENTS.get_or_compute(key, lambda: load_run_agents(runs_dir, run_id, session, provenance.sha256))
    except RunError as exc:
        frame, provenance = battle_data(normalise_ticker(spec.ticker))
        return spec, frame, provenance, None, str(exc)
    return replace(spec, ticker=agents.ticker), frame, provenance, agents, ""


def _battle_inputs(spec: BattleSpec, models_dir, runs_dir, session):
    """(spec, ticker, frame, provenance, agents, message, agents stamp for cache keys)."""
    from core.data import normalise_ticker

    if spec.run_id:
        spec, frame, provenance, agents, message = _run_battle_inputs(spec, runs_dir, session)
        stamp = ("run", spec.run_id, str(runs_dir), session) if agents is not None else ("run-missing",)
        return spec, spec.ticker, frame, provenance, agents, message, stamp
    ticker = normalise_ticker(spec.ticker)
    frame, provenance = battle_data(ticker)
    agents, message = load_agents_for(ticker, provenance.sha256, models_dir)
    return spec, ticker, frame, provenance, agents, message, _models_stamp(ticker, models_dir)


def run_arena(spec: BattleSpec, *, models_dir=None, runs_dir=None, session: str | None = None) -> ArenaView:
    """Battle the agents (when available, every training seed) and the four benchmarks on the spec's window,
    cached.

    Each agent contestant is its median seed (by total return) with the seeds' band, per-seed metrics, its
    p-value against buy-and-hold and its trivial-policy flag; the result carries the deflated Sharpe ratio
    of the best agent x seed and its sentence (core.arena.results: ContestantResult, BattleResult).

    The arena never downloads (see `battle_data`). When `spec.agents` names a run (core.runs), that run's
    agents battle on the data they trained on, if `session` owns it under `runs_dir`; the view's spec then
    carries the run's ticker. Otherwise (or for another session's run: benchmarks only, and a message) the
    shipped agents of `models_dir` fight.
    """
    from core.arena import run_battle

    spec, ticker, frame, provenance, agents, message, _stamp = _battle_inputs(spec, models_dir, runs_dir, session)
    result = run_battle(
        frame, ticker=ticker, provenance=provenance, costs=spec.costs(), agents=agents,
        test_start=spec.start if spec.window == "custom" else None,
        test_end=spec.end if spec.window == "custom" else None,
        in_sample=spec.window == "in-sample", shared_market=spec.shared_market,
        share=not spec.run_id,  # a user's run stays in this process
    )
    return ArenaView(spec=spec, result=result, agents_ready=agents is not None, agents_message=message)


def arena_cost_stress(spec: BattleSpec, *, levels_bps=(0, 10, 25, 50), models_dir=None, runs_dir=None,
                      session: str | None = None):
    """Each contestant's return at each cost level and each agent's break-even cost (core.arena).

    `runs_dir` and `session` as in `run_arena`."""
    from core.arena import cost_stress

    spec, ticker, frame, provenance, agents, _message, stamp = _battle_inputs(spec, models_dir, runs_dir, session)
    key = ("stress", ticker, provenance.sha256, spec.window, spec.start, spec.end, spec.shared_market,
           tuple(levels_bps), stamp)
    return _STRESS.get_or_compute(key, lambda: cost_stress(
        frame, ticker=ticker, agents=agents, levels_bps=levels_bps,
        test_start=spec.start if spec.window == "custom" else None,
        test_end=spec.end if spec.window == "custom" else None,
        in_sample=spec.window == "in-sample", shared_market=spec.shared_market,
    ), share=not spec.run_id)


# Cost stress re-runs the battle at every level and bisects each break-even: seconds of CPU when cold,
# a 1 KB result. Shared between processes (core.lru), except for a user's run.
_STRESS = LRU(maxsize=16, shared="stress")
