// jaxnn explore: the page. Plain ES modules; every request goes to this server only.
import { bars, COLORS, el, heat, image, linePlot } from "./plot.js";

const $ = (s) => document.querySelector(s);
const params = new URLSearchParams(location.search);
const TOKEN = params.get("token");
const CLIENT = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replace(/[^A-Za-z0-9_-]/g, "");
const state = { model: null, info: null, misOffset: 0, runs: new Map() };

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

export async function api(path, body = undefined, method = undefined) {
  const init = { method: method || (body === undefined ? "GET" : "POST"), headers: {} };
  if (TOKEN) init.headers["X-Jaxnn-Token"] = TOKEN;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) { showError(data.error || `HTTP ${r.status}`); throw new Error(data.error); }
  showError("");
  return data;
}
const q = (o) => new URLSearchParams(Object.fromEntries(Object.entries(o).filter(([, v]) => v != null))).toString();

// -- tabs
for (const b of document.querySelectorAll("nav .tab")) {
  b.addEventListener("click", () => {
    document.querySelectorAll("nav .tab").forEach((t) => t.classList.toggle("active", t === b));
    document.querySelectorAll(".view").forEach((v) => (v.hidden = v.id !== "view-" + b.dataset.view));
    if (b.dataset.view === "book") bookInit();
  });
}

// -- view 1: inside a trained network
async function loadInfo(select = null) {
  state.info = await api("/api/info");
  const sel = $("#model-select");
  sel.replaceChildren();
  for (const m of state.info.models) {
    const o = document.createElement("option");
    o.value = m.id; o.textContent = m.name; sel.appendChild(o);
  }
  state.model = select || state.model || state.info.default || (state.info.models[0] || {}).id || null;
  if (state.model) sel.value = state.model;
  $("#uni-target").textContent = state.info.target;
  await modelChanged();
}

function current() { return state.info.models.find((m) => m.id === state.model); }

async function modelChanged() {
  const m = state.model && current();
  $("#model-info").textContent = m
    ? (m.kind === "mlp" ? `[${m.sizes.join(", ")}]` : m.layers.map((l) => l.name).join(" → ")) + ` · ${m.cost}`
    : "No model open: upload one, or train one in view 2 and open it here.";
  if (!m) return;
  state.weights = await api("/api/weights?" + q({ model: state.model }));
  state.misOffset = 0;
  await Promise.all([loadMisclassified(), loadConfusion()]);
}

$("#model-select").addEventListener("change", (e) => { state.model = e.target.value; modelChanged(); });
$("#model-upload").addEventListener("change", async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  const form = new FormData();
  form.append("file", f);
  const m = await api("/api/upload", form);
  await loadInfo(m.id);
});

function showPrediction(r) {
  image($("#seen"), r.input, 28, 28);
  bars($("#output"), r.output, r.predicted);
  $("#predicted").textContent = `Predicted: ${r.predicted}`;
  const box = $("#activations");
  box.replaceChildren();
  r.activations.forEach((layer, l) => {
    const div = document.createElement("div");
    div.className = "layer";
    div.innerHTML = `<small>layer ${l + 1} (${layer.shape.join("×")})</small>`;
    if (layer.shape.length === 1) {
      const cells = document.createElement("div");
      cells.className = "cells";
      const top = Math.max(1e-9, ...layer.values.map(Math.abs));
      layer.values.forEach((v, i) => {
        const c = document.createElement("div");
        c.className = "cell activation";
        const a = Math.min(1, Math.abs(v) / top);
        c.style.background = v >= 0 ? `rgba(30,136,229,${a})` : `rgba(229,57,53,${a})`;
        c.title = `unit ${i}: ${v}`;
        cells.appendChild(c);
      });
      div.appendChild(cells);
    } else {
      const [n, h, w] = layer.shape;
      const maps = document.createElement("div");
      maps.className = "maps";
      for (let k = 0; k < Math.min(n, 40); k++) {
        const c = document.createElement("canvas");
        c.className = "activation";
        image(c, layer.values.slice(k * h * w, (k + 1) * h * w), w, h, { scale: Math.max(1e-9, ...layer.values) });
        maps.appendChild(c);
      }
      div.appendChild(maps);
    }
    box.appendChild(div);
  });
  showWeights(r.contributions);
}

function showWeights(contrib) {
  const wts = state.weights;
  if (!wts) return;
  const box = $("#weights");
  box.replaceChildren();
  box.className = "thumbs";
  const [h, w] = wts.shape, size = h * w;
  const order = [...Array(wts.count).keys()];
  if (contrib && contrib.length === wts.count) order.sort((a, b) => Math.abs(contrib[b]) - Math.abs(contrib[a]));
  for (const j of order.slice(0, 100)) {
    const d = document.createElement("div");
    d.className = "thumb";
    const c = document.createElement("canvas");
    image(c, wts.values.slice(j * size, (j + 1) * size), w, h, { signed: true });
    d.appendChild(c);
    d.appendChild(document.createElement("br"));
    d.append(contrib ? `#${j} ${contrib[j] >= 0 ? "+" : ""}${contrib[j].toFixed(2)}` : `#${j}`);
    box.appendChild(d);
  }
}

// drawing: pointer events (mouse and touch), white ink on black, as MNIST
const canvas = $("#draw");
const ctx = canvas.getContext("2d");
function clearCanvas() { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height); }
clearCanvas();
let drawing = false, last = null, pending = false;
function pos(e) { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; }
canvas.addEventListener("pointerdown", (e) => { drawing = true; last = pos(e); canvas.setPointerCapture?.(e.pointerId); stroke(last); });
canvas.addEventListener("pointermove", (e) => { if (drawing) { stroke(pos(e)); predictDrawing(); } });
window.addEventListener("pointerup", () => { if (drawing) { drawing = false; predictDrawing(true); } });
function stroke(p) {
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 20; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
  last = p;
}
$("#clear").addEventListener("click", () => { clearCanvas(); $("#true-label").textContent = ""; });

async function predictDrawing(force = false) {
  if (!state.model || (pending && !force)) return;
  pending = true;
  const S = 4, w = canvas.width / S, h = canvas.height / S;  // average 4×4 blocks: 70×70 grey levels
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const pixels = new Array(w * h).fill(0);
  for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
    pixels[Math.floor(y / S) * w + Math.floor(x / S)] += data[4 * (y * canvas.width + x)] / (255 * S * S);
  }
  try {
    const r = await api("/api/predict", { model: state.model, drawing: { width: w, height: h, pixels: pixels.map((v) => Math.min(1, +v.toFixed(3))) } });
    $("#true-label").textContent = "";
    showPrediction(r);
  } finally { pending = false; }
}

async function openTest(index) {
  const r = await api("/api/test?" + q({ model: state.model, index }));
  showPrediction(r);
  $("#true-label").textContent = `Test image ${r.index} · true label: ${r.label}`;
}
$("#test-go").addEventListener("click", () => openTest($("#test-index").value));

async function loadMisclassified() {
  const r = await api("/api/misclassified?" + q({ model: state.model, offset: state.misOffset, limit: 24 }));
  $("#mis-count").textContent = `(${r.total}; from ${r.offset})`;
  const box = $("#misclassified");
  box.replaceChildren();
  box.className = "thumbs";
  for (const it of r.items) {
    const d = document.createElement("div");
    d.className = "thumb misclassified";
    const c = document.createElement("canvas");
    image(c, it.input, 28, 28);
    d.appendChild(c);
    d.appendChild(document.createElement("br"));
    d.append(`${it.label} → ${it.predicted}`);
    d.title = `test image ${it.index}: true ${it.label}, predicted ${it.predicted}`;
    d.addEventListener("click", () => { $("#test-index").value = it.index; openTest(it.index); });
    box.appendChild(d);
  }
  state.misTotal = r.total;
}
$("#mis-prev").addEventListener("click", () => { state.misOffset = Math.max(0, state.misOffset - 24); loadMisclassified(); });
$("#mis-next").addEventListener("click", () => { if (state.misOffset + 24 < state.misTotal) { state.misOffset += 24; loadMisclassified(); } });

async function loadConfusion() {
  const r = await api("/api/confusion?" + q({ model: state.model }));
  $("#conf-acc").textContent = `(${r.correct} / ${r.total} correct; rows: true, columns: predicted)`;
  const t = $("#confusion");
  t.replaceChildren();
  const head = t.insertRow();
  head.appendChild(document.createElement("th"));
  for (let j = 0; j < 10; j++) { const th = document.createElement("th"); th.textContent = j; head.appendChild(th); }
  r.matrix.forEach((row, i) => {
    const tr = t.insertRow();
    const th = document.createElement("th"); th.textContent = i; tr.appendChild(th);
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const td = tr.insertCell();
      td.textContent = v;
      td.style.background = i === j ? `rgba(67,160,71,${v / total})` : `rgba(229,57,53,${Math.min(1, (5 * v) / total)})`;
    });
  });
}

// -- view 2: training live, over server-sent events
function openEvents() {
  const es = new EventSource("/api/events?" + q({ client: CLIENT }));
  for (const kind of ["state", "progress", "epoch"]) es.addEventListener(kind, (e) => onEvent(JSON.parse(e.data)));
  state.events = es;
}

function onEvent(ev) {
  const run = state.runs.get(ev.run);
  if (!run) return;
  if (ev.type === "state") { run.state = ev.state; run.message = ev.message || ""; }
  if (ev.type === "progress") run.progress = ev.epoch + ev.done;
  if (ev.type === "epoch") { run.points.push(ev); run.progress = ev.epoch + 1; }
  renderRuns();
}

$("#train-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const num = (k) => Number(f.get(k));
  const body = {
    client: CLIENT, preset: f.get("preset"), cost: f.get("cost"), activation: f.get("activation"),
    hidden: String(f.get("hidden")).split(",").map((s) => s.trim()).filter(Boolean).map(Number),
    eta: num("eta"), lmbda: num("lmbda"), p_dropout: num("p_dropout"), epochs: num("epochs"),
    train_size: num("train_size"), mini_batch_size: num("mini_batch_size"),
  };
  const r = await api("/api/train", body);
  state.runs.set(r.run, { ...r, progress: 0, color: COLORS[state.runs.size % COLORS.length] });
  renderRuns();
});

// Each run keeps one row, updated in place as events arrive: its buttons stay put (a row rebuilt
// on every progress event would pull the Stop button out from under the pointer).
function runRow(run) {
  let d = run.el;
  if (!d) {
    d = document.createElement("div");
    d.className = "run";
    d.dataset.run = run.run;
    d.style.borderColor = run.color;
    d.innerHTML = `<span class="label"></span> <span class="state"></span> <progress></progress>
      <span class="acc"></span> <span class="message"></span> <span class="actions"></span>`;
    d.querySelector(".label").textContent = `${run.run}: ${run.label}`;
    d.querySelector("progress").max = run.settings.epochs;
    run.el = d;
  }
  d.querySelector(".state").textContent = run.state;
  d.querySelector("progress").value = run.progress || 0;
  d.querySelector(".acc").textContent = run.points.length ? `${(100 * run.points.at(-1).accuracy).toFixed(2)}%` : "";
  d.querySelector(".message").textContent = run.message || "";
  const mode = run.state === "running" || run.state === "queued" ? "running" : run.points.length ? "done" : "none";
  if (d.dataset.mode !== mode) {
    d.dataset.mode = mode;
    const actions = d.querySelector(".actions");
    actions.replaceChildren();
    if (mode === "running") {
      const b = document.createElement("button");
      b.textContent = "Stop"; b.className = "stop";
      b.addEventListener("click", () => api(`/api/runs/${run.run}/stop`, { client: CLIENT }));
      actions.appendChild(b);
    } else if (mode === "done") {
      const b = document.createElement("button");
      b.textContent = "Open in view 1"; b.className = "open";
      b.addEventListener("click", async () => {
        const m = await api(`/api/runs/${run.run}/save`, { client: CLIENT });
        await loadInfo(m.id);
        document.querySelector('nav .tab[data-view="inside"]').click();
      });
      actions.appendChild(b);
      const a = document.createElement("a");
      a.textContent = "Save model file"; a.className = "download";
      a.href = `/api/runs/${run.run}/download?` + q({ client: CLIENT });
      actions.appendChild(a);
    }
  }
  return d;
}

function renderRuns() {
  const box = $("#runs");
  for (const run of state.runs.values()) {
    const d = runRow(run);
    if (d.parentNode !== box) box.appendChild(d);
  }
  const runs = [...state.runs.values()].filter((r) => r.points.length);
  const series = (key) => runs.map((r) => ({ xs: r.points.map((p) => p.epoch + 1), ys: r.points.map((p) => p[key]), color: r.color, label: r.run, points: true }));
  linePlot($("#curve-accuracy"), series("accuracy"), { xlabel: "epoch", ylabel: "accuracy", xmin: 0 });
  linePlot($("#curve-cost"), series("training_cost"), { xlabel: "epoch", ylabel: "cost", xmin: 0 });
}

// -- view 3: the book's figures
let bookReady = false;
function bookInit() {
  if (bookReady) return;
  bookReady = true;
  for (const k of ["w", "b"]) $(`#neuron-${k}`).addEventListener("input", neuron);
  neuron();
  $("#slow-start").addEventListener("change", slowdown);
  slowdown();
  const box = $("#uni-sliders");
  const initial = [0.3, 0.5, 0.4, 0.6, 0.5];
  const slider = (id, label, min, max, value) => {
    const l = document.createElement("label");
    l.innerHTML = `${label} <input id="${id}" type="range" min="${min}" max="${max}" step="0.01" value="${value}"> `;
    l.querySelector("input").addEventListener("input", universality);
    box.appendChild(l);
  };
  initial.forEach((h, i) => slider(`uni-h${i}`, `h${i + 1}`, -1, 1.5, h));
  box.appendChild(document.createElement("br"));
  [0.2, 0.4, 0.6, 0.8].forEach((s, i) => slider(`uni-s${i}`, `s${i + 1}`, 0, 1, s));
  universality();
  $("#speed-go").addEventListener("click", speed);
}

async function neuron() {
  const w = +$("#neuron-w").value, b = +$("#neuron-b").value;
  $("#neuron-w-val").textContent = w; $("#neuron-b-val").textContent = b;
  const r = await api("/api/figures/neuron", { w, b });
  linePlot($("#neuron-plot"), [
    { xs: r.x, ys: r.sigmoid, label: "sigmoid σ(wx + b)" },
    { xs: r.x, ys: r.perceptron, label: "perceptron", dash: "4 3" },
  ], { xlabel: "x", ymin: -0.05, ymax: 1.05 });
}

async function slowdown() {
  const r = await api("/api/figures/slowdown", { start: $("#slow-start").value });
  const xs = [...Array(r.epochs + 1).keys()];
  linePlot($("#slow-plot"), [
    { xs, ys: r.quadratic.output, label: "quadratic: output" },
    { xs, ys: r["cross-entropy"].output, label: "cross-entropy: output" },
  ], { xlabel: "epoch", ymin: 0, ymax: 1 });
}

async function universality() {
  const heights = [0, 1, 2, 3, 4].map((i) => +$(`#uni-h${i}`).value);
  const inner = [0, 1, 2, 3].map((i) => +$(`#uni-s${i}`).value).sort((a, b) => a - b);
  const r = await api("/api/figures/universality", { heights, steps: [0, ...inner, 1] });
  linePlot($("#uni-plot"), [
    { xs: r.x, ys: r.target, label: "target f(x)", dash: "4 3", cls: "target" },
    { xs: r.x, ys: r.output, label: "the network's output", cls: "output" },
  ], { xlabel: "x" });
  $("#uni-error").textContent = r.error.toFixed(4);
}

async function speed() {
  $("#speed-status").textContent = "training…";
  const r = await api("/api/figures/speed", { hidden: +$("#speed-hidden").value, epochs: +$("#speed-epochs").value });
  $("#speed-status").textContent = "";
  linePlot($("#speed-plot"), r.speed.map((ys, l) => ({ xs: r.epochs, ys, label: `hidden layer ${l + 1}` })), { xlabel: "epoch", ylabel: "‖∂C/∂b‖", logy: true });
}

// -- view 4: a sweep's heat map
$("#sweep-file").addEventListener("change", async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  let body;
  try { body = JSON.parse(await f.text()); } catch (err) { showError(`${f.name} is not JSON: ${err.message}`); return; }
  state.sweep = await api("/api/sweep", body);
  const sel = $("#sweep-p");
  sel.replaceChildren();
  state.sweep.grids.forEach((g, i) => { const o = document.createElement("option"); o.value = i; o.textContent = g.p_dropout ?? "—"; sel.appendChild(o); });
  drawSweep();
});
$("#sweep-p").addEventListener("change", drawSweep);

function drawSweep() {
  const s = state.sweep, g = s.grids[+$("#sweep-p").value || 0];
  const svg = $("#sweep-map");
  svg.replaceChildren();
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height"), l = 80, t = 20, b = 50;
  el(svg, "text", { x: W - 10, y: 14, "text-anchor": "end" }, "best evaluation accuracy, mean over seeds");
  const cw = (W - l - 10) / s.etas.length, ch = (H - t - b) / s.lmbdas.length;
  const vals = g.accuracy.flat().filter((v) => v != null);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  g.accuracy.forEach((row, i) => row.forEach((v, j) => {
    const y = t + (s.lmbdas.length - 1 - i) * ch;
    el(svg, "rect", { class: "hm-cell", x: l + j * cw, y, width: cw - 1, height: ch - 1, fill: v == null ? "#eee" : heat(hi > lo ? (v - lo) / (hi - lo) : 1) });
    if (v != null) el(svg, "text", { x: l + j * cw + cw / 2, y: y + ch / 2 + 4, "text-anchor": "middle" }, `${(100 * v).toFixed(2)}%`);
  }));
  s.etas.forEach((e, j) => el(svg, "text", { x: l + j * cw + cw / 2, y: H - b + 16, "text-anchor": "middle" }, String(e)));
  s.lmbdas.forEach((m, i) => el(svg, "text", { x: l - 6, y: t + (s.lmbdas.length - 1 - i) * ch + ch / 2 + 4, "text-anchor": "end" }, String(m)));
  el(svg, "text", { x: (W + l) / 2, y: H - 8, "text-anchor": "middle" }, "η");
  el(svg, "text", { x: 6, y: t + 10 }, "λ");
}

openEvents();
loadInfo().then(() => {
  if (!state.info.models.length) document.querySelector('nav .tab[data-view="train"]').click();  // no model: train one
  document.body.dataset.ready = "1";
});
