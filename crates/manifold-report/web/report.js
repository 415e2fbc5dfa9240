// One run: its summary, command, config and resumes, metric curves and pictures.
"use strict";

function runStatus(d) {
  const s = d.summary;
  if (!s) return ["running or stopped", "no summary.json yet: the run is going on, or it was killed (resume it with --resume)"];
  if (s.diverged) return ["diverged", s.diverged + " (" + s.at + ")"];
  if (s.interrupted) return ["interrupted", "stopped early; the checkpoint is the last good state"];
  return ["finished", ""];
}

function renderHeader(d) {
  const s = d.summary || {};
  const [status, note] = runStatus(d);
  ROOT.append(el("header", {},
    el("h1", {}, "manifold · " + d.model + " · ", el("span", { class: "run-name", text: d.name })),
    el("p", { class: "status status-" + status.split(" ")[0] }, status, note ? " — " + note : "")));
  const cards = [];
  const card = (label, value) => cards.push(el("div", { class: "card" },
    el("div", { class: "card-value", text: value }), el("div", { class: "card-label", text: label })));
  if (s.test_accuracy !== undefined) card("test accuracy", percent(s.test_accuracy));
  if (s.test_mse !== undefined) card("test MSE", fmt(s.test_mse));
  if (s.test_loss !== undefined) card("test loss", fmt(s.test_loss));
  if (d.connections !== null && d.connections !== undefined) card("connections kept", fmt(d.connections));
  if (s.density !== undefined) card("density", percent(s.density));
  if (s.depth !== undefined) card("comp depth (sweeps)", fmt(s.depth));
  if (s.epochs !== undefined) card("epochs", fmt(s.epochs));
  if (s.steps !== undefined) card("steps", fmt(s.steps));
  if (s.wall_seconds !== undefined) card("training time", seconds(s.wall_seconds));
  card("backend", s.device || (d.run && d.run.device) || "–");
  ROOT.append(el("div", { class: "cards" }, ...cards));
}

function renderRunFacts(d) {
  const s = d.summary || {};
  const parts = [];
  if (s.command) parts.push(el("h3", { text: "Command" }), el("pre", { class: "command", text: s.command }));
  const resumes = (d.run && d.run.resumes) || [];
  if (resumes.length) {
    const rows = [["resumed at step", "epoch", "backend", "changed"]];
    for (const r of resumes) {
      const changes = (r.changes || []).map(c => c.field + ": " + c.from + " → " + c.to).join(", ");
      rows.push([r.step, r.epoch, r.device, changes || "nothing"]);
    }
    parts.push(el("h3", { text: "Resumes" }), table(rows));
  }
  const extra = Object.entries(s).filter(([k, v]) =>
    !["model", "device", "command", "interrupted", "test_accuracy", "test_mse", "test_loss",
      "wall_seconds", "epochs", "steps", "density", "depth"].includes(k));
  if (extra.length) {
    parts.push(el("h3", { text: "Summary" }),
      table([["field", "value"]].concat(extra.map(([k, v]) =>
        [k, typeof v === "object" ? JSON.stringify(v) : v]))));
  }
  parts.push(el("details", {}, el("summary", { text: "config.toml" }), el("pre", { text: d.config })));
  section("Run", ...parts);
}

// Metric columns grouped into charts: accuracies together (in %), losses together,
// every other column alone. Returns [{title, unit, columns, scale, logY}].
function chartGroups(columns, x) {
  const skip = new Set([x, "step", "epoch", "wall_seconds"]);
  const groups = [];
  const acc = columns.filter(c => /accuracy/.test(c));
  const loss = columns.filter(c => /loss|objective|^total$/.test(c));
  if (loss.length) groups.push({ title: "loss", unit: "loss", columns: loss, scale: 1, logY: true });
  if (acc.length) groups.push({ title: "accuracy", unit: "accuracy (%)", columns: acc, scale: 100 });
  for (const c of columns) {
    if (skip.has(c) || acc.includes(c) || loss.includes(c)) continue;
    const pct = c === "density" || c === "density_surrogate";
    groups.push({ title: c.replace(/_/g, " "), unit: c.replace(/_/g, " ") + (pct ? " (%)" : ""),
                  columns: [c], scale: pct ? 100 : 1, logY: c === "flow" });
  }
  return groups;
}

// The x column of a run's metrics: steps for step-logged models, else epochs.
function xColumn(m) {
  if (m.columns.includes("epoch") && !DATA.explorer) return "epoch";
  return m.columns.includes("step") ? "step" : m.columns[0];
}

function column(m, name, scale) {
  const k = m.columns.indexOf(name);
  return m.rows.map(r => (r[k] === null ? null : r[k] * (scale || 1)));
}

function positive(values) {
  return values.map(v => (v !== null && v > 0 ? v : null));
}

function renderCurves(d) {
  const m = d.metrics;
  if (!m || !m.rows.length) return;
  const x = xColumn(m);
  const xs = column(m, x);
  const grid = el("div", { class: "charts" });
  section("Metrics", el("p", { class: "hint",
    text: "Hover for values; click a legend entry to hide its series; drag to zoom, double-click to reset." }), grid);
  for (const g of chartGroups(m.columns, x)) {
    const series = g.columns.map(c => {
      const v = column(m, c, g.scale);
      return { name: c.replace(/_/g, " "), values: g.logY ? positive(v) : v };
    }).filter(s => s.values.some(v => v !== null));
    if (!series.length) continue;
    lineChart(grid, g.title, x, g.unit, xs, series, { logY: g.logY, integerX: x === "epoch" });
  }
}

function renderPictures(d) {
  const figures = d.pictures.map(p => p.linked
    ? el("figure", {}, el("p", {}, el("a", { href: p.name, text: p.name }),
        " (" + (p.bytes / 1e6).toFixed(1) + " MB, not embedded; it lies beside this report)"))
    : el("figure", {}, el("img", { src: p.uri, alt: p.name, loading: "lazy" }), el("figcaption", { text: p.name })));
  const galleries = d.galleries.map(g => {
    const frames = g.frames.slice().sort((a, b) => a.epoch - b.epoch);
    const img = el("img", { src: frames[frames.length - 1].uri, alt: g.name });
    const label = el("span", { class: "shown-epoch", text: "epoch " + frames[frames.length - 1].epoch });
    const slider = el("input", { type: "range", min: 0, max: frames.length - 1,
                                  value: frames.length - 1, class: "epoch-slider" });
    slider.addEventListener("input", () => {
      const f = frames[Number(slider.value)];
      img.src = f.uri;
      label.textContent = "epoch " + f.epoch;
    });
    const note = frames.length < g.epochs ? " (" + frames.length + " of " + g.epochs + " epochs embedded, evenly spaced)" : "";
    return el("figure", { class: "gallery" }, img,
      el("figcaption", {}, g.name + " per epoch" + note + " · ", label, " ", slider));
  });
  if (!figures.length && !galleries.length && !d.animations.length) return;
  const links = d.animations.length ? el("p", {}, "Animations beside this report: ",
    ...d.animations.map((a, i) => el("span", {}, i ? ", " : "", el("a", { href: a, text: a })))) : null;
  section("Pictures", el("div", { class: "pictures" }, ...galleries, ...figures), links);
}

if (DATA.kind === "run") {
  addRenderer(10, () => renderHeader(DATA));
  addRenderer(20, () => renderCurves(DATA));
  addRenderer(40, () => renderPictures(DATA));
  addRenderer(50, () => renderRunFacts(DATA));
  // A snapshot file that does not fit the run's config: the page says why it has no
  // explorer (where the explorer would stand).
  if (DATA.explorer_note) {
    addRenderer(30, () => section("Manifold explorer",
      el("p", { class: "hint", text: DATA.explorer_note })));
  }
}
