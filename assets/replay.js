/* Replay page: playback runs in the browser. The server sends the battle once (rpl-data); each tick
 * appends ONE bar to the chart with extendData (a partial update), and only a jump of the slider
 * rebuilds the figure. Buy/sell chimes play when sound is switched on (it is off by default). */
(function () {
  var NU = function () { return window.dash_clientside.no_update; };
  var state = { last: -1, data: null };
  var KEYS = ["x", "y", "open", "high", "low", "close"];

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
    // one bar's values for every key, so all traces extend in lockstep (see KEYS)
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
    var specs = [{ kind: "candle" }];
    d.agents.forEach(function (a) {
      specs.push({ kind: "marker", side: "buy", agent: a });
      specs.push({ kind: "marker", side: "sell", agent: a });
    });
    d.agents.forEach(function (a) { specs.push({ kind: "equity", series: a.equity, agent: a }); });
    if (d.bh.length) { specs.push({ kind: "equity", series: d.bh, agent: null }); }
    return specs;
  }

  function included(spec, i) {
    if (spec.kind !== "marker") { return true; }
    var f = spec.agent.fills[String(i)];
    return Boolean(f) && f[0] === spec.side;
  }

  function buildFigure(d, upto) {
    var specs = traceSpecs(d);
    var data = specs.map(function (spec) {
      var cols = {}; KEYS.forEach(function (k) { cols[k] = []; });
      for (var i = 0; i <= upto; i++) {
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

  function extendFor(d, i) {
    var specs = traceSpecs(d);
    var update = {}; KEYS.forEach(function (k) { update[k] = []; });
    var indices = [];
    specs.forEach(function (spec, t) {
      if (!included(spec, i)) { return; }
      var p = point(d, spec, i);
      KEYS.forEach(function (k) { update[k].push([p[k]]); });
      indices.push(t);
    });
    return [update, indices];
  }

  var FOLLOW_BARS = 150;

  function followRanges(d, i) {
    // A moving window over the last FOLLOW_BARS bars, with y ranges fitted to what is visible.
    var lo = Math.max(0, i - FOLLOW_BARS), hi = Math.min(d.dates.length - 1, Math.max(i + 8, lo + 40));
    var pmin = Infinity, pmax = -Infinity, emin = Infinity, emax = -Infinity;
    var curves = d.agents.map(function (a) { return a.equity; });
    if (d.bh.length) { curves.push(d.bh); }
    for (var j = lo; j <= i; j++) {
      pmin = Math.min(pmin, d.low[j]); pmax = Math.max(pmax, d.high[j]);
      curves.forEach(function (c) {
        if (c[j] !== null) { var v = 100 * c[j] / d.cash0; emin = Math.min(emin, v); emax = Math.max(emax, v); }
      });
    }
    var pp = 0.08 * Math.max(pmax - pmin, 1e-9), ep = 0.1 * Math.max(emax - emin, 1);
    return { x: [d.dates[lo], d.dates[hi]], y: [pmin - pp, pmax + pp], y2: [emin - ep, emax + ep] };
  }

  function applyRanges(layout, r) {
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
      var act = f ? f[0].toUpperCase() + " " + f[1].toLocaleString(undefined, { maximumFractionDigits: 2 }) : a.actions[i];
      return { type: "Tr", namespace: "dash_html_components", props: { children: [
        cell(a.label, { color: a.colour, fontWeight: 700 }),
        cell(pos === null ? "–" : (100 * pos).toFixed(0) + "%"),
        cell(eq === null ? "–" : "$" + Math.round(eq).toLocaleString()),
        cell(pnl === null ? "–" : (pnl >= 0 ? "+" : "") + (100 * pnl).toFixed(1) + "%",
             { color: pnl >= 0 ? "#00ff9c" : "#ff3860" }),
        cell(act, { color: f ? a.colour : "#7f8bb3" })
      ] } };
    });
    var head = { type: "Thead", namespace: "dash_html_components", props: { children: {
      type: "Tr", namespace: "dash_html_components", props: { children: ["Agent", "Pos", "Equity", "P&L", "Now"].map(
        function (h) { return { type: "Th", namespace: "dash_html_components", props: { children: h } }; }) } } } };
    return { type: "Table", namespace: "dash_html_components", props: { className: "table table-sm neon-mini-table",
      children: [head, { type: "Tbody", namespace: "dash_html_components", props: { children: rows } }] } };
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    replay: {
      toggle: function (n, disabled) {
        if (disabled) { return [false, "❚❚ Pause"]; }
        return [true, "▶ Play"];
      },
      speed: function (barsPerSecond) {
        return Math.max(25, Math.round(1000 / (barsPerSecond || 10)));
      },
      tick: function (n, value, max) {
        if (value >= max) { return [0, NU(), NU()]; }          // play again from the first bar
        if (value + 1 >= max) { return [max, true, "↺ Replay"]; }
        return [value + 1, NU(), NU()];
      },
      render: function (value, data, follow, sound) {
        if (!data || !data.dates) { return [NU(), NU(), NU(), NU()]; }
        var i = Math.max(0, Math.min(value || 0, data.dates.length - 1));
        var label = "Bar " + (i + 1) + " / " + data.dates.length + " · " + data.dates[i] + " · close " +
          Number(data.close[i]).toLocaleString(undefined, { maximumFractionDigits: 2 });
        var trig = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
        var followToggled = trig.indexOf("rpl-follow.value") >= 0;
        var stepForward = state.data === data && i === state.last + 1 && !followToggled;
        var figure = NU(), extend = NU();
        if (stepForward) {
          extend = extendFor(data, i);
          if (sound) {
            var buys = false, sells = false;
            data.agents.forEach(function (a) {
              var f = a.fills[String(i)];
              if (f) { if (f[0] === "buy") { buys = true; } else { sells = true; } }
            });
            if (buys) { playSound("buy"); }
            if (sells) { setTimeout(function () { playSound("sell"); }, buys ? 180 : 0); }
          }
          if (follow) {
            var r = followRanges(data, i);
            var gd = document.querySelector("#rpl-fig .js-plotly-plot");
            if (gd && window.Plotly) {
              // viewport only (no data): the new bar arrives through extendData
              window.requestAnimationFrame(function () {
                window.Plotly.relayout(gd, { "xaxis.range": r.x, "xaxis2.range": r.x, "yaxis.range": r.y,
                                             "yaxis2.range": r.y2 });
              });
            }
          }
        } else {
          figure = buildFigure(data, i);
          if (follow) { figure.layout = applyRanges(JSON.parse(JSON.stringify(figure.layout)), followRanges(data, i)); }
        }
        state.last = i; state.data = data;
        return [figure, extend, panel(data, i), label];
      }
    }
  });
})();
