"""Trained-agent registry: models/<TICKER>/<personality>/seed<k>.{zip,npz,json}, loaded by name only.

One agent is one training seed of one personality for one ticker:

- seed<k>.zip: the SB3 PPO model (pickles inside: loaded only by the trainer and tests, never from a
  user-given path, RELIABILITY #8);
- seed<k>.npz: the actor's weights for torch-free inference (core.policy.NumpyPolicy, no pickles);
- seed<k>.json: the model card (data provenance, split, config, seed, scaler, versions, metrics).

Models are addressed by (ticker, personality, seed) only: the ticker must match TICKER_PATTERN, the
personality must be one of core.PERSONALITIES, the seed a whole number in [0, 2**31), and the resolved
path must stay under `models_root()`; anything else is refused before the disk is touched. `seeds` lists
the seeds a ticker has for every given personality (a card marks a complete agent).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import PERSONALITIES
from core.personalities import get_personality
from core.policy import NumpyPolicy

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_ENV_VAR = "NEON_MODELS_DIR"
TICKER_PATTERN = re.compile(r"^[A-Z0-9^][A-Z0-9.=_^-]{0,31}$")
"""Upper-case letters, digits and . = _ ^ - (yfinance symbols such as BTC-USD, ^GSPC, EURUSD=X)."""
SEED_FILE = re.compile(r"^seed(0|[1-9][0-9]{0,9})\.json$")
"""A seed's card file name (the other files of the seed share its stem)."""
MAX_SEED = 2**31 - 1
CARD_VERSION = 1
REQUIRED_CARD_KEYS = ("card_version", "ticker", "personality", "data", "split", "config", "scaler", "versions")
LIBRARIES = ("stable_baselines3", "torch", "gymnasium", "pettingzoo", "supersuit", "numpy", "pandas")


class ModelMissing(ValueError):
    """No trained model for (ticker, personality)."""


class ModelCorrupt(ValueError):
    """Model files exist but cannot be read or do not fit together."""


class BadModelName(ValueError):
    """A ticker or personality name that cannot address a model (path traversal, odd characters)."""


def models_root() -> Path:
    """The models directory: $NEON_MODELS_DIR when set, else <repo>/models."""
    env = os.environ.get(MODELS_ENV_VAR)
    return Path(env).resolve() if env else (REPO_ROOT / "models").resolve()


def validate_ticker(ticker: str) -> str:
    """The upper-cased ticker, or BadModelName for anything that is not a plain symbol."""
    if not isinstance(ticker, str):
        raise BadModelName(f"ticker must be a string, got {type(ticker).__name__}")
    symbol = ticker.strip().upper()
    if not TICKER_PATTERN.match(symbol) or ".." in symbol:
        raise BadModelName(
            f"invalid ticker {ticker!r}: use letters, digits and . - ^ = _ only (e.g. AAPL, BTC-USD)"
        )
    return symbol


def validate_seed(seed) -> int:
    """The seed as an int, or BadModelName for anything but a whole number in [0, 2**31)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise BadModelName(f"invalid seed {seed!r}: use a whole number from 0 to {MAX_SEED}")
    return int(seed)


@dataclass(frozen=True)
class ModelPaths:
    zip: Path
    npz: Path
    card: Path


def _personality_name(personality: str) -> str:
    try:
        return get_personality(personality).name
    except ValueError as exc:
        raise BadModelName(str(exc)) from None


def _ticker_folder(ticker: str, root: str | Path | None) -> Path:
    symbol = validate_ticker(ticker)
    base = Path(root).resolve() if root is not None else models_root()
    folder = (base / symbol).resolve()
    if folder.parent != base:
        raise BadModelName(f"ticker {ticker!r} does not resolve to a folder under the models root")
    return folder


def personality_folder(ticker: str, personality: str, root: str | Path | None = None) -> Path:
    """<root>/<TICKER>/<personality>: the folder of one personality's seeds (names checked)."""
    return _ticker_folder(ticker, root) / _personality_name(personality)


def model_paths(ticker: str, personality: str, root: str | Path | None = None, seed: int = 0) -> ModelPaths:
    """Paths of one agent's files (one seed); refuses names that would leave the models root."""
    folder = personality_folder(ticker, personality, root)
    stem = f"seed{validate_seed(seed)}"
    return ModelPaths(folder / f"{stem}.zip", folder / f"{stem}.npz", folder / f"{stem}.json")


def seeds(ticker: str, root: str | Path | None = None, personalities=PERSONALITIES) -> list[int]:
    """The seeds that have a card for every given personality of `ticker`, ascending ([] when none)."""
    found: set[int] | None = None
    for name in personalities:
        folder = personality_folder(ticker, name, root)
        have = set()
        if folder.is_dir():
            have = {int(m.group(1)) for p in folder.iterdir() if (m := SEED_FILE.match(p.name)) and p.is_file()}
        found = have if found is None else found & have
    return sorted(found or ())


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a trained model (recorded in the card, checked on load)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = version(lib.replace("_", "-"))
        except PackageNotFoundError:
            out[lib] = "missing"
    return out


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the web server may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_agent(
    ticker: str,
    personality: str,
    *,
    card: dict,
    policy: NumpyPolicy,
    sb3_model=None,
    root: str | Path | None = None,
    seed: int = 0,
) -> ModelPaths:
    """Write one agent's zip (when given), npz and card, each atomically (card last: it marks completeness).

    Parameters
    ----------
    ticker: market symbol (validated).
    personality: one of core.PERSONALITIES.
    card: the model card (JSON-serialisable dict).
    policy: the numpy actor.
    sb3_model: the SB3 model to save as a zip; None skips the zip.
    root: models directory (default: models_root()).
    seed: the training seed (the file name: seed<k>).
    """
    paths = model_paths(ticker, personality, root, seed)
    if sb3_model is not None:
        _atomic_write(paths.zip, lambda fh: sb3_model.save(fh))
    _atomic_write(paths.npz, lambda fh: np.savez(fh, **policy.to_arrays()))
    text = json.dumps(card, indent=2, sort_keys=True, allow_nan=False) + "\n"
    _atomic_write(paths.card, lambda fh: fh.write(text.encode("utf-8")))
    return paths


def _hint(ticker: str) -> str:
    return f"train them on the Train page (/train) or with `python -m core train --ticker {ticker}`"


def load_card(ticker: str, personality: str, root: str | Path | None = None, seed: int = 0) -> dict:
    """The model card of one seed; ModelMissing when absent, ModelCorrupt when unreadable or incomplete."""
    paths = model_paths(ticker, personality, root, seed)
    symbol = paths.card.parent.parent.name
    if not paths.card.is_file():
        raise ModelMissing(f"no trained {personality} agent (seed {seed}) for {symbol}: {_hint(symbol)}")
    try:
        card = json.loads(paths.card.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCorrupt(f"model card {paths.card.name} for {symbol} is unreadable ({exc}); {_hint(symbol)}") from None
    if not isinstance(card, dict) or any(key not in card for key in REQUIRED_CARD_KEYS):
        raise ModelCorrupt(f"model card {paths.card.name} for {symbol} is incomplete; {_hint(symbol)}")
    if card["ticker"] != symbol or card["personality"] != personality or card.get("seed", seed) != seed:
        raise ModelCorrupt(f"model card {paths.card.name} describes another model; {_hint(symbol)}")
    return card


def load_policy(
    ticker: str, personality: str, root: str | Path | None = None, seed: int = 0
) -> tuple[NumpyPolicy, dict]:
    """The numpy actor of one seed and its card (torch-free, pickle-free)."""
    from core.env import OBS_DIM
    from core.personalities import N_LEVELS

    card = load_card(ticker, personality, root, seed)
    paths = model_paths(ticker, personality, root, seed)
    symbol = paths.card.parent.parent.name
    if not paths.npz.is_file():
        raise ModelMissing(f"the {personality} weights for {symbol} are missing: {_hint(symbol)}")
    try:
        policy = NumpyPolicy.load(paths.npz)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelCorrupt(f"{paths.npz.name} for {symbol} is corrupt ({exc}); {_hint(symbol)}") from None
    if policy.obs_dim != OBS_DIM or policy.n_actions != N_LEVELS:
        raise ModelCorrupt(
            f"{paths.npz.name} for {symbol} expects {policy.obs_dim} inputs and {policy.n_actions} actions, "
            f"this version uses {OBS_DIM} and {N_LEVELS}; {_hint(symbol)}"
        )
    return policy, card


def load_sb3(ticker: str, personality: str, root: str | Path | None = None, seed: int = 0):
    """The SB3 PPO model of one seed (imports torch; unpickles: only for the trainer and tests, never user
    files)."""
    paths = model_paths(ticker, personality, root, seed)
    symbol = paths.zip.parent.parent.name
    if not paths.zip.is_file():
        raise ModelMissing(f"no SB3 model for {personality} on {symbol}: {_hint(symbol)}")
    from stable_baselines3 import PPO

    try:
        return PPO.load(paths.zip, device="cpu")
    except Exception as exc:  # SB3 raises many types on a damaged zip
        raise ModelCorrupt(f"{paths.zip.name} for {symbol} is corrupt ({type(exc).__name__}); {_hint(symbol)}") from None


def available_tickers(root: str | Path | None = None, personalities=PERSONALITIES) -> list[str]:
    """Tickers that have at least one seed with a card for every given personality."""
    base = Path(root).resolve() if root is not None else models_root()
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        if TICKER_PATTERN.match(folder.name) and ".." not in folder.name and seeds(folder.name, base, personalities):
            out.append(folder.name)
    return out


def missing_files(ticker: str, root: str | Path | None = None, personalities=PERSONALITIES) -> list[str]:
    """What the web process needs and cannot read for `ticker` (for a health check): [] when at least one
    seed of every personality has a readable .npz and .json; else e.g. ["momentum (no seed)"]."""
    out = []
    for name in personalities:
        ok = False
        for seed in seeds(ticker, root, (name,)):
            paths = model_paths(ticker, name, root, seed)
            try:
                ok = all(p.stat().st_size > 0 and os.access(p, os.R_OK) for p in (paths.npz, paths.card))
            except OSError:
                ok = False
            if ok:
                break
        if not ok:
            out.append(f"{name} (no seed with a readable .npz and .json)")
    return out


def card_warnings(card: dict, data_sha256: str | None = None) -> list[str]:
    """Human warnings when the data or the libraries differ from the ones the model was trained with."""
    warnings = []
    trained_sha = card.get("data", {}).get("sha256")
    name = f"{card.get('personality', '?')} ({card.get('ticker', '?')})"
    if data_sha256 is not None and trained_sha and data_sha256 != trained_sha:
        warnings.append(
            f"{name} was trained on different data (sha256 {trained_sha[:12]}..., now {data_sha256[:12]}...): "
            "retrain for results that match this data"
        )
    current = library_versions()
    for lib, ver in card.get("versions", {}).items():
        if lib in current and current[lib] != ver:
            warnings.append(f"{name} was trained with {lib} {ver}, this install has {current[lib]}")
    return warnings
