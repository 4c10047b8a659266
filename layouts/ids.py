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
