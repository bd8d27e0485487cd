/*
 * bespoke dashboard, shared helpers: the API client (bearer token, errors
 * in words), building elements without markup, and units and times as the
 * pages show them. Loaded before charts.js, parts.js and app.js, which use
 * these as globals (classic scripts, no build step).
 */
"use strict";

const TOKEN_KEY = "bespoke.token";

/* ---- the API ------------------------------------------------------------ */

class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/* GETs a path and returns its JSON; throws ApiError with the daemon's own
 * message. A 401 also opens the sign-in form. */
async function api(path) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = "Bearer " + t;
  let res;
  try {
    res = await fetch(path, { headers });
  } catch (e) {
    throw new ApiError(0, "the daemon cannot be reached (" + e.message + ")", path);
  }
  let body = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    if (res.ok) throw new ApiError(res.status, "the answer is not JSON", path);
  }
  if (!res.ok) {
    const msg = body && body.error && body.error.message
      ? body.error.message
      : "HTTP " + res.status + " " + res.statusText;
    if (res.status === 401) showLogin(t ? "That token was not accepted: " + msg : null);
    throw new ApiError(res.status, msg, path);
  }
  return body;
}

function enc(s) {
  return encodeURIComponent(s);
}

/* ---- DOM helpers ---------------------------------------------------------- */

/* h("div", {class: "x"}, "text", child, ...): an element; children that
 * are strings become text nodes, null and false are skipped. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/* Like el.replaceChildren, but skipping null and false as h() does
 * (replaceChildren would show them as the text "null"). */
function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {}))
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, describe(err));
}

function describe(err) {
  if (!(err instanceof ApiError)) return "Something went wrong: " + err.message;
  const what = {
    0: "", 400: "The request was refused: ", 401: "Sign-in needed: ",
    403: "Not allowed: ", 404: "Not found: ", 413: "Too large: ",
    422: "Cannot answer: ", 500: "The daemon failed: ", 503: "The store is unavailable: ",
  }[err.status];
  return (what === undefined ? "Error " + err.status + ": " : what) + err.message + ".";
}

function empty(title, text) {
  return h("div", { class: "empty", "data-empty": "" }, h("strong", {}, title), text);
}

/* ---- numbers, units, times ------------------------------------------------ */

/* A unit with a display scale: memory in GiB, rates in MB/s when large. */
function unitScale(unit, max) {
  if (unit === "MiB" && max >= 2048) return { unit: "GiB", k: 1 / 1024 };
  if (unit === "KB/s" && max >= 2048) return { unit: "MB/s", k: 1 / 1024 };
  if (unit === "bytes" && max >= 2 ** 30) return { unit: "GiB", k: 1 / 2 ** 30 };
  return { unit: unit || "", k: 1 };
}

function fmt(v, digits) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (digits === undefined) digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}

function fmtUnit(v, unit) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const sc = unitScale(unit, Math.abs(v));
  return fmt(v * sc.k) + (sc.unit ? " " + sc.unit : "");
}

function pct(p) {
  return p === null || p === undefined || !isFinite(p) ? "–" : Math.round(p * 100) + "%";
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/* Times are shown in UTC, as the API gives them. */
function fmtTime(ms, withDate) {
  const d = new Date(ms);
  const hm = String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
  return withDate ? MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + ", " + hm : hm;
}
function fmtDay(ms) {
  const d = new Date(ms);
  return MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
}
function fmtIso(iso) {
  return iso ? fmtTime(Date.parse(iso), true) + " UTC" : "–";
}

/* ---- what a profile says ---------------------------------------------------- */

function topPersona(profile) {
  const ps = profile && profile.behaviour && profile.behaviour.personas;
  if (!Array.isArray(ps) || !ps.length) return null;
  return ps.reduce((a, b) => (b.p > a.p ? b : a));
}

function workload(profile) {
  const w = profile && profile.behaviour && profile.behaviour.workload;
  return w && w.class ? w : null;
}

function missing(profile, part) {
  const m = profile && profile.behaviour && profile.behaviour.missing;
  return m && m[part] ? m[part] : null;
}

/* The profile's first metric among names, for the fleet's CPU and memory
 * columns (entities from other sources name them differently). */
const CPU_METRICS = ["cpu_usage", "cpu_usage_pct", "cpu_util_pct", "cpu_avg"];
const MEM_METRICS = ["mem_usage", "mem_util_pct"];
function pickMetric(profile, names) {
  const ms = (profile && profile.metrics) || {};
  for (const n of names) if (ms[n]) return { name: n, m: ms[n] };
  return null;
}

function peakP95(pm) {
  return pm && pm.m.daily_peak && isFinite(pm.m.daily_peak.p95) ? pm.m.daily_peak.p95 : null;
}
