// touchbase console: draws the dashboard's charts from the JSON the page
// carries in #chart-data (no inline script: the CSP allows only files from
// /ui/static), again whenever htmx swaps content in.
(function () {
  "use strict";

  var charts = [];
  var colors = { brand: "#4f46e5", brandSoft: "rgba(79, 70, 229, .14)", teal: "#0d9488", grid: "#eef0f5", text: "#5f6b7f" };

  function money(v, currency, compact) {
    try {
      return new Intl.NumberFormat(undefined, {
        style: "currency", currency: currency || "USD",
        notation: compact ? "compact" : "standard", maximumFractionDigits: compact ? 1 : 2
      }).format(v);
    } catch (e) {
      return String(Math.round(v));
    }
  }

  function integer(v) {
    return new Intl.NumberFormat().format(v);
  }

  function baseOptions() {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 250 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", align: "start", labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true, padding: 16 } },
        tooltip: { padding: 10, cornerRadius: 6, boxPadding: 4 }
      },
      scales: {
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 16 } },
        y: { beginAtZero: true, grid: { color: colors.grid }, border: { display: false }, ticks: { precision: 0 } }
      }
    };
  }

  function draw(kind, canvas, d) {
    var opts = baseOptions();
    var cfg;
    if (kind === "revenue") {
      opts.scales.y.ticks.callback = function (v) { return money(v, d.currency, true); };
      opts.scales.y1 = { position: "right", beginAtZero: true, grid: { display: false }, border: { display: false }, ticks: { precision: 0 } };
      opts.plugins.tooltip.callbacks = {
        label: function (ctx) {
          return ctx.dataset.label + ": " + (ctx.dataset.yAxisID === "y" ? money(ctx.parsed.y, d.currency) : integer(ctx.parsed.y));
        }
      };
      cfg = {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "Revenue", data: d.revenue, backgroundColor: colors.brand, borderRadius: 4, maxBarThickness: 28, yAxisID: "y", order: 2 },
            { label: "Orders", data: d.orders, type: "line", borderColor: colors.teal, backgroundColor: colors.teal,
              pointRadius: 2, cubicInterpolationMode: "monotone", yAxisID: "y1", order: 1 }
          ]
        },
        options: opts
      };
    } else if (kind === "buyers") {
      opts.scales.x.stacked = true;
      opts.scales.y.stacked = true;
      cfg = {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "New buyers", data: d.new_buyers, backgroundColor: colors.brand, borderRadius: 3, maxBarThickness: 24 },
            { label: "Returning buyers", data: d.returning_buyers, backgroundColor: colors.teal, borderRadius: 3, maxBarThickness: 24 }
          ]
        },
        options: opts
      };
    } else if (kind === "customers") {
      opts.plugins.legend.display = false;
      cfg = {
        type: "line",
        data: {
          labels: d.labels,
          datasets: [{ label: "New customers", data: d.new_customers, borderColor: colors.brand, backgroundColor: colors.brandSoft,
            fill: true, pointRadius: 0, pointHoverRadius: 4, cubicInterpolationMode: "monotone" }]
        },
        options: opts
      };
    } else {
      return;
    }
    charts.push(new window.Chart(canvas, cfg));
  }

  function drawAll() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var holder = document.getElementById("chart-data");
    if (!holder || !window.Chart) {
      return;
    }
    var d = JSON.parse(holder.getAttribute("data-chart-json"));
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = colors.text;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      draw(canvas.getAttribute("data-chart"), canvas, d);
    });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.querySelector && e.target.querySelector("canvas[data-chart]")) {
      drawAll();
    }
  });
})();
