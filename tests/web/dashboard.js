// Drives the bespoke dashboard in headless Chromium (playwright-core) and
// checks what a person would see. Run by tests/cli/t0330-dashboard.sh,
// which starts the daemon and writes expected.json from the API:
//
//   node dashboard.js URL ADMIN_TOKEN USER_TOKEN USER_ENTITY OUT_DIR CHROMIUM
//   node dashboard.js open URL CHROMIUM N_ENTITIES   (a daemon without tokens)
//
// expected.json (in OUT_DIR): {entities: {name: {class, persona, cpu_p95,
// mem_p95, cpu_unit, mem_unit}}, horizon, step_seconds}.
// Exits 0 when every check holds, 1 with the first failure otherwise.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const png = require("./png");

const [url, adminToken, userToken, userEntity, outDir, executablePath] = process.argv.slice(2);
if (process.argv[2] === "open" ? process.argv.length !== 6 : !executablePath) {
  console.error("usage: node dashboard.js URL ADMIN_TOKEN USER_TOKEN USER_ENTITY OUT_DIR CHROMIUM\n" +
    "       node dashboard.js open URL CHROMIUM N_ENTITIES");
  process.exit(2);
}
const W = 1280, H = 900;
const HISTORY_DAYS = 3; // the entity page's default

let checks = 0;
function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  checks++;
}

// The points of an SVG path written as M/L commands (pathOf in app.js).
function points(d) {
  const out = [];
  const re = /([ML])\s*(-?[\d.]+)\s+(-?[\d.]+)/g;
  let m;
  while ((m = re.exec(d))) out.push([Number(m[2]), Number(m[3]), m[1]]);
  return out;
}

// The displayed form of a value (fmtUnit in app.js), so the table can be
// compared with the API.
function shown(v, unit) {
  let k = 1, u = unit;
  if (unit === "MiB" && Math.abs(v) >= 2048) { k = 1 / 1024; u = "GiB"; }
  if (unit === "KB/s" && Math.abs(v) >= 2048) { k = 1 / 1024; u = "MB/s"; }
  const x = v * k, a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) + " " + u;
}

async function screenshot(page, name) {
  // Nothing that slipped through as a JavaScript value.
  const text = await page.textContent("main");
  check(!/\b(null|undefined|NaN|\[object Object\])\b/.test(text), `${name}: the page shows a raw value: ${text.match(/.{0,40}\b(null|undefined|NaN|\[object Object\])\b.{0,20}/)}`);
  const file = path.join(outDir, name);
  await page.screenshot({ path: file });
  const img = png.decode(fs.readFileSync(file));
  const sum = png.summary(img);
  check(img.width === W && img.height === H, `${name} is ${img.width}x${img.height}, not ${W}x${H}`);
  // Not blank: text, table rules and charts cover a real share of the page
  // and need more than a handful of colours (anti-aliased text alone has
  // dozens).
  check(sum.nonBackground > 0.03, `${name}: only ${(sum.nonBackground * 100).toFixed(2)}% of pixels differ from the background`);
  check(sum.colours > 50, `${name}: only ${sum.colours} colours`);
  console.log(`${name}: ${img.width}x${img.height}, ${(sum.nonBackground * 100).toFixed(1)}% non-background, ${sum.colours} colours`);
  return img;
}

async function signIn(page, token) {
  await page.waitForSelector("#login:not([hidden])", { timeout: 10000 });
  await page.fill("#token", token);
  await page.click("#login button[type=submit]");
}

async function main() {
  const expected = JSON.parse(fs.readFileSync(path.join(outDir, "expected.json"), "utf8"));
  const t0 = Date.now();
  // No network beyond loopback here: Chromium's own background traffic
  // (updates, sync, safe browsing) is switched off rather than refused.
  const browser = await chromium.launch({
    executablePath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: W, height: H } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));

    // 1. The daemon wants a token: the form shows, nothing else loads.
    await page.goto(url + "/");
    await page.waitForSelector("#login:not([hidden])", { timeout: 10000 });
    check(await page.isVisible("#token"), "the token field is visible");
    check((await page.$$("#fleet")).length === 0, "no fleet table before signing in");

    // 2. A wrong token is refused in words and the form stays.
    await page.fill("#token", "not-a-token-0123456789");
    await page.click("#login button[type=submit]");
    await page.waitForSelector("#login-error:not([hidden])", { timeout: 10000 });
    const refusal = await page.textContent("#login-error");
    check(/not accepted/.test(refusal) && /invalid bearer token/.test(refusal), "refusal names the cause: " + refusal);

    // 3. The admin's token: the fleet lists every entity with class and persona.
    await page.fill("#token", adminToken);
    await page.click("#login button[type=submit]");
    await page.waitForSelector("#fleet tbody tr[data-entity]", { timeout: 20000 });
    check(await page.isHidden("#login"), "the form closes after a good token");
    const rows = await page.$$eval("#fleet tbody tr[data-entity]", (trs) => trs.map((tr) => ({
      name: tr.dataset.entity,
      cls: (tr.querySelector("[data-col=class]") || {}).textContent,
      persona: (tr.querySelector("[data-col=persona]") || {}).textContent,
      cpu: (tr.querySelector("[data-col=cpu]") || {}).textContent,
      mem: (tr.querySelector("[data-col=mem]") || {}).textContent,
      spark: tr.querySelectorAll("svg.spark path").length,
      savings: (tr.querySelector("[data-col=savings]") || {}).textContent,
    })));
    const names = Object.keys(expected.entities).sort();
    check(JSON.stringify(rows.map((r) => r.name)) === JSON.stringify(names),
      "fleet lists " + names.join(",") + " (got " + rows.map((r) => r.name).join(",") + ")");
    for (const r of rows) {
      const e = expected.entities[r.name];
      check(r.cls === e.class, `${r.name}: class ${r.cls}, API says ${e.class}`);
      check(r.persona && r.persona.startsWith(e.persona + " "), `${r.name}: persona '${r.persona}', API says ${e.persona}`);
      check(r.cpu === shown(e.cpu_p95, e.cpu_unit), `${r.name}: CPU '${r.cpu}', API ${shown(e.cpu_p95, e.cpu_unit)}`);
      check(r.mem === shown(e.mem_p95, e.mem_unit), `${r.name}: memory '${r.mem}', API ${shown(e.mem_p95, e.mem_unit)}`);
      check(r.spark === 2, `${r.name}: sparkline with band and line`);
      const want = e.plan ? "$" + e.plan.saved.toFixed(2) : "–";
      check(r.savings && r.savings.startsWith(want), `${r.name}: savings '${r.savings}', plan says ${want}`);
    }
    const planned = Object.values(expected.entities).filter((e) => e.plan);
    const total = "$" + planned.reduce((a, e) => a + e.plan.saved, 0).toFixed(2);
    check((await page.textContent(".figures")).includes(total), "fleet savings " + total);
    const all = Object.values(expected.entities);
    const cpuTotal = shown(all.reduce((a, e) => a + e.cpu_p95, 0), all[0].cpu_unit);
    const memTotal = shown(all.reduce((a, e) => a + e.mem_p95, 0), all[0].mem_unit);
    check((await page.textContent(".figures")).includes(cpuTotal), "fleet CPU total " + cpuTotal);
    check((await page.textContent(".figures")).includes(memTotal), "fleet memory total " + memTotal);
    check(new Set(rows.map((r) => r.cls)).size >= 2, "more than one workload class in the demo fleet");

    // Sorting by CPU peak: descending first, ascending on a second click.
    const byCpu = names.slice().sort((a, b) => expected.entities[b].cpu_p95 - expected.entities[a].cpu_p95);
    await page.click("th[data-key=cpuP95] button");
    let order = await page.$$eval("#fleet tbody tr[data-entity]", (trs) => trs.map((tr) => tr.dataset.entity));
    check(JSON.stringify(order) === JSON.stringify(byCpu), "sorted by CPU p95 descending: " + order.join(","));
    check(await page.getAttribute("th[data-key=cpuP95]", "aria-sort") === "descending", "aria-sort says descending");
    await page.click("th[data-key=cpuP95] button");
    order = await page.$$eval("#fleet tbody tr[data-entity]", (trs) => trs.map((tr) => tr.dataset.entity));
    const byCpuUp = names.slice().sort((a, b) => expected.entities[a].cpu_p95 - expected.entities[b].cpu_p95);
    check(JSON.stringify(order) === JSON.stringify(byCpuUp), "ascending on the second click: " + order.join(","));
    await page.click("th[data-key=name] button");

    // Search narrows by name, class or persona.
    await page.fill("#search", "develop");
    order = await page.$$eval("#fleet tbody tr[data-entity]", (trs) => trs.map((tr) => tr.dataset.entity));
    check(order.length === 1 && order[0] === "user-001-developer", "search 'develop': " + order.join(","));
    await page.fill("#search", "no-such-thing");
    check((await page.textContent("#fleet tbody")).includes("No entity matches"), "an empty search says so");
    await page.fill("#search", "");
    check((await page.$$("#fleet tbody tr[data-entity]")).length === names.length, "clearing the search lists all");


    const fleetPng = await screenshot(page, "fleet.png");

    // 4. One entity: forecast against actual for each metric.
    const who = "user-001-developer";
    await page.click(`#fleet a[href="#/entity/${who}"]`);
    await page.waitForFunction(() => document.querySelectorAll(".chart-card svg.chart").length > 0 &&
      !document.querySelector(".chart-card .status"), null, { timeout: 20000 });
    check(page.url().endsWith("#/entity/" + who), "the hash names the entity");
    check((await page.textContent("h1")) === who, "the page is titled by the entity");
    const charts = await page.$$eval(".chart-card", (cards) => cards.map((c) => ({
      metric: c.dataset.metric,
      band: (c.querySelector("path.band") || {}).getAttribute?.("d") || "",
      p50: (c.querySelector("path.p50") || {}).getAttribute?.("d") || "",
      actual: (c.querySelector("path.actual") || {}).getAttribute?.("d") || "",
      origin: Number((c.querySelector("line.origin") || { getAttribute: () => NaN }).getAttribute("x1")),
      plot: (c.querySelector("svg.chart").getAttribute("data-plot") || "").split(" ").map(Number),
    })));
    const e = expected.entities[who];
    check(JSON.stringify(charts.map((c) => c.metric).sort()) === JSON.stringify(e.metrics.slice().sort()),
      "one chart per profile metric: " + charts.map((c) => c.metric).join(","));
    const steps = e.horizon_steps;
    for (const c of charts) {
      const band = points(c.band), p50 = points(c.p50), actual = points(c.actual);
      // Every point inside the plotting area: the axis covers the data.
      const [pl, pt, pr, pb] = c.plot;
      for (const [x, y] of band.concat(p50, actual))
        check(x >= pl - 0.05 && x <= pr + 0.05 && y >= pt - 0.05 && y <= pb + 0.05,
          `${c.metric}: point ${x},${y} outside the plot ${c.plot}`);
      check(p50.length === steps, `${c.metric}: p50 has ${p50.length} points, horizon ${steps}`);
      check(band.length === 2 * steps, `${c.metric}: band has ${band.length} points, want ${2 * steps}`);
      // The band encloses the p50 line (SVG y grows downwards): upper edge
      // first, left to right, then the lower edge back.
      for (let i = 0; i < steps; i++) {
        const up = band[i], down = band[2 * steps - 1 - i];
        check(Math.abs(up[0] - p50[i][0]) < 0.01 && Math.abs(down[0] - p50[i][0]) < 0.01, `${c.metric}: band and p50 share x at ${i}`);
        check(up[1] <= p50[i][1] + 0.05 && p50[i][1] <= down[1] + 0.05, `${c.metric}: p5 <= p50 <= p95 at step ${i}`);
        if (i) check(p50[i][0] > p50[i - 1][0], `${c.metric}: time runs left to right`);
      }
      // Hourly actuals over the last days, all before the forecast starts.
      const want = HISTORY_DAYS * 24 * 3600 / expected.step_seconds;
      check(actual.length >= want * 0.9 && actual.length <= want, `${c.metric}: ${actual.length} actual points, want about ${want}`);
      check(actual.every((p) => p[0] < c.origin) && p50[0][0] > c.origin, `${c.metric}: actual before the origin, forecast after`);
      check(actual[0][0] < p50[0][0] - 100, `${c.metric}: the history spans the left of the chart`);
    }
    // Applications and personas as bars; later stages as empty states.
    const bars = await page.$$eval("#apps-next li, #apps-coming_hour li, #apps-coming_day li", (lis) => lis.length);
    check(bars >= 6, "application bars: " + bars);
    const personas = await page.$$eval("#personas li", (lis) => lis.map((li) => li.dataset.name));
    check(personas[0] === e.persona, "top persona bar: " + personas[0]);
    // Bars are drawn as long as their share: rendered width / track width.
    const drawn = await page.$$eval(".bars li", (lis) => lis.map((li) => ({
      name: li.dataset.name,
      share: li.querySelector(".fill").getBoundingClientRect().width / li.querySelector(".track").getBoundingClientRect().width,
      label: Number(li.querySelector(".bar-value").textContent.replace("%", "")) / 100,
    })));
    for (const b of drawn)
      check(Math.abs(b.share - b.label) <= 0.011, `bar ${b.name}: drawn ${b.share.toFixed(3)}, labelled ${b.label}`);
    check(drawn.some((b) => b.share > 0.2), "some bar is drawn wide");
    const widths = await page.$$eval("#personas .fill", (fs2) => fs2.map((f) => f.getBoundingClientRect().width));
    check(widths.every((w, i) => !i || w <= widths[i - 1]), "persona bars in decreasing order");
    // The plan over time: one coloured stretch per step of the stored
    // plan, in order, as wide as it lasts; dearer stretches drawn higher.
    await page.waitForSelector("#plan .card, #plan [data-empty]", { timeout: 10000 });
    const plan = await page.$$eval("#plan rect.stretch", (rs) => rs.map((r) => ({
      shape: r.dataset.shape, x: Number(r.getAttribute("x")), w: Number(r.getAttribute("width")) })));
    check(JSON.stringify(plan.map((p) => p.shape)) === JSON.stringify(e.plan.steps), "plan stretches: " + plan.map((p) => p.shape).join(","));
    for (let i = 1; i < plan.length; i++) check(plan[i].x > plan[i - 1].x, "stretches run left to right");
    const price = points(await page.getAttribute("#plan path.price", "d"));
    check(price.length === 2 * e.plan.prices.length, "the price line has two points per stretch");
    for (let i = 0; i < e.plan.prices.length; i++)
      for (let j = 0; j < e.plan.prices.length; j++)
        if (e.plan.prices[i] > e.plan.prices[j] + 1e-9)
          check(price[2 * i][1] < price[2 * j][1], `stretch ${i} dearer than ${j} is drawn higher`);
    const planRows = (await page.$$("#plan-steps tbody tr")).length;
    check(planRows === Math.min(12, e.plan.steps.length), "plan table rows: " + planRows);
    check((await page.textContent("#plan")).includes("$" + e.plan.saved.toFixed(2)), "the plan's savings");
    // The recommended shape the profile route carries, with its reasons.
    const rec = await page.textContent("#recommendation");
    check(rec.includes(e.rec.shape) && rec.includes("$" + e.rec.cost_hour.toFixed(2) + "/h"),
      `recommended shape ${e.rec.shape} at $${e.rec.cost_hour.toFixed(2)}/h: ${rec.slice(0, 200)}`);
    check((await page.$$("#rec-reasons li")).length === Math.min(10, e.rec.reasons), "recommendation reasons");
    // The coming hour in place, as the resize route stores it.
    await page.waitForSelector("#resize .card, #resize [data-empty]", { timeout: 10000 });
    const rz = await page.$$eval("#resize .figure[data-resource]", (fs2) => fs2.map((f) => ({
      k: f.dataset.resource, value: f.querySelector(".value").textContent })));
    const fmt2 = (v) => v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const fmtV = (v) => (Math.abs(v) >= 100 ? fmt2(v).replace(/\.\d+$/, "") : Math.abs(v) >= 10 ?
      v.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : fmt2(v));
    check(rz.length === 2 && rz[0].value === fmtV(e.resize.cpu) + " " + e.resize.cpu_unit &&
      rz[1].value === fmtV(e.resize.memory) + " " + e.resize.memory_unit,
      "resize figures: " + JSON.stringify(rz) + " want " + JSON.stringify(e.resize));
    check((await page.$$("#resize-why li")).length === 2, "a reason per resource");
    check((await page.textContent("#images")).includes("No images yet"), "images: empty state");
    check((await page.textContent("#feedback")).includes("No feedback yet"), "feedback: empty state");
    check(/MASE/.test(await page.textContent(".chart-card dl.facts")), "model and backtest error shown");

    const entityPng = await screenshot(page, "entity.png");
    const diff = png.difference(fleetPng, entityPng);
    check(diff > 0.05, `the entity page differs from the fleet page (${(diff * 100).toFixed(1)}% of pixels)`);
    console.log(`fleet vs entity: ${(diff * 100).toFixed(1)}% of pixels differ`);

    // A longer history redraws the charts with more actual points.
    await page.selectOption("#history-days", "7");
    await page.waitForFunction(() => {
      const p = document.querySelector(".chart-card[data-metric=cpu_usage] path.actual");
      return p && (p.getAttribute("d").match(/[ML]/g) || []).length > 100;
    }, null, { timeout: 10000 });

    // A profile made a day before the last sample: the actual line runs on
    // under the forecast, and the feedback says how far off it was.
    const b = "user-002-batch", eb = expected.entities[b];
    await page.goto(url + "/#/entity/" + b);
    await page.waitForFunction(() => document.querySelectorAll(".chart-card path.actual").length > 0 &&
      !document.querySelector(".chart-card .status") && !document.querySelector("#feedback .status"), null, { timeout: 20000 });
    const overlap = await page.$$eval(".chart-card", (cards) => cards.map((c) => {
      const origin = Number(c.querySelector("line.origin").getAttribute("x1"));
      const xs = [...c.querySelector("path.actual").getAttribute("d").matchAll(/[ML]\s*(-?[\d.]+)/g)].map((m) => Number(m[1]));
      return xs.filter((x) => x > origin).length;
    }));
    check(overlap.every((n) => n === eb.horizon_steps), "actual hours after the origin: " + overlap.join(",") + ", want " + eb.horizon_steps);
    const fb = await page.$$eval("#feedback tbody tr", (trs) => trs.map((tr) => ({
      metric: tr.dataset.metric, cells: [...tr.children].map((td) => td.textContent) })));
    check(fb.length === Object.keys(expected.feedback.metrics).length, "a feedback row per metric");
    check((await page.textContent("#recommendation")).includes("No recommendation yet"), "recommendation: empty state");
    check((await page.textContent("#resize")).includes("No resize yet"), "resize: empty state");
    for (const row of fb) {
      const m = expected.feedback.metrics[row.metric];
      check(row.cells[1] === String(m.steps), `${row.metric}: ${row.cells[1]} steps, API ${m.steps}`);
      check(row.cells[3] === m.mase.toFixed(2), `${row.metric}: MASE ${row.cells[3]}, API ${m.mase}`);
      check(row.cells[6].startsWith(m.drift ? "drift" : "ok"), `${row.metric}: state ${row.cells[6]}`);
    }

    // Image history, newest first, with what changed between builds.
    if (expected.images.length) {
      await page.goto(url + "/#/entity/user-003-ml");
      await page.waitForSelector("#image-history tbody tr", { timeout: 20000 });
      const hist = await page.$$eval("#image-history tbody tr", (trs) => trs.map((tr) => ({
        version: tr.dataset.version, diff: [...tr.querySelectorAll("li[data-field]")].map((li) => li.dataset.field),
        text: tr.textContent })));
      check(JSON.stringify(hist.map((x) => x.version)) === JSON.stringify(expected.images.map((i) => String(i.image_version))),
        "image versions newest first: " + hist.map((x) => x.version).join(","));
      const [newer, older] = expected.images;
      const changed = ["ref", "digest", "base", "base_digest", "layer", "profile_version", "models", "packages_first_boot",
        "user_data", "validation"].filter((k) => JSON.stringify(newer[k]) !== JSON.stringify(older[k]));
      check(changed.includes("profile_version") && changed.includes("digest"), "the second build changed: " + changed.join(","));
      check(JSON.stringify(hist[0].diff) === JSON.stringify(changed), "diff lists " + hist[0].diff.join(","));
      check(hist[1].text.includes("first build"), "the oldest build is the first");
      check(hist[0].text.includes(newer.digest.slice(7, 19)), "short digest shown");
      // The files the newer build changed, from the daemon's image diff.
      await page.waitForSelector("#image-history tbody tr:first-child li[data-change]", { timeout: 20000 });
      const files = await page.$$eval("#image-history tbody tr:first-child li[data-change]",
        (lis) => lis.map((li) => li.dataset.change + " " + li.textContent));
      check(files.some((f) => f.startsWith("changed") && f.includes("etc/bespoke/image.json")),
        "file diff names image.json: " + files.join("; "));
    }

    // 5. API errors are shown in words, not as a blank page.
    await page.goto(url + "/#/entity/nobody");
    await page.waitForSelector(".error-page .error", { timeout: 10000 });
    const text = await page.textContent(".error-page .error");
    check(/Not found/.test(text) && /nobody/.test(text), "unknown entity in words: " + text);

    // 6. A user's token: only its own entity, and others refused in words.
    const ctx2 = await browser.newContext({ viewport: { width: W, height: H } });
    const p2 = await ctx2.newPage();
    p2.on("pageerror", (e2) => pageErrors.push(e2.message));
    await p2.goto(url + "/");
    await signIn(p2, userToken);
    await p2.waitForSelector("#fleet tbody tr[data-entity]", { timeout: 20000 });
    const mine = await p2.$$eval("#fleet tbody tr[data-entity]", (trs) => trs.map((tr) => tr.dataset.entity));
    check(mine.length === 1 && mine[0] === userEntity, "a user sees its own entity only: " + mine.join(","));
    await p2.goto(url + "/#/entity/" + who);
    await p2.waitForSelector(".error-page .error", { timeout: 10000 });
    check(/Not allowed/.test(await p2.textContent(".error-page .error")), "another user's entity: refused in words");
    // Signing out asks again.
    await p2.click("#signout");
    await p2.waitForSelector("#login:not([hidden])", { timeout: 5000 });

    check(pageErrors.length === 0, "no script errors: " + pageErrors.join("; "));
    console.log(`dashboard: ${checks} checks passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
  }
}

// A daemon without tokens (loopback): the page works without asking.
async function openDaemon(openUrl, chromiumPath) {
  const browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    await page.goto(openUrl + "/");
    await page.waitForSelector("#fleet tbody tr[data-entity]", { timeout: 20000 });
    check(await page.isHidden("#login"), "no sign-in form without tokens");
    check(await page.isHidden("#signout"), "nothing to sign out of");
    const n = (await page.$$("#fleet tbody tr[data-entity]")).length;
    check(n === Number(process.argv[5]), `the open daemon lists ${n} entities`);
    const widths = await page.$$eval("#fleet tr", (trs) => trs.map((tr) =>
      [...tr.children].reduce((a, td) => a + (td.colSpan || 1), 0)));
    check(widths.every((w) => w === widths[0]), "every row fills the header's columns: " + widths.join(","));
    const tiny = await page.textContent("#fleet tr[data-entity=tiny]");
    check(/no profile: .*history/.test(tiny), "an entity without a profile says why: " + tiny);
    console.log(`open daemon: ${checks} checks passed`);
  } finally {
    await browser.close();
  }
}

(process.argv[2] === "open" ? openDaemon(process.argv[3], process.argv[4]) : main()).catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
