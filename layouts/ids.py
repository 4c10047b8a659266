"""Every component id of the app, in one place, so pages and callbacks never disagree on a string."""

# shell
URL = "url"
SESSION = "session-id"
NAV_COLLAPSE = "nav-collapse"
NAV_TOGGLER = "nav-toggler"

# market page
MKT_TICKER = "mkt-ticker"
MKT_CUSTOM = "mkt-custom-ticker"
MKT_CUSTOM_GO = "mkt-custom-go"
MKT_UPLOAD = "mkt-upload"
MKT_DATES = "mkt-dates"
MKT_SOURCE = "mkt-source"
MKT_CHART = "mkt-chart"
MKT_ALERT = "mkt-alert"
MKT_KPIS = "mkt-kpis"
MKT_STATE = "mkt-state"
MKT_CSV = "mkt-csv"
MKT_XLSX = "mkt-xlsx"
MKT_DOWNLOAD = "mkt-download"
MKT_UPLOAD_STORE = "mkt-upload-store"

# shared across pages (session storage): the battle the user last set up in the arena
BATTLE_SPEC = "battle-spec"

# arena page
ARN_TICKER = "arn-ticker"
ARN_WINDOW = "arn-window"
ARN_DATES = "arn-dates"
ARN_COMMISSION = "arn-commission"
ARN_SLIPPAGE = "arn-slippage"
ARN_SAMPLE_TAG = "arn-sample-tag"
ARN_ALERT = "arn-alert"
ARN_KPIS = "arn-kpis"
ARN_CANDLES = "arn-candles"
ARN_EQUITY = "arn-equity"
ARN_BOARD = "arn-leaderboard"
ARN_BOARD_CSV = "arn-board-csv"
ARN_BOARD_XLSX = "arn-board-xlsx"
ARN_DOWNLOAD = "arn-download"
ARN_STRESS_GO = "arn-stress-go"
ARN_STRESS_FIG = "arn-stress-fig"
ARN_STRESS_TABLE = "arn-stress-table"

# replay page
RPL_DATA = "rpl-data"
RPL_SLIDER = "rpl-slider"
RPL_PLAY = "rpl-play"
RPL_SPEED = "rpl-speed"
RPL_SOUND = "rpl-sound"
RPL_TICK = "rpl-tick"
RPL_FIG = "rpl-fig"
RPL_PANEL = "rpl-panel"
RPL_BAR_LABEL = "rpl-bar-label"
RPL_ALERT = "rpl-alert"
RPL_HEADER = "rpl-header"
RPL_AUDIO_SINK = "rpl-audio-sink"

# journal page
JRN_CONTESTANTS = "jrn-contestants"
JRN_SIDE = "jrn-side"
JRN_TABLE = "jrn-table"
JRN_CSV = "jrn-csv"
JRN_XLSX = "jrn-xlsx"
JRN_DOWNLOAD = "jrn-download"
JRN_ALERT = "jrn-alert"
JRN_HEADER = "jrn-header"
JRN_SUMMARY = "jrn-summary"
RPL_FOLLOW = "rpl-follow"
ARN_SHARED = "arn-shared"
ARN_SEEDS = "arn-seeds"                # per personality across training seeds, and its p-value
ARN_LUCK = "arn-luck"                  # the deflated-Sharpe sentence and the trivial-policy flags
ARN_AGENTS = "arn-agents"              # agent picker: shipped or one of this session's runs
ARN_AGENTS_CARD = "arn-agents-card"    # the picked run's model card, opened in the page

# state that follows the user (layouts/state.py): session stores in the shell, each page's URL query
MARKET_CHOICE = "market-choice"        # session: the market page's last choice (ticker, dates, log, upload?)
UPLOAD_STORE = "upload-store"          # session: the uploaded CSV (name, text), kept across pages
NAV_LINK = "nav-link-"                 # + page name ("arena", ...): navbar links carry the current query
URL_SYNC = "url-sync"                  # dummy output of the clientside URL replaceState callback
ARN_QUERY = "arn-query"                # each page: dcc.Store with the query its layout was called with
MKT_QUERY = "mkt-query"
RPL_QUERY = "rpl-query"
JRN_QUERY = "jrn-query"
ARN_JOURNAL_CSV = "arn-journal-csv"
ARN_JOURNAL_XLSX = "arn-journal-xlsx"
MKT_LOG = "mkt-log"
MKT_NOTE = "mkt-note"
MKT_SPAN = "mkt-span"
RPL_POS = "rpl-pos"
RPL_END = "rpl-end"
RPL_CSV = "rpl-csv"
RPL_XLSX = "rpl-xlsx"
RPL_DOWNLOAD = "rpl-download"
ARN_NOTE = "arn-note"

# forecast page (a background job: run, progress, cancel; the result re-attaches after navigation)
FC_TICKER = "fc-ticker"
FC_UPLOAD = "fc-upload"
FC_UPLOAD_STORE = "fc-upload-store"
FC_SOURCE = "fc-source"
FC_HORIZON = "fc-horizon"
FC_EFFORT = "fc-effort"
FC_SEED = "fc-seed"
FC_RUN = "fc-run"
FC_CANCEL = "fc-cancel"
FC_PROGRESS = "fc-progress"
FC_STATUS = "fc-status"
FC_ALERT = "fc-alert"
FC_RESULT = "fc-result"
FC_POLL = "fc-poll"
FC_VERDICT = "fc-verdict"
FC_SAMPLE_TAG = "fc-sample-tag"
FC_KPIS = "fc-kpis"
FC_CHART = "fc-chart"
FC_BACKTEST_CHART = "fc-backtest-chart"
FC_TABLE = "fc-table"
FC_CSV = "fc-csv"
FC_XLSX = "fc-xlsx"
FC_DOWNLOAD = "fc-download"
FC_CARD = "fc-card"

# risk page (follows the Arena's battle: URL first, then the session; layouts/state.py)
RSK_QUERY = "rsk-query"
RSK_SAMPLE_TAG = "rsk-sample-tag"
RSK_ALERT = "rsk-alert"
RSK_CONTESTANTS = "rsk-contestants"
RSK_FOCUS = "rsk-focus"
RSK_LEVEL = "rsk-level"
RSK_SPEC = "rsk-spec"
RSK_KPIS = "rsk-kpis"
RSK_TABLE = "rsk-table"
RSK_CSV = "rsk-csv"
RSK_XLSX = "rsk-xlsx"
RSK_DOWNLOAD = "rsk-download"
RSK_HIST = "rsk-hist"
RSK_ROLLING = "rsk-rolling"
RSK_VERDICT = "rsk-verdict"
RSK_UNDERWATER = "rsk-underwater"
RSK_DRAWDOWNS = "rsk-drawdowns"
RSK_MONTHLY = "rsk-monthly"
RSK_CORR = "rsk-corr"
RSK_ASSET_CORR = "rsk-asset-corr"
RSK_NOTES = "rsk-notes"

# train page (a background training job: data, budget, seed, personalities; per-personality progress; runs)
TR_SOURCE = "tr-source"                # radio: bundled | ticker | file
TR_TICKER = "tr-ticker"                # bundled ticker dropdown
TR_CUSTOM = "tr-custom-ticker"         # any ticker, typed
TR_UPLOAD = "tr-upload"
TR_UPLOAD_STORE = "tr-upload-store"
TR_SOURCE_LINE = "tr-source-line"      # what the job will train on
TR_STEPS = "tr-steps"
TR_SEED = "tr-seed"
TR_PERSONALITIES = "tr-personalities"
TR_RUN = "tr-run"
TR_CANCEL = "tr-cancel"
TR_STATUS = "tr-status"
TR_BAR = "tr-bar-"                     # + personality: one dbc.Progress each
TR_DETAIL = "tr-detail-"               # + personality: steps, mean reward, elapsed, remaining
TR_ALERT = "tr-alert"
TR_RESULT = "tr-result"
TR_POLL = "tr-poll"
TR_RUN_PICK = "tr-run-pick"            # which of the session's runs the cards show
TR_BATTLE_LINK = "tr-battle-link"      # /arena?ticker=T&agents=<run_id>
TR_RUN_INFO = "tr-run-info"            # the run's card: data, dates, seed, budget, hyperparameters, versions
TR_METRICS = "tr-metrics"              # grid: in- and out-of-sample metrics next to buy-and-hold
TR_RUNS = "tr-runs"                    # grid: the session's runs
