/* The development pages' charts (funnel, sources, market). A static file: the CSP allows no inline script.
   Data comes from <script type="application/json"> elements written by Django's json_script; an element
   <div data-dev-chart="kind" data-chart-source="element id" [data-chart-key="part of the data"]> is a chart. */
(function () {
  "use strict";

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var builders = {
    funnel: function (data) {
      return {
        tooltip: { trigger: "item", formatter: "{b}: {c}" },
        series: [{
          name: data.labels.funnel,
          type: "funnel",
          sort: "none",  // the stages' order, not the counts', so a step nobody skipped stays in place
          minSize: "8%",
          left: "5%", right: "5%", top: 8, bottom: 8,
          label: { show: true, position: "inside", formatter: "{b}\n{c}" },
          data: data.stages
        }]
      };
    },
    sources: function (data) {
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: data.sources.labels,
                 axisLabel: { width: 220, overflow: "truncate" } },
        series: [
          { name: data.labels.found, type: "bar", data: data.sources.found },
          { name: data.labels.won, type: "bar", data: data.sources.won }
        ]
      };
    },
    stacked: function (data) {
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: data.labels,
                 axisLabel: { width: 200, overflow: "truncate" } },
        series: data.series.map(function (series) {
          return { name: series.name, type: "bar", stack: "status", data: series.data };
        })
      };
    }
  };

  function categories(option) {
    var axis = option.yAxis;
    return axis && axis.data ? axis.data.length : 0;
  }

  function initCharts(root) {
    if (!window.echarts || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-dev-chart]").forEach(function (element) {
      var build = builders[element.dataset.devChart];
      var data = readJSON(element.dataset.chartSource);
      if (!build || !data || element.dataset.chartReady) { return; }
      if (element.dataset.chartKey) { data = data[element.dataset.chartKey]; }
      if (!data) { return; }
      element.dataset.chartReady = "1";
      var option = build(data);
      // A bar per category: give long lists (20 sections, 30 provinces) the height to stay readable.
      var rows = categories(option);
      if (rows > 8) { element.style.height = Math.max(300, rows * 26 + 60) + "px"; }
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
