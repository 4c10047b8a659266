"""Typed application settings, read from environment variables and validated once at the boundary."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use; the message names it."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the web app can be configured with. Environment variable in brackets."""

    live_data: bool = True
    """Try Yahoo Finance (yfinance) before the cached/bundled copies [NEON_LIVE_DATA]."""
    job_cache_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "neon-arena-jobs")
    """ONE directory shared by every gunicorn worker for background jobs [NEON_JOB_CACHE_DIR]."""
    models_dir: Path = REPO_ROOT / "models"
    """Where trained agents live: <TICKER>/<personality>.{zip,npz,json} [NEON_MODELS_DIR]."""
    max_jobs: int = 2
    """Background jobs (training, forecasting) allowed to run at once on this host [NEON_MAX_JOBS]."""
    max_upload_mb: int = 5
    """Largest CSV upload accepted, in MB [NEON_MAX_UPLOAD_MB]."""
    redis_url: str = ""
    """When set, background jobs run on Celery workers through this Redis [REDIS_URL]."""
    csp: bool = True
    """Send a strict Content-Security-Policy header [NEON_CSP]."""
    dev: bool = False
    """Development mode: hot reload and dev bundles; never in production [NEON_DEV]."""
    runs_dir: Path | None = None
    """Agents trained on the Train page, one folder per run (default <job cache dir>/runs) [NEON_RUNS_DIR]."""
    max_runs: int = 50
    """Trained runs kept on disk; the oldest are removed first [NEON_MAX_RUNS]."""
    app_cache_dir: Path | None = None
    """The shared result cache when REDIS_URL is unset: one private (0700) folder every worker reads
    (default <job cache dir>/shared-cache; app/shared_cache.py) [NEON_APP_CACHE_DIR]."""
    basic_auth_user: str = ""
    """With the password: HTTP basic authentication on every path but /healthz [NEON_BASIC_AUTH_USER]."""
    basic_auth_password: str = field(default="", repr=False)
    """[NEON_BASIC_AUTH_PASSWORD]; never logged (describe() masks it)."""

    def __post_init__(self) -> None:
        if bool(self.basic_auth_user) != bool(self.basic_auth_password):
            raise SettingsError("NEON_BASIC_AUTH_USER and NEON_BASIC_AUTH_PASSWORD must be set together")
        if ":" in self.basic_auth_user:
            raise SettingsError("NEON_BASIC_AUTH_USER must not contain ':' (HTTP basic authentication)")
        if self.runs_dir is None:
            object.__setattr__(self, "runs_dir", Path(self.job_cache_dir) / "runs")
        if self.app_cache_dir is None:
            object.__setattr__(self, "app_cache_dir", Path(self.job_cache_dir) / "shared-cache")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        if "NEON_LIVE_DATA" in env:
            kwargs["live_data"] = _bool("NEON_LIVE_DATA", env["NEON_LIVE_DATA"])
        if env.get("NEON_JOB_CACHE_DIR"):
            kwargs["job_cache_dir"] = Path(env["NEON_JOB_CACHE_DIR"]).expanduser()
        if env.get("NEON_MODELS_DIR"):
            kwargs["models_dir"] = Path(env["NEON_MODELS_DIR"]).expanduser()
        if "NEON_MAX_JOBS" in env:
            kwargs["max_jobs"] = _int("NEON_MAX_JOBS", env["NEON_MAX_JOBS"], 1, 64)
        if "NEON_MAX_UPLOAD_MB" in env:
            kwargs["max_upload_mb"] = _int("NEON_MAX_UPLOAD_MB", env["NEON_MAX_UPLOAD_MB"], 1, 100)
        if "REDIS_URL" in env:
            url = env["REDIS_URL"].strip()
            if url and not url.startswith(("redis://", "rediss://", "unix://")):
                raise SettingsError(f"REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}")
            kwargs["redis_url"] = url
        if "NEON_CSP" in env:
            kwargs["csp"] = _bool("NEON_CSP", env["NEON_CSP"])
        if "NEON_DEV" in env:
            kwargs["dev"] = _bool("NEON_DEV", env["NEON_DEV"])
        if env.get("NEON_RUNS_DIR"):
            kwargs["runs_dir"] = Path(env["NEON_RUNS_DIR"]).expanduser()
        if env.get("NEON_APP_CACHE_DIR"):
            kwargs["app_cache_dir"] = Path(env["NEON_APP_CACHE_DIR"]).expanduser()
        if "NEON_MAX_RUNS" in env:
            kwargs["max_runs"] = _int("NEON_MAX_RUNS", env["NEON_MAX_RUNS"], 1, 10_000)
        kwargs["basic_auth_user"] = env.get("NEON_BASIC_AUTH_USER", "").strip()
        kwargs["basic_auth_password"] = env.get("NEON_BASIC_AUTH_PASSWORD", "")
        return cls(**kwargs)

    def describe(self) -> dict[str, str]:
        """Settings as strings, for the startup log (the basic-auth password is masked)."""
        out = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        if self.basic_auth_password:
            out["basic_auth_password"] = "***"
        return out
