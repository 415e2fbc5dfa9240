// Shared helpers of every manifold report page: the embedded data, DOM building,
// number formatting and uPlot charts.
"use strict";

const DATA = JSON.parse(document.getElementById("manifold-data").textContent);
const ROOT = document.getElementById("report");
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                 "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
const MODEL_COLOURS = { mlp: "#1f77b4", set: "#2ca02c", dreamcomp: "#ff7f0e", dnm: "#d62728" };

// An element with attributes and children (strings become text nodes).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

function section(title, ...children) {
  const s = el("section", {}, el("h2", { text: title }), ...children);
  ROOT.append(s);
  return s;
}

// A number for people: 4 significant digits, thousands grouped for integers.
function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString("en-US");
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential((digits || 4) - 1);
  return Number(v.toPrecision(digits || 4)).toString();
}

function percent(v) {
  return v === null || v === undefined ? "–" : (100 * v).toFixed(2) + "%";
}

function seconds(s) {
  if (s === null || s === undefined) return "–";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(2) + " h";
}

// A table from rows of cells; the first row is the header.
function table(rows, cls) {
  const t = el("table", { class: cls || "" });
  rows.forEach((r, i) => {
    const tr = el("tr");
    r.forEach(c => tr.append(el(i === 0 ? "th" : "td", {}, typeof c === "object" && c ? c : fmt(c))));
    t.append(tr);
  });
  return t;
}

// A uPlot line chart in `parent`: x values and named series (null = no value).
// Hover shows values, clicking a legend entry hides its series, dragging zooms,
// double-click resets.
function lineChart(parent, title, xLabel, yLabel, xs, series, opts) {
  opts = opts || {};
  const box = el("div", { class: "chart" });
  parent.append(box);
  const width = Math.max(320, Math.min(parent.clientWidth || 540, 540));
  const sparse = series.map(s => s.values.filter(v => v !== null).length < xs.length / 2);
  const config = {
    title: title,
    width: width,
    height: opts.height || 260,
    scales: { x: { time: false }, y: opts.logY ? { distr: 3 } : {} },
    axes: [opts.integerX ? { label: xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : { label: xLabel },
           { label: yLabel, size: 60 }],
    series: [{ label: xLabel, value: (u, v) => fmt(v) }].concat(series.map((s, i) => ({
      label: s.name,
      stroke: s.colour || PALETTE[i % PALETTE.length],
      width: 2,
      spanGaps: true,
      points: { show: sparse[i] || undefined, size: 5 },
      value: (u, v) => fmt(v),
    }))),
    hooks: opts.hooks || {},
  };
  const chart = new uPlot(config, [xs].concat(series.map(s => s.values)), box);
  return chart;
}

// Reports to a test harness, when one listens, that the page has drawn.
function announceDrawn(extra) {
  window.manifoldReport = Object.assign(window.manifoldReport || {}, extra || {}, {
    drawn: true,
    firstDrawMs: performance.now(),
  });
  document.body.setAttribute("data-drawn", "true");
}

// Page parts register here with their place on the page; `runReport` draws them in
// that order, then announces the page.
const RENDERERS = [];

function addRenderer(order, render) {
  RENDERERS.push({ order: order, render: render });
}

function runReport() {
  RENDERERS.sort((a, b) => a.order - b.order);
  for (const r of RENDERERS) {
    try {
      r.render();
    } catch (e) {
      ROOT.append(el("p", { class: "error", text: "This part of the report failed to draw: " + e }));
      console.error(e);
    }
  }
  announceDrawn();
}
