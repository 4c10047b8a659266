/* Replay page: playback runs in the browser. The server sends the battle once (rpl-data).
 * - Speed is honoured by wall time: each tick reveals every bar due since Play was pressed
 *   (several bars per frame at high speed), so N bars/s is N bars/s whatever the frame rate.
 * - Follow mode draws only the visible window (constant cost per frame); without follow, new bars are
 *   appended with extendData and only a jump rebuilds the figure.
 * - Grey candles: bars before the window, so the first view reads as a chart.
 * Buy/sell chimes play when sound is switched on (it is off by default). */
(function () {
  var NU = function () { return window.dash_clientside.no_update; };
  var state = { last: -1, data: null, follow: null, t0: null, v0: 0, speed: 20, lastTick: null };
  var KEYS = ["x", "y", "open", "high", "low", "close"];
  var FOLLOW_BARS = 150;

  function fmt(v, kind, d) { return window.neonFmt ? window.neonFmt(v, kind, d) : String(v); }

  function playSound(kind) {
    try {
      var audio = new Audio("/assets/" + kind + "_alert.wav");
      audio.volume = 0.55;
      var p = audio.play();
      if (p && p.catch) { p.catch(function () {}); }
    } catch (e) { /* no audio device: stay silent */ }
  }

  function pad(d) { return 0.015 * (d.layout_ranges.price[1] - d.layout_ranges.price[0]); }

  function point(d, trace, i) {
    var p = { x: d.dates[i], y: null, open: null, high: null, low: null, close: null };
    if (trace.kind === "candle") {
      p.open = d.open[i]; p.high = d.high[i]; p.low = d.low[i]; p.close = d.close[i];
    } else if (trace.kind === "equity") {
      var v = trace.series[i];
      p.y = v === null ? null : 100 * v / d.cash0;
    } else if (trace.kind === "marker") {
      p.y = trace.side === "buy" ? d.low[i] - pad(d) : d.high[i] + pad(d);
    }
    return p;
  }

  function traceSpecs(d) {
    var specs = [{ kind: "context" }, { kind: "candle" }];
    d.agents.forEach(function (a) {
      specs.push({ kind: "marker", side: "buy", agent: a });
      specs.push({ kind: "marker", side: "sell", agent: a });
    });
    d.agents.forEach(function (a) { specs.push({ kind: "equity", series: a.equity, agent: a }); });
    if (d.bh.length) { specs.push({ kind: "equity", series: d.bh, agent: null }); }
    return specs;
  }

  function included(spec, i) {
    if (spec.kind === "context") { return false; }
    if (spec.kind !== "marker") { return true; }
    var f = spec.agent.fills[String(i)];
    return Boolean(f) && f[0] === spec.side;
  }

  function contextTrace(d, from) {
    var c = d.context || { dates: [] }, n = c.dates.length, lo = 0;
    if (from !== undefined && from !== null) {  // follow: only the context bars inside the window
      lo = Math.max(0, n + from);
    }
    return { type: "candlestick", name: "before the window", showlegend: false, xaxis: "x", yaxis: "y",
      hoverinfo: "x+name", x: c.dates.slice(lo), open: (c.open || []).slice(lo), high: (c.high || []).slice(lo),
      low: (c.low || []).slice(lo), close: (c.close || []).slice(lo),
      increasing: { line: { color: "#59628a", width: 1 }, fillcolor: "#3a4166" },
      decreasing: { line: { color: "#59628a", width: 1 }, fillcolor: "#242a45" } };
  }

  function buildFigure(d, upto, from) {
    var start = Math.max(0, from || 0);
    var data = traceSpecs(d).map(function (spec) {
      if (spec.kind === "context") { return contextTrace(d, from); }
      var cols = {}; KEYS.forEach(function (k) { cols[k] = []; });
      for (var i = start; i <= upto; i++) {
        if (!included(spec, i)) { continue; }
        var p = point(d, spec, i);
        KEYS.forEach(function (k) { cols[k].push(p[k]); });
      }
      if (spec.kind === "candle") {
        return Object.assign(cols, { type: "candlestick", name: d.ticker, showlegend: false, xaxis: "x", yaxis: "y",
          increasing: { line: { color: "#00ff9c", width: 1 }, fillcolor: "#00ff9c" },
          decreasing: { line: { color: "#ff3860", width: 1 }, fillcolor: "#ff3860" } });
      }
      if (spec.kind === "marker") {
        var a = spec.agent;
        return Object.assign(cols, { type: "scatter", mode: "markers", xaxis: "x", yaxis: "y",
          name: a.label + " " + spec.side, legendgroup: a.name, hoverinfo: "x+name",
          marker: { color: a.colour, size: 10, symbol: spec.side === "buy" ? a.symbol : a.symbol + "-open",
                    line: { color: a.colour, width: 2 } } });
      }
      var agent = spec.agent;
      return Object.assign(cols, { type: "scatter", mode: "lines", xaxis: "x2", yaxis: "y2",
        name: agent ? agent.label + " equity" : "Buy-and-hold", legendgroup: agent ? agent.name : "bh",
        showlegend: !agent,
        line: agent ? { color: agent.colour, width: 2 } : { color: "#d6e2ff", width: 1.5, dash: "dot" } });
    });
    return { data: data, layout: d.layout };
  }

  function extendFor(d, from, to) {
    // every bar in (from, to]: one extendData call appends them all (one redraw)
    var specs = traceSpecs(d);
    var update = {}; KEYS.forEach(function (k) { update[k] = []; });
    var indices = [];
    specs.forEach(function (spec, t) {
      var cols = {}; KEYS.forEach(function (k) { cols[k] = []; });
      var any = false;
      for (var i = from + 1; i <= to; i++) {
        if (!included(spec, i)) { continue; }
        var p = point(d, spec, i);
        KEYS.forEach(function (k) { cols[k].push(p[k]); });
        any = true;
      }
      if (!any) { return; }
      KEYS.forEach(function (k) { update[k].push(cols[k]); });
      indices.push(t);
    });
    if (!indices.length) { return NU(); }
    return [update, indices];
  }

  function followRanges(d, i) {
    // A moving window over the last FOLLOW_BARS bars (context bars included), y fitted to what is visible.
    var c = d.context || { dates: [] }, nc = c.dates.length;
    var lo = i - FOLLOW_BARS, hi = Math.min(d.dates.length - 1, Math.max(i + 8, lo + 40));
    var pmin = Infinity, pmax = -Infinity, emin = Infinity, emax = -Infinity;
    var curves = d.agents.map(function (a) { return a.equity; });
    if (d.bh.length) { curves.push(d.bh); }
    for (var j = Math.max(lo, -nc); j <= i; j++) {
      var low = j < 0 ? c.low[nc + j] : d.low[j], high = j < 0 ? c.high[nc + j] : d.high[j];
      if (low !== null) { pmin = Math.min(pmin, low); }
      if (high !== null) { pmax = Math.max(pmax, high); }
      if (j < 0) { continue; }
      curves.forEach(function (cv) {
        if (cv[j] !== null) { var v = 100 * cv[j] / d.cash0; emin = Math.min(emin, v); emax = Math.max(emax, v); }
      });
    }
    if (!isFinite(emin)) { emin = 95; emax = 105; }
    var first = lo < 0 ? (nc + lo >= 0 ? c.dates[nc + lo] : (nc ? c.dates[0] : d.dates[0])) : d.dates[lo];
    var pp = 0.08 * Math.max(pmax - pmin, 1e-9), ep = Math.max(0.1 * (emax - emin), 1.5);
    return { from: lo, x: [first, d.dates[hi]], y: [pmin - pp, pmax + pp], y2: [emin - ep, emax + ep] };
  }

  function applyRanges(layout, r) {
    layout = Object.assign({}, layout);
    layout.xaxis = Object.assign({}, layout.xaxis, { range: r.x, autorange: false });
    layout.xaxis2 = Object.assign({}, layout.xaxis2, { range: r.x, autorange: false });
    layout.yaxis = Object.assign({}, layout.yaxis, { range: r.y, autorange: false });
    layout.yaxis2 = Object.assign({}, layout.yaxis2, { range: r.y2, autorange: false });
    return layout;
  }

  function cell(text, style) {
    return { type: "Td", namespace: "dash_html_components", props: { children: text, style: style || {} } };
  }

  function panel(d, i) {
    var rows = d.agents.map(function (a) {
      var eq = a.equity[i], pos = a.position[i];
      var pnl = eq === null ? null : eq / d.cash0 - 1;
      var f = a.fills[String(i)];
      var act = f ? f[0].toUpperCase() + " " + fmt(f[1], "number", 2) : a.actions[i];
      return { type: "Tr", namespace: "dash_html_components", props: { children: [
        cell(a.label, { color: a.colour, fontWeight: 700 }),
        cell(pos === null ? "\u2013" : fmt(pos, "pct", 0)),
        cell(eq === null ? "\u2013" : fmt(eq, "money", 0)),
        cell(fmt(pnl, "signed_pct", 1), { color: pnl === null ? "#7f8bb3" : (pnl >= 0 ? "#00ff9c" : "#ff3860") }),
        cell(act, { color: f ? a.colour : "#7f8bb3" })
      ] } };
    });
    var head = { type: "Thead", namespace: "dash_html_components", props: { children: {
      type: "Tr", namespace: "dash_html_components", props: { children: ["Agent", "Pos", "Equity", "P&L", "Now"].map(
        function (h) { return { type: "Th", namespace: "dash_html_components", props: { children: h } }; }) } } } };
    return { type: "Table", namespace: "dash_html_components", props: { className: "table table-sm neon-mini-table",
      children: [head, { type: "Tbody", namespace: "dash_html_components", props: { children: rows } }] } };
  }

  function sounds(d, from, to) {
    var buys = false, sells = false;
    for (var i = Math.max(0, from + 1); i <= to; i++) {
      d.agents.forEach(function (a) {
        var f = a.fills[String(i)];
        if (f) { if (f[0] === "buy") { buys = true; } else { sells = true; } }
      });
    }
    if (buys) { playSound("buy"); }
    if (sells) { setTimeout(function () { playSound("sell"); }, buys ? 180 : 0); }
  }

  function clamp(v, max) {
    var n = Math.round(Number(v));
    if (!isFinite(n)) { n = 0; }
    return Math.max(0, Math.min(n, max));
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    replay: {
      toggle: function (n, disabled) {
        state.t0 = null;  // the next tick starts a new wall-clock run from the bar on screen
        if (disabled) { return [false, "\u275a\u275a Pause"]; }
        return [true, "\u25b6 Play"];
      },
      speed: function (barsPerSecond) {
        state.speed = barsPerSecond || 20;
        state.t0 = null;
        // at most ~10 frames a second; faster speeds reveal several bars per frame
        return Math.max(100, Math.round(1000 / state.speed));
      },
      tick: function (n, value, max, speed) {
        var now = (window.performance && window.performance.now) ? window.performance.now() : Date.now();
        value = value || 0;
        if (value >= max) { state.t0 = null; return [0, NU(), NU()]; }          // play again from the first bar
        // restart the clock when play starts or the slider was moved by hand; a slider value that lags a
        // frame behind the last tick (the renderer has not applied it yet) is not a move
        var step = (speed || state.speed) * 0.25 + 2;
        if (state.t0 === null || Math.abs(value - state.lastTick) > step) {
          state.t0 = now - 1000 / (speed || state.speed); state.v0 = value;
        }
        var target = state.v0 + Math.floor((speed || state.speed) * (now - state.t0) / 1000);
        target = Math.max(value + 1, Math.min(target, max));
        state.lastTick = target;
        if (target >= max) { state.t0 = null; return [max, true, "\u21ba Replay"]; }
        return [target, NU(), NU()];
      },
      jump: function (n, max) {
        state.t0 = null;
        return [max, true, "\u21ba Replay"];
      },
      position: function (slider, box, max) {
        var trig = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
        if (trig.indexOf("rpl-pos.value") >= 0) {
          if (box === null || box === undefined || box === "") { return [NU(), (slider || 0) + 1]; }
          var i = clamp(Number(box) - 1, max || 0);
          return [i === slider ? NU() : i, i + 1];   // one-based box, clamped (typing 99999 shows the last bar)
        }
        return [NU(), (slider || 0) + 1];
      },
      render: function (value, data, follow, sound) {
        if (!data || !data.dates) { return [NU(), NU(), NU(), NU()]; }
        var i = Math.max(0, Math.min(value || 0, data.dates.length - 1));
        var label = "Bar " + (i + 1).toLocaleString("en-US") + " / " + data.dates.length.toLocaleString("en-US") +
          " \u00b7 " + data.dates[i] + " \u00b7 close " + fmt(data.close[i], "price", 2);
        var same = state.data === data && state.follow === follow;
        var forward = same && i > state.last;
        var figure = NU(), extend = NU();
        if (forward && sound) { sounds(data, state.last, i); }
        if (follow) {
          // constant cost per frame: only the visible window is drawn
          var r = followRanges(data, i);
          figure = buildFigure(data, i, r.from);
          figure.layout = applyRanges(figure.layout, r);
        } else if (forward) {
          extend = extendFor(data, state.last, i);
        } else {
          figure = buildFigure(data, i, null);
        }
        state.last = i; state.data = data; state.follow = follow;
        return [figure, extend, panel(data, i), label];
      }
    }
  });
})();
