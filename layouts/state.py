"""State that follows the user: the battle spec and the market choice live in the URL and the session.

Where the state lives
- The URL's query string (bookmarkable, shareable). Battle pages (/arena, /replay, /journal, /risk) read
  `ticker`, `window` (out-of-sample | in-sample | custom), `start`, `end` (YYYY-MM-DD), `commission`,
  `slippage` (bps), `shared` (0 | 1) and `agents` (shipped | the id of a run this browser tab trained),
  e.g. `/arena?ticker=TSLA&window=in-sample&commission=20` or `/arena?ticker=AAPL&agents=3f9c0a1b2c3d4e5f`.
  The market page reads `ticker`, `start`, `end`, `span` (1y | 2y | 5y | all; the default is 2y) and
  `log` (0 | 1).
- Session stores in the shell (layouts/components.shell, per browser tab): ids.BATTLE_SPEC (the last battle,
  a core.service.BattleSpec dict), ids.MARKET_CHOICE (the market page's last choice) and ids.UPLOAD_STORE
  (an uploaded CSV, kept across pages). Each carries an "updated" stamp (see `stamp`).

The rule every page follows: URL first, then the session, then the defaults. A URL that names any key is
complete on its own (missing keys take defaults, not the session), so a bookmark reproduces its view.
Invalid query values are replaced by defaults and reported in a message fit to show the user.
Market and Arena share the ticker: whichever page changed it last wins (`shared_ticker`).

How a page follows the Arena (Replay, Journal and Risk do exactly this):

    # layouts/<page>.py
    def layout(**query):
        return html.Div([..., state.query_store(ids.RSK_QUERY, query)])

    # callbacks/<page>.py
    @app.callback(Output(...), ..., *state.follow_arena(ids.RSK_QUERY))
    def _load(query, session_spec, market_choice, session):
        spec, message = state.spec_from_query_and_session(query, session_spec, market_choice)
        view = BattleSource.of(settings, session).view(spec)   # message: show it as an info alert

The shell keeps the rest in step (callbacks/shell.py): the navbar links carry the current query
(`nav_hrefs`), the address bar of a battle page shows the battle it shows (history.replaceState, no reload),
and a URL that names a battle is copied into the session store, so the next page keeps it.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from urllib.parse import parse_qs, urlencode

from dash import Input, State, dcc

from layouts import ids

BATTLE_PAGES = ("/arena", "/replay", "/journal", "/risk")
BATTLE_KEYS = ("ticker", "window", "start", "end", "commission", "slippage", "shared", "agents")
MARKET_KEYS = ("ticker", "start", "end", "log", "span")
SPANS = ("1y", "2y", "5y", "all")
DEFAULT_SPAN = "2y"
"""The market page shows the last two years unless asked otherwise (readable candles, a light figure)."""
WINDOWS = ("out-of-sample", "in-sample", "custom")
DEFAULT_TICKER = "AAPL"
SHIPPED = "shipped"
RUN_ID = re.compile(r"^[0-9a-f]{16}$")
"""A run id's shape (core.runs.RUN_ID_PATTERN); whether the run exists and is this session's is core's to say."""


def default_spec() -> dict:
    from core.service import BattleSpec

    return BattleSpec(ticker=DEFAULT_TICKER).to_dict()


def stamp(data: dict) -> dict:
    """`data` with an "updated" time stamp (which of two session stores changed last)."""
    return {**data, "updated": time.time()}


def query_store(store_id: str, query: dict | None) -> dcc.Store:
    """The query a page's layout was called with, for its callbacks (memory storage: this page view only)."""
    clean = {k: v for k, v in (query or {}).items() if isinstance(v, str) and len(v) <= 200}
    return dcc.Store(id=store_id, data=clean)


def follow_arena(query_store_id: str) -> tuple:
    """The callback arguments of a page that follows the Arena: (its query store as Input, the session's
    battle spec and market choice, and the tab's session id as State). Pass them to @app.callback and the
    callback receives (query, session_spec, market_choice, session): the first three for
    `spec_from_query_and_session`, the session id for a battle of the tab's own trained run
    (callbacks.BattleSource)."""
    return (Input(query_store_id, "data"), State(ids.BATTLE_SPEC, "data"), State(ids.MARKET_CHOICE, "data"),
            State(ids.SESSION, "data"))


def as_query(query) -> dict[str, str]:
    """A query as {key: value}: accepts a dict (layout kwargs) or a search string ("?a=b&c=d")."""
    if not query:
        return {}
    if isinstance(query, str):
        return {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    return {str(k): str(v) for k, v in query.items() if v is not None}


def _date(value: str | None, name: str, messages: list[str]) -> str | None:
    if value in (None, ""):
        return None
    try:
        return _dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        messages.append(f"{name}={value!r} is not a date (YYYY-MM-DD); ignored.")
        return None


def _date_range(q: dict, messages: list[str]) -> tuple[str | None, str | None]:
    start, end = _date(q.get("start"), "start", messages), _date(q.get("end"), "end", messages)
    if start and end and start > end:
        messages.append(f"start {start} is after end {end}; swapped.")
        start, end = end, start
    return start, end


def _number(value, name: str, default: float, messages: list[str]) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        messages.append(f"{name}={value!r} is not a number of basis points; using {default:g}.")
        return default
    if not 0 <= number <= 1000:
        messages.append(f"{name}={value!r} must be between 0 and 1000 bps; using {default:g}.")
        return default
    return number


def _flag(value, name: str, messages: list[str]) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    messages.append(f"{name}={value!r} must be 0 or 1; using 0.")
    return False


def arena_tickers() -> list[str]:
    from core.service import arena_tickers as tickers

    return tickers()


def parse_battle_query(query) -> tuple[dict | None, list[str]]:
    """(spec dict or None when the query names no battle key, messages about ignored values)."""
    q = as_query(query)
    if not any(k in q for k in BATTLE_KEYS):
        return None, []
    messages: list[str] = []
    spec = default_spec()
    agents = q.get("agents", SHIPPED) or SHIPPED
    if agents != SHIPPED and not RUN_ID.match(agents):
        messages.append(f"agents={agents[:40]!r} is neither 'shipped' nor a run id; showing the shipped agents.")
        agents = SHIPPED
    spec["agents"] = agents
    if "ticker" in q and agents != SHIPPED:
        spec["ticker"] = q["ticker"][:40]  # a run battles on its own data: its ticker is the run's to say
    elif "ticker" in q:
        from core.data import normalise_ticker

        try:
            ticker = normalise_ticker(q["ticker"])
        except ValueError:
            ticker = None
        if ticker and ticker in arena_tickers():
            spec["ticker"] = ticker
        else:
            messages.append(f"The arena has no data for ticker {q['ticker'][:20]!r} (it offers "
                            f"{', '.join(arena_tickers())}); showing {DEFAULT_TICKER}.")
    window = q.get("window", "out-of-sample")
    if window not in WINDOWS:
        messages.append(f"window={window[:30]!r} is not one of {', '.join(WINDOWS)}; showing out-of-sample.")
        window = "out-of-sample"
    start, end = _date_range(q, messages)
    if window == "custom" and not (start or end):
        messages.append("window=custom needs a start or an end date; showing out-of-sample.")
        window = "out-of-sample"
    spec.update(window=window, start=start if window == "custom" else None,
                end=end if window == "custom" else None)
    if "commission" in q:
        spec["commission_bps"] = _number(q["commission"], "commission", 10.0, messages)
    if "slippage" in q:
        spec["slippage_bps"] = _number(q["slippage"], "slippage", 5.0, messages)
    if "shared" in q:
        spec["shared_market"] = _flag(q["shared"], "shared", messages)
    return spec, messages


def _valid_session_spec(session_spec) -> dict | None:
    from core.service import BattleSpec

    if not isinstance(session_spec, dict):
        return None
    try:
        return BattleSpec.from_dict(session_spec).to_dict()
    except (TypeError, ValueError):
        return None


def shared_ticker(battle_spec: dict | None, market_choice: dict | None) -> str | None:
    """The ticker the user chose last on either the Market or the Arena page (None: neither)."""
    b = battle_spec if isinstance(battle_spec, dict) else {}
    if b.get("agents", SHIPPED) != SHIPPED and b.get("ticker") not in arena_tickers():
        b = {}  # a run trained on an uploaded CSV: its name is no ticker the Market could load
    m = market_choice if isinstance(market_choice, dict) and market_choice.get("kind", "ticker") == "ticker" else {}
    if m.get("ticker") and float(m.get("updated") or 0) > float(b.get("updated") or 0):
        return m["ticker"]
    return b.get("ticker") or m.get("ticker")


def spec_from_query_and_session(query, session_spec: dict | None,
                                market_choice: dict | None = None) -> tuple[dict, str | None]:
    """The battle a page shows: URL query first, then the session's spec, then the default.

    :param query: the page's query (dict from layout kwargs, or a "?..." string).
    :param session_spec: the ids.BATTLE_SPEC session store's data.
    :param market_choice: the ids.MARKET_CHOICE store's data (the Market page's ticker, if chosen later).
    :returns: (spec dict for core.service.BattleSpec.from_dict, message for the user or None).
    """
    spec, messages = parse_battle_query(query)
    if spec is None:
        spec = _valid_session_spec(session_spec) or default_spec()
        ticker = shared_ticker(session_spec, market_choice)
        if ticker and ticker != spec["ticker"] and ticker in arena_tickers():
            spec["ticker"] = ticker
            spec["agents"] = SHIPPED  # the Market page chose another ticker since: a run is of one ticker
    return spec, (" ".join(messages) or None)


def battle_query(spec: dict | None) -> str:
    """The query string of a battle ("?ticker=TSLA&window=in-sample&commission=20"): ticker and window
    always, the other keys when they differ from the defaults."""
    spec = _valid_session_spec(spec) or default_spec()
    q = {"ticker": spec["ticker"], "window": spec["window"]}
    if spec["window"] == "custom":
        if spec.get("start"):
            q["start"] = spec["start"]
        if spec.get("end"):
            q["end"] = spec["end"]
    if float(spec["commission_bps"]) != 10.0:
        q["commission"] = f"{float(spec['commission_bps']):g}"
    if float(spec["slippage_bps"]) != 5.0:
        q["slippage"] = f"{float(spec['slippage_bps']):g}"
    if spec.get("shared_market"):
        q["shared"] = "1"
    if spec.get("agents", SHIPPED) != SHIPPED:
        q["agents"] = spec["agents"]
    return "?" + urlencode(q)


# ----------------------------------------------------------------------------------------------------
# market choice

def default_market() -> dict:
    return {"kind": "ticker", "ticker": DEFAULT_TICKER, "start": None, "end": None, "log": False,
            "span": DEFAULT_SPAN}


def parse_market_query(query) -> tuple[dict | None, list[str]]:
    """(market choice or None when the query names no market key, messages about ignored values)."""
    q = as_query(query)
    if not any(k in q for k in MARKET_KEYS):
        return None, []
    messages: list[str] = []
    choice = default_market()
    if "ticker" in q:
        from core.data import normalise_ticker

        try:
            choice["ticker"] = normalise_ticker(q["ticker"])
        except ValueError as exc:
            messages.append(f"{exc} Showing {DEFAULT_TICKER}.")
    start, end = _date_range(q, messages)
    choice.update(start=start, end=end, span=None if (start or end) else DEFAULT_SPAN)
    if "span" in q and not (start or end):
        if q["span"].lower() in SPANS:
            choice["span"] = q["span"].lower()
        else:
            messages.append(f"span={q['span'][:20]!r} is not one of {', '.join(SPANS)}; showing {DEFAULT_SPAN}.")
    if "log" in q:
        choice["log"] = _flag(q["log"], "log", messages)
    return choice, messages


def market_from_query_and_session(query, session_choice: dict | None, battle_spec: dict | None = None,
                                  upload: dict | None = None) -> tuple[dict, str | None]:
    """The market view to restore: URL first, then the session (an upload stays), then the default; the
    ticker follows the Arena when the Arena changed it last."""
    choice, messages = parse_market_query(query)
    if choice is None:
        base = dict(session_choice) if isinstance(session_choice, dict) else default_market()
        choice = {**default_market(), **{k: base.get(k) for k in ("kind", "ticker", "name", "start", "end", "log",
                                                                  "span") if k in base}}
        if choice["kind"] == "file" and not (isinstance(upload, dict) and upload.get("csv")):
            choice = {**choice, "kind": "ticker"}
        if choice["kind"] == "ticker":
            ticker = shared_ticker(battle_spec, session_choice)
            if ticker and ticker != choice.get("ticker"):
                choice.update(ticker=ticker, start=None, end=None, span=choice.get("span") or DEFAULT_SPAN)
    return choice, (" ".join(messages) or None)


def market_query(choice: dict | None) -> str:
    """"?ticker=TSLA&start=...&end=...&log=1" for a ticker choice; "" for an upload (not bookmarkable)."""
    if not isinstance(choice, dict) or choice.get("kind") == "file" or not choice.get("ticker"):
        return ""
    q = {"ticker": choice["ticker"]}
    for key in ("start", "end"):
        if choice.get(key):
            q[key] = choice[key]
    if not (choice.get("start") or choice.get("end")) and choice.get("span") not in (None, DEFAULT_SPAN):
        q["span"] = choice["span"]
    if choice.get("log"):
        q["log"] = "1"
    return "?" + urlencode(q)


def nav_hrefs(battle_spec: dict | None, market_choice: dict | None) -> dict[str, str]:
    """href of every navbar page: battle pages carry the battle, the market its choice (shared ticker)."""
    spec, _ = spec_from_query_and_session(None, battle_spec, market_choice)
    bq = battle_query(spec)
    if isinstance(market_choice, dict) and market_choice.get("kind") == "file":
        market_href = "/market"  # the session's upload: restored from the session, not bookmarkable
    else:
        mchoice, _ = market_from_query_and_session(None, market_choice, battle_spec)
        market_href = "/market" + market_query(mchoice)
    hrefs = {"market": market_href, "forecast": "/forecast"}
    for page in ("arena", "replay", "risk", "journal"):
        hrefs[page] = f"/{page}{bq}"
    return hrefs
