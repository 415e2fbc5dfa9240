// The manifold explorer: a time slider over the recorded snapshots of the DNM's
// closeness matrix D (see snapshots.rs for the format), with the adjacency heatmap,
// the network as a layered DAG, the neuron under the pointer, and the metrics up to
// the shown step.
"use strict";

// ---- decoding snapshots.bin ------------------------------------------------------

function decodeSnapshots(base64) {
  const raw = atob(base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== "MFDSNAP1") throw new Error("the embedded snapshots have no MFDSNAP1 header");
  const g = {
    inputs: view.getUint32(8, true),
    comps: view.getUint32(12, true),
    outputs: view.getUint32(16, true),
    period: view.getFloat64(24, true),
    patch: view.getUint32(20, true) === 1,
  };
  g.rows = g.comps + g.outputs;
  g.cols = g.inputs + g.comps;
  g.neurons = g.inputs + g.comps + g.outputs;
  const names = ["alpha", "beta", "gamma", "theta", "phi", "sigma", "mu"];
  const snaps = [];
  let at = 32;
  while (at + 4 <= bytes.length) {
    const len = view.getUint32(at, true);
    const end = at + 4 + len;
    if (end > bytes.length) break;
    let p = at + 4;
    const s = { step: view.getUint32(p, true), cutoff: view.getFloat32(p + 4, true),
                max: view.getFloat32(p + 8, true), shapes: {} };
    p += 12;
    for (const n of names) {
      s.shapes[n] = new Float32Array(g.rows);
      for (let r = 0; r < g.rows; r++, p += 4) s.shapes[n][r] = view.getFloat32(p, true);
    }
    const k = view.getUint32(p, true);
    p += 4;
    s.index = new Uint32Array(k);
    let cell = 0;
    for (let n = 0; n < k; n++) {
      let v = 0, shift = 0, b;
      do { b = bytes[p++]; v += (b & 0x7f) * Math.pow(2, shift); shift += 7; } while (b & 0x80);
      cell = n === 0 ? v : cell + v;
      s.index[n] = cell;
    }
    s.value = new Float32Array(k);
    for (let n = 0; n < k; n++) s.value[n] = (((bytes[p + n] << 24) >> 24) / 127) * s.max;
    snaps.push(s);
    at = end;
  }
  return { geometry: g, snapshots: snaps };
}

// Depth of every neuron in the DAG of a snapshot: inputs 0, a receiver one more than
// its deepest sender (1 when it keeps no in-edge); in- and out-degrees.
function structure(g, s) {
  if (s.structure) return s.structure;
  const depth = new Int32Array(g.neurons);
  depth.fill(1, g.inputs);
  const indeg = new Int32Array(g.neurons);
  const outdeg = new Int32Array(g.neurons);
  for (let n = 0; n < s.index.length; n++) {
    const r = Math.floor(s.index[n] / g.cols), j = s.index[n] % g.cols, i = g.inputs + r;
    indeg[i]++;
    outdeg[j]++;
    // Cells come row by row and every sender precedes its receiver, so depth[j] is final.
    depth[i] = Math.max(depth[i], depth[j] + 1);
  }
  let maxComp = 0;
  for (let i = g.inputs; i < g.inputs + g.comps; i++) maxComp = Math.max(maxComp, depth[i]);
  let longest = 0;
  for (let i = g.inputs + g.comps; i < g.neurons; i++) longest = Math.max(longest, depth[i]);
  s.structure = { depth, indeg, outdeg, maxComp, longest };
  return s.structure;
}

// The kept cells of a snapshot from weakest to strongest: a counting sort over the 127
// stored strength steps (|D| is stored in 1/127 steps of the largest), linear in cells.
function byStrength(s) {
  const k = s.index.length;
  const step = new Uint8Array(k);
  const start = new Uint32Array(129);
  for (let n = 0; n < k; n++) {
    step[n] = Math.min(127, Math.round((Math.abs(s.value[n]) / s.max) * 127));
    start[step[n] + 1]++;
  }
  for (let q = 1; q < 129; q++) start[q] += start[q - 1];
  const order = new Uint32Array(k);
  for (let n = 0; n < k; n++) order[start[step[n]]++] = n;
  return order;
}

// ---- colours -----------------------------------------------------------------------

// Blue (< 0), white (0), red (> 0), t in [-1, 1].
function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
  const a = Math.abs(t);
  return [Math.round(255 + (r - 255) * a), Math.round(255 + (g - 255) * a), Math.round(255 + (b - 255) * a)];
}

function rgba(c, alpha) {
  return "rgba(" + c[0] + "," + c[1] + "," + c[2] + "," + alpha + ")";
}

// ---- the closeness function --------------------------------------------------------

// f_rj over sender positions j, as the DNM computes it (closeness.rs).
function closeness(g, s, r, j) {
  const i = g.inputs + r;
  const d = g.rows > 1 ? g.inputs + (g.outputs - g.inputs) * r / (g.rows - 1) : g.inputs;
  const p = (j - i) + d;
  const sh = s.shapes;
  // Under the patch window an input's offset is folded into image rows and columns,
  // and a centre past the last input stays that far from every input.
  const z = p - sh.mu[r];
  let d2 = z * z;
  if (g.patch && j < g.inputs) {
    const zy = Math.floor(z / g.period + 0.5);
    const zx = z - g.period * zy;
    const beyond = Math.max(j - z - (g.inputs - 1), 0);
    d2 = zx * zx + zy * zy + beyond * beyond;
  }
  const gauss = Math.exp(-d2 / (2 * sh.sigma[r] * sh.sigma[r]));
  const wave = 0.501 + 0.5 * Math.sin(2 * Math.PI * p / (g.period * sh.theta[r]) + sh.phi[r]);
  return sh.alpha[r] * gauss * (Math.pow(wave, sh.beta[r]) - sh.gamma[r]);
}

// The carry neurons of a sequence task: the last `g.carry` inputs and the last
// `g.carry` outputs. Returns q for carry input or output q, −1 for any other neuron.
function carryIndex(g, i) {
  const k = g.carry || 0;
  if (k && i >= g.inputs - k && i < g.inputs) return i - (g.inputs - k);
  if (k && i >= g.neurons - k) return i - (g.neurons - k);
  return -1;
}

function neuronName(g, i) {
  const q = carryIndex(g, i);
  if (q >= 0 && i < g.inputs) return "carry input " + q + " (neuron " + i + "): reads carry output " + q + " of the previous time step";
  if (q >= 0) return "carry output " + q + " (neuron " + i + "): read by carry input " + q + " at the next time step";
  if (i < g.inputs) return g.inputs === 784 ? "input pixel (" + Math.floor(i / 28) + ", " + (i % 28) + ")" : "input " + i;
  if (i < g.inputs + g.comps) return "comp " + (i - g.inputs) + " (neuron " + i + ")";
  return "output " + (i - g.inputs - g.comps) + " (neuron " + i + ")";
}

// ---- the explorer --------------------------------------------------------------------

// The colour of the carry neurons and of the recurrent edges.
const CARRY = "#e6730f";

function canvas(cls, w, h) {
  const c = el("canvas", { class: cls, width: w, height: h });
  c.style.width = w + "px";
  c.style.height = h + "px";
  return c;
}

function renderExplorer() {
  const { geometry: g, snapshots } = decodeSnapshots(DATA.explorer.bytes);
  g.carry = DATA.explorer.carry || 0;
  if (!snapshots.length) {
    section("Manifold explorer", el("p", { text: "No snapshot of D was recorded." }));
    return;
  }
  // A link may choose the first view: report.html#step=20000&neuron=900.
  const wanted = new URLSearchParams(location.hash.slice(1));
  let first = snapshots.length - 1;
  if (wanted.has("step")) {
    const step = Number(wanted.get("step"));
    first = 0;
    snapshots.forEach((s, k) => { if (s.step <= step) first = k; });
  }
  const pick = Number(wanted.get("neuron"));
  const neuron = Number.isInteger(pick) && pick >= 0 && pick < g.neurons && wanted.has("neuron") ? pick : g.inputs + g.comps;
  const state = { k: first, neuron: neuron };
  const shown = el("span", { id: "explorer-shown-step", class: "shown-step" });
  const slider = el("input", { id: "explorer-step", type: "range", min: 0,
                               max: snapshots.length - 1, value: state.k });
  const play = el("button", { type: "button", text: "▶ play" });
  const facts = el("div", { class: "explorer-facts" });
  const note = DATA.explorer.shown < DATA.explorer.recorded
    ? " (" + DATA.explorer.shown + " of " + DATA.explorer.recorded + " recorded snapshots, evenly spaced)" : "";

  const heat = canvas("heatmap", 880, 300);
  const heatInfo = el("div", { class: "hover-info", text: "Point at a cell." });
  const dag = canvas("dag", 880, 460);
  const neuronPlot = canvas("neuron-plot", 560, 220);
  const neuronInfo = el("div", { class: "neuron-info" });
  const curves = el("div", { class: "charts explorer-curves" });

  section("Manifold explorer",
    el("p", { class: "hint", text: "D of " + g.rows + " receiving × " + g.cols +
      " sending neurons (" + g.inputs + " inputs, " + g.comps + " comps, " + g.outputs +
      " outputs" + (g.carry ? ", of which " + g.carry + " inputs and " + g.carry + " outputs are carry neurons" : "") +
      ")" + note + ". Drag the slider (or use the arrow keys) to move through training; " +
      "point at the heatmap or the network to inspect a neuron; scroll on the heatmap to zoom, drag to pan, double-click to reset. " +
      "A link can open a view: report.html#step=20000&neuron=900." }),
    el("div", { class: "slider-row" }, play, slider, shown),
    facts,
    el("h3", { text: "Adjacency: D (rows receive, columns send; red > 0 > blue, grey: allowed but cut)" }),
    heat, heatInfo,
    el("h3", { text: "The network, neurons placed by their depth in the DAG" }),
    dag,
    el("h3", { text: "The neuron under the pointer" }),
    el("div", { class: "neuron-row" }, neuronPlot, neuronInfo),
    el("h3", { text: "Up to the shown step" }),
    curves);

  // -- heatmap: one pixel per cell off screen, drawn scaled without smoothing --
  const off = document.createElement("canvas");
  off.width = g.cols;
  off.height = g.rows;
  const offCtx = off.getContext("2d");
  const margin = { left: 48, bottom: 28, top: 6, right: 70 };
  const plotW = heat.width - margin.left - margin.right;
  const plotH = heat.height - margin.top - margin.bottom;
  const fit = () => ({ sx: plotW / g.cols, sy: plotH / g.rows, ox: 0, oy: 0 });
  let view = fit();

  // The allowed region (grey) and the rest (white), painted once and copied per step.
  const background = new Uint8ClampedArray(4 * g.rows * g.cols);
  for (let r = 0; r < g.rows; r++) {
    const i = g.inputs + r;
    for (let j = 0; j < g.cols; j++) {
      const o = 4 * (r * g.cols + j);
      background[o] = background[o + 1] = background[o + 2] = j < i ? 238 : 255;
      background[o + 3] = 255;
    }
  }
  const img = offCtx.createImageData(g.cols, g.rows);

  function paintOffscreen(s) {
    const px = img.data;
    px.set(background);
    for (let n = 0; n < s.index.length; n++) {
      const c = diverging(s.value[n] / s.max);
      const o = 4 * s.index[n];
      px[o] = c[0]; px[o + 1] = c[1]; px[o + 2] = c[2];
    }
    offCtx.putImageData(img, 0, 0);
  }

  function drawHeat() {
    const s = snapshots[state.k];
    const ctx = heat.getContext("2d");
    ctx.clearRect(0, 0, heat.width, heat.height);
    ctx.save();
    ctx.beginPath();
    ctx.rect(margin.left, margin.top, plotW, plotH);
    ctx.clip();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, margin.left + view.ox, margin.top + view.oy, g.cols * view.sx, g.rows * view.sy);
    const sel = state.neuron - g.inputs;
    if (sel >= 0) {
      ctx.strokeStyle = "rgba(0,0,0,0.6)";
      ctx.strokeRect(margin.left + view.ox, margin.top + view.oy + sel * view.sy, g.cols * view.sx, Math.max(1, view.sy));
    }
    ctx.restore();
    ctx.strokeStyle = "#444";
    ctx.strokeRect(margin.left, margin.top, plotW, plotH);
    // Axes: the first and last visible sender / receiver.
    ctx.fillStyle = "#222";
    ctx.font = "11px sans-serif";
    const j0 = Math.max(0, Math.floor(-view.ox / view.sx)), j1 = Math.min(g.cols, Math.ceil((plotW - view.ox) / view.sx));
    const r0 = Math.max(0, Math.floor(-view.oy / view.sy)), r1 = Math.min(g.rows, Math.ceil((plotH - view.oy) / view.sy));
    ctx.textAlign = "left";
    ctx.fillText("sender " + j0, margin.left, heat.height - 14);
    ctx.textAlign = "right";
    ctx.fillText("sender " + (j1 - 1), margin.left + plotW, heat.height - 14);
    ctx.textAlign = "center";
    ctx.fillText("sending neuron j (inputs 0–" + (g.inputs - 1) + ", then comps)", margin.left + plotW / 2, heat.height - 2);
    ctx.save();
    ctx.translate(12, margin.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("receiving neuron i = " + g.inputs + " + row", 0, 0);
    ctx.restore();
    ctx.textAlign = "right";
    ctx.fillText(String(g.inputs + r0), margin.left - 4, margin.top + 10);
    ctx.fillText(String(g.inputs + r1 - 1), margin.left - 4, margin.top + plotH);
    // Colour scale.
    const bx = heat.width - margin.right + 14, by = margin.top + 10, bh = plotH - 30;
    for (let y = 0; y < bh; y++) {
      ctx.fillStyle = rgba(diverging(1 - 2 * y / (bh - 1)), 1);
      ctx.fillRect(bx, by + y, 14, 1);
    }
    ctx.strokeStyle = "#444";
    ctx.strokeRect(bx, by, 14, bh);
    ctx.textAlign = "left";
    ctx.fillStyle = "#222";
    ctx.fillText("+" + fmt(s.max, 2), bx + 17, by + 8);
    ctx.fillText("0", bx + 17, by + bh / 2 + 4);
    ctx.fillText("−" + fmt(s.max, 2), bx + 17, by + bh);
    ctx.fillText("D", bx + 3, by - 2);
  }

  function cellAt(ev) {
    const rect = heat.getBoundingClientRect();
    const x = ev.clientX - rect.left - margin.left - view.ox, y = ev.clientY - rect.top - margin.top - view.oy;
    const j = Math.floor(x / view.sx), r = Math.floor(y / view.sy);
    if (j < 0 || r < 0 || j >= g.cols || r >= g.rows) return null;
    return { r, j };
  }

  let drag = null;
  heat.addEventListener("mousedown", ev => { drag = { x: ev.clientX, y: ev.clientY, ox: view.ox, oy: view.oy }; });
  window.addEventListener("mouseup", () => { drag = null; });
  heat.addEventListener("mousemove", ev => {
    if (drag) {
      view.ox = drag.ox + ev.clientX - drag.x;
      view.oy = drag.oy + ev.clientY - drag.y;
      drawHeat();
      return;
    }
    const c = cellAt(ev);
    if (!c) return;
    const s = snapshots[state.k];
    const cell = c.r * g.cols + c.j;
    let v = 0;
    let lo = 0, hi = s.index.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s.index[mid] === cell) { v = s.value[mid]; break; }
      if (s.index[mid] < cell) lo = mid + 1; else hi = mid - 1;
    }
    const i = g.inputs + c.r;
    heatInfo.textContent = neuronName(g, i) + " ← " + neuronName(g, c.j) + ": " +
      (c.j >= i ? "not allowed (a neuron reads only earlier neurons)" : v === 0 ? "cut (D = 0)" : "D = " + fmt(v, 3));
    selectNeuron(i);
  });
  heat.addEventListener("wheel", ev => {
    ev.preventDefault();
    const rect = heat.getBoundingClientRect();
    const mx = ev.clientX - rect.left - margin.left, my = ev.clientY - rect.top - margin.top;
    const f = ev.deltaY < 0 ? 1.25 : 0.8;
    const base = fit();
    const nsx = Math.max(base.sx, Math.min(40, view.sx * f)), nsy = Math.max(base.sy, Math.min(40, view.sy * f));
    view.ox = mx - (mx - view.ox) * nsx / view.sx;
    view.oy = my - (my - view.oy) * nsy / view.sy;
    view.sx = nsx;
    view.sy = nsy;
    drawHeat();
  }, { passive: false });
  heat.addEventListener("dblclick", () => { view = fit(); drawHeat(); });

  // -- the layered DAG --
  let positions = null;

  function layout(s) {
    const st = structure(g, s);
    const pos = new Float32Array(2 * g.neurons);
    const W = dag.width, H = dag.height, pad = 16;
    let x0 = pad;
    if (g.inputs === 784) {
      const cell = (H - 2 * pad) / 28;
      for (let i = 0; i < 784; i++) {
        pos[2 * i] = pad + (i % 28 + 0.5) * cell;
        pos[2 * i + 1] = pad + (Math.floor(i / 28) + 0.5) * cell;
      }
      x0 = pad + 28 * cell + 30;
    } else {
      for (let i = 0; i < g.inputs; i++) {
        pos[2 * i] = pad + 6;
        pos[2 * i + 1] = pad + (i + 0.5) * (H - 2 * pad) / g.inputs;
      }
      x0 = pad + 40;
    }
    const xOut = W - pad - 10;
    const columns = st.maxComp;
    const byDepth = [];
    for (let i = g.inputs; i < g.inputs + g.comps; i++) (byDepth[st.depth[i]] = byDepth[st.depth[i]] || []).push(i);
    for (let d = 1; d <= columns; d++) {
      const col = byDepth[d] || [];
      const x = columns === 1 ? (x0 + xOut) / 2 : x0 + (d - 1) * (xOut - 40 - x0) / (columns - 1);
      col.forEach((i, n) => {
        pos[2 * i] = x;
        pos[2 * i + 1] = pad + (n + 0.5) * (H - 2 * pad) / col.length;
      });
    }
    for (let o = 0; o < g.outputs; o++) {
      const i = g.inputs + g.comps + o;
      pos[2 * i] = xOut;
      pos[2 * i + 1] = pad + (o + 0.5) * (H - 2 * pad) / g.outputs;
    }
    return pos;
  }

  function drawDag() {
    const s = snapshots[state.k];
    const st = structure(g, s);
    positions = layout(s);
    const ctx = dag.getContext("2d");
    ctx.clearRect(0, 0, dag.width, dag.height);
    // Edges, weakest first; at most 8 000 of the strongest.
    if (!s.order) s.order = byStrength(s);
    const order = s.order;
    const start = Math.max(0, order.length - 8000);
    ctx.lineWidth = 1;
    for (let t = start; t < order.length; t++) {
      const n = order[t];
      const cell = s.index[n];
      const i = g.inputs + Math.floor(cell / g.cols), j = cell % g.cols;
      const a = Math.abs(s.value[n]) / s.max;
      ctx.strokeStyle = rgba(diverging(s.value[n] >= 0 ? 1 : -1), 0.03 + 0.5 * a * a);
      ctx.beginPath();
      ctx.moveTo(positions[2 * j], positions[2 * j + 1]);
      ctx.lineTo(positions[2 * i], positions[2 * i + 1]);
      ctx.stroke();
    }
    // The in- and out-edges of the neuron under the pointer, on top.
    ctx.lineWidth = 1.5;
    for (let n = 0; n < s.index.length; n++) {
      const cell = s.index[n];
      const i = g.inputs + Math.floor(cell / g.cols), j = cell % g.cols;
      if (i !== state.neuron && j !== state.neuron) continue;
      ctx.strokeStyle = rgba(diverging(s.value[n] >= 0 ? 1 : -1), 0.5 + 0.5 * Math.abs(s.value[n]) / s.max);
      ctx.beginPath();
      ctx.moveTo(positions[2 * j], positions[2 * j + 1]);
      ctx.lineTo(positions[2 * i], positions[2 * i + 1]);
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    // The recurrent edges: carry output q feeds carry input q at the next time step.
    if (g.carry) {
      ctx.strokeStyle = CARRY;
      ctx.setLineDash([4, 3]);
      for (let q = 0; q < g.carry; q++) {
        const from = g.neurons - g.carry + q, to = g.inputs - g.carry + q;
        const x1 = positions[2 * from], y1 = positions[2 * from + 1];
        const x0 = positions[2 * to], y0 = positions[2 * to + 1];
        ctx.beginPath();
        ctx.moveTo(x1, y1);
        ctx.quadraticCurveTo((x0 + x1) / 2, dag.height - 14, x0, y0);
        ctx.stroke();
      }
      ctx.setLineDash([]);
    }
    // Neurons: inputs grey (dark when they send), comps by whether they are used, outputs
    // black, carry neurons orange.
    for (let i = 0; i < g.neurons; i++) {
      const x = positions[2 * i], y = positions[2 * i + 1];
      const isInput = i < g.inputs, isOutput = i >= g.inputs + g.comps;
      const used = st.indeg[i] + st.outdeg[i] > 0;
      ctx.fillStyle = carryIndex(g, i) >= 0 ? CARRY
        : isOutput ? "#000" : isInput ? (used ? "#555" : "#ddd") : (used ? "#2ca02c" : "#ccc");
      const rad = isInput && g.inputs === 784 ? 2.5 : 3.5;
      ctx.beginPath();
      ctx.arc(x, y, i === state.neuron ? rad + 3 : rad, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.fillStyle = "#222";
    ctx.font = "11px sans-serif";
    ctx.textAlign = "left";
    ctx.fillText(g.inputs === 784 ? "inputs as the 28 × 28 image" : "inputs", 16, dag.height - 3);
    ctx.textAlign = "right";
    ctx.fillText("outputs", dag.width - 4, dag.height - 3);
    ctx.textAlign = "center";
    ctx.fillText("comps by depth 1…" + st.maxComp + " (edges: red > 0, blue < 0, darker = stronger)", dag.width / 2, dag.height - 3);
    if (g.carry) {
      ctx.fillStyle = CARRY;
      ctx.fillText("orange: the " + g.carry + " carry inputs and outputs; dashed: the recurrent edges, carry output q → carry input q at the next time step", dag.width / 2, 11);
    }
  }

  dag.addEventListener("mousemove", ev => {
    if (!positions) return;
    const rect = dag.getBoundingClientRect();
    const x = ev.clientX - rect.left, y = ev.clientY - rect.top;
    let best = -1, bestD = 64;
    for (let i = 0; i < g.neurons; i++) {
      const dx = positions[2 * i] - x, dy = positions[2 * i + 1] - y;
      const d2 = dx * dx + dy * dy;
      if (d2 < bestD) { bestD = d2; best = i; }
    }
    if (best >= 0) selectNeuron(best);
  });

  // -- the neuron panel --
  function drawNeuron() {
    const s = snapshots[state.k];
    const st = structure(g, s);
    const i = state.neuron;
    const ctx = neuronPlot.getContext("2d");
    const W = neuronPlot.width, H = neuronPlot.height, L = 44, B = 26, T = 18;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#222";
    const ins = [], outs = [];
    for (let n = 0; n < s.index.length; n++) {
      const r = Math.floor(s.index[n] / g.cols), j = s.index[n] % g.cols;
      if (g.inputs + r === i) ins.push([j, s.value[n]]);
      if (j === i) outs.push([g.inputs + r, s.value[n]]);
    }
    const rows = [["kept in-edges", ins.length], ["kept out-edges", outs.length],
                  ["depth in the DAG", i < g.inputs ? 0 : st.depth[i]]];
    if (i < g.inputs) {
      ctx.textAlign = "center";
      ctx.fillText("An input neuron has no closeness function; it sends " + outs.length + " kept edges.", W / 2, H / 2);
    } else {
      const r = i - g.inputs;
      const f = [];
      let lo = -s.cutoff, hi = s.cutoff;
      for (let j = 0; j < i && j < g.cols; j++) {
        const v = closeness(g, s, r, j);
        f.push(v);
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const span = hi - lo || 1;
      const X = j => L + (j / Math.max(1, g.cols - 1)) * (W - L - 8);
      const Y = v => T + (hi - v) / span * (H - T - B);
      ctx.strokeStyle = "#aaa";
      ctx.setLineDash([4, 3]);
      for (const c of [s.cutoff, -s.cutoff]) {
        ctx.beginPath(); ctx.moveTo(L, Y(c)); ctx.lineTo(W - 8, Y(c)); ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.strokeStyle = "#222";
      ctx.beginPath();
      f.forEach((v, j) => (j ? ctx.lineTo(X(j), Y(v)) : ctx.moveTo(X(j), Y(v))));
      ctx.stroke();
      for (const [j, v] of ins) {
        ctx.fillStyle = rgba(diverging(v >= 0 ? 1 : -1), 1);
        ctx.fillRect(X(j) - 1.5, Y(f[j]) - 1.5, 3, 3);
      }
      ctx.fillStyle = "#222";
      ctx.textAlign = "left";
      ctx.fillText("closeness f(j) of " + neuronName(g, i) + "; dashed: cutoff ±c = ±" + fmt(s.cutoff, 3) + "; dots: kept in-edges", L, 12);
      ctx.fillText(fmt(hi, 3), 2, T + 8);
      ctx.fillText(fmt(lo, 3), 2, H - B);
      ctx.textAlign = "center";
      ctx.fillText("sending neuron j (0 … " + (g.cols - 1) + ")", L + (W - L) / 2, H - 4);
      const sh = s.shapes;
      rows.push(["α′ amplitude", sh.alpha[r]], ["β′ exponent", sh.beta[r]], ["γ′ shift", sh.gamma[r]],
                ["θ′ period factor", sh.theta[r]], ["φ phase", sh.phi[r]], ["σ′ width", sh.sigma[r]],
                ["μ centre", sh.mu[r]]);
    }
    const strongest = ins.slice().sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 5)
      .map(([j, v]) => neuronName(g, j) + " (" + fmt(v, 3) + ")").join(", ");
    neuronInfo.replaceChildren(el("h4", { text: neuronName(g, i) }),
      table([["", ""]].concat(rows.map(([k, v]) => [k, typeof v === "number" && !Number.isInteger(v) ? fmt(v, 4) : v]))),
      el("p", { class: "small", text: strongest ? "strongest in-edges: " + strongest : "no kept in-edge" }));
  }

  function selectNeuron(i) {
    if (i === state.neuron) return;
    state.neuron = i;
    drawNeuron();
    drawDag();
    drawHeat();
  }

  // -- metrics up to the step --
  const m = DATA.metrics;
  const charts = [];
  if (m && m.columns.includes("step")) {
    const steps = column(m, "step");
    const want = [["objective", "objective", 1, false], ["flow", "flow", 1, true], ["density", "density (%)", 100, false],
                  ["test_accuracy", "test accuracy (%)", 100, false], ["test_mse", "test MSE", 1, false]];
    for (const [c, label, scale, logY] of want) {
      if (!m.columns.includes(c)) continue;
      const values = column(m, c, scale);
      if (!values.some(v => v !== null)) continue;
      const chart = lineChart(curves, label, "step", label, steps, [{ name: c.replace(/_/g, " "), values: logY ? positive(values) : values }],
        { height: 180, logY });
      chart.setScale("x", { min: steps[0], max: steps[steps.length - 1] });
      charts.push({ chart, steps, values: logY ? positive(values) : values });
    }
  }

  function valueAt(name, step, scale) {
    if (!m || !m.columns.includes(name)) return null;
    const k = m.columns.indexOf(name), ks = m.columns.indexOf("step");
    let best = null;
    for (const r of m.rows) if (r[ks] <= step && r[k] !== null) best = r[k] * (scale || 1);
    return best;
  }

  function show(k) {
    state.k = k;
    const s = snapshots[k];
    const st = structure(g, s);
    shown.textContent = "step " + fmt(s.step) + " · snapshot " + (k + 1) + " of " + snapshots.length;
    shown.setAttribute("data-step", String(s.step));
    const maxCells = (g.neurons * g.neurons - g.inputs * g.inputs - g.outputs * g.outputs - g.comps) / 2;
    const acc = valueAt("test_accuracy", s.step, 100), mse = valueAt("test_mse", s.step);
    facts.replaceChildren(table([
      ["kept connections", "density", "cutoff c", "longest path (edges)", "flow", "objective", acc !== null ? "test accuracy (last evaluation)" : "test MSE (last evaluation)"],
      [s.index.length, percent(s.index.length / maxCells), fmt(s.cutoff, 4), st.longest,
       fmt(valueAt("flow", s.step)), fmt(valueAt("objective", s.step)), acc !== null ? acc.toFixed(2) + "%" : fmt(mse)],
    ], "facts"));
    paintOffscreen(s);
    drawHeat();
    drawDag();
    drawNeuron();
    for (const c of charts) {
      const upto = c.steps.map((x, n) => (x <= s.step ? c.values[n] : null));
      c.chart.setData([c.steps, upto], false);
    }
  }

  slider.addEventListener("input", () => show(Number(slider.value)));
  let timer = null;
  play.addEventListener("click", () => {
    if (timer) {
      clearInterval(timer);
      timer = null;
      play.textContent = "▶ play";
      return;
    }
    if (state.k === snapshots.length - 1) slider.value = 0;
    play.textContent = "❚❚ pause";
    timer = setInterval(() => {
      const next = Number(slider.value) + 1;
      if (next >= snapshots.length) { play.click(); return; }
      slider.value = next;
      show(next);
    }, 250);
  });
  show(state.k);
}

addRenderer(30, renderExplorer);
