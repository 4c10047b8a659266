"""PPO training of the four personalities: data split, training envs, seeds, progress/cancel, model cards.

Each personality is trained on its own (one SB3 PPO each) on a single-agent view of the arena where the
chosen agent acts and the others hold at level 0 (flat; without a shared market they do not affect it),
once per training seed. The last `test_fraction` of the bars is the test set: it is never seen in
training, the feature scaler is fit on training rows only, and the model card reports both periods next
to buy-and-hold (and the personality's mean shaped reward per step).

Training envs (TrainConfig.vec_env):
- "arena" (default): core.vecenv.ArenaVecEnv, an SB3 VecEnv over core.env.BatchArena: 64 windows with
  random starts inside the training period, stepped by one numpy call (tests/core/test_vecenv.py: equal to
  the PettingZoo env step for step). With PPO settings chosen for throughput (TrainConfig says why for each)
  it trains several times faster than the original path at the same number of env steps
  (bench/bench_training.py prints the ratio and the validation rewards of both).
- "dummy": the original path, kept for the comparison (LEGACY_PPO): an SB3 DummyVecEnv of `PersonalityEnv`
  copies, a gymnasium env wrapped in Supersuit's dtype_v0.

Seeds: `train_all_agents(seeds=[...])` trains every personality once per seed, in spawned processes that
each take a share of the (personality, seed) tasks; the registry files them as
<TICKER>/<personality>/seed<k>.{zip,npz,json}. torch is imported inside the functions that need it (the
web app imports this module's light parts only through jobs).

Supersuit 3.11 on a gymnasium env (checked): its single-agent wrappers apply (dtype_v0, normalize_obs_v0,
clip_reward_v0, frame_stack_v1 all wrap and run). The "dummy" path uses `supersuit.dtype_v0(env,
np.float32)` to pin the dtype SB3 sees (ArenaVecEnv emits float32 itself); normalize_obs_v0 rescales by
the Box bounds (our FeatureScaler already standardises on training rows), and reward clipping would blunt
the personalities' shaping. Of the vector helpers, `stable_baselines3_vec_env_v0` returns a plain SB3
DummyVecEnv (what the "dummy" path builds directly) and `gym_vec_env_v0` returns a gymnasium SyncVectorEnv
that SB3 rejects; `pettingzoo_env_to_vec_env_v1` + `concat_vec_envs_v1` are for PettingZoo envs and share
ONE policy across agents (STACK.md), which is not what four independent personalities need.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import resource
import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import gymnasium
import numpy as np
import pandas as pd
from gymnasium.utils import seeding

from core import PERSONALITIES
from core.env import OBSERVATION_NAMES, ArenaCore, Market, TradingArenaEnv
from core.features import FeatureScaler, first_valid_bar, market_features
from core.indicators import WARMUP_BARS, add_indicators
from core.personalities import get_personality, resolve_personalities
from core.sim import Costs, SimResult, simulate

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

MIN_TRAIN_BARS = 250
"""At least about one year of daily bars to learn from."""
MIN_TEST_BARS = 50
"""At least about ten weeks of daily bars to judge on."""
SHIPPED_TICKERS: tuple[str, ...] = ("AAPL", "TSLA", "BTC-USD")
SHIPPED_TIMESTEPS = 150_000
"""Budget per personality of the shipped models (about a minute per personality on one core)."""
SHIPPED_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
"""Training seeds of the shipped models: one seed per personality is an anecdote."""
CANCEL_CHECK_STEPS = 256
VEC_ENVS = ("arena", "dummy")
LEGACY_PPO: dict = {"vec_env": "dummy", "n_envs": 4, "n_steps": 256, "batch_size": 256, "n_epochs": 5,
                    "learning_rate": 3e-4}
"""The original training path and PPO settings (before issue #11), for bench_training's comparison."""


@dataclass
class AgentProgress:
    """Where one personality's training stands (what a per-personality progress bar shows)."""

    personality: str
    total: int
    """PPO steps asked for."""
    steps: int = 0
    """PPO steps done (SB3 collects whole rollouts, so the last value may exceed `total`)."""
    state: str = "waiting"
    """waiting (for a free process) | starting (its process loads the learner) | training | evaluating (in-
    and out-of-sample rollouts) | done"""
    mean_reward: float | None = None
    """Mean episode reward (shaped, as the agent sees it) of the last RECENT_EPISODES finished episodes."""
    elapsed_s: float = 0.0
    """Seconds since this personality's PPO started."""
    remaining_s: float | None = None
    """Estimated seconds of PPO left at the rate so far (None before the first rollout)."""

    @property
    def fraction(self) -> float:
        return 1.0 if self.state == "done" else min(1.0, self.steps / max(1, self.total))

    def to_dict(self) -> dict:
        return asdict(self)


ReportFn = Callable[[AgentProgress], None]
RECENT_EPISODES = 20


class TrainingCancelled(RuntimeError):
    """Training was cancelled through the cancel hook; nothing was written."""


class InsufficientData(ValueError):
    """Too few rows for the indicator warm-up plus a usable train/test split."""


@dataclass(frozen=True)
class Split:
    """Bar ranges [start, end) of the training and test periods."""

    train: tuple[int, int]
    test: tuple[int, int]


def min_rows(test_fraction: float = 0.2, first_bar: int = WARMUP_BARS) -> int:
    """Smallest number of rows that gives MIN_TRAIN_BARS training and MIN_TEST_BARS test bars.

    Parameters
    ----------
    test_fraction: share of the bars held out at the end.
    first_bar: first bar with every feature defined (the indicator warm-up).
    """
    need = max(math.ceil((first_bar + MIN_TRAIN_BARS) / (1.0 - test_fraction)), math.ceil(MIN_TEST_BARS / test_fraction))
    while True:  # round-off: confirm with the exact split rule of split_by_date
        n_test = math.ceil(need * test_fraction)
        if n_test >= MIN_TEST_BARS and need - n_test - first_bar >= MIN_TRAIN_BARS:
            return need
        need += 1


def _first_feature_bar(frame: pd.DataFrame) -> int | None:
    """First bar with every market feature defined, or None when the frame is too short for any."""
    if len(frame) <= WARMUP_BARS:
        return None
    try:
        return first_valid_bar(market_features(frame))
    except ValueError:
        return None


def split_by_date(frame: pd.DataFrame, test_fraction: float = 0.2, test_start: str | None = None) -> Split:
    """Train and test bar ranges: the last `test_fraction` of bars (or bars from `test_start` on) are test.

    Parameters
    ----------
    frame: OHLCV frame with a 'date' column (or a DatetimeIndex when test_start is used).
    test_fraction: share of the bars held out at the end, in (0, 0.5].
    test_start: explicit first test date (ISO string); overrides test_fraction.
    """
    if not 0.0 < test_fraction <= 0.5:
        raise ValueError(f"test_fraction must be in (0, 0.5], got {test_fraction}")
    n = len(frame)
    first = _first_feature_bar(frame)
    first_bar = WARMUP_BARS if first is None else first
    if test_start is not None:
        dates = pd.to_datetime(frame["date"] if "date" in frame.columns else frame.index)
        split_at = int(np.searchsorted(dates.to_numpy(), np.datetime64(pd.Timestamp(test_start)), side="left"))
    else:
        split_at = n - math.ceil(n * test_fraction)
    if first is None or n - split_at < MIN_TEST_BARS or split_at - first_bar < MIN_TRAIN_BARS:
        detail = (
            f"; test_start {test_start} leaves {split_at - first_bar} training and {n - split_at} test bars"
            if test_start is not None
            else ""
        )
        raise InsufficientData(
            f"{n} rows are too few: training needs at least {min_rows(test_fraction, first_bar)} rows "
            f"(indicator warm-up of {first_bar} bars, {MIN_TRAIN_BARS} training and {MIN_TEST_BARS} test bars)"
            + detail
        )
    return Split(train=(first_bar, split_at), test=(split_at, n))


def walk_forward_folds(
    n_bars: int, n_folds: int, *, first_bar: int = WARMUP_BARS, min_train_bars: int = MIN_TRAIN_BARS
) -> list[Split]:
    """Expanding-window folds: fold k trains on [first_bar, s_k) and tests on [s_k, s_{k+1}).

    Parameters
    ----------
    n_bars: number of bars in the data.
    n_folds: number of test blocks, each of equal size, covering the bars after the first training block.
    first_bar: first usable bar (after the indicator warm-up).
    min_train_bars: size of the first training block.
    """
    if n_folds < 1:
        raise ValueError(f"n_folds must be at least 1, got {n_folds}")
    usable = n_bars - first_bar - min_train_bars
    if usable < n_folds * MIN_TEST_BARS:
        need = first_bar + min_train_bars + n_folds * MIN_TEST_BARS
        raise InsufficientData(f"{n_folds} folds need at least {need} bars, got {n_bars}")
    edges = first_bar + min_train_bars + np.linspace(0, usable, n_folds + 1).round().astype(int)
    return [Split(train=(first_bar, int(a)), test=(int(a), int(b))) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@dataclass
class TrainConfig:
    """Everything that determines a trained agent (saved in its model card)."""

    personality: str = "aggressive"
    """Which personality to train (one of core.PERSONALITIES)."""
    ticker: str | None = None
    """Market symbol; also the registry folder (for --csv: the file's stem unless given)."""
    csv: str | None = None
    """Path of an OHLCV CSV to train on instead of the ticker's data."""
    live: bool = True
    """Allow a live download (False: cache or bundled data only)."""
    data_cache: bool = True
    """Read the downloaded-data cache; False with live=False trains on exactly the bundled snapshot."""
    timesteps: int = SHIPPED_TIMESTEPS
    """PPO environment steps."""
    seed: int = 0
    """Seed of python, numpy, torch and the environments."""
    test_fraction: float = 0.2
    """Share of the last bars held out as the test set."""
    test_start: str | None = None
    """Explicit first test date (overrides test_fraction)."""
    episode_bars: int = 256
    """Training episode length in bars, with random starts inside the training period."""
    commission_bps: float = 10.0
    """Commission per fill in basis points."""
    slippage_bps: float = 5.0
    """Slippage per fill in basis points."""
    cash0: float = 100_000.0
    """Starting cash."""
    vec_env: str = "arena"
    """How PPO steps the training windows: "arena" = core.vecenv.ArenaVecEnv, all windows in one numpy call
    per step over core.env.BatchArena (the fast path); "dummy" = an SB3 DummyVecEnv of Supersuit-wrapped
    PersonalityEnv copies, one Python env per window (the original path, kept for comparison: LEGACY_PPO)."""
    n_envs: int = 64
    """Training windows stepped together (random starts inside the training period): one torch forward
    and one numpy arena step serve 64 env steps, so their fixed per-call cost is shared 64 ways (the old
    path paid it every 4 steps, plus a Python env step per window)."""
    learning_rate: float = 6e-4
    """Adam learning rate: twice the old 3e-4 because the minibatches are twice as large (half as many
    gradient steps for the same samples); chosen on the validation slice (bench_training), never the test."""
    n_steps: int = 16
    """Steps per window per rollout: rollout = 16 x 64 = 1,024 steps, as the old path's 256 x 4, so PPO makes
    as many updates (146 in 150k steps), each bounded by the clip range: fewer, larger rollouts learned less."""
    batch_size: int = 512
    """Minibatch size: a gradient step on 512 samples costs little more than one on 256 with this small
    network (torch's per-call overhead dominates), so half as many steps for the same samples."""
    n_epochs: int = 5
    """Optimisation epochs per rollout (5 x 2 minibatches = 10 gradient steps per update)."""
    gamma: float = 0.9
    """Discount: the shaped rewards are mostly immediate, a short horizon learns faster."""
    gae_lambda: float = 0.9
    """GAE lambda."""
    ent_coef: float = 0.01
    """Entropy bonus (keeps exploring the five levels early on)."""
    clip_range: float = 0.2
    """PPO clip range."""
    net_arch: tuple[int, ...] = field(default=(64, 64))
    """Hidden layer sizes of the actor and of the critic (tanh)."""
    torch_threads: int = 1
    """torch threads per training process: more are no faster for a 64 x 64 network (STACK.md: 2 threads
    no faster), they would only fight the other training process for the 2 cores, and a forked job with
    more than one thread can deadlock (STACK.md pitfall 2). Parallelism comes from processes instead."""

    def __post_init__(self) -> None:
        get_personality(self.personality)
        if (self.ticker is None) == (self.csv is None) and self.csv is None:
            raise ValueError("give a ticker or a csv path to train on")
        if self.timesteps < 1 or self.n_envs < 1 or self.n_steps < 2:
            raise ValueError("timesteps, n_envs must be >= 1 and n_steps >= 2")
        if self.vec_env not in VEC_ENVS:
            raise ValueError(f"vec_env must be one of {', '.join(VEC_ENVS)}, got {self.vec_env!r}")
        if self.torch_threads < 1:
            raise ValueError(f"torch_threads must be at least 1, got {self.torch_threads}")
        if (self.n_steps * self.n_envs) % self.batch_size:
            raise ValueError(
                f"batch_size {self.batch_size} must divide n_steps x n_envs = {self.n_steps * self.n_envs}"
            )
        self.net_arch = tuple(int(x) for x in self.net_arch)

    @property
    def costs(self) -> Costs:
        return Costs(commission_bps=self.commission_bps, slippage_bps=self.slippage_bps)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["net_arch"] = list(self.net_arch)
        return out


class PersonalityEnv(gymnasium.Env):
    """Single-agent gymnasium view of the arena: `personality` acts, the others hold at level 0.

    Parameters
    ----------
    frame: OHLCV frame with indicators.
    personality: the acting agent.
    start, end: window bars (the training period).
    episode_bars: episode length with random starts (None: the whole window).
    costs: commission and slippage.
    cash0: starting cash.
    scaler: feature scaler fit on the training rows.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        frame: pd.DataFrame,
        personality: str,
        *,
        start: int | None = None,
        end: int | None = None,
        episode_bars: int | None = 256,
        costs: Costs | None = None,
        cash0: float = 100_000.0,
        scaler: FeatureScaler | None = None,
    ) -> None:
        super().__init__()
        self.arena = TradingArenaEnv(
            frame, start=start, end=end, episode_bars=episode_bars, costs=costs, cash0=cash0, scalers=scaler
        )
        arena = self.arena
        self.core = ArenaCore(arena.market, arena.personalities, arena.scalers, arena.costs, arena.cash0)
        self.agent = get_personality(personality).name
        self._index = arena.possible_agents.index(self.agent)
        self.observation_space = arena.observation_space(self.agent)
        self.action_space = arena.action_space(self.agent)
        self._hold = np.zeros((1, len(arena.possible_agents)), dtype=np.int64)
        self._last_bar = arena.end - 1

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.arena.np_random, self.arena.np_random_seed = seeding.np_random(seed)
        start = self.arena.episode_start()
        episode_bars = self.arena.episode_bars
        self._last_bar = (self.arena.end if episode_bars is None else start + episode_bars) - 1
        obs = self.core.reset(np.array([start]))
        return obs[0, self._index], {}

    def step(self, action):
        acts = self._hold.copy()
        acts[0, self._index] = int(action)
        core = self.core
        reward = float(core.step(acts)[0, self._index])
        obs = core.observe()[0, self._index]
        truncated = int(core.t[0]) >= self._last_bar
        return obs, reward, False, truncated, {}


def _make_callback(total: int, progress: ProgressFn | None, cancel: CancelFn | None, label: str,
                   report: ReportFn | None = None, personality: str = ""):
    from stable_baselines3.common.callbacks import BaseCallback

    class ProgressCancelCallback(BaseCallback):
        """Reports progress after every rollout and checks the cancel hook every CANCEL_CHECK_STEPS steps.

        It also keeps each environment's running episode reward (from the rollout's own `rewards` and
        `dones`: bookkeeping only, the model and its random streams are untouched) for `report`.
        """

        def _on_training_start(self) -> None:
            self.t0 = time.perf_counter()
            self.running = np.zeros(self.training_env.num_envs)
            self.recent: deque[float] = deque(maxlen=RECENT_EPISODES)
            self._report("training")

        def _report(self, state: str) -> None:
            if report is None:
                return
            elapsed = time.perf_counter() - self.t0
            steps = int(self.num_timesteps)
            remaining = max(0.0, (total - steps) * elapsed / steps) if steps else None
            mean = float(np.mean(self.recent)) if self.recent else None
            report(AgentProgress(personality, total, steps, state, mean, round(elapsed, 2),
                                 None if remaining is None else round(remaining, 1)))

        def _on_step(self) -> bool:
            if report is not None:
                self.running += np.asarray(self.locals["rewards"], dtype=float)
                for i in np.flatnonzero(self.locals["dones"]):
                    self.recent.append(float(self.running[i]))
                    self.running[i] = 0.0
            if cancel is not None and self.n_calls % max(1, CANCEL_CHECK_STEPS // self.training_env.num_envs) == 0:
                if cancel():
                    raise TrainingCancelled(f"training of {label} cancelled")
            return True

        def _on_rollout_end(self) -> None:
            if progress is not None:
                progress(min(self.num_timesteps / total, 1.0), f"{label}: {self.num_timesteps:,}/{total:,} steps")
            self._report("training")

        def _on_training_end(self) -> None:
            self._report("evaluating")

    return ProgressCancelCallback()


def load_training_data(config: TrainConfig) -> tuple[pd.DataFrame, dict]:
    """OHLCV frame and provenance dict (sha256, source, dates, rows, ticker) for a config."""
    from core.data import load_ohlcv  # imported late: core.data pulls in the downloader

    source = config.csv if config.csv is not None else config.ticker
    frame, prov = load_ohlcv(source, live=config.live, use_cache=config.data_cache)
    return frame, provenance_dict(prov)


def provenance_dict(prov) -> dict:
    """A JSON-ready view of a core.data.Provenance (or of a dict with the same keys)."""
    if hasattr(prov, "to_dict"):
        prov = prov.to_dict()
    get = prov.get if isinstance(prov, dict) else lambda k, d=None: getattr(prov, k, d)
    return {k: (None if get(k) is None else str(get(k))) for k in ("ticker", "source", "sha256", "start", "end")} | {
        "rows": int(get("rows", 0) or 0)
    }


def window_metrics(result: SimResult, open_: np.ndarray, close: np.ndarray, costs: Costs) -> dict:
    """Total return, max drawdown, exposure, trades and costs of a run, next to buy-and-hold (same costs)."""
    bh_targets = np.full(close.size, np.nan)
    bh_targets[0] = 1.0
    bh = simulate(open_, close, bh_targets, costs, float(result.equity[0]))

    def mdd(eq: np.ndarray) -> float:
        return float(np.max(1.0 - eq / np.maximum.accumulate(eq)))

    return {
        "total_return": float(result.equity[-1] / result.equity[0] - 1.0),
        "max_drawdown": mdd(result.equity),
        "exposure": float(result.position.mean()),
        "trades": int(result.fill_bars.size),
        "costs_paid": float(result.fill_cost.sum()),
        "buy_hold_return": float(bh.equity[-1] / bh.equity[0] - 1.0),
        "buy_hold_max_drawdown": mdd(bh.equity),
        "bars": int(close.size),
    }


def _dates(frame: pd.DataFrame, rng: tuple[int, int]) -> dict:
    dates = frame["date"] if "date" in frame.columns else pd.Series(frame.index)
    return {
        "start": str(pd.Timestamp(dates.iloc[rng[0]]).date()),
        "end": str(pd.Timestamp(dates.iloc[rng[1] - 1]).date()),
        "bars": int(rng[1] - rng[0]),
        "first_bar": int(rng[0]),
        "end_bar": int(rng[1]),
    }


def csv_ticker(name: str | None) -> str:
    """Registry folder name for a CSV's agents: its upper-cased stem, other characters as '_' ("my data.csv"
    -> "MY_DATA")."""
    from core.registry import validate_ticker

    stem = Path(name or "data").stem.upper()
    cleaned = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in stem)[:32] or "CSV"
    return validate_ticker(cleaned.lstrip("._-") or "CSV")


def _ticker_for(config: TrainConfig, prov: dict) -> str:
    from core.registry import validate_ticker

    if config.ticker:
        return validate_ticker(config.ticker)
    return csv_ticker(config.csv)


def _training_env(config: TrainConfig, frame: pd.DataFrame, split: Split, episode_bars: int, scaler):
    """(SB3 VecEnv over the training period, Supersuit wrappers used) for config.vec_env."""
    costs = config.costs
    if config.vec_env == "arena":
        from core.vecenv import ArenaVecEnv

        venv = ArenaVecEnv(frame, config.personality, n_envs=config.n_envs, start=split.train[0], end=split.train[1],
                           episode_bars=episode_bars, costs=costs, cash0=config.cash0, scaler=scaler,
                           seed=config.seed)
        return venv, []  # float32 observations already: no dtype wrapper needed
    import supersuit
    from stable_baselines3.common.vec_env import DummyVecEnv

    def make_env():
        env = PersonalityEnv(frame, config.personality, start=split.train[0], end=split.train[1],
                             episode_bars=episode_bars, costs=costs, cash0=config.cash0, scaler=scaler)
        return supersuit.dtype_v0(env, np.float32)

    return DummyVecEnv([make_env for _ in range(config.n_envs)]), ["dtype_v0(float32)"]


def train_agent(
    config: TrainConfig,
    *,
    frame: pd.DataFrame | None = None,
    provenance: dict | None = None,
    out_dir: str | Path | None = None,
    save: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    report: ReportFn | None = None,
) -> dict:
    """Train one personality with PPO, evaluate it on both periods, write zip + npz + card.

    Parameters
    ----------
    config: what to train.
    frame: OHLCV data (default: loaded from config.ticker / config.csv through core.data).
    provenance: provenance of `frame` (dict with sha256, source, start, end, rows, ticker).
    out_dir: models root to write into (default: core.registry.models_root()).
    save: False trains and evaluates without writing anything.
    progress: called with (fraction done, message) after every rollout.
    cancel: polled during training; returning True raises TrainingCancelled and writes nothing.
    report: called with an AgentProgress (steps, recent mean episode reward, elapsed and remaining time)
        when training starts, after every rollout, when it evaluates and when it is done.

    Returns a summary dict (metrics, wall time, paths) plus the model card under "card".
    """
    import stable_baselines3
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.utils import set_random_seed

    from core.agents import run_policies
    from core.policy import NumpyPolicy
    from core.registry import library_versions, save_agent

    torch.set_num_threads(config.torch_threads)  # STACK.md pitfall 2; one thread is as fast for this network
    t0 = time.perf_counter()
    if frame is None:
        frame, provenance = load_training_data(config)
    provenance = provenance_dict(provenance or {"rows": len(frame)})
    ticker = _ticker_for(config, provenance)
    frame = add_indicators(frame) if "rsi" not in frame.columns else frame
    split = split_by_date(frame, config.test_fraction, config.test_start)
    market = Market.from_frame(frame)
    scaler = FeatureScaler.fit(market.features, *split.train)
    episode_bars = min(config.episode_bars, split.train[1] - split.train[0])
    costs = config.costs

    set_random_seed(config.seed)
    venv, wrappers = _training_env(config, frame, split, episode_bars, scaler)
    model = PPO(
        "MlpPolicy",
        venv,
        learning_rate=config.learning_rate,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        ent_coef=config.ent_coef,
        clip_range=config.clip_range,
        policy_kwargs={"net_arch": {"pi": list(config.net_arch), "vf": list(config.net_arch)}},
        seed=config.seed,
        device="cpu",
        verbose=0,
    )
    # SB3's default logger makes an empty /tmp/SB3-<time> folder per training, forever (a server that trains
    # from the browser would pile them up); progress comes from our callback, so log nowhere.
    model.set_logger(Logger(folder=None, output_formats=[]))
    label = f"{config.personality} on {ticker}"
    pers = get_personality(config.personality)
    callback = _make_callback(config.timesteps, progress, cancel, label, report, pers.name)
    model.learn(total_timesteps=config.timesteps, callback=callback)
    train_seconds = time.perf_counter() - t0
    policy = NumpyPolicy.from_sb3(model)
    metrics = {}
    for period, (s, e) in (("in_sample", split.train), ("out_of_sample", split.test)):
        roll = run_policies(market, [pers], [policy], [scaler], s, e, costs, config.cash0)[pers.name]
        metrics[period] = window_metrics(roll.result, market.open[s:e], market.close[s:e], costs) | {
            "mean_reward": float(np.mean(roll.rewards)) if roll.rewards.size else 0.0
        }
    card = {
        "card_version": 1,
        "ticker": ticker,
        "personality": pers.name,
        "label": pers.label,
        "data": provenance,
        "split": {"train": _dates(frame, split.train), "test": _dates(frame, split.test)},
        "config": config.to_dict(),
        "timesteps": int(model.num_timesteps),
        "seed": config.seed,
        "scaler": scaler.to_dict(),
        "versions": library_versions(),
        "policy": {"activation": policy.activation, "net_arch": list(config.net_arch), "sb3": stable_baselines3.__version__},
        "wall_time_s": round(time.perf_counter() - t0, 2),
        "train_time_s": round(train_seconds, 2),
        "metrics": metrics,
        "supersuit_wrappers": wrappers,
        "personality_params": asdict(pers),
        "observation": list(OBSERVATION_NAMES),
        "action_labels": list(pers.action_labels),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
    }
    paths = None
    if save:
        if cancel is not None and cancel():
            raise TrainingCancelled(f"training of {label} cancelled")
        paths = save_agent(ticker, pers.name, card=card, policy=policy, sb3_model=model, root=out_dir,
                           seed=config.seed)
    venv.close()
    if report is not None:
        report(AgentProgress(pers.name, config.timesteps, int(model.num_timesteps), "done",
                             float(np.mean(callback.recent)) if callback.recent else None,
                             round(time.perf_counter() - callback.t0, 2), 0.0))
    return {
        "ticker": ticker,
        "personality": pers.name,
        "seed": config.seed,
        "timesteps": int(model.num_timesteps),
        "wall_time_s": card["wall_time_s"],
        "in_sample": metrics["in_sample"],
        "out_of_sample": metrics["out_of_sample"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "paths": None if paths is None else {k: str(v) for k, v in asdict(paths).items()},
        "card": card,
    }


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    out = []
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**31:
            raise ValueError(f"seeds are whole numbers from 0 to {2**31 - 1}, got {seed!r}")
        out.append(int(seed))
    if not out:
        raise ValueError("give at least one seed")
    if len(set(out)) != len(out):
        raise ValueError(f"each seed may appear once, got {out}")
    return out


def _task_key(config: TrainConfig) -> tuple[str, int]:
    return config.personality, config.seed


def _worker(configs: list[TrainConfig], frame: pd.DataFrame, provenance: dict, staging: str, queue, cancel_event,
            with_report: bool = False) -> list[dict]:
    """Process entry point: train its share of (personality, seed) tasks one after the other into the staging
    folder, reporting through `queue` (one spawned process serves many tasks: torch is imported once)."""
    import torch

    torch.set_num_threads(configs[0].torch_threads if configs else 1)
    summaries = []
    for config in configs:
        if cancel_event.is_set():
            break
        key = _task_key(config)

        def progress(fraction: float, message: str, key=key) -> None:
            queue.put(("progress", key, fraction, message))

        def report(agent: AgentProgress, key=key) -> None:
            queue.put(("report", key, agent.to_dict(), ""))

        if with_report:
            report(AgentProgress(config.personality, config.timesteps, state="starting"))
        summary = train_agent(config, frame=frame, provenance=provenance, out_dir=staging, progress=progress,
                              cancel=cancel_event.is_set, report=report if with_report else None)
        summary["pid"] = os.getpid()
        summary.pop("card", None)
        summaries.append(summary)
    return summaries


def _publish(staging: Path, out_dir: Path) -> None:
    """Move every staged personality folder into the models root (after every task succeeded).

    A trained personality's folder <TICKER>/<personality>/ is REPLACED as a whole: its published seeds are
    exactly the ones trained together (same data, config and budget); an older single-file agent
    (<TICKER>/<personality>.{zip,npz,json}, the layout before seeds) is removed.
    """
    for folder in staging.iterdir():
        if not folder.is_dir():
            continue
        target = out_dir / folder.name
        target.mkdir(parents=True, exist_ok=True)
        for personality in sorted(p for p in folder.iterdir() if p.is_dir()):
            final = target / personality.name
            old = target / f".old-{personality.name}-{uuid.uuid4().hex[:8]}"
            if final.exists():
                os.rename(final, old)
            os.rename(personality, final)
            shutil.rmtree(old, ignore_errors=True)
            for ext in (".zip", ".npz", ".json"):
                (target / f"{personality.name}{ext}").unlink(missing_ok=True)


def train_all_agents(
    ticker: str | None = None,
    *,
    csv: str | None = None,
    frame: pd.DataFrame | None = None,
    provenance=None,
    timesteps: int = SHIPPED_TIMESTEPS,
    seed: int = 0,
    seeds: Sequence[int] | None = None,
    personalities: Sequence[str] = PERSONALITIES,
    out_dir: str | Path | None = None,
    processes: int = 2,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    report: ReportFn | None = None,
    live: bool = True,
    **config_overrides,
) -> list[dict]:
    """Train several personalities (x seeds) of one ticker, `processes` at a time, and publish them together.

    THE training entry point: `python -m core train` / `train-shipped` / `battle --train-timesteps` and
    the web's Train page (through core.runs.train_run, which gives it a run folder as `out_dir`) all
    train through here.

    Parameters
    ----------
    ticker: market symbol (or None with csv); with `frame`, the registry folder name.
    csv: path of an OHLCV CSV instead of a ticker.
    frame: OHLCV data already loaded (e.g. an upload); then `ticker` names it and nothing is loaded.
    provenance: where `frame` came from (core.data.Provenance or its dict).
    timesteps: PPO steps per personality and seed.
    seed: training seed (the same for every personality) when `seeds` is None.
    seeds: several training seeds: every personality is trained once per seed (seed-major order).
    personalities: which personalities to train.
    out_dir: models root (default: core.registry.models_root()); each trained personality's folder is
        replaced by the seeds trained here (see `_publish`).
    processes: spawned processes sharing the (personality, seed) tasks, each taking every `processes`-th
        task in order (1: everything in this process).
    progress: called with (overall fraction, message).
    cancel: polled; True stops every training, raises TrainingCancelled and writes nothing.
    report: called with each personality's AgentProgress: at once for all ("starting" for those a process
        takes first, "waiting" for the others), then from its training (steps, recent mean episode reward,
        elapsed and remaining time) until "done". With several seeds, one progress per personality over
        all its seeds (steps and total summed over the seeds).
    live: allow a live download of the data.
    config_overrides: any other TrainConfig field (e.g. n_envs, episode_bars).

    Returns one summary dict per (personality, seed), seed-major (without the cards).
    """
    from core.registry import models_root

    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    seed_list = _check_seeds([seed] if seeds is None else list(seeds))
    names = [p.name for p in resolve_personalities(tuple(personalities))]
    base = TrainConfig(personality=names[0], ticker=ticker, csv=csv, live=live, timesteps=timesteps,
                       seed=seed_list[0], **config_overrides)
    if frame is None:
        frame, prov = load_training_data(base)
    else:
        prov = provenance_dict(provenance or {"ticker": ticker, "rows": len(frame)})
    split_by_date(add_indicators(frame), base.test_fraction, base.test_start)  # fail fast on too little data
    configs = [replace(base, personality=n, seed=k) for k in seed_list for n in names]
    slots = min(processes, len(configs))
    root = Path(out_dir).resolve() if out_dir is not None else models_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{uuid.uuid4().hex[:12]}"
    done = dict.fromkeys((_task_key(c) for c in configs), 0.0)

    def overall(key: tuple[str, int], fraction: float, message: str) -> None:
        done[tuple(key)] = fraction
        if progress is not None:
            suffix = f" (seed {key[1]})" if len(seed_list) > 1 else ""
            progress(sum(done.values()) / len(done), message + suffix)

    if report is not None:
        report = _SeedReporter(report, names, seed_list, timesteps, [_task_key(c) for c in configs[:slots]])
    try:
        if slots == 1:
            summaries = []
            for cfg in configs:
                key = _task_key(cfg)
                if report is not None:
                    report(key, AgentProgress(cfg.personality, cfg.timesteps, state="starting"))
                summary = train_agent(
                    cfg, frame=frame, provenance=prov, out_dir=staging, cancel=cancel,
                    report=None if report is None else (lambda a, k=key: report(k, a)),
                    progress=lambda f, m, k=key: overall(k, f, m))
                summary.pop("card", None)
                summaries.append(summary)
        else:
            summaries = _train_in_processes(configs, frame, prov, staging, slots, overall, cancel, report)
        if cancel is not None and cancel():
            raise TrainingCancelled("training cancelled")
        _publish(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for s in summaries:
        if s.get("paths"):
            s["paths"] = {k: str(root / Path(v).relative_to(staging)) for k, v in s["paths"].items()}
    return summaries


class _SeedReporter:
    """Turns per-(personality, seed) AgentProgress into one AgentProgress per personality over its seeds.

    With one seed it passes reports through unchanged. It first reports every personality ("starting" for
    those whose first task a process takes at once, "waiting" for the others).
    """

    def __init__(self, report: ReportFn, names: list[str], seeds: list[int], timesteps: int,
                 first: list[tuple[str, int]]) -> None:
        self.report, self.seeds, self.timesteps = report, seeds, timesteps
        self.parts: dict[str, dict[int, AgentProgress]] = {n: {} for n in names}
        starting = {n for n, _ in first}
        for name in names:
            state = "starting" if name in starting else "waiting"
            for k in seeds:
                self.parts[name][k] = AgentProgress(name, timesteps, state="starting" if (name, k) in first else
                                                    "waiting")
            report(AgentProgress(name, timesteps * len(seeds), state=state))

    def __call__(self, key, agent: AgentProgress) -> None:
        name, seed = key
        if len(self.seeds) == 1:
            self.report(agent)
            return
        parts = self.parts[name]
        parts[seed] = agent
        states = [p.state for p in parts.values()]
        if all(s == "done" for s in states):
            state = "done"
        else:
            state = next((s for s in ("evaluating", "training", "starting") if s in states), "waiting")
            state = "training" if state == "waiting" and "done" in states else state
        steps = sum(min(p.steps, p.total) if p.state != "done" else p.total for p in parts.values())
        total = self.timesteps * len(self.seeds)
        elapsed = sum(p.elapsed_s for p in parts.values())
        remaining = 0.0 if state == "done" else (max(0.0, (total - steps) * elapsed / steps) if steps else None)
        rewards = [p.mean_reward for p in parts.values() if p.mean_reward is not None]
        self.report(AgentProgress(name, total, steps, state, float(np.mean(rewards)) if rewards else None,
                                  round(elapsed, 2), None if remaining is None else round(remaining, 1)))


def _die_with_parent(parent_pid: int) -> None:
    """Linux: this (spawned) process gets SIGKILL when the process that started it dies, so a training job
    that is killed or crashes leaves no trainer running on (a cancel kills the whole tree anyway)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: nothing to arm
        return
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _train_in_processes(configs, frame, prov, staging, processes, overall, cancel, report=None) -> list[dict]:
    """Train `configs` in `processes` spawned processes, process i taking configs[i::processes] in order;
    results in the order of `configs`."""
    from concurrent.futures import ProcessPoolExecutor, wait
    from multiprocessing.managers import SyncManager
    from queue import Empty

    ctx = mp.get_context("spawn")  # never fork a process that may hold torch threads (STACK.md pitfall 2)
    manager = SyncManager(ctx=ctx)
    manager.start(_die_with_parent, (os.getpid(),))
    shares = [configs[i::processes] for i in range(processes)]
    with manager:
        queue, cancel_event = manager.Queue(), manager.Event()
        with ProcessPoolExecutor(max_workers=processes, mp_context=ctx, max_tasks_per_child=1,
                                 initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(_worker, share, frame, prov, str(staging), queue, cancel_event, report is not None)
                       for share in shares]
            pending = set(futures)
            try:
                while pending:
                    _, pending = wait(pending, timeout=0.2)
                    while True:
                        try:
                            kind, key, value, message = queue.get_nowait()
                        except Empty:
                            break
                        if kind == "report":
                            report(tuple(key), AgentProgress(**value))
                        else:
                            overall(tuple(key), value, message)
                    if cancel is not None and not cancel_event.is_set() and cancel():
                        cancel_event.set()
            except BaseException:  # e.g. a SIGTERM-cancel or Ctrl-C here: stop the trainers, do not wait them out
                cancel_event.set()
                for future in futures:
                    future.cancel()
                raise
            if cancel_event.is_set():
                raise TrainingCancelled("training cancelled")
            results = [f.result() for f in futures]
    by_key = {_task_key_of(s): s for share in results for s in share}
    return [by_key[_task_key(c)] for c in configs]


def _task_key_of(summary: dict) -> tuple[str, int]:
    return summary["personality"], summary["seed"]


def train_shipped(
    *,
    out_dir: str | Path | None = None,
    tickers: Sequence[str] = SHIPPED_TICKERS,
    timesteps: int = SHIPPED_TIMESTEPS,
    seeds: Sequence[int] = SHIPPED_SEEDS,
    processes: int = 2,
    progress: ProgressFn | None = None,
) -> list[dict]:
    """Train the shipped agents (bundled data, every seed of `seeds`) for every ticker of SHIPPED_TICKERS."""
    out = []
    for ticker in tickers:
        out.extend(
            train_all_agents(ticker, timesteps=timesteps, seeds=seeds, out_dir=out_dir, processes=processes,
                             progress=progress, live=False, data_cache=False)
        )
    return out
