"""Runs: agents trained for one browser session (the web's Train page), each in a folder of its own.

    <root>/<run_id>/run.json                                  what, on which data, by whom (hashed), when
    <root>/<run_id>/data.csv                                  the exact OHLCV trained on (canonical CSV)
    <root>/<run_id>/models/<TICKER>/<personality>/seed<k>.{zip,npz,json}   core.registry's layout

- A run id is 16 hex digits: the sha256 of the data's sha256, the training config, the personalities, the
  seeds and the owner. A run trains one seed by default (the Train page) or several (`seeds=`). The same session asking for the same run again gets the finished one back.
- Training happens in `<root>/.staging-<host>-<pid>-<random>` (core.training.train_all_agents publishes
  into it), then the whole folder is renamed to `<root>/<run_id>`: a run appears complete or not at all.
  A cancelled or failing job removes its staging folder; one whose process was killed leaves it, and
  `sweep` (called by every listing and training) removes it once that process is gone.
- `run.json` holds a hash of the session id, never the id itself. Runs are listed and loaded only by
  their owner, only by id (RUN_ID_PATTERN), never from a client path: a forged id or another session's
  run loads nothing and says so.
- At most `max_runs` runs stay on disk; the oldest go first. The shipped models/ folder is never written.

Loading uses the pickle-free .npz (core.agents.load_agents); the SB3 zip is kept for further training.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from core import PERSONALITIES

RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
SESSION_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_RUN_TIMESTEPS = 150_000
"""Largest PPO budget per personality a run may ask for (the shipped models' budget)."""
MAX_RUN_SEEDS = 5
"""Most training seeds a run may ask for (the shipped models' count)."""
DEFAULT_MAX_RUNS = 50
STALE_STAGING_SECONDS = 6 * 3600
"""A staging folder older than this is removed even when its process cannot be checked (another host)."""
RECORD = "run.json"
DATA = "data.csv"
MODELS = "models"
_STAGING = ".staging-"
_TRASH = ".trash-"
_HOST = socket.gethostname()


class RunError(ValueError):
    """A run that cannot be made or used; the message says what to do."""


class RunNotFound(RunError):
    """No such run for this session (absent, removed, or another session's: the same answer for all)."""


@dataclass
class RunInfo:
    """A finished run as clients list it (the owner is not included)."""

    run_id: str
    ticker: str
    personalities: tuple[str, ...]
    timesteps: int
    seed: int
    """The first (or only) training seed."""
    created: float
    """Unix time the run was published."""
    data: dict
    """Provenance of the training data (source, ticker, start, end, rows, sha256, label, ...)."""
    config: dict
    """The TrainConfig fields shared by every personality (hyperparameters, costs, split)."""
    wall_time_s: float
    agents: dict = field(default_factory=dict)
    """Per personality: steps, wall time, in-sample and out-of-sample metrics next to buy-and-hold."""
    reused: bool = False
    """True when this session had trained exactly this before and got the finished run back."""
    seeds: tuple[int, ...] = ()
    """Every training seed of the run (each personality trained once per seed)."""

    @property
    def label(self) -> str:
        """One line for a picker, e.g. "AAPL · 4 agents · 10,000 steps · seed 0 · 2026-11-30 14:02"."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created))
        n = len(self.personalities)
        seeds = self.seeds or (self.seed,)
        which = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}"
        return f"{self.ticker} · {n} agent{'s' if n != 1 else ''} · {self.timesteps:,} steps · {which} · {when}"

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["personalities"] = list(self.personalities)
        out["seeds"] = list(self.seeds)
        out["label"] = self.label
        return out

    @classmethod
    def from_record(cls, record: dict, reused: bool = False) -> RunInfo:
        return cls(run_id=record["run_id"], ticker=record["ticker"], personalities=tuple(record["personalities"]),
                   timesteps=int(record["timesteps"]), seed=int(record["seed"]), created=float(record["created"]),
                   data=dict(record["data"]), config=dict(record["config"]),
                   wall_time_s=float(record["wall_time_s"]), agents=dict(record.get("agents", {})), reused=reused,
                   seeds=tuple(int(k) for k in record.get("seeds", [record["seed"]])))


# ---------------------------------------------------------------------------------------------------
# names and checks


def runs_root(root: Path | str) -> Path:
    """The runs directory, created private to the app user (0700: the SB3 zips inside are pickles)."""
    from core.registry import models_root

    path = Path(root).expanduser().resolve()
    shipped = models_root()
    if path == shipped or shipped in path.parents:
        raise RunError(f"The runs directory {path} lies in the shipped models folder, which is never written; "
                       "set NEON_RUNS_DIR elsewhere.")
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def check_session(session) -> str:
    if not isinstance(session, str) or not SESSION_PATTERN.match(session):
        raise RunError("This browser session has no id yet; reload the page and try again.")
    return session


def check_run_id(run_id) -> str:
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        shown = repr(run_id)[:40]
        raise RunNotFound(f"{shown} is not a run id: a run id is 16 hex digits, as in the Train page's battle link.")
    return run_id


def owner_key(session: str) -> str:
    """What run.json stores about its owner: a hash, so the folder never holds a session id."""
    return hashlib.sha256(f"neon-arena-run-owner:{check_session(session)}".encode()).hexdigest()


def run_id_for(data_sha256: str, config: dict, personalities: Sequence[str], session: str) -> str:
    """The run id: 16 hex digits of the sha256 of the data hash, config (seeds included), personalities and
    owner."""
    payload = json.dumps({"data": data_sha256, "config": config, "personalities": list(personalities),
                          "owner": owner_key(session)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def check_trainable(frame: pd.DataFrame, test_fraction: float = 0.2) -> None:
    """InsufficientData (saying how many rows are needed: core.training.min_rows) when `frame` is too short."""
    from core.indicators import add_indicators
    from core.training import split_by_date

    split_by_date(add_indicators(frame), test_fraction)


def _not_found(run_id: str, max_runs: int | None = None) -> RunNotFound:
    kept = f"the newest {max_runs}" if max_runs else "a bounded number of"
    return RunNotFound(f"No run {run_id} in this browser session: runs load only in the session that trained them "
                       f"and the server keeps {kept} runs. Train the agents again on the Train page.")


# ---------------------------------------------------------------------------------------------------
# disk housekeeping


@contextlib.contextmanager
def _locked(root: Path):
    """An exclusive lock on the runs root (publishing and pruning), across processes of this host."""
    with open(root / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed process not yet reaped by its parent is a zombie: gone too
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _remove(path: Path) -> None:
    """Remove a folder so that no reader ever sees half of it: rename it away, then delete."""
    trash = path.with_name(f"{_TRASH}{uuid.uuid4().hex[:12]}")
    try:
        os.rename(path, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def sweep(root: Path | str) -> int:
    """Remove staging folders whose process is gone (a killed job) or that are stale, and leftover trash.

    Returns how many folders were removed.
    """
    base = runs_root(root)
    removed = 0
    now = time.time()
    for path in base.iterdir():
        if path.name.startswith(_TRASH):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
            continue
        if not path.name.startswith(_STAGING):
            continue
        try:
            host, pid, _rand = path.name[len(_STAGING):].rsplit("-", 2)
            gone = (host == _HOST and _pid_gone(int(pid))) or now - path.stat().st_mtime > STALE_STAGING_SECONDS
        except (ValueError, OSError):
            gone = True
        if gone:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _read_record(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and record.get("run_id") == folder.name else None


def _all_runs(base: Path) -> list[dict]:
    out = []
    for path in base.iterdir():
        if RUN_ID_PATTERN.match(path.name) and path.is_dir():
            record = _read_record(path)
            if record is not None:
                out.append(record)
    return sorted(out, key=lambda r: float(r.get("created", 0.0)), reverse=True)


def prune(root: Path | str, max_runs: int) -> list[str]:
    """Remove the oldest runs until at most `max_runs` remain (also unreadable run folders); their ids."""
    if max_runs < 1:
        raise ValueError(f"max_runs must be at least 1, got {max_runs}")
    base = runs_root(root)
    with _locked(base):
        keep = {r["run_id"] for r in _all_runs(base)[:max_runs]}
        removed = []
        for path in base.iterdir():
            if RUN_ID_PATTERN.match(path.name) and path.name not in keep:
                _remove(path)
                removed.append(path.name)
    return removed


# ---------------------------------------------------------------------------------------------------
# training a run


def _record(run_id, session, ticker, names, timesteps, seeds, provenance, config, summaries, wall) -> dict:
    """run.json: agents[personality] is its first seed's summary; with several seeds, also "seeds" ({seed:
    summary})."""
    agents: dict[str, dict] = {}
    for s in summaries:
        entry = {"timesteps": s["timesteps"], "wall_time_s": s["wall_time_s"], "in_sample": s["in_sample"],
                 "out_of_sample": s["out_of_sample"], "peak_rss_mb": round(float(s["peak_rss_mb"]), 1)}
        first = agents.setdefault(s["personality"], dict(entry))
        if len(seeds) > 1:
            first.setdefault("seeds", {})[str(s["seed"])] = entry
    return {"run_version": 1, "run_id": run_id, "owner": owner_key(session), "ticker": ticker,
            "personalities": list(names), "timesteps": int(timesteps), "seed": int(seeds[0]),
            "seeds": [int(k) for k in seeds], "created": time.time(), "data": provenance, "config": config,
            "wall_time_s": round(wall, 2), "agents": agents}


def _provenance_dict(provenance, frame: pd.DataFrame, ticker: str) -> dict:
    from core.data import frame_sha256

    if hasattr(provenance, "to_dict"):
        out = provenance.to_dict()
    else:
        out = dict(provenance or {})
    sha = frame_sha256(frame[["date", "open", "high", "low", "close", "volume"]])
    if out.get("sha256") and out["sha256"] != sha:
        raise RunError("The training data changed after it was loaded (its sha256 differs); load it again.")
    out.setdefault("ticker", ticker)
    out.setdefault("rows", len(frame))
    out["sha256"] = sha
    return {k: (v if isinstance(v, (int, float, bool, type(None))) else str(v)) for k, v in out.items()}


def train_run(
    root: Path | str,
    session: str,
    *,
    frame: pd.DataFrame,
    provenance=None,
    ticker: str | None = None,
    timesteps: int,
    seed: int = 0,
    seeds: Sequence[int] | None = None,
    personalities: Sequence[str] = PERSONALITIES,
    processes: int = 2,
    progress=None,
    report=None,
    cancel=None,
    max_runs: int = DEFAULT_MAX_RUNS,
    **config_overrides,
) -> RunInfo:
    """Train the chosen personalities on `frame` into a new run of `session` (or return its twin).

    Parameters
    ----------
    root: the runs root (settings.runs_dir).
    session: the owner's session id.
    frame: validated OHLCV (date, open, high, low, close, volume); at least core.training.min_rows() rows.
    provenance: where `frame` came from (core.data.Provenance or its dict).
    ticker: registry name of the agents (default: the provenance's ticker, or the CSV's cleaned stem).
    timesteps: PPO steps per personality, 1..MAX_RUN_TIMESTEPS.
    seed: training seed, 0..2**31-1 (the default: one seed, as the Train page asks).
    seeds: several training seeds instead (at most MAX_RUN_SEEDS, distinct): every personality is trained
        once per seed, and the run battles them all (core.agents.AgentSeeds).
    personalities: which personalities (names from core.PERSONALITIES).
    processes: personalities trained at once in spawned processes (the CLI's default, 2).
    progress, report, cancel: core.training.train_all_agents' hooks (overall progress, per-personality
        AgentProgress, cancel poll; a cancel raises TrainingCancelled and leaves nothing).
    max_runs: runs kept on disk; the oldest are removed after this one is published.
    config_overrides: other TrainConfig fields (n_envs, n_steps, ...).
    """
    from core.personalities import resolve_personalities
    from core.registry import BadModelName, validate_ticker
    from core.training import TrainConfig, csv_ticker, train_all_agents

    check_session(session)
    if isinstance(timesteps, bool) or not isinstance(timesteps, int) or not 1 <= timesteps <= MAX_RUN_TIMESTEPS:
        raise RunError(f"Training budgets run from 1 to {MAX_RUN_TIMESTEPS:,} steps per personality, got {timesteps!r}.")
    seed_list = [seed] if seeds is None else list(seeds)
    for k in seed_list:
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < 2**31:
            raise RunError(f"The seed must be a whole number from 0 to {2**31 - 1}, got {k!r}.")
    if not 1 <= len(seed_list) <= MAX_RUN_SEEDS or len(set(seed_list)) != len(seed_list):
        raise RunError(f"Give 1 to {MAX_RUN_SEEDS} different seeds, got {seed_list!r}.")
    names = [p.name for p in resolve_personalities(tuple(personalities))]
    from core.data import validate_ohlcv

    frame = validate_ohlcv(frame, name=str(ticker or "the training data"))
    check_trainable(frame, config_overrides.get("test_fraction", 0.2))
    known = provenance.get("ticker") if isinstance(provenance, dict) else getattr(provenance, "ticker", None)
    name = ticker or known or "DATA"
    try:
        ticker = validate_ticker(name)
    except BadModelName:
        ticker = csv_ticker(name)
    prov = _provenance_dict(provenance, frame, ticker)
    base_cfg = TrainConfig(personality=names[0], ticker=ticker, timesteps=timesteps, seed=seed_list[0], live=False,
                           **config_overrides).to_dict()
    config = {k: v for k, v in base_cfg.items() if k not in ("personality", "csv", "live", "data_cache")}
    config["seeds"] = seed_list
    run_id = run_id_for(prov["sha256"], config, names, session)

    base = runs_root(root)
    sweep(base)
    existing = _read_record(base / run_id)
    if existing is not None and existing.get("owner") == owner_key(session):
        return RunInfo.from_record(existing, reused=True)

    staging = base / f"{_STAGING}{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(mode=0o700)
    t0 = time.perf_counter()
    try:
        summaries = train_all_agents(
            ticker, frame=frame, provenance=prov, timesteps=timesteps, seeds=seed_list, personalities=names,
            out_dir=staging / MODELS, processes=processes, progress=progress, cancel=cancel, report=report,
            live=False, **config_overrides)
        from core.data import canonical_csv

        (staging / DATA).write_text(canonical_csv(frame), encoding="utf-8")
        record = _record(run_id, session, ticker, names, timesteps, seed_list, prov, config, summaries,
                         time.perf_counter() - t0)
        (staging / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n",
                                      encoding="utf-8")  # the record last: it marks a complete run
        with _locked(base):
            try:
                os.rename(staging, base / run_id)
            except OSError:  # the same session finished the same run meanwhile: keep that one
                existing = _read_record(base / run_id)
                if existing is None or existing.get("owner") != record["owner"]:
                    raise
                return RunInfo.from_record(existing, reused=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    prune(base, max_runs)
    return RunInfo.from_record(record)


# ---------------------------------------------------------------------------------------------------
# reading runs (owner only, by id only)


def _owned(root: Path | str, run_id: str, session: str) -> tuple[Path, dict]:
    check_run_id(run_id)
    check_session(session)
    base = runs_root(root)
    folder = base / run_id
    record = _read_record(folder) if folder.is_dir() else None
    if record is None or record.get("owner") != owner_key(session):
        raise _not_found(run_id)
    return folder, record


def list_runs(root: Path | str, session: str) -> list[RunInfo]:
    """The session's runs, newest first (and a sweep of folders left by killed jobs)."""
    check_session(session)
    base = runs_root(root)
    sweep(base)
    mine = owner_key(session)
    return [RunInfo.from_record(r) for r in _all_runs(base) if r.get("owner") == mine]


def load_run(root: Path | str, run_id: str, session: str) -> RunInfo:
    """One run of the session (RunNotFound otherwise)."""
    return RunInfo.from_record(_owned(root, run_id, session)[1])


def run_card(root: Path | str, run_id: str, session: str) -> dict:
    """{"run": RunInfo dict, "cards": {personality: its first seed's model card}, "seed_cards": {personality:
    {seed: model card}}} of one run of the session."""
    from core.registry import ModelCorrupt, ModelMissing, load_card

    folder, record = _owned(root, run_id, session)
    info = RunInfo.from_record(record)
    seed_cards: dict[str, dict[int, dict]] = {}
    for name in record["personalities"]:
        for k in info.seeds:
            try:
                seed_cards.setdefault(name, {})[k] = load_card(record["ticker"], name, folder / MODELS, k)
            except (ModelMissing, ModelCorrupt) as exc:
                raise RunError(f"Run {run_id} is damaged ({exc}); train it again.") from None
    cards = {name: by_seed[info.seeds[0]] for name, by_seed in seed_cards.items()}
    return {"run": info.to_dict(), "cards": cards, "seed_cards": seed_cards}


def load_run_agents(root: Path | str, run_id: str, session: str, data_sha256: str | None = None):
    """The run's agents, every seed it trained, as core.agents.AgentSeeds (what core.arena.run_battle takes),
    from the .npz only.

    data_sha256: the data about to be battled on; a mismatch with the training data adds a warning.
    """
    from core.agents import load_agent_seeds
    from core.registry import ModelCorrupt, ModelMissing

    folder, record = _owned(root, run_id, session)
    try:
        return load_agent_seeds(record["ticker"], models_dir=folder / MODELS, personalities=record["personalities"],
                                data_sha256=data_sha256, seeds=record.get("seeds", [record["seed"]]))
    except (ModelMissing, ModelCorrupt) as exc:
        raise RunError(f"Run {run_id} is damaged ({exc}); train it again.") from None


def load_run_data(root: Path | str, run_id: str, session: str):
    """(frame, core.data.Provenance) of the exact data the run trained on (checked against its sha256)."""
    from core.data import DataError, Provenance, read_ohlcv_csv

    folder, record = _owned(root, run_id, session)
    try:
        frame, loaded = read_ohlcv_csv((folder / DATA).read_bytes(), name=DATA)
    except (OSError, DataError) as exc:
        raise RunError(f"Run {run_id} has no readable training data ({exc}); train it again.") from None
    data = record["data"]
    if loaded.sha256 != data.get("sha256"):
        raise RunError(f"Run {run_id}'s training data does not match its record; train it again.")
    try:
        prov = Provenance.from_dict(data)
    except (KeyError, ValueError, TypeError):
        prov = replace(loaded, ticker=record["ticker"])
    return frame, prov
