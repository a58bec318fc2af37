// <shisho-resync-button library-id="N">: starts a scan of one library and shows how the
// latest scan is going. No build step, no framework: load it with
// <script type="module" src=".../resync-button.js">.
//
// Attributes (filled in by the plugin's nav item):
//   library-id      the library (required)
//   api-base        the jobs API prefix, default "/api"
//   job-url         the host's job page, "{id}" is replaced, default "/settings/jobs/{id}"
//   csrf-cookie     cookie holding the CSRF token, default "csrftoken"
//   csrf-header     header to send it in, default "x-csrftoken"
//   active-poll-ms  polling interval while a scan is active and no event stream, default 2000
//   idle-poll-ms    polling interval otherwise, default 30000
//   error-display-ms  how long the reason a click could not start a scan stays on the button,
//                   default 5000
//
// Live updates come from the browser's one shared event stream (job-events.js), so any number
// of tabs stays within the browser's six connections to a host.
//
// data-state on the element: loading | idle | starting | active | waiting | stalled | failed |
// completed | warning | cancelled (CONTRACT section 5). The button's aria-label (and title) is
// the tooltip text; while the reason a click failed is shown, the title is that reason.

import { subscribeJobEvents } from "./job-events.js";

/** States that follow a pending or running scan: polled quickly without the event stream. */
const LIVE_STATES = new Set(["starting", "active", "waiting", "stalled"]);
/** What a click does in each state (CONTRACT section 5); the others ignore clicks. */
const STARTS_A_SCAN = new Set(["idle", "completed", "warning", "cancelled"]);
const OPENS_THE_JOB = new Set(["active", "waiting", "stalled", "failed"]);
const EVENT_NAMES = ["job.created", "job.status_changed", "job.progress", "job.snapshot"];
const RELATIVE_TIME_REFRESH_MS = 15000;
const DEFAULTS = {
  apiBase: "/api",
  jobUrl: "/settings/jobs/{id}",
  csrfCookie: "csrftoken",
  csrfHeader: "x-csrftoken",
  activePollMs: 2000,
  idlePollMs: 30000,
  errorDisplayMs: 5000,
};

const REFRESH_ICON = `<svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"
  focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
  stroke-linejoin="round"><path d="M3 12a9 9 0 0 1 9-9 9.75 9.75 0 0 1 6.74 2.74L21 8"/>
  <path d="M21 3v5h-5"/><path d="M21 12a9 9 0 0 1-9 9 9.75 9.75 0 0 1-6.74-2.74L3 16"/>
  <path d="M8 16H3v5"/></svg>`;

// Badges: each state that needs attention has its own shape, so none reads by colour alone.
// failed: a triangle with "!"; warning: a circle with "!"; stalled: a circle with a pause sign;
// waiting: a clock.
const BADGE_SVG = (shape) => `<svg viewBox="0 0 24 24" width="12" height="12" aria-hidden="true"
  focusable="false">${shape}</svg>`;
const BADGES = {
  failed: BADGE_SVG(`<path d="M12 2 1 21h22z" fill="#d97706" stroke="#fff" stroke-width="1.5"
    stroke-linejoin="round"/><path d="M12 9v5" stroke="#fff" stroke-width="2.5"
    stroke-linecap="round"/><circle cx="12" cy="17.5" r="1.4" fill="#fff"/>`),
  warning: BADGE_SVG(`<circle cx="12" cy="12" r="10.5" fill="#a16207" stroke="#fff"
    stroke-width="1.5"/><path d="M12 6.5v7" stroke="#fff" stroke-width="2.5"
    stroke-linecap="round"/><circle cx="12" cy="17.5" r="1.4" fill="#fff"/>`),
  stalled: BADGE_SVG(`<circle cx="12" cy="12" r="10.5" fill="#4b5563" stroke="#fff"
    stroke-width="1.5"/><path d="M9.5 7.5v9M14.5 7.5v9" stroke="#fff" stroke-width="2.5"
    stroke-linecap="round"/>`),
  waiting: BADGE_SVG(`<circle cx="12" cy="12" r="10.5" fill="#4b5563" stroke="#fff"
    stroke-width="1.5"/><path d="M12 6.5V12l3.5 2.5" fill="none" stroke="#fff"
    stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>`),
};

const STYLES = `
:host { display: inline-flex; vertical-align: middle; }
button {
  position: relative; display: inline-flex; align-items: center; gap: 4px;
  min-width: 36px; height: 36px; padding: 0 8px; border: 1px solid transparent;
  border-radius: 6px; background: transparent; color: inherit; font: inherit; cursor: pointer;
}
button:hover { background: var(--shisho-resync-hover, rgba(127, 127, 127, 0.15)); }
button:focus-visible { outline: 2px solid var(--shisho-resync-focus, #2563eb); outline-offset: 2px; }
button[aria-disabled="true"] { cursor: default; opacity: 0.7; }
.badge { position: absolute; top: 1px; right: 1px; display: none; }
:host([data-state="failed"]) .badge, :host([data-state="warning"]) .badge,
:host([data-state="stalled"]) .badge, :host([data-state="waiting"]) .badge { display: block; }
.badge svg { display: block; }
.error {
  display: none; white-space: nowrap; font-size: 0.8em;
  color: var(--shisho-resync-error, #b91c1c);
}
:host([data-error]) .error { display: inline; }
.progress { display: none; font-size: 0.75em; font-variant-numeric: tabular-nums; }
:host([data-state="active"]) .progress:not(:empty) { display: inline; }
@keyframes shisho-resync-spin { to { transform: rotate(360deg); } }
:host([data-state="starting"]) .icon, :host([data-state="active"]) .icon {
  animation: shisho-resync-spin 1s linear infinite;
}
@media (prefers-reduced-motion: reduce) {
  :host([data-state="starting"]) .icon, :host([data-state="active"]) .icon { animation: none; }
}
.visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
`;

/** "2 minutes ago" for an ISO timestamp. */
export function relativeTime(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return "less than a minute ago";
  const format = new Intl.RelativeTimeFormat("en", { numeric: "always" });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return format.format(-minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return format.format(-hours, "hour");
  const days = Math.floor(hours / 24);
  if (days < 30) return format.format(-days, "day");
  const months = Math.floor(days / 30);
  if (months < 12) return format.format(-months, "month");
  return format.format(-Math.floor(days / 365), "year");
}

/** "12 minutes" for the time since an ISO timestamp (a duration, not a point in time). */
export function durationSince(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const plural = (count, unit) => `${count} ${unit}${count === 1 ? "" : "s"}`;
  if (seconds < 60) return "less than a minute";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return plural(hours, "hour");
  return plural(Math.floor(hours / 24), "day");
}

/** How many warnings a job has: its live count, or its result's. */
export function warningsOf(job) {
  if (!job) return 0;
  const count = job.warnings || (job.result && job.result.warnings) || 0;
  return Number.isInteger(count) && count > 0 ? count : 0;
}

/** The button's state for the latest scan (or none). */
export function stateOf(job) {
  if (!job) return "idle";
  switch (job.status) {
    case "pending":
      return job.waiting ? "waiting" : "active";
    case "in_progress":
      return job.stalled_since ? "stalled" : "active";
    case "failed":
      return "failed";
    case "cancelled":
      return "cancelled";
    default:
      return warningsOf(job) > 0 ? "warning" : "completed";
  }
}

/** "no worker is running" from the API's "No worker is running.": a clause of the tooltip. */
function asClause(reason) {
  const text = String(reason).trim().replace(/\.$/, "");
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The tooltip (and accessible name) for a state. */
export function tooltipOf(state, job, now = Date.now()) {
  const finished = job ? job.finished_at || job.updated_at : "";
  switch (state) {
    case "loading":
      return "Loading scan status";
    case "starting":
      return "Starting scan...";
    case "active": {
      const started = `Scan started ${relativeTime(job.started_at || job.created_at, now)}`;
      return job.cancel_requested ? `${started} - stopping` : started;
    }
    case "waiting":
      return `Scan waiting - ${asClause(job.waiting || "No worker is running.")}`;
    case "stalled": {
      const stalled = `Scan stalled - no progress for ${durationSince(job.stalled_since, now)}`;
      return job.cancel_requested ? `${stalled} - stopping` : stalled;
    }
    case "failed":
      return "Last scan failed - view logs";
    case "completed":
      return `Last synced ${relativeTime(finished, now)}`;
    case "warning": {
      const count = warningsOf(job);
      return `Last synced ${relativeTime(finished, now)} - ${count} warning${count === 1 ? "" : "s"}`;
    }
    case "cancelled":
      return `Last scan cancelled ${relativeTime(finished, now)}`;
    default:
      return "Resync library";
  }
}

/** Whether `a` is an earlier state of the same job than `b`. */
function isOlderUpdate(a, b) {
  return Date.parse(a.updated_at) < Date.parse(b.updated_at);
}

/** Whether job `a` is newer than job `b` (newest first is created_at, then id). */
function isNewer(a, b) {
  const at = Date.parse(a.created_at);
  const bt = Date.parse(b.created_at);
  return at > bt || (at === bt && a.id > b.id);
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export class ShishoResyncButton extends HTMLElement {
  static observedAttributes = ["library-id", "api-base"];

  constructor() {
    super();
    this.job = null;
    this.state = "loading";
    this.heldWhileStarting = [];
    this.events = null;
    this.pollTimer = null;
    this.clockTimer = null;
    this.errorTimer = null;
    this.startError = "";
    this.connected = false;
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${STYLES}</style>
      <button type="button" part="button">${REFRESH_ICON}
        <span class="badge" part="badge" aria-hidden="true"></span>
        <span class="progress" part="progress" aria-hidden="true"></span>
        <span class="error" part="error" data-testid="resync-error" aria-hidden="true"></span>
      </button>
      <span class="visually-hidden" role="status" aria-live="polite"></span>`;
    this.button = root.querySelector("button");
    this.progressText = root.querySelector(".progress");
    this.liveRegion = root.querySelector('[role="status"]');
    this.errorText = root.querySelector(".error");
    this.badge = root.querySelector(".badge");
    this.button.addEventListener("click", () => this.onClick());
  }

  // --- configuration ---------------------------------------------------------------------

  get libraryId() {
    return Number.parseInt(this.getAttribute("library-id") || "", 10);
  }

  option(attribute, fallback) {
    const value = this.getAttribute(attribute);
    return value === null || value === "" ? fallback : value;
  }

  get apiBase() {
    return this.option("api-base", DEFAULTS.apiBase).replace(/\/$/, "");
  }

  numberOption(attribute, fallback) {
    const value = Number.parseInt(this.option(attribute, ""), 10);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  }

  // --- life cycle ------------------------------------------------------------------------

  connectedCallback() {
    this.connected = true;
    this.render(false);
    this.restart();
    this.clockTimer = setInterval(() => this.render(false), RELATIVE_TIME_REFRESH_MS);
  }

  disconnectedCallback() {
    this.connected = false;
    this.closeStream();
    clearTimeout(this.pollTimer);
    clearInterval(this.clockTimer);
    clearTimeout(this.errorTimer);
  }

  attributeChangedCallback(_name, oldValue, newValue) {
    if (this.connected && oldValue !== newValue) {
      this.job = null;
      this.setState("loading", false);
      this.restart();
    }
  }

  restart() {
    this.closeStream();
    if (!Number.isInteger(this.libraryId) || this.libraryId < 1) return;
    this.openStream();
    this.refresh();
  }

  // --- status ----------------------------------------------------------------------------

  async refresh() {
    clearTimeout(this.pollTimer);
    const libraryId = this.libraryId;
    try {
      const url = `${this.apiBase}/jobs?type=scan&library_id_or_global=${libraryId}&limit=1`;
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (libraryId !== this.libraryId) return;
      if (response.ok) {
        const body = await response.json();
        this.showJob(body.jobs[0] || null, true);
      } else if (this.state === "loading") {
        // No status to show (signed out, say): offer the button; a click reports why not.
        this.showJob(null, true);
      }
    } catch (_error) {
      // Network trouble: keep what we show; the next poll tries again.
    } finally {
      this.schedulePoll();
    }
  }

  schedulePoll() {
    clearTimeout(this.pollTimer);
    if (!this.connected) return;
    const streaming = this.events !== null && this.events.open;
    const active = LIVE_STATES.has(this.state);
    const delay =
      active && !streaming
        ? this.numberOption("active-poll-ms", DEFAULTS.activePollMs)
        : this.numberOption("idle-poll-ms", DEFAULTS.idlePollMs);
    this.pollTimer = setTimeout(() => this.refresh(), delay);
  }

  /** Show `job` as the latest scan: the answer of a status request, or a newer/updated one. */
  showJob(job, authoritative) {
    if (!authoritative) {
      if (!job || job.type !== "scan") return;
      if (job.library_id != null && job.library_id !== this.libraryId) return;
    }
    if (this.state === "starting") {
      // The POST has not answered yet: keep what arrives, apply it after the answer.
      if (job) this.heldWhileStarting.push(job);
      return;
    }
    if (job && this.job) {
      if (job.id === this.job.id && isOlderUpdate(job, this.job)) return; // out of order
      // A different, older job: a stale status answer or an event of an earlier scan.
      if (job.id !== this.job.id && isNewer(this.job, job)) return;
    }
    this.job = job;
    this.setState(stateOf(job), true);
  }

  // --- live events -----------------------------------------------------------------------

  openStream() {
    // The browser's one shared stream (job-events.js): it carries every library the user may
    // see, so this element keeps its own library's scans (showJob) and global ones.
    this.events = subscribeJobEvents({
      apiBase: this.apiBase,
      onEvent: (event) => {
        if (!EVENT_NAMES.includes(event.name)) return;
        try {
          this.showJob(JSON.parse(event.data), false);
        } catch (_error) {
          // Not a job: ignore it.
        }
      },
      // (Re)connected: catch up at once, and poll slowly while the stream carries updates.
      // Lost: the stream retries by itself; meanwhile poll at the fallback rate.
      onStatus: (open) => (open ? this.refresh() : this.schedulePoll()),
    });
  }

  closeStream() {
    if (this.events !== null) {
      this.events.close();
      this.events = null;
    }
  }

  // --- clicks ----------------------------------------------------------------------------

  onClick() {
    if (STARTS_A_SCAN.has(this.state)) {
      this.startScan();
    } else if (OPENS_THE_JOB.has(this.state) && this.job) {
      const template = this.option("job-url", DEFAULTS.jobUrl);
      window.location.assign(template.replace("{id}", encodeURIComponent(this.job.id)));
    }
  }

  async startScan() {
    const previous = this.state;
    this.heldWhileStarting = [];
    this.showStartError("");
    this.setState("starting", true);
    let job = null;
    let failure = "";
    try {
      const response = await fetch(`${this.apiBase}/jobs`, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          [this.option("csrf-header", DEFAULTS.csrfHeader)]: readCookie(
            this.option("csrf-cookie", DEFAULTS.csrfCookie),
          ),
        },
        body: JSON.stringify({ type: "scan", data: {}, library_id: this.libraryId }),
      });
      const body = await response.json().catch(() => null);
      if (response.ok) {
        job = body;
      } else if (response.status === 409 && body && body.extra && body.extra.job) {
        job = body.extra.job; // A scan is already running: follow it.
      } else {
        failure = `Could not start the scan: ${(body && body.detail) || response.status}`;
      }
    } catch (_error) {
      failure = "Could not start the scan: the server did not answer";
    }
    this.state = previous;
    if (job) {
      this.job = job;
      this.setState(stateOf(job), true);
    } else {
      this.setState(previous, false);
    }
    // After the state's own render: visible on the button and said by the live region.
    if (failure) this.showStartError(failure);
    // Events that came while the POST was out (the scan may even have finished already).
    const held = this.heldWhileStarting;
    this.heldWhileStarting = [];
    for (const update of held) this.showJob(update, false);
    // And ask once more: an event could have been sent before the stream was listening.
    this.refresh();
  }

  // --- rendering -------------------------------------------------------------------------

  /** Show why a click could not start a scan on the button for a few seconds ("": hide it). */
  showStartError(message) {
    clearTimeout(this.errorTimer);
    this.startError = message;
    this.errorText.textContent = message;
    if (message) {
      this.dataset.error = "";
      this.announce(message);
      this.errorTimer = setTimeout(
        () => this.showStartError(""),
        this.numberOption("error-display-ms", DEFAULTS.errorDisplayMs),
      );
    } else {
      delete this.dataset.error;
    }
    this.render(false);
  }

  setState(state, announce) {
    const changed = state !== this.state;
    this.state = state;
    this.render(announce && changed);
  }

  render(announce) {
    const label = tooltipOf(this.state, this.job);
    this.dataset.state = this.state;
    if (this.job) this.dataset.jobId = String(this.job.id);
    else delete this.dataset.jobId;
    this.button.setAttribute("aria-label", label);
    this.button.title = this.startError || label;
    const busy = this.state === "loading" || this.state === "starting";
    this.button.setAttribute("aria-disabled", busy ? "true" : "false");
    const running = this.state === "active" || this.state === "stalled";
    this.button.setAttribute("aria-busy", busy || running ? "true" : "false");
    const progress = this.state === "active" && this.job ? `${this.job.progress || 0}%` : "";
    this.progressText.textContent = progress;
    const badge = Object.hasOwn(BADGES, this.state) ? this.state : "";
    if (this.badge.dataset.badge !== badge) {
      this.badge.dataset.badge = badge;
      this.badge.innerHTML = BADGES[badge] || "";
    }
    if (announce) {
      this.announce(progress ? `${label}, ${progress} done` : label);
    }
  }

  announce(message) {
    this.liveRegion.textContent = message;
  }
}

if (!customElements.get("shisho-resync-button")) {
  customElements.define("shisho-resync-button", ShishoResyncButton);
}
