// Several runs side by side: test accuracy against kept connections (log scale) and
// against wall time, one point per run coloured by system, and their configs' differences.
"use strict";

// A scatter chart of named groups of points: uPlot draws aligned series, so every
// group gets the union of the x values with nulls where it has no point.
function scatterChart(parent, title, xLabel, yLabel, groups, logX) {
  const xs = Array.from(new Set(groups.flatMap(gr => gr.points.map(p => p[0])))).sort((a, b) => a - b);
  const series = groups.map(gr => {
    const at = new Map(gr.points.map(p => [p[0], p[1]]));
    return { name: gr.name, colour: gr.colour, values: xs.map(x => (at.has(x) ? at.get(x) : null)) };
  });
  const box = el("div", { class: "chart" });
  parent.append(box);
  const config = {
    title: title,
    width: 540,
    height: 340,
    padding: [null, 28, null, null],
    scales: { x: logX ? { time: false, distr: 3 } : { time: false }, y: {} },
    axes: [{ label: xLabel }, { label: yLabel, size: 60 }],
    series: [{ label: xLabel, value: (u, v) => fmt(v) }].concat(series.map(s => ({
      label: s.name,
      stroke: s.colour,
      fill: s.colour,
      paths: () => null,
      points: { show: true, size: 11, fill: s.colour },
      value: (u, v) => fmt(v),
    }))),
  };
  return new uPlot(config, [xs].concat(series.map(s => s.values)), box);
}

function renderCompare() {
  const runs = DATA.runs;
  document.title = "manifold · " + runs.length + " runs compared";
  ROOT.append(el("header", {}, el("h1", { text: "manifold · " + runs.length + " runs compared" })));
  // One series per run (two runs of a system may share a connection count), coloured
  // by its system.
  const groups = key => runs
    .filter(r => r.test_accuracy !== null && r[key] !== null && r[key] > 0)
    .map(r => ({
      name: r.model + " · " + r.name,
      colour: MODEL_COLOURS[r.model] || "#7f7f7f",
      points: [[r[key], 100 * r.test_accuracy]],
    }));
  const charts = el("div", { class: "charts" });
  section("What each structure buys", el("p", { class: "hint",
    text: "One point per run (finished runs with a test accuracy). Hover for values; click a legend entry to hide a run; drag to zoom." }), charts);
  const byConnections = groups("connections");
  const byTime = groups("wall_seconds");
  if (byConnections.length) scatterChart(charts, "test accuracy against kept connections", "connections (log scale)", "test accuracy (%)", byConnections, true);
  if (byTime.length) scatterChart(charts, "test accuracy against training time", "training time (s, log scale)", "test accuracy (%)", byTime, true);
  if (!byConnections.length && !byTime.length) charts.append(el("p", { text: "None of these runs has a test accuracy to plot." }));
  const rows = [["run", "system", "test accuracy", "test MSE", "connections", "density", "training time", "command"]];
  for (const r of runs) {
    rows.push([r.name, el("span", { class: "swatch", style: "--c:" + (MODEL_COLOURS[r.model] || "#7f7f7f") }, r.model),
               percent(r.test_accuracy), fmt(r.test_mse), r.connections, r.density === null ? "–" : percent(r.density),
               seconds(r.wall_seconds), el("code", { text: r.command || (r.finished ? "" : "(not finished)") })]);
  }
  section("Runs", table(rows, "runs"));
  const diff = [["config field"].concat(runs.map(r => r.name))];
  for (const d of DATA.differences) diff.push([d.field].concat(d.values.map(v => (v === null ? "(absent)" : v))));
  section("Config differences", el("p", { class: "hint",
    text: "Fields that two or more of the runs have, where their values differ; a field only one run has (a system's own setting) is left out." }),
    DATA.differences.length ? table(diff, "diff") : el("p", { text: "No shared field differs." }));
}

if (DATA.kind === "compare") addRenderer(10, renderCompare);
