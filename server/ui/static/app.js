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
    } else if (kind === "segment-size") {
      cfg = segmentSize(opts, d);
    } else if (insightCharts[kind]) {
      cfg = insightCharts[kind](opts, d, canvas);
    } else {
      return;
    }
    charts.push(new window.Chart(canvas, cfg));
  }

  // segmentSize draws a segment's recorded sizes on a time axis (a linear
  // one in milliseconds: Chart.js needs a date adapter for a time scale).
  // Sizes hold until the next record, so the line is stepped; the last
  // point is the size now, which gives even a single record a line.
  function segmentSize(opts, d) {
    var points = d.at.map(function (t, i) { return { x: t, y: d.size[i] }; });
    var span = points[points.length - 1].x - points[0].x;
    var dayish = span > 2 * 86400000;
    function when(v, long) {
      var t = new Date(v);
      if (long) {
        return t.toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
      }
      return dayish ? t.toLocaleDateString(undefined, { day: "numeric", month: "short" })
        : t.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    }
    opts.plugins.legend.display = false;
    opts.interaction = { mode: "nearest", axis: "x", intersect: false };
    opts.scales.x = { type: "linear", grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 24, maxTicksLimit: 8,
      callback: function (v) { return when(v, false); } } };
    // The axis ends now and spans an hour at least, so that a segment
    // created a minute ago does not stretch its first minute across the
    // chart with every tick reading the same time.
    var last = points[points.length - 1].x;
    opts.scales.x.max = last;
    opts.scales.x.min = Math.min(points[0].x, last - 3600000);
    opts.plugins.tooltip.callbacks = {
      title: function (items) { return items.length ? when(items[0].parsed.x, true) : ""; },
      label: function (ctx) { return integer(ctx.parsed.y) + " members"; }
    };
    return {
      type: "line",
      data: { datasets: [{ label: "Members", data: points, stepped: "after", borderColor: colors.brand, backgroundColor: colors.brandSoft,
        fill: true, pointRadius: points.length <= 12 ? 3 : 0, pointHoverRadius: 4 }] },
      options: opts
    };
  }

  // The cluster palette: app.css's .clu-0 to .clu-9, in the same order.
  var palette = ["#4f46e5", "#0d9488", "#d97706", "#db2777", "#2563eb", "#65a30d", "#9333ea", "#dc2626", "#0891b2", "#78716c"];

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + a + ")";
  }

  // The Insights pages' charts, by data-chart: each returns a Chart.js
  // configuration from the page's JSON.
  var insightCharts = {
    // One cluster's centre: a bar per feature, in standard deviations
    // from the mean, on an axis shared by every cluster's chart.
    "centroid": function (opts, d, canvas) {
      var c = d.clusters[Number(canvas.getAttribute("data-index"))];
      var lim = 1;
      d.clusters.forEach(function (k) { k.centroid.forEach(function (v) { lim = Math.max(lim, Math.ceil(Math.abs(v))); }); });
      var colour = palette[c.colour];
      opts.indexAxis = "y";
      opts.plugins.legend.display = false;
      opts.interaction = { mode: "nearest", axis: "y", intersect: false };
      opts.scales = {
        x: { min: -lim, max: lim, grid: { color: function (ctx) { return ctx.tick.value === 0 ? "#98a2b3" : colors.grid; } },
          border: { display: false }, ticks: { stepSize: 1, callback: function (v) { return (v > 0 ? "+" : "") + v; } } },
        y: { grid: { display: false }, border: { display: false } }
      };
      opts.plugins.tooltip.callbacks = {
        label: function (ctx) { var v = ctx.parsed.x; return (v > 0 ? "+" : "") + v.toFixed(2) + " SD from the mean"; }
      };
      return {
        type: "bar",
        data: { labels: d.features, datasets: [{ data: c.centroid, borderRadius: 3, maxBarThickness: 18,
          backgroundColor: c.centroid.map(function (v) { return v >= 0 ? colour : alpha(colour, 0.45); }) }] },
        options: opts
      };
    },
    "cluster-scatter": function (opts, d) {
      opts.interaction = { mode: "nearest", intersect: true };
      opts.scales = {
        x: { type: "linear", grid: { color: colors.grid }, border: { display: false }, title: { display: true, text: "first principal component" } },
        y: { type: "linear", grid: { color: colors.grid }, border: { display: false }, title: { display: true, text: "second" } }
      };
      opts.plugins.tooltip.callbacks = { label: function (ctx) { return ctx.dataset.label; } };
      return {
        type: "scatter",
        data: { datasets: d.clusters.map(function (c) {
          return { label: c.label, data: c.points.map(function (p) { return { x: p[0], y: p[1] }; }),
            backgroundColor: alpha(palette[c.colour], 0.55), borderColor: palette[c.colour], borderWidth: 0, pointRadius: 2.5, pointHoverRadius: 5 };
        }) },
        options: opts
      };
    },
    "clv-distribution": function (opts, d) {
      opts.plugins.legend.display = false;
      opts.scales.x.ticks.autoSkipPadding = 8;
      opts.plugins.tooltip.callbacks = { label: function (ctx) { return integer(ctx.parsed.y) + " customers"; } };
      return {
        type: "bar",
        data: { labels: d.distribution_labels, datasets: [{ label: "Customers", data: d.distribution, backgroundColor: colors.brand,
          borderRadius: 3, maxBarThickness: 40, categoryPercentage: 0.9, barPercentage: 0.95 }] },
        options: opts
      };
    },
    "clv-holdout": function (opts, d) {
      opts.scales.y.ticks.precision = undefined;
      opts.scales.x.title = { display: true, text: "repeat orders before the holdout period" };
      opts.scales.y.title = { display: true, text: "orders per customer in it" };
      opts.plugins.tooltip.callbacks = { label: function (ctx) { return ctx.dataset.label + ": " + ctx.parsed.y.toFixed(2); } };
      return {
        type: "bar",
        data: { labels: d.holdout_labels, datasets: [
          { label: "Actual", data: d.holdout_actual, backgroundColor: colors.teal, borderRadius: 3, maxBarThickness: 28, order: 2 },
          { label: "Predicted", data: d.holdout_predicted, type: "line", borderColor: colors.brand, backgroundColor: colors.brand,
            pointRadius: 3, order: 1 }
        ] },
        options: opts
      };
    },
    "cohort-revenue": function (opts, d) {
      opts.scales.y.ticks.callback = function (v) { return money(v, d.currency, true); };
      opts.interaction = { mode: "nearest", axis: "x", intersect: false };
      opts.plugins.tooltip.callbacks = {
        label: function (ctx) { return ctx.dataset.label + ": " + money(ctx.parsed.y, d.currency); }
      };
      var n = d.cohorts.length;
      return {
        type: "line",
        data: { labels: d.labels, datasets: d.cohorts.map(function (c, i) {
          var colour = palette[(n - 1 - i) % palette.length];
          return { label: c.label, data: c.values, borderColor: colour, backgroundColor: colour, borderWidth: i === n - 1 ? 3 : 1.5,
            pointRadius: 0, pointHoverRadius: 4, cubicInterpolationMode: "monotone" };
        }) },
        options: opts
      };
    }
  };

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

// Import form: after a CSV file is chosen, lists its header's columns with
// the field each would go to (the importer's own guess, mirrored here) for
// people to change, and writes the choices into the hidden map field as
// "Column=target,...". The server checks the mapping; without JavaScript
// it guesses the columns itself.
(function () {
  "use strict";

  var person = ["user_id", "anonymous_id", "email", "phone", "timestamp", "message_id"];
  var fields = {
    customers: person,
    events: person.concat(["event", "type"]),
    orders: person.concat(["order_id", "status", "currency", "coupon", "total", "revenue", "subtotal", "shipping", "tax", "discount",
      "product_id", "sku", "name", "category", "brand", "variant", "price", "quantity", "url", "image_url"]),
    products: ["product_id", "sku", "name", "category", "brand", "variant", "price", "currency", "url", "image_url"]
  };
  var roots = { customers: "traits", events: "properties", orders: "item", products: "" };
  var aliases = {
    userid: "user_id", customer_id: "user_id", customerid: "user_id", anonymousid: "anonymous_id",
    e_mail: "email", email_address: "email", phone_number: "phone", mobile: "phone",
    messageid: "message_id", time: "timestamp", date: "timestamp", created: "timestamp",
    event_name: "event", orderid: "order_id", order_number: "order_id", productid: "product_id",
    product_name: "name", title: "name", qty: "quantity", unit_price: "price", imageurl: "image_url"
  };

  // normalize is importer.normalize: "Customer ID", "customerId" -> customer_id.
  function normalize(s) {
    var out = "", prevLower = false, sep = false;
    for (var ch of s.trim()) {
      var lower = ch.toLowerCase(), upper = ch.toUpperCase();
      if (lower !== ch) { // an upper-case letter
        if (prevLower) { sep = true; }
        ch = lower;
        prevLower = false;
      } else if (lower !== upper || /[0-9]/.test(ch)) {
        prevLower = true;
      } else {
        sep = out.length > 0;
        prevLower = false;
        continue;
      }
      if (sep && out.length > 0) { out += "_"; }
      sep = false;
      out += ch;
    }
    return out;
  }

  function guess(kind, header) {
    var f = normalize(header);
    if (!f) { return "skip"; }
    var known = fields[kind] || [];
    if (aliases[f] && known.indexOf(aliases[f]) >= 0) { f = aliases[f]; }
    if (known.indexOf(f) >= 0) { return f; }
    return roots[kind] ? roots[kind] + "." + f : "skip";
  }

  // headerColumns splits a CSV header line (quotes allowed) on the
  // delimiter the importer would sniff: comma, semicolon or tab.
  function headerColumns(line) {
    line = line.replace(/^\uFEFF/, "").replace(/\r$/, "");
    var delim = ",", best = -1;
    [",", ";", "\t"].forEach(function (d) {
      var n = line.split(d).length;
      if (n > best) { best = n; delim = d; }
    });
    var cols = [], cur = "", quoted = false;
    for (var i = 0; i < line.length; i++) {
      var c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') { quoted = false; } else { cur += c; }
      } else if (c === '"') {
        quoted = true;
      } else if (c === delim) {
        cols.push(cur); cur = "";
      } else {
        cur += c;
      }
    }
    cols.push(cur);
    return cols.map(function (c) { return c.trim(); });
  }

  function setup(form) {
    var file = form.querySelector("#import-file");
    var kind = form.querySelector("#import-kind");
    var format = form.querySelector("#import-format");
    var box = form.querySelector("#import-mapping");
    var body = box.querySelector("tbody");
    var list = form.querySelector("#import-targets");
    var note = form.querySelector("#import-note");
    var hidden = form.querySelector("#import-map");
    var columns = [];

    function say(text) {
      note.textContent = text;
      note.hidden = !text;
    }

    function render() {
      body.textContent = "";
      list.textContent = "";
      (fields[kind.value] || []).concat(["skip"]).forEach(function (f) {
        var o = document.createElement("option");
        o.value = f;
        list.appendChild(o);
      });
      columns.forEach(function (col, i) {
        var tr = document.createElement("tr");
        var th = document.createElement("td");
        th.textContent = col || "(no name)";
        var td = document.createElement("td");
        var input = document.createElement("input");
        input.type = "text";
        input.id = "map-" + i;
        input.setAttribute("list", "import-targets");
        input.setAttribute("aria-label", "Target of column " + col);
        input.dataset.column = col;
        input.value = guess(kind.value, col);
        input.spellcheck = false;
        input.autocomplete = "off";
        td.appendChild(input);
        tr.appendChild(th);
        tr.appendChild(td);
        body.appendChild(tr);
      });
      box.hidden = columns.length === 0;
    }

    function isCSV(f) {
      var name = f.name.toLowerCase();
      if (format.value && format.value !== "csv") { return false; }
      return !/\.(ndjson|jsonl|json)$/.test(name);
    }

    function read() {
      columns = [];
      hidden.value = "";
      say("");
      var f = file.files && file.files[0];
      if (!f || !isCSV(f)) { render(); return; }
      if (/\.gz$/i.test(f.name)) {
        render();
        say("Compressed file: its columns are matched to fields by their names.");
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        var text = String(reader.result);
        var end = text.indexOf("\n");
        if (end < 0 && text.length >= 65536) {
          say("The first line is too long to read here: columns are matched to fields by their names.");
          render();
          return;
        }
        columns = headerColumns(end < 0 ? text : text.slice(0, end)).filter(function (c, i, all) {
          return all.indexOf(c) === i;
        });
        render();
      };
      reader.onerror = function () { say("Could not read the file's first line."); render(); };
      reader.readAsText(f.slice(0, 65536));
    }

    file.addEventListener("change", read);
    format.addEventListener("change", read);
    kind.addEventListener("change", render);
    form.addEventListener("submit", function () {
      var parts = [];
      body.querySelectorAll("input[data-column]").forEach(function (input) {
        var col = input.dataset.column, to = input.value.trim();
        // The map's syntax cannot name these columns: leave them to the
        // server's guess.
        if (!col || /[=,]/.test(col)) { return; }
        if (to === "" || to === "skip" || to === "-") { to = "-"; }
        parts.push(col + "=" + to);
      });
      hidden.value = parts.join(",");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("import-form");
    if (form) { setup(form); }
  });
})();

// Segment builder: an example's button puts its definition in the editor
// and asks for the live count, as typing would.
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-insert]");
    var text = document.getElementById("seg-text");
    if (!b || !text || text.readOnly) { return; }
    text.value = b.getAttribute("data-insert");
    text.focus();
    text.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
