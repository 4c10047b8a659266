"""Trained-agent registry: models/<TICKER>/<personality>.{zip,npz,json}, loaded by name only.

- <personality>.zip: the SB3 PPO model (pickles inside: loaded only by the trainer and tests, never from
  a user-given path, RELIABILITY #8);
- <personality>.npz: the actor's weights for torch-free inference (core.policy.NumpyPolicy, no pickles);
- <personality>.json: the model card (data provenance, split, config, scaler, versions, metrics).

Models are addressed by (ticker, personality) only: the ticker must match TICKER_PATTERN and the resolved
path must stay under `models_root()`; anything else is refused before the disk is touched.
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


@dataclass(frozen=True)
class ModelPaths:
    zip: Path
    npz: Path
    card: Path


def model_paths(ticker: str, personality: str, root: str | Path | None = None) -> ModelPaths:
    """Paths of one agent's files; refuses names that would leave the models root."""
    symbol = validate_ticker(ticker)
    try:
        name = get_personality(personality).name
    except ValueError as exc:
        raise BadModelName(str(exc)) from None
    base = Path(root).resolve() if root is not None else models_root()
    folder = (base / symbol).resolve()
    if folder.parent != base:
        raise BadModelName(f"ticker {ticker!r} does not resolve to a folder under the models root")
    return ModelPaths(folder / f"{name}.zip", folder / f"{name}.npz", folder / f"{name}.json")


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
    """
    paths = model_paths(ticker, personality, root)
    if sb3_model is not None:
        _atomic_write(paths.zip, lambda fh: sb3_model.save(fh))
    _atomic_write(paths.npz, lambda fh: np.savez(fh, **policy.to_arrays()))
    text = json.dumps(card, indent=2, sort_keys=True, allow_nan=False) + "\n"
    _atomic_write(paths.card, lambda fh: fh.write(text.encode("utf-8")))
    return paths


def _hint(ticker: str) -> str:
    return f"train them with `python -m core train --ticker {ticker}` (or use Train in the arena)"


def load_card(ticker: str, personality: str, root: str | Path | None = None) -> dict:
    """The model card; ModelMissing when absent, ModelCorrupt when unreadable or incomplete."""
    paths = model_paths(ticker, personality, root)
    symbol = paths.card.parent.name
    if not paths.card.is_file():
        raise ModelMissing(f"no trained {personality} agent for {symbol}: {_hint(symbol)}")
    try:
        card = json.loads(paths.card.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCorrupt(f"model card {paths.card.name} for {symbol} is unreadable ({exc}); {_hint(symbol)}") from None
    if not isinstance(card, dict) or any(key not in card for key in REQUIRED_CARD_KEYS):
        raise ModelCorrupt(f"model card {paths.card.name} for {symbol} is incomplete; {_hint(symbol)}")
    if card["ticker"] != symbol or card["personality"] != personality:
        raise ModelCorrupt(f"model card {paths.card.name} describes another model; {_hint(symbol)}")
    return card


def load_policy(ticker: str, personality: str, root: str | Path | None = None) -> tuple[NumpyPolicy, dict]:
    """The numpy actor and its card (torch-free, pickle-free)."""
    from core.env import OBS_DIM
    from core.personalities import N_LEVELS

    card = load_card(ticker, personality, root)
    paths = model_paths(ticker, personality, root)
    symbol = paths.card.parent.name
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


def load_sb3(ticker: str, personality: str, root: str | Path | None = None):
    """The SB3 PPO model (imports torch; unpickles: only for the trainer and tests, never user files)."""
    paths = model_paths(ticker, personality, root)
    symbol = paths.zip.parent.name
    if not paths.zip.is_file():
        raise ModelMissing(f"no SB3 model for {personality} on {symbol}: {_hint(symbol)}")
    from stable_baselines3 import PPO

    try:
        return PPO.load(paths.zip, device="cpu")
    except Exception as exc:  # SB3 raises many types on a damaged zip
        raise ModelCorrupt(f"{paths.zip.name} for {symbol} is corrupt ({type(exc).__name__}); {_hint(symbol)}") from None


def available_tickers(root: str | Path | None = None, personalities=PERSONALITIES) -> list[str]:
    """Tickers that have a card for every given personality."""
    base = Path(root).resolve() if root is not None else models_root()
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        if TICKER_PATTERN.match(folder.name) and all((folder / f"{n}.json").is_file() for n in personalities):
            out.append(folder.name)
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
