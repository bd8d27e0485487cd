/*
 * bespoke dashboard, what other stages store, shown on the entity page:
 * feedback (the forecast against what happened), the recommended shape
 * with its reasons, the plan over time with its savings, and the image
 * history with what changed between builds.
 * Each view returns null when there is nothing to show, and the page then
 * shows a marked empty state.
 */
"use strict";

/* A part from another stage: drawn by view(body), or an empty state while
 * the daemon has none (404, or view returns null). */
async function part(gen, id, path, view, title, text) {
  let content;
  try {
    const body = await api(path);
    if (gen !== generation) return;
    content = view(body) || empty(title, text);
  } catch (err) {
    if (gen !== generation) return;
    content = err.status === 404 ? empty(title, text) : errorBox(err);
  }
  const sec = document.getElementById(id);
  if (sec) replace(sec, sec.firstChild, content);
}

function money(v) {
  return v === null || v === undefined || !isFinite(v) ? "–" : "$" + fmt(v, Math.abs(v) >= 100 ? 0 : 2);
}

/* ---- feedback: the forecast against what happened ---- */

function feedbackView(fb, profile) {
  const ms = Object.entries(fb.metrics || {});
  const unit = (metric) => (profile.metrics && profile.metrics[metric] && profile.metrics[metric].unit) || "";
  if (!ms.length) return null;
  const rows = ms.map(([metric, m]) => h("tr", { "data-metric": metric },
    h("td", {}, metric),
    h("td", { class: "num" }, String(m.steps)),
    h("td", { class: "num" }, fmtUnit(m.mae, unit(metric))),
    h("td", { class: "num" }, fmt(m.mase, 2)),
    h("td", { class: "num" }, fmt(m.backtest_mase, 2)),
    h("td", { class: "num" }, pct(m.coverage95)),
    h("td", {}, m.drift ? h("span", { class: "badge drift", title: m.why || "" }, "drift") : h("span", { class: "badge ok" }, "ok"),
      m.drift && m.why ? h("div", { class: "sub" }, m.why) : null)));
  return h("div", { class: "card" },
    h("p", { class: "muted" }, "Profile v" + fb.profile_version + " from " + fmtIso(fb.origin) + " to " + fmtIso(fb.until) +
      (fb.drift ? ": the model no longer describes this entity and is refitted." : ": within its backtest error.")),
    h("table", { class: "plain" },
      h("thead", {}, h("tr", {}, ["metric", "steps", "MAE", "MASE", "backtest MASE", "p95 coverage", "state"].map((t, i) =>
        h("th", { class: i && i < 6 ? "num" : null }, t)))),
      h("tbody", {}, rows)));
}

/* ---- the recommended shape ---- */

/* The latest stored recommendation (bespoke recommend, or the learn loop),
 * as the profile route carries it. */
function recommendationView(rec) {
  if (!rec || !rec.choice) return null;
  const c = rec.choice, cur = rec.current;
  const fig = (label, value, note) => h("div", { class: "figure" }, h("div", { class: "label" }, label),
    h("div", { class: "value" }, value), note ? h("div", { class: "note" }, note) : null);
  const v = rec.violation || {};
  return h("div", { class: "card", "data-shape": c.name },
    h("div", { class: "figures inline" },
      fig("Shape", c.name, [c.storage, c.spot ? "spot" : null].filter(Boolean).join(", ") ||
        fmt(c.provides.cpu, 0) + " vCPU, " + fmt(c.provides.memory, 0) + " GiB"),
      fig("Cost", money(rec.cost_hour) + "/h", money(rec.cost_horizon) + " over " +
        fmt(rec.horizon_seconds / 3600, 0) + " h"),
      fig("Against current", rec.savings_hour === null || rec.savings_hour === undefined ? "–"
        : money(rec.savings_hour) + "/h", cur ? "current " + cur.name + " at " + money(cur.price_hour) + "/h"
        : "no current size known"),
      fig("Risk", fmt((v.any || 0) * 100, 2) + "%", "tier " + rec.tier + " tolerates " +
        fmt(rec.violation_tolerated * 100, 2) + "%")),
    h("ul", { class: "reasons", id: "rec-reasons" }, (rec.reasons || []).slice(0, 10).map((r) => h("li", {}, r))),
    h("p", { class: "muted" }, "From profile v" + rec.profile_version + " as of " + fmtIso(rec.origin) +
      (rec.override ? ", override in force" : "") + "."));
}

/* ---- the coming hour in place ---- */

/* The latest resize decision (bespoke resize, or the learn loop): the
 * coming hour's CPU and memory, the last day's peak times the fleet's
 * factor, with the reason for each. */
function resizeView(rz) {
  if (!rz || rz.format !== "bespoke-resize") return null;
  const res = [["cpu", "CPU"], ["memory", "Memory"]].filter(([k]) => rz[k]);
  if (!res.length) return null;
  const fig = ([k, label]) => {
    const x = rz[k];
    return h("div", { class: "figure", "data-resource": k }, h("div", { class: "label" }, label + " next hour"),
      h("div", { class: "value" }, fmt(x.next) + " " + x.unit),
      h("div", { class: "note" }, "in force " + fmt(x.in_force) + " " + x.unit + ", last day's peak " +
        fmt(x.last_day_peak) + " " + x.unit));
  };
  const f = rz.factor || {};
  return h("div", { class: "card" },
    h("div", { class: "figures inline" }, res.map(fig),
      h("div", { class: "figure" }, h("div", { class: "label" }, "Fleet factor"),
        h("div", { class: "value" }, fmt(f.cpu, 3) + " · " + fmt(f.memory, 3)),
        h("div", { class: "note" }, "cpu · memory, at " + fmt(rz.target * 100, 2) + "% over " + rz.calib_days + " days"))),
    h("ul", { class: "reasons", id: "resize-why" }, res.map(([k, label]) => h("li", {}, label + ": " + rz[k].why))),
    h("p", { class: "muted" }, "For " + fmtIso(rz.from) + " to " + fmtIso(rz.until) + ", policy " + rz.policy +
      (rz.override_version ? ", override in force" : "") + "."));
}

/* ---- the plan over time ---- */

/* What a plan saves against holding its own dearest stretch for its whole
 * span: what proactive right-sizing earns over sizing once for the peak. */
function planSavings(plan) {
  const steps = (plan && plan.steps) || [];
  let hours = 0, peak = 0;
  for (const st of steps) {
    const hrs = (Date.parse(st.until) - Date.parse(st.from)) / 3600e3;
    if (!(hrs > 0)) continue;
    hours += hrs;
    peak = Math.max(peak, st.cost / hrs);
  }
  if (!hours || !isFinite(plan.cost)) return null;
  const flat = peak * hours;
  return { hours, flat, saved: flat - plan.cost, share: flat > 0 ? (flat - plan.cost) / flat : 0 };
}

const SHAPE_COLOURS = ["#1f4fa8", "#2a8a63", "#a05a12", "#6b3fa0", "#a3261b", "#0f7c8c", "#5f6570", "#8a6d00"];

function planView(plan) {
  const steps = plan.steps || [];
  if (!steps.length) return null;
  const sv = planSavings(plan);
  const t0 = Date.parse(steps[0].from), t1 = Date.parse(steps[steps.length - 1].until);
  const shapes = [...new Set(steps.map((st) => st.shape))];
  const colour = (shape) => SHAPE_COLOURS[shapes.indexOf(shape) % SHAPE_COLOURS.length];

  /* The shape held at each time as coloured stretches, and its price per
   * hour as a step line under them. */
  const W = 1100, H = 170, L = 52, R = 16, T = 8, band = 30, gap = 14, B = 26;
  const X = (t) => L + ((t - t0) / (t1 - t0 || 1)) * (W - L - R);
  const prices = steps.map((st) => st.price_hour).filter(isFinite);
  const ys = ticks(0, Math.max(...prices, 1e-6), 3);
  const yTop = T + band + gap, yMax = ys[ys.length - 1];
  const Y = (v) => yTop + (1 - v / (yMax || 1)) * (H - yTop - B);
  const svg = s("svg", { class: "chart plan-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": "plan: shape and price per hour over time", "data-plot": [L, yTop, W - R, H - B].join(" ") });
  const grid = s("g", { class: "grid" }), axis = s("g", { class: "axis" });
  for (const v of ys) {
    grid.append(s("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
    axis.append(s("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end" }, "$" + Number(v.toFixed(4))));
  }
  axis.append(s("text", { x: L - 6, y: T + band / 2 + 4, "text-anchor": "end" }, "shape"));
  const spanH = (t1 - t0) / 3600e3, every = spanH > 96 ? 24 : spanH > 36 ? 12 : spanH > 12 ? 6 : 3;
  for (let t = Math.ceil(t0 / (every * 3600e3)) * every * 3600e3; t <= t1; t += every * 3600e3) {
    grid.append(s("line", { x1: X(t), x2: X(t), y1: yTop, y2: H - B }));
    if (X(t) > W - 18 || X(t) < L + 10) continue;
    axis.append(s("text", { x: X(t), y: H - B + 16, "text-anchor": "middle" },
      new Date(t).getUTCHours() === 0 ? fmtDay(t) : fmtTime(t)));
  }
  svg.append(grid, axis);
  const segs = s("g", { class: "stretches" });
  const line = [];
  for (const st of steps) {
    const a = X(Date.parse(st.from)), b = X(Date.parse(st.until));
    const title = s("title", {}, st.shape + " from " + fmtIso(st.from) + " to " + fmtIso(st.until) + ", " +
      money(st.price_hour) + "/h: " + (st.why || ""));
    segs.append(s("rect", { class: "stretch", x: a, y: T, width: Math.max(0.5, b - a - 1), height: band, rx: 3,
      fill: colour(st.shape), "data-shape": st.shape }, title));
    if (b - a > 8 * st.shape.length + 10)
      segs.append(s("text", { class: "stretch-label", x: a + 6, y: T + band / 2 + 4 }, st.shape));
    line.push([a, Y(st.price_hour)], [b, Y(st.price_hour)]);
  }
  svg.append(segs, s("path", { class: "price", d: pathOf(line) }));

  const MAX_ROWS = 12;
  const table = h("table", { class: "plain", id: "plan-steps" },
    h("thead", {}, h("tr", {}, ["from", "until", "shape", "storage", "$/h", "cost", "risk", "why"].map((t, i) =>
      h("th", { class: i >= 4 && i <= 6 ? "num" : null }, t)))),
    h("tbody", {}, steps.slice(0, MAX_ROWS).map((st) => h("tr", {},
      h("td", { class: "mono" }, fmtTime(Date.parse(st.from), true)),
      h("td", { class: "mono" }, fmtTime(Date.parse(st.until), true)),
      h("td", {}, h("i", { class: "swatch", style: "background:" + colour(st.shape) }), st.shape, st.spot ? " (spot)" : ""),
      h("td", {}, st.storage || "–"),
      h("td", { class: "num" }, money(st.price_hour)),
      h("td", { class: "num" }, money(st.cost)),
      h("td", { class: "num" }, fmt(st.violation * 100, 2) + "%"),
      h("td", { class: "why" }, (st.override ? "override: " : "") + (st.why || ""))))));
  const fig = (label, value, note) => h("div", { class: "figure" }, h("div", { class: "label" }, label),
    h("div", { class: "value" }, value), note ? h("div", { class: "note" }, note) : null);
  return h("div", { class: "card", "data-plan-version": plan.plan_version },
    h("div", { class: "figures inline" },
      fig("Cost over the plan", money(plan.cost), fmt(sv ? sv.hours : NaN, 0) + " h, tier " + plan.tier),
      fig("Savings", sv ? money(sv.saved) : "–", sv ? pct(sv.share) + " against its peak shape held throughout" : ""),
      fig("Changes", String(plan.changes), "lead " + Math.round(plan.lead_seconds / 60) + " min, hold " +
        Math.round(plan.hold_seconds / 60) + " min"),
      fig("Risk", fmt(plan.violation * 100, 2) + "%", "expected share of time short of demand")),
    svg,
    h("div", { class: "legend" }, shapes.map((sh) => h("span", {}, h("i", { style: "background:" + colour(sh) }), sh)),
      h("span", {}, h("i", { class: "k-price" }), "price per hour")),
    table,
    steps.length > MAX_ROWS ? h("p", { class: "muted" }, "and " + (steps.length - MAX_ROWS) + " more stretches") : null,
    h("p", { class: "muted" }, "Plan v" + plan.plan_version + " from profile v" + plan.profile_version +
      ", policy " + plan.policy + (plan.override_version ? ", override v" + plan.override_version : "") +
      (plan.stored ? ", stored " + fmtIso(plan.stored) : "") + "."));
}

/* ---- image history ---- */

/* Fields of a build record shown, and compared between versions. */
const IMAGE_FIELDS = ["ref", "digest", "base", "base_digest", "layer", "profile_version", "models",
  "packages_first_boot", "user_data", "validation"];

function short(v) {
  const t = String(v);
  return /^sha256:[0-9a-f]{64}$/.test(t) ? t.slice(7, 19) : t;
}

function imagesView(body) {
  const imgs = body.images || [];
  if (!imgs.length) return null;
  const rows = imgs.map((img, i) => {
    const prev = imgs[i + 1]; /* newest first: the one before is next */
    const changed = prev
      ? IMAGE_FIELDS.filter((k) => JSON.stringify(img[k]) !== JSON.stringify(prev[k]))
      : null;
    const diff = changed === null ? h("span", { class: "muted" }, "first build")
      : !changed.length ? h("span", { class: "muted" }, "same as v" + prev.image_version)
        : h("ul", { class: "diff" }, changed.map((k) => h("li", { "data-field": k },
          h("b", {}, k), " ", h("span", { class: "old" }, short(prev[k] === undefined ? "–" : prev[k])), " → ",
          h("span", { class: "new" }, short(img[k] === undefined ? "–" : img[k])))));
    /* What the build puts in the image, file by file, against the one
     * before (filled in when the daemon answers). */
    const files = h("ul", { class: "diff files" });
    if (prev && body.entity) {
      api("/v1/entities/" + enc(body.entity) + "/images/diff?a=" + prev.image_version + "&b=" + img.image_version)
        .then((d) => {
          const ch = d.changes || [];
          if (!ch.length) append(files, [h("li", { class: "muted" }, "same files")]);
          else append(files, ch.map((c) => h("li", { "data-change": c.change },
            h("span", { class: c.change === "added" ? "new" : c.change === "removed" ? "old" : "" },
              c.change === "added" ? "+ " : c.change === "removed" ? "− " : "~ "),
            h("span", { class: "mono" }, c.path))));
        })
        .catch((e) => append(files, [h("li", { class: "muted" }, "files: " + describe(e))]));
    }
    return h("tr", { "data-version": img.image_version },
      h("td", {}, h("b", {}, "v" + img.image_version)),
      h("td", { class: "mono" }, img.stored ? fmtTime(Date.parse(img.stored), true) : "–"),
      h("td", { class: "mono" }, img.ref || "–"),
      h("td", { class: "mono", title: img.digest || "" }, img.digest ? short(img.digest) : "–"),
      h("td", { class: "num" }, img.packages_first_boot !== undefined ? String(img.packages_first_boot) : "–"),
      h("td", {}, img.validation === "passed" ? h("span", { class: "badge ok" }, "passed")
        : h("span", { class: "badge drift" }, img.validation || "unknown")),
      h("td", {}, diff, files));
  });
  return h("div", { class: "card" },
    h("table", { class: "plain", id: "image-history" },
      h("thead", {}, h("tr", {}, ["version", "built", "image", "digest", "first-boot packages", "validation",
        "changes from the version before"].map((t, i) => h("th", { class: i === 4 ? "num" : null }, t)))),
      h("tbody", {}, rows)),
    body.total > imgs.length ? h("p", { class: "muted" }, "The newest " + imgs.length + " of " + body.total + " builds.") : null);
}
