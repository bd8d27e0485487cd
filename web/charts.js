/*
 * bespoke dashboard, charts: SVG drawn from API data (a forecast band with
 * the actual line, a sparkline), with round axis ticks. Each chart marks
 * its plotting area in data-plot so that tests can check the geometry.
 */
"use strict";

/* A small p50 line with its p5–p95 band: the shape of the next day. */
function sparkline(fc) {
  const q = fc && fc.quantiles;
  if (!q || !q.p50 || q.p50.length < 2) return null;
  const W = 120, H = 28, n = q.p50.length;
  const hi = q.p95 || q.p50, lo = q.p5 || q.p50;
  const max = Math.max(...hi.filter(isFinite), 1e-9);
  const x = (i) => (i / (n - 1)) * W;
  const y = (v) => H - 2 - (Math.max(0, v) / max) * (H - 4);
  const top = hi.map((v, i) => [x(i), y(v)]);
  const bottom = lo.map((v, i) => [x(i), y(v)]).reverse();
  return s("svg", { class: "spark", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "next 24 hours" },
    s("path", { d: pathOf(top.concat(bottom)) + "Z", fill: "rgba(31,79,168,0.16)" }),
    s("path", { d: pathOf(q.p50.map((v, i) => [x(i), y(v)])), fill: "none", stroke: "#1f4fa8", "stroke-width": 1.5 }));
}

function pathOf(points) {
  return points.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join("");
}

/* Nice round ticks over [lo, hi]. */
function ticks(lo, hi, want) {
  const span = hi - lo || 1;
  const raw = span / want, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s2) => s2 >= raw);
  const out = [];
  /* From the last tick at or below lo to the first at or above hi, so
   * that every value is inside the axis. */
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) out.push(k * step);
  return out;
}

/*
 * The actual history (a line, broken where hours are empty) and the
 * forecast from the profile's origin: the p5–p95 band shaded and the p50
 * line. Times run left to right in UTC; values are scaled to one unit.
 */
function forecastChart(m, actual, start, stepS, from) {
  const W = 560, H = 240, L = 52, R = 16, T = 24, B = 28;
  const fc = m.forecast || {}, q = fc.quantiles || {};
  const p50 = q.p50 || fc.point || [];
  const lo = q.p5 || q.p10 || p50, hi = q.p95 || q.p90 || p50;
  const stepMs = stepS * 1000;
  const end = start + p50.length * stepMs;
  const av = actual ? actual.values : [];
  const aStart = actual ? Date.parse(actual.start) : from;
  const aStep = actual ? actual.step_seconds * 1000 : stepMs;

  const all = [...av, ...hi, ...p50].filter((v) => v !== null && isFinite(v));
  const max = all.length ? Math.max(...all) : 1;
  const min = Math.min(0, ...all);
  const sc = unitScale(m.unit, max);
  const ys = ticks(min * sc.k, (max || 1) * sc.k, 4);
  const yMax = ys[ys.length - 1] / sc.k, yMin = Math.min(min, ys[0] / sc.k);
  const x0 = Math.min(from, start), x1 = Math.max(end, start + stepMs);
  /* Each value is drawn at the middle of its step. */
  const X = (t) => L + ((t - x0) / (x1 - x0)) * (W - L - R);
  const Y = (v) => T + (1 - (v - yMin) / (yMax - yMin || 1)) * (H - T - B);

  /* data-plot: the plotting area (left top right bottom), for tests. */
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "data-plot": [L, T, W - R, H - B].join(" "),
    "aria-label": "actual and forecast " + (m.unit || "") });
  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  for (const v of ys) {
    grid.append(s("line", { x1: L, x2: W - R, y1: Y(v / sc.k), y2: Y(v / sc.k) }));
    axis.append(s("text", { x: L - 6, y: Y(v / sc.k) + 4, "text-anchor": "end" }, Number(v.toFixed(6)).toLocaleString("en-US", { maximumFractionDigits: 6 })));
  }
  axis.append(s("text", { x: L - 6, y: T - 10, "text-anchor": "end" }, sc.unit));
  /* Time ticks: midnights, or every 6 h when the span is short. */
  const spanH = (x1 - x0) / 3600e3;
  const every = spanH > 96 ? 24 : spanH > 36 ? 12 : 6;
  for (let t = Math.ceil(x0 / (every * 3600e3)) * every * 3600e3; t <= x1; t += every * 3600e3) {
    const midnight = new Date(t).getUTCHours() === 0;
    grid.append(s("line", { x1: X(t), x2: X(t), y1: T, y2: H - B }));
    /* A label centred on a tick near either end would be cut off. */
    if (X(t) > W - 18 || X(t) < 18) continue;
    axis.append(s("text", { x: X(t), y: H - B + 16, "text-anchor": "middle" }, midnight ? fmtDay(t) : fmtTime(t)));
  }
  svg.append(grid, axis);

  if (p50.length) {
    const mid = (i) => start + (i + 0.5) * stepMs;
    const top = hi.map((v, i) => [X(mid(i)), Y(v)]);
    const bottom = lo.map((v, i) => [X(mid(i)), Y(v)]).reverse();
    svg.append(s("path", { class: "band", d: pathOf(top.concat(bottom)) + "Z", "data-points": top.length + bottom.length }));
    svg.append(s("path", { class: "p50", d: pathOf(p50.map((v, i) => [X(mid(i)), Y(v)])), "data-points": p50.length }));
  }
  /* The actual line: a new sub-path after each empty step. */
  let d = "", pen = false, count = 0;
  av.forEach((v, i) => {
    if (v === null || !isFinite(v)) { pen = false; return; }
    const t = aStart + (i + 0.5) * aStep;
    d += (pen ? "L" : "M") + X(t).toFixed(1) + " " + Y(v).toFixed(1);
    pen = true;
    count++;
  });
  if (count) svg.append(s("path", { class: "actual", d, "data-points": count }));
  else svg.append(s("text", { x: (L + X(start)) / 2, y: H / 2, "text-anchor": "middle", class: "origin-label" }, "no samples in this range"));

  svg.append(s("line", { class: "origin", x1: X(start), x2: X(start), y1: T, y2: H - B }),
    s("text", { class: "origin-label", x: X(start) + 4, y: T - 8 }, "forecast →"));
  return svg;
}
