// Ranking bar chart (click a bar to drill into that score) and score trend, from the
// JSON the page embeds; no other requests.
(function () {
  "use strict";
  var source = document.getElementById("assessment-chart");
  if (!source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var barNode = document.getElementById("ranking-chart");
  var trendNode = document.getElementById("trend-chart");
  var charts = [];
  if (barNode) {
    var bar = echarts.init(barNode);
    charts.push(bar);
    var scores = data.scores.map(Number);
    bar.setOption({
      title: { text: "得分排名", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: { left: 110, right: 30, top: 40, bottom: 30 },
      // Bars start at 0 (or below it for negative scores) so their lengths compare honestly.
      xAxis: { type: "value", min: function (v) { return Math.min(0, Math.floor(v.min)); } },
      yAxis: { type: "category", inverse: true, data: data.names, axisLabel: { width: 100, overflow: "truncate" } },
      series: [{
        type: "bar",
        data: scores.map(function (s) { return { value: s, itemStyle: { color: s < 0 ? "#b3261e" : (s >= 100 ? "#1b7f3a" : "#0b5cad") } }; }),
        label: { show: true, position: "right" }
      }]
    });
    bar.on("click", function (params) {
      var url = data.urls[params.dataIndex];
      if (url) { window.location.href = url; }
    });
  }
  if (trendNode) {
    var trend = echarts.init(trendNode);
    charts.push(trend);
    var series = data.trend.series.slice(0, 12).map(function (s) {
      return { name: s.name, type: "line", connectNulls: false, data: s.data.map(function (v) { return v === null ? null : Number(v); }) };
    });
    trend.setOption({
      title: { text: "得分趋势", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 50 },
      xAxis: { type: "category", data: data.trend.periods },
      yAxis: { type: "value", scale: true },
      series: series
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
