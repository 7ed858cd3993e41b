/* The command-centre wall: scales the 1920×1080 canvas to the screen, draws the charts and the
   hot-spot map, and refreshes everything from data.json every N seconds (no page reload). */
(function () {
  "use strict";

  var CYAN = "#36e0ff", BLUE = "#2f7bff", GREY = "#50607a", GREEN = "#3ddc84", AMBER = "#ffb300", RED = "#ff5b5b";
  var INK = "#c9dafc";
  var screen = document.getElementById("screen");
  var charts = {};
  var map = null, mapLayer = null, mapFitted = false;
  var labels = {};

  function fit() {
    var scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    screen.style.transform = "scale(" + scale + ")";
    screen.style.left = Math.max(0, (window.innerWidth - 1920 * scale) / 2) + "px";
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    if (map) { map.invalidateSize(); }
  }

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function pick(rows, key) { return rows.map(function (r) { return r[key]; }); }
  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  function signed(v, unit) { return v === null || v === undefined ? "—" : (v > 0 ? "+" : "") + v.toFixed(1) + unit; }
  function text(id, value) { var n = document.getElementById(id); if (n) { n.textContent = value; } }

  function set(id, option) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) { return; }
    if (!charts[id]) { charts[id] = window.echarts.init(node, null, { renderer: "canvas" }); }
    charts[id].setOption(option, true);
  }

  var axis = { axisLine: { lineStyle: { color: "#2b4a7a" } }, axisLabel: { color: INK, fontSize: 14 }, splitLine: { lineStyle: { color: "#12294d" } } };
  function xcat(data, extra) { return Object.assign({ type: "category", data: data }, axis, extra || {}); }
  function yval(extra) { return Object.assign({ type: "value" }, axis, extra || {}); }
  var legend = { textStyle: { color: INK, fontSize: 14 }, top: 0 };

  function render(d) {
    var k = d.kpi, t = d.labels;
    labels = t;
    text("clock", d.now);
    text("updated", t.updated + " " + d.now);
    text("k-today", k.today);
    text("k-month", k.month);
    text("k-month-yoy", t.yoy + " " + signed(k.month_yoy, "%"));
    text("k-closure", pct(k.closure));
    text("k-closure-yoy", t.yoy + " " + signed(k.closure_yoy, " " + t.points));
    text("k-on-time", pct(k.on_time));
    text("k-complaint", pct(k.complaint_closure));
    text("k-patrol", t.patrol + " " + pct(k.patrol_closure) + " · " + t.complaints + " " + k.complaints + " " + t.cases);
    text("k-open", k.open);
    text("k-overdue", k.overdue);
    text("k-satisfaction", pct(k.satisfaction));

    set("bs-channels", {
      tooltip: { trigger: "item" },
      legend: Object.assign({ orient: "vertical", right: 0, top: "middle" }, legend),
      series: [{ type: "pie", radius: ["38%", "70%"], center: ["38%", "52%"], label: { color: INK, formatter: "{b}\n{c}" },
        data: d.channels.filter(function (c) { return c.today > 0; }).map(function (c) { return { name: c.name, value: c.today }; }) }]
    });
    set("bs-groups", {
      tooltip: { trigger: "axis" }, legend: legend,
      grid: { left: 56, right: 56, top: 40, bottom: 28 },
      xAxis: xcat(pick(d.groups, "name")),
      yAxis: [yval(), yval({ max: 100, min: 50 })],
      series: [
        { name: t.this_month, type: "bar", data: pick(d.groups, "reported"), itemStyle: { color: CYAN } },
        { name: t.last_year_month, type: "bar", data: pick(d.groups, "reported_last_year"), itemStyle: { color: GREY } },
        { name: t.closure, type: "line", yAxisIndex: 1, data: pick(d.groups, "closure"), itemStyle: { color: GREEN } }
      ]
    });
    var colour = { green: GREEN, yellow: AMBER, red: RED };
    var units = d.units.slice().reverse();
    set("bs-units", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: yval(), yAxis: xcat(pick(units, "name"), { axisLabel: { color: INK, fontSize: 14, width: 120, overflow: "truncate" } }),
      series: [{ type: "bar", label: { show: true, position: "right", color: INK },
        data: units.map(function (u) { return { value: u.overdue, itemStyle: { color: colour[u.light] || RED } }; }) }]
    });
    set("bs-mix", {
      tooltip: { trigger: "axis" }, legend: legend,
      grid: { left: 48, right: 16, top: 40, bottom: 28 },
      xAxis: xcat(pick(d.mix, "name")), yAxis: yval({ max: 100 }),
      series: [
        { name: t.actual, type: "bar", data: pick(d.mix, "share"), itemStyle: { color: CYAN }, label: { show: true, position: "top", color: INK } },
        { name: t.target, type: "bar", data: pick(d.mix, "target"), itemStyle: { color: GREY }, label: { show: true, position: "top", color: INK } }
      ]
    });
    set("bs-trend", {
      tooltip: { trigger: "axis" }, legend: legend,
      grid: { left: 64, right: 64, top: 36, bottom: 28 },
      xAxis: xcat(pick(d.trend, "month")),
      yAxis: [yval(), yval({ max: 100, min: 50 })],
      series: [
        { name: t.reported, type: "bar", data: pick(d.trend, "reported"), itemStyle: { color: BLUE } },
        { name: t.last_year_month, type: "bar", data: pick(d.trend, "last_year"), itemStyle: { color: GREY } },
        { name: t.closure, type: "line", yAxisIndex: 1, data: pick(d.trend, "closure"), itemStyle: { color: GREEN } },
        { name: t.on_time, type: "line", yAxisIndex: 1, data: pick(d.trend, "on_time"), itemStyle: { color: AMBER } }
      ]
    });

    var list = document.getElementById("bs-latest");
    if (list) {
      list.replaceChildren.apply(list, d.latest.map(function (c) {
        var li = document.createElement("li");
        [["t", c.time], ["c", c.channel], ["", c.category], ["", c.territory]].forEach(function (p) {
          var span = document.createElement("span");
          if (p[0]) { span.className = p[0]; }
          span.textContent = p[1];
          li.appendChild(span);
        });
        return li;
      }));
    }
    drawMap(d.hotspots);
  }

  function drawMap(h) {
    var node = document.getElementById("bs-map");
    if (!node || !window.L || !h || !h.bbox) { return; }
    if (!map) {
      var settings = json("bs-map-settings") || {};
      map = window.L.map(node, { zoomControl: false, attributionControl: Boolean(settings.tiles), preferCanvas: true });
      if (settings.tiles) { window.L.tileLayer(settings.tiles, { attribution: settings.attribution, maxZoom: 18 }).addTo(map); }
      mapLayer = window.L.layerGroup().addTo(map);
    }
    if (!mapFitted) {
      map.fitBounds([[h.bbox[1], h.bbox[0]], [h.bbox[3], h.bbox[2]]]);
      mapFitted = true;
    }
    mapLayer.clearLayers();
    var max = h.cells.reduce(function (m, c) { return Math.max(m, c.count); }, 0);
    h.cells.forEach(function (c) {
      var t = max ? Math.sqrt(c.count / max) : 0;
      mapLayer.addLayer(window.L.rectangle([[c.bounds[1], c.bounds[0]], [c.bounds[3], c.bounds[2]]], {
        weight: 0, fillOpacity: 0.25 + 0.6 * t, fillColor: "rgb(255," + Math.round(200 - 170 * t) + "," + Math.round(60 - 50 * t) + ")"
      }).bindTooltip(c.name + "：" + c.count + " " + labels.cases));
    });
  }

  function refresh() {
    fetch(screen.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(render)
      .catch(function () { text("updated", labels.refresh_failed || ""); });
  }

  function tick() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    text("clock", now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate()) + " " + two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds()));
  }

  function start() {
    fit();
    window.addEventListener("resize", fit);
    var initial = json("bs-initial");
    if (initial) { render(initial); }
    var seconds = parseInt(screen.dataset.refresh, 10) || 30;
    window.setInterval(refresh, seconds * 1000);
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
