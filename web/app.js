/*
 * bespoke dashboard: the fleet and one entity at a time, read from the
 * daemon's JSON API (docs/api.md). Plain browser JavaScript: no framework,
 * no build step, nothing fetched from elsewhere. Charts are SVG drawn here.
 *
 * Pages are chosen by the URL's hash (#/ the fleet, #/entity/NAME one
 * entity), so reloading or sharing a link shows the same page. Every text
 * that comes from the API goes into the page as text (textContent), never
 * as markup.
 *
 * Authentication: a daemon started with --tokens answers 401 without a
 * bearer token. The page then asks for one, keeps it in sessionStorage (this
 * tab only, gone when it closes) and sends it on every request; a later 401
 * asks again. A daemon without tokens (loopback) never asks.
 *
 * The other files: lib.js (API client, elements, units), charts.js (SVG
 * charts), parts.js (feedback, plan, images); index.html loads them first.
 */
"use strict";

/* Profiles fetched at once for the fleet page: the daemon has one thread
 * per core, and a profile not stored yet is built on request. */
const PROFILE_CONCURRENCY = 4;
/* The fleet page reads at most this many profiles; the rest are listed
 * without them (search narrows the list). */
const FLEET_PROFILE_LIMIT = 500;

/* ---- sign-in ---------------------------------------------------------------- */

function showLogin(message) {
  const box = document.getElementById("login");
  const err = document.getElementById("login-error");
  if (message) {
    err.textContent = message;
    err.hidden = false;
  } else {
    err.hidden = true;
  }
  box.hidden = false;
  const input = document.getElementById("token");
  input.value = "";
  input.focus();
}

function setupLogin() {
  document.getElementById("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = document.getElementById("token").value.trim();
    if (!v) return;
    sessionStorage.setItem(TOKEN_KEY, v);
    document.getElementById("login").hidden = true;
    updateWho();
    route();
  });
  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    updateWho();
    showLogin(null);
  });
  updateWho();
}

function updateWho() {
  const signed = !!token();
  document.getElementById("signout").hidden = !signed;
  const who = document.getElementById("who");
  who.hidden = !signed;
  who.textContent = signed ? "signed in with a token" : "";
}

/* ---- the fleet -------------------------------------------------------------- */

const fleetState = { rows: [], sort: "name", dir: 1, query: "" };

/* Runs fn over items, at most n at a time. */
async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

async function renderFleet(app, gen) {
  const list = await api("/v1/entities");
  if (gen !== generation) return;
  const entities = (list.entities || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  const rows = entities.map((e) => ({ entity: e, profile: null, error: null }));
  const status = h("p", { class: "status" }, "Reading profiles: 0 of " + Math.min(rows.length, FLEET_PROFILE_LIMIT) + "…");
  replace(app, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Fleet"))), status);
  let done = 0;
  await pool(rows.slice(0, FLEET_PROFILE_LIMIT), PROFILE_CONCURRENCY, async (row) => {
    try {
      row.profile = await api("/v1/entities/" + enc(row.entity.name) + "/profile");
    } catch (err) {
      if (err.status === 401) throw err;
      row.error = err;
    }
    /* A plan is there only once the allocation stage stored one. */
    try {
      row.plan = await api("/v1/entities/" + enc(row.entity.name) + "/plan");
    } catch (err) {
      if (err.status === 401) throw err;
      row.plan = null;
    }
    done++;
    if (gen === generation)
      status.textContent = "Reading profiles: " + done + " of " + Math.min(rows.length, FLEET_PROFILE_LIMIT) + "…";
  });
  if (gen !== generation) return;
  for (const row of rows) {
    const cpu = pickMetric(row.profile, CPU_METRICS);
    const mem = pickMetric(row.profile, MEM_METRICS);
    const w = workload(row.profile);
    const p = topPersona(row.profile);
    row.name = row.entity.name;
    row.cls = w ? w.class : "";
    row.persona = p ? p.name : "";
    row.personaP = p ? p.p : null;
    row.cpu = cpu;
    row.mem = mem;
    row.cpuP95 = peakP95(cpu);
    row.memP95 = peakP95(mem);
    row.last = row.entity.last ? Date.parse(row.entity.last) : null;
    row.sv = planSavings(row.plan);
    row.savings = row.sv ? row.sv.saved : null;
  }
  fleetState.rows = rows;
  drawFleet(app, rows.length > FLEET_PROFILE_LIMIT);
}

function drawFleet(app, truncated) {
  const rows = fleetState.rows;
  const withProfile = rows.filter((r) => r.profile);
  const classes = {};
  for (const r of withProfile) if (r.cls) classes[r.cls] = (classes[r.cls] || 0) + 1;
  /* Sums only over entities whose metric has the most common unit (cores
   * and per cent do not add up). */
  const total = (key, pick) => {
    const units = {};
    for (const r of withProfile) if (r[pick]) units[r[pick].m.unit] = (units[r[pick].m.unit] || 0) + 1;
    const unit = Object.keys(units).sort((a, b) => units[b] - units[a])[0];
    const them = withProfile.filter((r) => r[pick] && r[pick].m.unit === unit && isFinite(r[key]));
    return { sum: them.reduce((a, r) => a + r[key], 0), unit, n: them.length };
  };
  const cpuT = total("cpuP95", "cpu"), memT = total("memP95", "mem");

  const planned = rows.filter((r) => r.sv);
  const figure = (label, value, note) =>
    h("div", { class: "card figure" }, h("div", { class: "label" }, label),
      h("div", { class: "value" }, value), note ? h("div", { class: "note" }, note) : null);
  const classText = Object.keys(classes).length
    ? Object.keys(classes).join(" / ")
    : "no classifier stored";

  const search = h("input", {
    type: "search", placeholder: "Search entities, classes, personas…",
    "aria-label": "Search", id: "search", value: fleetState.query,
  });
  const tbody = h("tbody");
  const head = h("thead");
  const table = h("table", { class: "fleet", id: "fleet" }, head, tbody);
  const count = h("span", { class: "muted" });

  const cols = [
    { key: "name", label: "Entity" },
    { key: "cls", label: "Workload" },
    { key: "persona", label: "Top persona" },
    { key: "cpuP95", label: "CPU p95 peak", num: true },
    { key: "memP95", label: "Memory p95 peak", num: true },
    { key: "spark", label: "CPU forecast", sortable: false },
    { key: "last", label: "Last sample", num: true },
    { key: "savings", label: "Savings", num: true },
  ];

  const fill = () => {
    const q = fleetState.query.toLowerCase();
    const shown = rows.filter((r) => !q || [r.name, r.cls, r.persona].some((x) => x && x.toLowerCase().includes(q)));
    const k = fleetState.sort, dir = fleetState.dir;
    shown.sort((a, b) => {
      const x = a[k], y = b[k];
      const xe = x === null || x === undefined || x === "", ye = y === null || y === undefined || y === "";
      if (xe !== ye) return xe ? 1 : -1; /* blanks last either way */
      if (typeof x === "number" && typeof y === "number") return (x - y) * dir || a.name.localeCompare(b.name);
      return String(x).localeCompare(String(y)) * dir || a.name.localeCompare(b.name);
    });
    replace(head, h("tr", {}, cols.map((c) => {
      const sorted = c.key === k ? (dir > 0 ? "ascending" : "descending") : null;
      return h("th", { class: c.num ? "num" : null, "aria-sort": sorted, scope: "col", "data-key": c.key },
        c.sortable === false ? c.label : h("button", {
          type: "button",
          onclick: () => {
            if (fleetState.sort === c.key) fleetState.dir = -fleetState.dir;
            else { fleetState.sort = c.key; fleetState.dir = c.num ? -1 : 1; }
            fill();
          },
        }, c.label));
    })));
    replace(tbody, shown.map(fleetRow));
    if (!shown.length)
      tbody.append(h("tr", {}, h("td", { colspan: cols.length, class: "muted" },
        rows.length ? "No entity matches “" + fleetState.query + "”." : "The store holds no entities yet.")));
    count.textContent = shown.length === rows.length ? rows.length + " entities" : shown.length + " of " + rows.length + " entities";
  };
  search.addEventListener("input", () => { fleetState.query = search.value; fill(); });

  replace(app, 
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Fleet"),
        h("p", { class: "sub muted" }, "Every user, VM and workload in the store, with what its latest Behaviour Profile predicts."))),
    h("div", { class: "figures" },
      figure("Entities", String(rows.length), withProfile.length + " with a profile"),
      figure("Workload classes", Object.keys(classes).length ? Object.values(classes).join(" / ") : "–", classText),
      figure("CPU at daily p95 peaks", cpuT.n ? fmtUnit(cpuT.sum, cpuT.unit) : "–", "sum over " + cpuT.n + " entities"),
      figure("Memory at daily p95 peaks", memT.n ? fmtUnit(memT.sum, memT.unit) : "–", "sum over " + memT.n + " entities"),
      planned.length
        ? figure("Savings", money(planned.reduce((a, r) => a + r.sv.saved, 0)),
          planned.length + (planned.length === 1 ? " plan" : " plans") + ", against the peak shape held")
        : figure("Savings", "–", "no plan yet")),
    h("div", { class: "toolbar" }, search, count),
    h("div", { class: "table-wrap" }, table),
    truncated ? h("p", { class: "muted" }, "Profiles are read for the first " + FLEET_PROFILE_LIMIT + " entities.") : null,
    planned.length ? null : h("div", { class: "section" }, empty("No plans yet",
      "Savings appear here once the allocation stage stores resource plans (bespoke plan).")));
  fill();
}

function fleetRow(r) {
  const link = h("a", { href: "#/entity/" + enc(r.name) }, r.name);
  const attrs = r.entity.attributes || {};
  const sub = [attrs.archetype, attrs.provisioned_cores && attrs.provisioned_cores + " cores"].filter(Boolean).join(" · ");
  const tds = [h("td", { class: "name" }, link, sub ? h("div", { class: "sub" }, sub) : null)];
  /* Without a profile one cell spans the five columns it would fill. */
  if (r.error || !r.profile) {
    tds.push(h("td", { colspan: 5, class: "muted", "data-col": "class" },
      r.error ? "no profile: " + r.error.message : "profile not read"));
  } else {
    const w = workload(r.profile);
    tds.push(
      h("td", { "data-col": "class" }, w
        ? h("span", { class: "badge " + w.class, title: "p(interactive) = " + fmt(w.p_interactive, 2) }, w.class)
        : h("span", { class: "muted", title: missing(r.profile, "workload") || "" }, "–")),
      h("td", { "data-col": "persona" }, r.persona
        ? [r.persona, " ", h("span", { class: "sub" }, pct(r.personaP))]
        : h("span", { class: "muted" }, "–")),
      h("td", { class: "num", "data-col": "cpu" }, r.cpu ? fmtUnit(r.cpuP95, r.cpu.m.unit) : "–"),
      h("td", { class: "num", "data-col": "mem" }, r.mem ? fmtUnit(r.memP95, r.mem.m.unit) : "–"),
      h("td", {}, r.cpu ? sparkline(r.cpu.m.forecast) : null));
  }
  tds.push(h("td", { class: "num muted" }, r.last ? fmtTime(r.last, true) : "–"),
    r.sv
      ? h("td", { class: "num", "data-col": "savings", title: "plan v" + r.plan.plan_version + ": " + money(r.plan.cost) +
          " over " + fmt(r.sv.hours, 0) + " h against " + money(r.sv.flat) + " for its peak shape held throughout" },
        money(r.sv.saved), " ", h("span", { class: "sub" }, pct(r.sv.share)))
      : h("td", { class: "num muted", "data-col": "savings", title: "no plan yet" }, "–"));
  return h("tr", { "data-entity": r.name }, tds);
}

/* ---- one entity --------------------------------------------------------------- */

const HISTORY_CHOICES = [1, 3, 7, 14];
let historyDays = 3;

async function renderEntity(app, gen, name) {
  replace(app, h("p", { class: "status" }, "Loading " + name + "…"));
  const [entity, profile] = await Promise.all([
    api("/v1/entities/" + enc(name)),
    api("/v1/entities/" + enc(name) + "/profile").catch((err) => {
      if (err.status === 401) throw err;
      return { error: err };
    }),
  ]);
  if (gen !== generation) return;

  const attrs = entity.attributes || {};
  const chips = [];
  const w = workload(profile);
  const p = topPersona(profile);
  if (w) chips.push(h("span", { class: "chip" }, "workload ", h("b", {}, w.class)));
  if (p) chips.push(h("span", { class: "chip" }, "persona ", h("b", {}, p.name), " " + pct(p.p)));
  if (profile.profile_version) chips.push(h("span", { class: "chip" }, "profile ", h("b", {}, "v" + profile.profile_version)));
  if (profile.origin) chips.push(h("span", { class: "chip" }, "as of ", h("b", {}, fmtIso(profile.origin))));
  for (const k of ["provisioned_cores", "provisioned_mem_mib"])
    if (attrs[k]) chips.push(h("span", { class: "chip" }, k.replace("provisioned_", "").replace("_mib", "") + " ",
      h("b", {}, k === "provisioned_mem_mib" ? fmtUnit(Number(attrs[k]), "MiB") : attrs[k])));

  const select = h("select", { id: "history-days", "aria-label": "History shown" },
    HISTORY_CHOICES.map((d) => h("option", { value: d, selected: d === historyDays }, d === 1 ? "1 day" : d + " days")));
  const charts = h("div", { class: "grid2", id: "charts" });
  select.addEventListener("change", () => {
    historyDays = Number(select.value);
    drawCharts(charts, gen, name, profile);
  });

  replace(app, 
    h("div", { class: "page-head" },
      h("div", {},
        h("p", { class: "muted" }, h("a", { href: "#/" }, "Fleet"), " / entity"),
        h("h1", {}, entity.name),
        h("div", { class: "chips" }, chips,
          h("span", { class: "chip" }, h("b", {}, String(entity.series)), " series"),
          h("span", { class: "chip" }, "data ", h("b", {}, entity.first ? fmtDay(Date.parse(entity.first)) : "–"),
            " – ", h("b", {}, entity.last ? fmtDay(Date.parse(entity.last)) : "–"))))),
    h("section", { class: "section" },
      h("div", { class: "page-head" }, h("h2", {}, "Forecast against actual"),
        h("label", { class: "controls" }, "history", select)),
      profile.error ? errorBox(profile.error) : charts),
    h("section", { class: "section grid3" },
      appsCard(profile, "next", "Next application", "after the last one used"),
      appsCard(profile, "coming_hour", "Coming hour", "chance of use within the hour"),
      appsCard(profile, "coming_day", "Coming day", "chance of use within the day")),
    h("section", { class: "section grid3" },
      personasCard(profile),
      h("div", { class: "card" }, h("h3", {}, "Workload class"), workloadBody(profile))),
    h("section", { class: "section", id: "feedback" }, h("h2", {}, "Since the forecast"), h("p", { class: "status" }, "…")),
    h("section", { class: "section", id: "recommendation" }, h("h2", {}, "Recommended shape"),
      recommendationView(profile.recommendation) || empty("No recommendation yet",
        "The cheapest shape that covers this entity's predicted peak, with its reasons, appears here once one is " +
        "stored (bespoke recommend, or the daemon's learn loop).")),
    h("section", { class: "section", id: "resize" }, h("h2", {}, "Next hour in place"), h("p", { class: "status" }, "…")),
    h("section", { class: "section", id: "plan" }, h("h2", {}, "Plan over time"), h("p", { class: "status" }, "…")),
    h("section", { class: "section", id: "images" }, h("h2", {}, "Image history"), h("p", { class: "status" }, "…")));

  if (!profile.error) drawCharts(charts, gen, name, profile);
  const base = "/v1/entities/" + enc(name);
  part(gen, "feedback", base + "/feedback", (fb) => feedbackView(fb, profile), "No feedback yet",
    "How the forecast compares with what happened appears here once samples arrive after the profile's origin " +
    "(bespoke feedback, or the daemon's learn loop).");
  part(gen, "resize", base + "/resize", resizeView, "No resize yet",
    "The coming hour's CPU and memory, sized from the last day's peak and a factor calibrated on the whole fleet, " +
    "appear here once a decision is stored (bespoke resize, or the daemon's learn loop).");
  part(gen, "plan", base + "/plan", planView, "No plan yet",
    "The time-varying allocation (shapes ahead of predicted peaks) appears here once the allocation stage stores " +
    "a plan for this entity (bespoke plan).");
  part(gen, "images", base + "/images", imagesView, "No images yet",
    "Personalized machine images built for this entity, with what changed between versions, appear here once " +
    "some are built (bespoke image build).");
}

/* The profile's error is shown once, above; the parts just say so. */
function noProfile() {
  return h("p", { class: "muted" }, "No profile (see above).");
}

function workloadBody(profile) {
  if (profile.error) return noProfile();
  const w = workload(profile);
  if (!w) return empty("No workload class", missing(profile, "workload") || "The profile has none.");
  return h("div", {},
    h("p", {}, h("span", { class: "badge " + w.class }, w.class)),
    barList([{ name: "interactive", p: w.p_interactive }, { name: "batch", p: 1 - w.p_interactive }]),
    h("p", { class: "muted" }, "from " + (w.features_from || "its summaries") +
      (w.model_version ? ", classifier v" + w.model_version : "")));
}

function personasCard(profile) {
  const card = h("div", { class: "card", id: "personas" }, h("h3", {}, "Personas"));
  if (profile.error) return append(card, [noProfile()]);
  const ps = profile.behaviour && profile.behaviour.personas;
  if (!Array.isArray(ps) || !ps.length)
    return append(card, [empty("No personas", missing(profile, "personas") || "The profile has none.")]);
  return append(card, [barList(significant(ps.slice().sort((a, b) => b.p - a.p)).slice(0, 6))]);
}

function appsCard(profile, part, title, sub) {
  const card = h("div", { class: "card", id: "apps-" + part }, h("h3", {}, title), h("p", { class: "muted" }, sub));
  if (profile.error) return append(card, [noProfile()]);
  const apps = profile.behaviour && profile.behaviour.apps;
  const list = apps && apps[part];
  if (!Array.isArray(list) || !list.length)
    return append(card, [empty("No predictions", missing(profile, "apps") || "No application events for this entity.")]);
  return append(card, [barList(significant(list).slice(0, 8))]);
}

/* Items of at least 0.5% (all of them round to 0% below that), and at
 * least the first. */
function significant(items) {
  return items.filter((it, i) => !i || it.p >= 0.005);
}

function barList(items) {
  return h("ul", { class: "bars" }, items.map((it) => {
    const p = Math.max(0, Math.min(1, Number(it.p) || 0));
    return h("li", { "data-name": it.name },
      h("span", { class: "bar-name", title: it.name }, it.name),
      h("span", { class: "track" }, h("span", { class: "fill", style: "width:" + (p * 100).toFixed(1) + "%" })),
      h("span", { class: "bar-value" }, pct(p)));
  }));
}

/* One chart per forecast metric; the actual history is read per metric. */
async function drawCharts(box, gen, name, profile) {
  const metrics = Object.entries(profile.metrics || {});
  if (!metrics.length) {
    replace(box, empty("No forecasts", "The profile holds no metric."));
    return;
  }
  const cards = metrics.map(([metric, m]) => {
    const card = h("div", { class: "card chart-card", "data-metric": metric },
      h("h3", {}, metric, h("span", { class: "unit" }, m.unit || "")),
      h("p", { class: "status" }, "Reading history…"));
    return { metric, m, card };
  });
  replace(box, cards.map((c) => c.card));
  await Promise.all(cards.map(async ({ metric, m, card }) => {
    const fc = m.forecast || {};
    const start = Date.parse(fc.start || profile.origin);
    const stepS = fc.step_seconds || profile.step_seconds || 3600;
    const n = fc.quantiles && fc.quantiles.p50 ? fc.quantiles.p50.length : 0;
    const from = new Date(start - historyDays * 86400e3).toISOString();
    const until = new Date(start + n * stepS * 1000).toISOString();
    let actual = null, err = null;
    try {
      actual = await api("/v1/entities/" + enc(name) + "/series?metric=" + enc(metric) +
        "&from=" + enc(from) + "&until=" + enc(until) + "&step=" + stepS);
    } catch (e) {
      if (e.status === 401) return;
      err = e;
    }
    if (gen !== generation) return;
    replace(card, card.firstChild,
      forecastChart(m, actual, start, stepS, start - historyDays * 86400e3),
      h("div", { class: "legend" },
        h("span", {}, h("i", { class: "k-actual" }), "actual (hourly mean)"),
        h("span", {}, h("i", { class: "k-p50" }), "forecast p50"),
        h("span", {}, h("i", { class: "k-band" }), "p5–p95")),
      err ? errorBox(err) : null,
      modelFacts(m));
  }));
}

function modelFacts(m) {
  const model = m.model || {};
  const bt = model.backtest || {};
  const peak = m.daily_peak || {};
  const fact = (k, v) => [h("dt", {}, k), h("dd", {}, v)];
  return h("dl", { class: "facts" },
    fact("model", (model.name || "–") + (model.model_version ? " v" + model.model_version : "")),
    fact("backtest MASE", fmt(bt.mase, 2)),
    fact("p95 coverage", pct(bt.coverage95)),
    fact("pinball loss p95", fmt(bt.pinball95, 3)),
    fact("daily peak p50", fmtUnit(peak.value, m.unit)),
    fact("daily peak p95", fmtUnit(peak.p95, m.unit)),
    fact("peak hour", peak.hour_utc !== undefined ? String(peak.hour_utc).padStart(2, "0") + ":00 UTC" : "–"),
    fact("trained on", model.training ? model.training.points + " points" : "–"));
}

/* ---- routing --------------------------------------------------------------------- */

/* Bumped on every navigation, so answers for a page left behind are
 * dropped instead of drawn over the new one. */
let generation = 0;

async function route() {
  const gen = ++generation;
  const app = document.getElementById("app");
  const hash = location.hash.replace(/^#/, "") || "/";
  const m = hash.match(/^\/entity\/(.+)$/);
  for (const a of document.querySelectorAll("[data-nav]"))
    a.classList.toggle("active", !m && a.dataset.nav === "fleet");
  document.title = m ? decodeURIComponent(m[1]) + " · bespoke" : "Fleet · bespoke";
  try {
    if (m) await renderEntity(app, gen, decodeURIComponent(m[1]));
    else if (hash === "/") await renderFleet(app, gen);
    else throw new ApiError(404, "no page " + hash + " in the dashboard", hash);
  } catch (err) {
    if (gen !== generation) return;
    if (err instanceof ApiError && err.status === 401) {
      replace(app, h("p", { class: "status" }, "Waiting for an access token."));
      return;
    }
    replace(app, h("div", { class: "error-page" },
      h("h1", {}, m ? decodeURIComponent(m[1]) : "Fleet"),
      errorBox(err),
      h("p", {}, h("a", { href: "#/" }, "Back to the fleet"))));
  }
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  setupLogin();
  route();
});
