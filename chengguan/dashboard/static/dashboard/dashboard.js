/* Dashboard charts (ECharts) and the hot-spot map (Leaflet). Data comes from json_script
   blocks the server renders; nothing here is inline, so the page runs under the CSP. */
(function () {
  "use strict";

  var BLUE = "#0b5cad", GREY = "#9aa7b4", GREEN = "#2e9e44", AMBER = "#e0a800", RED = "#d63031";
  var charts = [];

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function chart(id, option) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) { return null; }
    var c = window.echarts.init(node, null, { renderer: "canvas" });
    c.setOption(option);
    charts.push(c);
    return c;
  }

  function pick(rows, key) { return rows.map(function (r) { return r[key]; }); }

  function draw(d) {
    var t = d.labels;
    var base = { textStyle: { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif" } };
    chart("chart-channels", Object.assign({}, base, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t.today, t.period] },
      grid: { left: 48, right: 48, top: 36, bottom: 40 },
      xAxis: { type: "category", data: pick(d.channels, "name"), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: [{ type: "value", name: t.period }, { type: "value", name: t.today }],
      series: [
        { name: t.period, type: "bar", data: pick(d.channels, "period"), itemStyle: { color: BLUE } },
        { name: t.today, type: "bar", yAxisIndex: 1, data: pick(d.channels, "today"), itemStyle: { color: AMBER } }
      ]
    }));
    chart("chart-groups", Object.assign({}, base, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t.reported_period, t.reported_last_year, t.closure, t.closure_last_year] },
      grid: { left: 56, right: 56, top: 48, bottom: 28 },
      xAxis: { type: "category", data: pick(d.groups, "name") },
      yAxis: [{ type: "value", name: t.cases }, { type: "value", name: "%", min: function (v) { return Math.max(0, Math.floor(v.min - 5)); }, max: 100 }],
      series: [
        { name: t.reported_period, type: "bar", data: pick(d.groups, "reported"), itemStyle: { color: BLUE } },
        { name: t.reported_last_year, type: "bar", data: pick(d.groups, "reported_last_year"), itemStyle: { color: GREY } },
        { name: t.closure, type: "line", yAxisIndex: 1, data: pick(d.groups, "closure"), itemStyle: { color: GREEN } },
        { name: t.closure_last_year, type: "line", yAxisIndex: 1, data: pick(d.groups, "closure_last_year"), lineStyle: { type: "dashed" }, itemStyle: { color: GREY } }
      ]
    }));
    chart("chart-trend", Object.assign({}, base, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t.reported, t.last_year_month, t.closure, t.on_time] },
      grid: { left: 56, right: 56, top: 48, bottom: 28 },
      xAxis: { type: "category", data: pick(d.trend, "month") },
      yAxis: [{ type: "value", name: t.cases }, { type: "value", name: "%", min: function (v) { return Math.max(0, Math.floor(v.min - 5)); }, max: 100 }],
      series: [
        { name: t.reported, type: "bar", data: pick(d.trend, "reported"), itemStyle: { color: BLUE } },
        { name: t.last_year_month, type: "bar", data: pick(d.trend, "last_year"), itemStyle: { color: GREY } },
        { name: t.closure, type: "line", yAxisIndex: 1, data: pick(d.trend, "closure"), itemStyle: { color: GREEN } },
        { name: t.on_time, type: "line", yAxisIndex: 1, data: pick(d.trend, "on_time"), itemStyle: { color: AMBER } }
      ]
    }));
    var cats = d.categories.slice().reverse();
    chart("chart-categories", Object.assign({}, base, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: pick(cats, "name"), axisLabel: { width: 110, overflow: "truncate" } },
      series: [{ type: "bar", data: pick(cats, "reported"), itemStyle: { color: BLUE }, label: { show: true, position: "right" } }]
    }));
    chart("chart-mix", Object.assign({}, base, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t.actual, t.target] },
      grid: { left: 48, right: 24, top: 40, bottom: 28 },
      xAxis: { type: "category", data: pick(d.mix, "name") },
      yAxis: { type: "value", max: 100, name: "%" },
      series: [
        { name: t.actual, type: "bar", data: pick(d.mix, "share"), itemStyle: { color: BLUE }, label: { show: true, position: "top" } },
        { name: t.target, type: "bar", data: pick(d.mix, "target"), itemStyle: { color: GREY }, label: { show: true, position: "top" } }
      ]
    }));
    var lightColour = { green: GREEN, yellow: AMBER, red: RED };
    chart("chart-units", Object.assign({}, base, {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t.open, t.overdue, t.on_time] },
      grid: { left: 48, right: 56, top: 40, bottom: 90 },
      xAxis: { type: "category", data: pick(d.units, "name"), axisLabel: { interval: 0, rotate: 45 } },
      yAxis: [{ type: "value", name: t.cases }, { type: "value", name: "%", max: 100 }],
      series: [
        { name: t.open, type: "bar", data: pick(d.units, "open"), itemStyle: { color: GREY } },
        { name: t.overdue, type: "bar", data: d.units.map(function (u) { return { value: u.overdue, itemStyle: { color: lightColour[u.light] || RED } }; }) },
        { name: t.on_time, type: "line", yAxisIndex: 1, data: pick(d.units, "on_time"), itemStyle: { color: BLUE } }
      ]
    }));
  }

  function heat(count, max) {
    var t = max > 0 ? Math.sqrt(count / max) : 0;
    var r = Math.round(255), g = Math.round(220 - 190 * t), b = Math.round(120 - 110 * t);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  function hotmap(settings) {
    var node = document.getElementById("hotmap");
    if (!node || !window.L || !settings.bbox) { return; }
    var map = window.L.map(node, { preferCanvas: true });
    if (settings.tiles) {
      window.L.tileLayer(settings.tiles, { attribution: settings.attribution, maxZoom: 18 }).addTo(map);
    }
    var b = settings.bbox;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    var layer = window.L.layerGroup().addTo(map);
    var legend = document.getElementById("hotmap-legend");
    var t = settings.labels || {};
    var pending = null;
    function load() {
      var bounds = map.getBounds();
      var bbox = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      var url = node.dataset.url + "?" + (node.dataset.query ? node.dataset.query + "&" : "") + "bbox=" + bbox + "&zoom=" + map.getZoom();
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(url, { credentials: "same-origin", signal: pending.signal })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          layer.clearLayers();
          var max = res.cells.reduce(function (m, c) { return Math.max(m, c.count); }, 0);
          res.cells.forEach(function (c) {
            var rect = window.L.rectangle([[c.bounds[1], c.bounds[0]], [c.bounds[3], c.bounds[2]]], {
              weight: 0.5, color: "#8a2b06", fillColor: heat(c.count, max), fillOpacity: 0.75
            });
            rect.bindTooltip(c.name + "（" + c.code + "）：" + c.count + " " + (t.cases || ""));
            layer.addLayer(rect);
          });
          if (legend) {
            legend.textContent = (t["level" + res.level] || "") + "：" +
              (t.map_cells || "").replace("{n}", res.cells.length).replace("{max}", max) + "（" + res.period + "）";
          }
        })
        .catch(function (err) { if (err.name !== "AbortError" && legend) { legend.textContent = t.map_failed || ""; } });
    }
    map.on("moveend", load);
    load();
  }

  function start() {
    var d = data("dash-data");
    if (d) { draw(d); }
    var m = data("dash-map");
    if (m) { hotmap(m); }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
