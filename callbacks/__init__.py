"""One module per page: thin callbacks that parse inputs, call core's facade and build figures."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import dash_bootstrap_components as dbc
from dash import html, no_update

log = logging.getLogger("neon.callbacks")


def error_alert(message: str, color: str = "danger") -> dbc.Alert:
    """The one way a failure reaches the user: a readable, dismissable message in the page."""
    return dbc.Alert(message, color=color, dismissable=True, className="neon-alert", fade=False)


def unexpected_error_alert(exc: BaseException, what: str) -> dbc.Alert:
    """For bugs, not bad input: log the stack trace server-side, show the user a reference only."""
    ref = uuid.uuid4().hex[:8]
    log.exception("unexpected error while %s (ref %s)", what, ref, exc_info=exc)
    return error_alert(
        [html.Strong(f"Something went wrong while {what}. "),
         f"Nothing was lost; try again or pick other inputs. Reference: {ref}."]
    )


def failed(exc: BaseException, n_outputs: int, alert_at: int, what: str) -> tuple:
    """Outputs for a failed callback: everything unchanged (the previous view stays) but one alert.

    Bad input (core raises ValueError subclasses with user-fit messages) shows its message; anything
    else is a bug: logged with a reference, never a stack trace in the page.
    """
    out = [no_update] * n_outputs
    out[alert_at] = error_alert(str(exc)) if isinstance(exc, ValueError) else unexpected_error_alert(exc, what)
    return tuple(out)


def battle_caption(result) -> str:
    """The line that states what a battle result is: ticker, window, bars and costs."""
    shared = " · shared market (price impact)" if getattr(result, "shared_market", False) else ""
    return (f"{result.ticker} · {result.test_start:%Y-%m-%d} → {result.test_end:%Y-%m-%d} · "
            f"{len(result.dates):,} bars · costs {result.costs.commission_bps:g} + {result.costs.slippage_bps:g} bps"
            f"{shared}")


def seeds_caption(result, run_id: str | None = None) -> str:
    """Which trained agents a page shows: each personality's median seed by net return, named, or "" without
    agents. E.g. "Agents: the median of 5 training seeds each (Conservative seed 4, Aggressive seed 1, ...)"."""
    agents = [c for c in result.contestants if c.kind == "agent"]
    if not agents:
        return ""
    whose = f"run {run_id[:6]}" if run_id else "shipped"
    counts = {len(c.seed_runs) or 1 for c in agents}
    if counts == {1}:
        return f"Agents ({whose}): one training seed each."
    n = max(counts)
    shown = ", ".join(f"{c.label} seed {c.representative_seed}" for c in agents)
    return (f"Agents ({whose}): the median of {n} training seeds each by net return ({shown}); the Arena shows "
            "every seed's range.")


def battle_header(result, run_id: str | None = None) -> html.Div:
    """The header of a page that follows the Arena: sample tag with window and costs, and which seeds."""
    from layouts.components import sample_tag

    caption = seeds_caption(result, run_id)
    return html.Div([sample_tag(result.sample, battle_caption(result)),
                     html.Div(caption, className="sample-detail seeds-caption") if caption else None])


def battle_meta(result) -> dict:
    """What a battle export states in every file: ticker, sample, window, costs and the shared-market flag."""
    return {"ticker": result.ticker, "sample": result.sample,
            "window": f"{result.test_start:%Y-%m-%d}..{result.test_end:%Y-%m-%d}",
            "commission_bps": float(result.costs.commission_bps), "slippage_bps": float(result.costs.slippage_bps),
            "shared_market": bool(getattr(result, "shared_market", False))}


def battle_file_stem(prefix: str, result, *extra) -> str:
    """A file name that says what is inside: prefix_TICKER_sample_start_end_cC-sS[_shared][_extra]."""
    from layouts.grid import safe_file_stem

    return safe_file_stem(prefix, result.ticker, result.sample, f"{result.test_start:%Y%m%d}",
                          f"{result.test_end:%Y%m%d}",
                          f"c{result.costs.commission_bps:g}-s{result.costs.slippage_bps:g}bps",
                          "shared" if getattr(result, "shared_market", False) else "", *extra)


@dataclass(frozen=True)
class BattleSource:
    """Where a battle's agents come from: the shipped models folder, and for a spec that names a run
    (BattleSpec.agents) the runs folder and the asking browser session (core.runs keeps runs private)."""

    models_dir: Path | None = None
    runs_dir: Path | None = None
    session: str | None = None

    @classmethod
    def of(cls, where=None, session: str | None = None) -> BattleSource:
        """From app settings (models_dir, runs_dir), a models folder (tests, benchmarks), None or a BattleSource."""
        if isinstance(where, BattleSource):
            return where
        if hasattr(where, "models_dir"):
            return cls(where.models_dir, getattr(where, "runs_dir", None), session if isinstance(session, str) else None)
        return cls(Path(where) if where else None)

    def view(self, spec):
        """core.service.run_arena of a BattleSpec or its dict (cached there)."""
        from core import service

        spec = spec if isinstance(spec, service.BattleSpec) else service.BattleSpec.from_dict(spec)
        return service.run_arena(spec, models_dir=self.models_dir, runs_dir=self.runs_dir, session=self.session)

    def stress(self, spec):
        from core import service

        return service.arena_cost_stress(spec, models_dir=self.models_dir, runs_dir=self.runs_dir,
                                         session=self.session)


def register_all(app, settings) -> None:
    from callbacks import arena, forecast, journal, market, replay, risk, shell, train

    for module in (shell, market, arena, replay, journal, forecast, risk, train):
        module.register(app, settings)
