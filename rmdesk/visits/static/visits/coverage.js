/* The visit coverage page's charts. A static file: the CSP allows no inline script. Data comes from a
   <script type="application/json"> element written by Django's json_script; an element
   <div data-visits-chart="kind" data-chart-source="element id"> is a chart. */
(function () {
  "use strict";

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var builders = {
    // Visits done per ISO week, one line per RM.
    weekly: function (data) {
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll" },
        grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: data.weeks, axisLabel: { rotate: 45 } },
        yAxis: { type: "value", minInterval: 1, name: data.labels.visits },
        series: data.visits.map(function (series) {
          return { name: series.name, type: "line", data: series.data, symbolSize: 6 };
        })
      };
    },
    // Each RM's share of customers visited within cadence; the values are exact strings, drawn as given.
    coverage: function (data) {
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (value) {
          return value === null || value === undefined ? "—" : value + "%";
        } },
        grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        yAxis: { type: "category", inverse: true, data: data.rms, axisLabel: { width: 160, overflow: "truncate" } },
        series: [{
          name: data.labels.coverage,
          type: "bar",
          data: data.coverage,
          label: { show: true, position: "right", formatter: "{c}%" }
        }]
      };
    }
  };

  function initCharts(root) {
    if (!window.echarts || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-visits-chart]").forEach(function (element) {
      var build = builders[element.dataset.visitsChart];
      var data = readJSON(element.dataset.chartSource);
      if (!build || !data || element.dataset.chartReady) { return; }
      element.dataset.chartReady = "1";
      var option = build(data);
      // A bar per RM: give a branch's long list the height to stay readable.
      var rows = data.rms ? data.rms.length : 0;
      if (element.dataset.visitsChart === "coverage" && rows > 8) {
        element.style.height = Math.max(300, rows * 26 + 40) + "px";
      }
      var chart = window.echarts.init(element);
      chart.setOption(option);
      if (window.ResizeObserver) {
        new ResizeObserver(function () { chart.resize(); }).observe(element);
      }
    });
  }

  function start() {
    if (window.htmx) {
      window.htmx.onLoad(initCharts);
    } else {
      initCharts(document);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
