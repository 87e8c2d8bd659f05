// SVG and canvas drawing helpers: no libraries.
const NS = "http://www.w3.org/2000/svg";

export function el(svg, tag, attrs = {}, text = null) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  svg.appendChild(e);
  return e;
}

export const COLORS = ["#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b", "#6d4c41", "#c0ca33"];

function ticks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const step = Math.pow(10, Math.floor(Math.log10(span / n)));
  const mult = [1, 2, 5, 10].find((m) => span / (m * step) <= n) * step;
  const out = [];
  for (let v = Math.ceil(lo / mult) * mult; v <= hi + 1e-9; v += mult) out.push(+v.toPrecision(6));
  return out;
}

// series: [{xs, ys, color, label, points}]; opts: {xlabel, ylabel, ymin, ymax, xmin, xmax, logy}
export function linePlot(svg, series, opts = {}) {
  svg.replaceChildren();
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const m = { l: 52, r: 12, t: 10, b: 36 };
  const fy = opts.logy ? (v) => Math.log10(Math.max(v, 1e-12)) : (v) => v;
  const allx = series.flatMap((s) => s.xs), ally = series.flatMap((s) => s.ys.map(fy)).filter(Number.isFinite);
  let x0 = opts.xmin ?? Math.min(...allx), x1 = opts.xmax ?? Math.max(...allx);
  let y0 = opts.ymin ?? Math.min(...ally), y1 = opts.ymax ?? Math.max(...ally);
  if (!allx.length) { x0 = 0; x1 = 1; }
  if (!ally.length) { y0 = 0; y1 = 1; }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const X = (v) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - ((fy(v) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const Yraw = (v) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  el(svg, "line", { class: "axis", x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b });
  el(svg, "line", { class: "axis", x1: m.l, y1: m.t, x2: m.l, y2: H - m.b });
  for (const t of ticks(x0, x1)) el(svg, "text", { x: X(t), y: H - m.b + 14, "text-anchor": "middle" }, String(t));
  for (const t of ticks(y0, y1)) {
    el(svg, "text", { x: m.l - 4, y: Yraw(t) + 4, "text-anchor": "end" }, opts.logy ? String(+(10 ** t).toPrecision(2)) : String(t));
  }
  if (opts.xlabel) el(svg, "text", { x: (W + m.l) / 2, y: H - 4, "text-anchor": "middle" }, opts.xlabel);
  if (opts.ylabel) el(svg, "text", { x: 4, y: m.t + 8 }, opts.ylabel);
  series.forEach((s, i) => {
    const color = s.color || COLORS[i % COLORS.length];
    const d = s.xs.map((x, j) => `${j ? "L" : "M"}${X(x).toFixed(1)},${Y(s.ys[j]).toFixed(1)}`).join("");
    el(svg, "path", { class: "line" + (s.cls ? " " + s.cls : ""), d, stroke: color, "stroke-dasharray": s.dash || "" });
    if (s.points) s.xs.forEach((x, j) => el(svg, "circle", { class: "point", cx: X(x), cy: Y(s.ys[j]), r: 3, fill: color }));
    if (s.label) {
      el(svg, "rect", { x: W - m.r - 150, y: m.t + 4 + 14 * i, width: 10, height: 10, fill: color });
      el(svg, "text", { x: W - m.r - 136, y: m.t + 13 + 14 * i }, s.label);
    }
  });
}

export function bars(svg, values, highlight) {
  svg.replaceChildren();
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
  const bw = (W - 20) / values.length;
  const top = Math.max(1, ...values);
  values.forEach((v, i) => {
    const h = (Math.max(v, 0) / top) * (H - 40);
    el(svg, "rect", {
      class: "bar", "data-class": i, x: 10 + i * bw + 2, y: H - 20 - h, width: bw - 4, height: h,
      fill: i === highlight ? "#e53935" : "#90a4ae",
    });
    el(svg, "text", { x: 10 + i * bw + bw / 2, y: H - 6, "text-anchor": "middle" }, String(i));
    el(svg, "text", { x: 10 + i * bw + bw / 2, y: H - 24 - h, "text-anchor": "middle" }, v.toFixed(2));
  });
}

// grey image (values row-major) into a canvas of its own size; signed: blue/red around 0
export function image(canvas, values, w, h, { signed = false, scale = null } = {}) {
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const s = scale ?? (signed ? Math.max(1e-9, ...values.map(Math.abs)) : 1);
  for (let i = 0; i < w * h; i++) {
    const v = values[i] / s;
    let r, g, b;
    if (signed) {
      const a = Math.min(1, Math.abs(v));
      [r, g, b] = v >= 0 ? [255 * (1 - a), 255 * (1 - a), 255] : [255, 255 * (1 - a), 255 * (1 - a)];
    } else {
      r = g = b = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    img.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

export function heat(v) {  // a colour for v in [0, 1]
  const t = Math.min(1, Math.max(0, v));
  return `hsl(${Math.round(10 + 110 * t)}, 70%, ${Math.round(85 - 35 * t)}%)`;
}
