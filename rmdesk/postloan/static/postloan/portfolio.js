/* The portfolio quality page's charts. A static file: the CSP allows no inline script. Data comes from a
   <script type="application/json"> element written by Django's json_script; an element
   <div data-quality-chart="kind" data-chart-source="element id"> is a chart. Amounts and ratios arrive as exact
   strings and are drawn as given. */
(function () {
  "use strict";

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : value + "%";
  }

  var builders = {
    // Outstanding principal by classification, now.
    classes: function (data) {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0, type: "scroll" },
        series: [{
          type: "pie",
          radius: ["35%", "65%"],
          data: data.classes.map(function (item) { return { name: item.name, value: item.value }; }),
          label: { formatter: "{b}: {d}%" }
        }]
      };
    },
    // NPL ratio and overdue principal ratio at each month end.
    ratios: function (data) {
      return {
        tooltip: { trigger: "axis", valueFormatter: percent },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: data.months },
        yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
        series: [
          { name: data.labels.npl_ratio, type: "line", data: data.npl_ratio, symbolSize: 6 },
          { name: data.labels.overdue_ratio, type: "line", data: data.overdue_ratio, symbolSize: 6 }
        ]
      };
    },
    // Outstanding principal by classification at each month end, stacked.
    stack: function (data) {
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0, type: "scroll" },
        grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: data.months },
        yAxis: { type: "value" },
        series: data.by_class.map(function (series) {
          return { name: series.name, type: "bar", stack: "outstanding", data: series.data };
        })
      };
    },
    // Each RM's overdue ratio and NPL ratio.
    rms: function (data) {
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: percent },
        legend: { top: 0 },
        grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
        yAxis: { type: "category", inverse: true, data: data.rms, axisLabel: { width: 160, overflow: "truncate" } },
        series: [
          { name: data.labels.rm_overdue, type: "bar", data: data.rm_overdue },
          { name: data.labels.npl_ratio, type: "bar", data: data.rm_npl }
        ]
      };
    }
  };

  function initCharts(root) {
    if (!window.echarts || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-quality-chart]").forEach(function (element) {
      var build = builders[element.dataset.qualityChart];
      var data = readJSON(element.dataset.chartSource);
      if (!build || !data || element.dataset.chartReady) { return; }
      element.dataset.chartReady = "1";
      // Two bars per RM: give a branch's long list the height to stay readable.
      var rows = data.rms ? data.rms.length : 0;
      if (element.dataset.qualityChart === "rms" && rows > 6) {
        element.style.height = Math.max(300, rows * 40 + 60) + "px";
      }
      var chart = window.echarts.init(element);
      chart.setOption(build(data));
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
