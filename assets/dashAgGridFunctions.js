/* Functions that dash-ag-grid function strings may call ({"function": "neonFmt(params.value, 'pct', 1)"}).
 * dash-ag-grid looks names up in window.dashAgGridFunctions and evaluates the string with its own parser
 * (no eval), so grids keep working under the app's strict CSP (script-src 'self').
 * neonFmt mirrors layouts/fmt.py line by line: THE number formatter of the app (keep the two in step;
 * tests/browser/test_grid.py compares them). Add new grid helpers to the same object, never a new global.
 */
(function () {
  var DIGITS = { pct: 1, signed_pct: 1, ratio: 2, signed_ratio: 2, money: 0, bps: 1, count: 0, price: 2, number: 2 };
  var MISSING = "\u2013";

  function finite(v) {
    if (v === null || v === undefined || v === "" || typeof v === "boolean") { return null; }
    var x = Number(v);
    if (!isFinite(x)) { return null; }
    return x + 0;  /* -0 -> 0 */
  }

  function fixed(v, d) { return (v === 0 ? 0 : v).toFixed(d); }

  function grouped(v, d) {
    var text = fixed(v, d);
    var neg = text.charAt(0) === "-";
    if (neg) { text = text.slice(1); }
    var parts = text.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + parts.join(".");
  }

  function neonFmt(value, kind, digits) {
    kind = kind || "number";
    var v = finite(value);
    if (v === null) { return MISSING; }
    var d = (digits === undefined || digits === null) ? DIGITS[kind] : digits;
    switch (kind) {
      case "pct": return fixed(v * 100, d) + "%";
      case "signed_pct": return (v >= 0 ? "+" : "") + fixed(v * 100, d) + "%";
      case "ratio": return fixed(v, d);
      case "signed_ratio": return (v >= 0 ? "+" : "") + fixed(v, d);
      case "money": return (v < 0 ? "-" : "") + "$" + grouped(Math.abs(v), d);
      case "bps": {
        var t = fixed(v, d);
        if (t.indexOf(".") >= 0) { t = t.replace(/0+$/, "").replace(/\.$/, ""); }
        return t + " bps";
      }
      default: return grouped(v, d);
    }
  }

  /* "low – high" of an interval whose low is the cell's value and high another field of the row */
  function neonInterval(params, highField, kind, digits) {
    var lo = finite(params.value), hi = params.data ? finite(params.data[highField]) : null;
    if (lo === null || hi === null) { return MISSING; }
    return neonFmt(lo, kind, digits) + " \u2026 " + neonFmt(hi, kind, digits);
  }

  /* Mobile layout: below `breakpoint` px of grid width only the key columns stay visible
   * (colDef.context.key); wider, every column (except those hidden on purpose) comes back.
   * The grid reports its new column state to Dash at once, so an export clicked right after holds exactly
   * the columns on screen (the grid alone reports it only on its own schedule). */
  function neonResponsive(params, breakpoint, gridId) {
    var api = params.api;
    if (!api || !api.getColumns) { return; }
    var el = gridId ? document.getElementById(gridId) : document.querySelector(".neon-grid");
    var width = params.clientWidth || (el ? el.clientWidth : window.innerWidth);
    var narrow = width < (breakpoint || 700);
    var show = [], hide = [], changes = 0;
    api.getColumns().forEach(function (col) {
      var ctx = col.getColDef().context || {};
      if (ctx.alwaysHidden) { return; }
      var visible = !(narrow && !ctx.key);
      (visible ? show : hide).push(col.getColId());
      if (col.isVisible() !== visible) { changes += 1; }
    });
    if (!changes) { return; }  /* called by several events: act (and re-render) only when the layout changes */
    if (hide.length) { api.setColumnsVisible(hide, false); }
    if (show.length) { api.setColumnsVisible(show, true); }
    if (api.sizeColumnsToFit) { api.sizeColumnsToFit(); }
    var dc = window.dash_clientside;
    if (gridId && dc && dc.set_props) {
      /* ask the grid to report its own state (dash-ag-grid's updateColumnState): setting columnState from
       * here instead would be applied back to the grid, racing its own first report of all columns */
      dc.set_props(gridId, {updateColumnState: true});
    }
  }

  /* The grid's own firstDataRendered listener is attached at gridReady; when the rows land before that
   * (a fast callback), the event is gone and the narrow layout never applied. So every grid of the app
   * (.neon-grid) is also laid out once its first rows are in the page, found by a light DOM observer. */
  var pending = false;
  function layOutNewGrids() {
    pending = false;
    var grids = document.querySelectorAll(".neon-grid[id]");
    for (var i = 0; i < grids.length; i++) {
      var el = grids[i];
      if (el.getAttribute("data-neon-laid-out") || !el.querySelector(".ag-center-cols-container .ag-row")) {
        continue;
      }
      el.setAttribute("data-neon-laid-out", "1");
      if (window.dash_ag_grid && window.dash_ag_grid.getApiAsync) {
        window.dash_ag_grid.getApiAsync(el.id).then(function (id) {
          return function (api) { neonResponsive({api: api, type: "firstRows"}, 700, id); };
        }(el.id)).catch(function () {});
      }
    }
  }
  function watch() {
    new MutationObserver(function () {
      if (!pending) { pending = true; setTimeout(layOutNewGrids, 100); }
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.body) { watch(); } else { document.addEventListener("DOMContentLoaded", watch); }

  var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  dagfuncs.neonFmt = neonFmt;
  dagfuncs.neonInterval = neonInterval;
  dagfuncs.neonResponsive = neonResponsive;
  window.neonFmt = neonFmt;  /* for the replay page's script and the browser tests */
})();
