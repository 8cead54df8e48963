/*
 * Contra charts: every <canvas data-chart="ID"> becomes a Chart.js chart built from the JSON
 * spec that Django's json_script put in <script id="ID" type="application/json">.
 * The include admin/revenue/includes/chart.html emits both (and loads this file and
 * vendor/chart.umd.min.js once per page); revenue/admin/chartjs.py builds the specs.
 *
 * Spec (keys not listed are ignored; every key but type, labels and datasets is optional):
 * {
 *   "type": "bar" | "line" | "bridge",
 *   "labels": ["2026-01", ["Nov", "2026"], ...],   // an array = a label on several lines
 *   "datasets": [{
 *       "label": "Recognized",
 *       "data": ["1200.00", 35, null, ["100.00", "250.00"], ...],
 *           // numbers or decimal strings, one per label; null = no bar; a [from, to] pair
 *           // is a floating bar (its amount is to - from, negative when it goes down)
 *       "stack": "a",            // stacked charts: datasets with the same stack pile up
 *       "color": "#2f7dc1",
 *       "pattern": "hatch",      // diagonal stripes of the colour (e.g. "scheduled")
 *       "width": 0.6,            // bar width as a share of the slot (default 0.9)
 *       "type": "marker",        // a short horizontal tick per point instead of a bar
 *       "legend": false,         // leave out of the legend (datasets with no data are too)
 *       "point_labels": ["carve -174.47", {"text": "+27.35", "tone": "good|bad|quiet"}, null]
 *           // a text just past the end of each bar
 *   }],
 *   "currency": "USD", "decimals": 2,      // amounts: 1,234.56 USD, ASCII minus
 *   "stacked": false,        // bar: pile the datasets up (per "stack")
 *   "overlay": false,        // bar: draw a category's bars over each other where their
 *                            // values put them (floating waterfalls); never stacked
 *   "horizontal": false,     // bar: categories down the side, values along the bottom
 *   "y_label": "Revenue (USD)",            // the value axis' title
 *   "links": [[url or null per data point] per dataset],   // a click opens the URL
 *                            // (a path, "?query" or "#anchor" of this site; others ignored)
 *   "notes": [text or [texts] or null per label],          // added to the tooltip
 *   "highlight": {"index": 3, "label": "open"},             // a shaded band on a category
 *   "connectors": [level or null per gap between two labels]   // dashed lines
 * }
 * "bridge" (waterfall / roll-forward): one dataset whose data are the opening amount, each
 * movement, then the closing amount; the movements float from the running total, green up,
 * red down, with dashed connectors; opening and closing stand on zero.
 */
(function () {
  "use strict";
  if (window.ContraCharts || !window.Chart) {
    return;
  }
  const Chart = window.Chart;
  const COLORS = {
    bar: "#2f7dc1",
    up: "#2e8b57",
    down: "#c0392b",
    good: "#2e8b57",
    bad: "#a4281b",
    highlight: "rgba(47, 125, 193, 0.08)",
    highlightText: "#2f7dc1",
  };
  const PALETTE = ["#2f7dc1", "#2e8b57", "#d48a00", "#8e44ad", "#c0392b", "#00838f"];
  const BAR = 0.9; // a bar's share of its slot
  const THICKEST = 56; // px: a year of months or five lines stay readable bars

  function num(value) {
    if (value === null || value === undefined || value === "") {
      return null;
    }
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }

  function group(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** 1,234.56: thousands separators, the currency's decimals, ASCII minus, no "-0.00". */
  function money(value, decimals) {
    const n = num(value);
    if (n === null) {
      return "";
    }
    const places = decimals === undefined ? 2 : decimals;
    const text = Math.abs(n).toFixed(places);
    const parts = text.split(".");
    const negative = n < 0 && Number(text) !== 0;
    return (negative ? "-" : "") + group(parts[0]) + (parts[1] ? "." + parts[1] : "");
  }

  /** Axis ticks: whole steps without decimals (12,500 not 12,500.00). */
  function tick(value, decimals) {
    return Number.isInteger(value) ? money(value, 0) : money(value, decimals);
  }

  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function hatch(color) {
    const size = 6;
    const tile = document.createElement("canvas");
    tile.width = tile.height = size;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    ctx.moveTo(0, size);
    ctx.lineTo(size, 0);
    ctx.moveTo(-1, 1);
    ctx.lineTo(1, -1);
    ctx.moveTo(size - 1, size + 1);
    ctx.lineTo(size + 1, size - 1);
    ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  function isPair(value) {
    return Array.isArray(value) && value.length === 2;
  }

  function point(value) {
    return isPair(value) ? [num(value[0]), num(value[1])] : num(value);
  }

  /** The amount a point stands for: a floating bar's is its length, signed. */
  function amountOf(raw) {
    if (isPair(raw)) {
      const from = num(raw[0]);
      const to = num(raw[1]);
      return from === null || to === null ? null : to - from;
    }
    return num(raw);
  }

  /** A bridge's one dataset → floating bars from the running total. */
  function bridgeDatasets(spec) {
    const source = (spec.datasets || [])[0] || { data: [] };
    const raw = source.data || [];
    const data = [];
    const colors = [];
    const connectors = [];
    let level = 0;
    raw.forEach(function (value, index) {
      const amount = num(value) || 0;
      const ends = index === 0 || index === raw.length - 1;
      if (ends) {
        data.push([0, amount]);
        colors.push(source.color || COLORS.bar);
        level = amount;
      } else {
        data.push([level, level + amount]);
        colors.push(amount < 0 ? COLORS.down : COLORS.up);
        level += amount;
      }
      if (index < raw.length - 1) {
        connectors.push(level);
      }
    });
    spec.connectors = spec.connectors || connectors;
    return [
      {
        label: source.label || "",
        data: data,
        contraRaw: raw,
        backgroundColor: colors,
        borderColor: colors,
        borderWidth: 0,
        barPercentage: 0.7,
        maxBarThickness: THICKEST,
        minBarLength: 2, // a small movement stays visible
        contraBridge: true,
      },
    ];
  }

  function buildDatasets(spec) {
    if (spec.type === "bridge") {
      return bridgeDatasets(spec);
    }
    const overlay = !!spec.overlay;
    return (spec.datasets || []).map(function (ds, index) {
      const color = ds.color || PALETTE[index % PALETTE.length];
      const out = {
        label: ds.label || "",
        data: (ds.data || []).map(point),
        contraRaw: ds.data || [],
        stack: ds.stack,
        order: overlay ? -index : 0, // overlay: a later dataset is drawn over an earlier one
        barPercentage: ds.width || BAR,
        maxBarThickness: (THICKEST * (ds.width || BAR)) / BAR,
        backgroundColor: ds.pattern === "hatch" ? hatch(color) : color,
        borderColor: color,
        borderWidth: ds.pattern === "hatch" ? 1.2 : 0,
        contraLabels: ds.point_labels || null,
        contraLegend: ds.legend !== false,
        contraHasData: (ds.data || []).some(function (v) {
          return v !== null && v !== undefined;
        }),
        contraStyle: ds.type === "marker" ? "line" : "rect",
      };
      if (ds.pattern === "hatch") {
        out.borderDash = [3, 2];
      }
      if (ds.type === "marker") {
        Object.assign(out, {
          type: "line",
          showLine: false,
          pointStyle: "line",
          pointRadius: 16,
          pointHoverRadius: 16,
          pointBorderWidth: 3,
          pointHoverBorderWidth: 4,
          borderColor: color,
          backgroundColor: color,
          order: -1000,
        });
      } else if (spec.type === "line") {
        Object.assign(out, { tension: 0, fill: false, borderWidth: 2, pointRadius: 3 });
      }
      return out;
    });
  }

  /** Draws the highlight band (under), the connectors and the point labels (over). */
  function decorations(spec) {
    return {
      id: "contraDecorations",
      beforeInit: function (chart) {
        const legend = chart.legend;
        if (!legend || !spec.highlight || !spec.highlight.label || spec.horizontal) {
          return;
        }
        const fit = legend.fit;
        legend.fit = function () {
          fit.call(legend);
          legend.height += 16; // room for the highlight's label above the plot
        };
      },
      beforeDatasetsDraw: function (chart) {
        const band = spec.highlight;
        if (!band || band.index === undefined || band.index === null) {
          return;
        }
        const horizontal = !!spec.horizontal;
        const cat = horizontal ? chart.scales.y : chart.scales.x;
        const count = (spec.labels || []).length;
        if (!cat || band.index < 0 || band.index >= count) {
          return;
        }
        const slot =
          count > 1 ? Math.abs(cat.getPixelForValue(1) - cat.getPixelForValue(0)) : cat.width;
        const centre = cat.getPixelForValue(band.index);
        const area = chart.chartArea;
        const ctx = chart.ctx;
        ctx.save();
        ctx.fillStyle = COLORS.highlight;
        if (horizontal) {
          ctx.fillRect(area.left, centre - slot / 2, area.right - area.left, slot);
        } else {
          ctx.fillRect(centre - slot / 2, area.top, slot, area.bottom - area.top);
          if (band.label) {
            ctx.fillRect(centre - slot / 2, area.top - 14, slot, 14);
            ctx.fillStyle = COLORS.highlightText;
            ctx.font = "600 10px " + Chart.defaults.font.family;
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            ctx.fillText(band.label, centre, area.top - 2);
          }
        }
        ctx.restore();
      },
      afterDatasetsDraw: function (chart) {
        const ctx = chart.ctx;
        const horizontal = !!spec.horizontal;
        const value = horizontal ? chart.scales.x : chart.scales.y;
        ctx.save();
        (spec.connectors || []).forEach(function (level, gap) {
          if (level === null || level === undefined || horizontal) {
            return;
          }
          const edges = [gap, gap + 1].map(function (index) {
            let left = Infinity;
            let right = -Infinity;
            chart.data.datasets.forEach(function (ds, d) {
              const el = chart.getDatasetMeta(d).data[index];
              if (el && ds.data[index] !== null && chart.isDatasetVisible(d) && el.width) {
                left = Math.min(left, el.x - el.width / 2);
                right = Math.max(right, el.x + el.width / 2);
              }
            });
            return [left, right];
          });
          if (!Number.isFinite(edges[0][1]) || !Number.isFinite(edges[1][0])) {
            return;
          }
          const y = value.getPixelForValue(num(level));
          ctx.strokeStyle = Chart.defaults.color;
          ctx.lineWidth = 1;
          ctx.setLineDash([2, 2]);
          ctx.beginPath();
          ctx.moveTo(edges[0][1], y);
          ctx.lineTo(edges[1][0], y);
          ctx.stroke();
        });
        ctx.setLineDash([]);
        chart.data.datasets.forEach(function (ds, d) {
          if (!ds.contraLabels || !chart.isDatasetVisible(d)) {
            return;
          }
          chart.getDatasetMeta(d).data.forEach(function (el, index) {
            const item = ds.contraLabels[index];
            if (!item) {
              return;
            }
            const text = typeof item === "string" ? item : item.text;
            const tone = typeof item === "string" ? "" : item.tone;
            const end = amountOf(ds.contraRaw[index]) || 0;
            const props = el.getProps(["x", "y", "base"], true);
            ctx.fillStyle = COLORS[tone] || Chart.defaults.color;
            ctx.font =
              (tone === "quiet" ? "italic " : "600 ") + "11px " + Chart.defaults.font.family;
            if (horizontal) {
              const edge = Math.max(props.x, props.base);
              ctx.textAlign = "left";
              ctx.textBaseline = "middle";
              ctx.fillText(text, edge + 6, props.y);
            } else {
              ctx.textAlign = "center";
              ctx.textBaseline = end < 0 ? "top" : "bottom";
              ctx.fillText(text, props.x, end < 0 ? props.y + 4 : props.y - 4);
            }
          });
        });
        ctx.restore();
      },
    };
  }

  function build(canvas) {
    const id = canvas.getAttribute("data-chart");
    const source = document.getElementById(id);
    if (!source || Chart.getChart(canvas)) {
      return null;
    }
    let spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return null;
    }
    const decimals = spec.decimals === undefined ? 2 : spec.decimals;
    const currency = spec.currency || "";
    const horizontal = !!spec.horizontal;
    const overlay = !!spec.overlay || spec.type === "bridge";
    const stacked = !!spec.stacked && !overlay;
    const datasets = buildDatasets(spec);
    const links = spec.links || [];
    const valueAxis = horizontal ? "x" : "y";
    const catAxis = horizontal ? "y" : "x";
    const scales = {};
    scales[catAxis] = {
      stacked: stacked || overlay,
      grid: { display: false },
    };
    scales[valueAxis] = {
      stacked: stacked,
      beginAtZero: true,
      grace: horizontal ? "12%" : "4%",
      title: { display: !!spec.y_label, text: spec.y_label || "" },
      ticks: {
        callback: function (value) {
          return tick(value, decimals);
        },
      },
    };
    if (spec.type === "line") {
      scales[valueAxis].beginAtZero = false;
    }

    function linkOf(datasetIndex, index) {
      const row = links[datasetIndex];
      const url = row ? row[index] : null;
      // only the app's own pages: a path, a query or an anchor (never javascript:)
      return typeof url === "string" && /^[/?#]/.test(url) && !/^\/\//.test(url) ? url : null;
    }

    const chart = new Chart(canvas, {
      type: spec.type === "line" ? "line" : "bar",
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 0, right: 8 } },
        interaction: { mode: "nearest", intersect: true },
        scales: scales,
        onClick: function (event, elements) {
          const url = elements.length ? linkOf(elements[0].datasetIndex, elements[0].index) : null;
          if (url) {
            window.location.href = url;
          }
        },
        onHover: function (event, elements) {
          const url = elements.length ? linkOf(elements[0].datasetIndex, elements[0].index) : null;
          canvas.style.cursor = url ? "pointer" : "default";
        },
        plugins: {
          legend: {
            position: "top",
            align: "start",
            labels: {
              boxWidth: 11,
              boxHeight: 11,
              usePointStyle: true,
              pointStyleWidth: 13,
              generateLabels: function (chart) {
                const items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
                items.forEach(function (item) {
                  const ds = chart.data.datasets[item.datasetIndex];
                  item.pointStyle = ds.contraStyle || "rect";
                  if (ds.contraStyle === "line") {
                    item.lineWidth = 3;
                  }
                });
                return items;
              },
              sort: function (a, b) {
                return a.datasetIndex - b.datasetIndex;
              },
              filter: function (item, data) {
                const ds = data.datasets[item.datasetIndex];
                return !ds.contraBridge && ds.contraLegend !== false && ds.contraHasData !== false;
              },
            },
            display: spec.type !== "bridge" && datasets.length > 1,
          },
          tooltip: {
            callbacks: {
              title: function (items) {
                const label = items.length ? (spec.labels || [])[items[0].dataIndex] : "";
                return Array.isArray(label) ? label.join(" ") : label;
              },
              label: function (item) {
                const ds = item.dataset;
                const raw = ds.contraRaw ? ds.contraRaw[item.dataIndex] : item.raw;
                const amount = amountOf(raw);
                if (ds.contraBridge) {
                  const last = ds.contraRaw.length - 1;
                  const move = item.dataIndex > 0 && item.dataIndex < last;
                  const sign = move && amount > 0 ? "+" : "";
                  return sign + money(amount, decimals) + " " + currency;
                }
                return (ds.label ? ds.label + ": " : "") + money(amount, decimals) + " " + currency;
              },
              footer: function (items) {
                const notes = spec.notes || [];
                const note = items.length ? notes[items[0].dataIndex] : null;
                const lines = Array.isArray(note) ? note.slice() : note ? [note] : [];
                if (items.length && linkOf(items[0].datasetIndex, items[0].dataIndex)) {
                  lines.push("Click to open the rows behind it");
                }
                return lines;
              },
            },
          },
        },
      },
      plugins: [decorations(spec)],
    });
    return chart;
  }

  function buildAll(root) {
    const scope = root || document;
    return Array.prototype.map.call(scope.querySelectorAll("canvas[data-chart]"), build);
  }

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 11;
  Chart.defaults.color = cssVar("--body-quiet-color", "#666");
  Chart.defaults.borderColor = cssVar("--hairline-color", "#e5e5e5");

  window.ContraCharts = { build: build, buildAll: buildAll, money: money };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      buildAll();
    });
  } else {
    buildAll();
  }
})();
