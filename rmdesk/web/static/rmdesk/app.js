/* rmdesk's own behaviour. Loaded as a static file: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  // --- charts -------------------------------------------------------------------------------------------
  // Pages hand data over in <script type="application/json"> elements (Django's json_script). Amounts
  // arrive as strings (money is exact on the server); they become numbers here only to be drawn.

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function toNumbers(values) {
    return values.map(function (value) { return value === null ? null : Number(value); });
  }

  var builders = {
    financials: function (data) {
      return {
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", top: 0 },
        grid: { left: 8, right: 8, top: 48, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: data.years },
        yAxis: [
          { type: "value", axisLabel: { hideOverlap: true } },
          // alignTicks keeps the ratio's 0% level with the amounts' zero line, even when a year made a loss.
          { type: "value", name: "%", alignTicks: true, splitLine: { show: false } }
        ],
        series: [
          { name: data.labels.revenue, type: "bar", data: toNumbers(data.revenue) },
          { name: data.labels.net_profit, type: "bar", data: toNumbers(data.net_profit) },
          { name: data.labels.debt_ratio, type: "line", yAxisIndex: 1, data: toNumbers(data.debt_ratio) }
        ]
      };
    }
  };

  function initCharts(root) {
    if (!window.echarts || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var build = builders[element.dataset.chart];
      var data = readJSON(element.dataset.chartSource);
      if (!build || !data || element.dataset.chartReady) { return; }
      element.dataset.chartReady = "1";
      var chart = window.echarts.init(element);
      chart.setOption(build(data));
      // A chart in a hidden tab starts with no width; resize it whenever its box changes.
      if (window.ResizeObserver) {
        new ResizeObserver(function () { chart.resize(); }).observe(element);
      }
    });
  }

  // --- tabs: keep the address bar on the open section, so reload and sharing land on it --------------------
  document.addEventListener("shown.bs.tab", function (event) {
    var href = event.target.getAttribute("href");
    if (href && href.charAt(0) === "/" && window.history.replaceState) {
      window.history.replaceState(window.history.state, "", href);
    }
  });

  // --- demo log-in: a click on a demo account fills in its username --------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-demo-username]") : null;
    if (!button) { return; }
    var username = document.getElementById("id_username");
    var password = document.getElementById("id_password");
    if (username) { username.value = button.dataset.demoUsername; }
    if (password) { password.focus(); }
  });

  // --- the header's quick search: its drop-down follows the keys ---------------------------------------------
  // After a short pause in typing, the box fetches its partial (the best matches) into the element it controls;
  // Enter submits the form to the full ranked list. fetch rather than htmx: leaving the page while a request is
  // out aborts it, and htmx reports every aborted request as a console error.
  var quickTimer = null;
  var quickController = null;

  function quickSearch(box) {
    var results = document.getElementById(box.getAttribute("aria-controls"));
    if (!results || !window.fetch) { return; }
    if (quickController) { quickController.abort(); }
    var controller = window.AbortController ? new AbortController() : null;
    quickController = controller;
    var url = box.dataset.rmQuickSearch + "?q=" + encodeURIComponent(box.value);
    window.fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (quickController === controller) { results.innerHTML = html; } })
      .catch(function () { /* aborted: a newer keystroke, or the user left the page */ });
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-rm-quick-search]")) { return; }
    window.clearTimeout(quickTimer);
    quickTimer = window.setTimeout(function () { quickSearch(box); }, 250);
  });

  document.addEventListener("submit", function (event) {
    if (event.target.querySelector && event.target.querySelector("[data-rm-quick-search]")) {
      window.clearTimeout(quickTimer);
      if (quickController) { quickController.abort(); }
    }
  });

  // --- htmx ------------------------------------------------------------------------------------------------
  function showError() {
    var messages = document.getElementById("messages");
    if (!messages) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger";
    alert.setAttribute("role", "alert");
    alert.textContent = document.body.dataset.errorMessage || "Error";
    messages.appendChild(alert);
  }

  function start() {
    if (window.htmx) {
      // onLoad runs for the page and again for every fragment htmx swaps in.
      window.htmx.onLoad(initCharts);
      document.body.addEventListener("htmx:responseError", showError);
      document.body.addEventListener("htmx:sendError", showError);
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
