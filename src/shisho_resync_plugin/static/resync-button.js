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
//
// Live updates come from the browser's one shared event stream (job-events.js), so any number
// of tabs stays within the browser's six connections to a host.
//
// data-state on the element: loading | idle | starting | active | failed | completed.
// The button's aria-label (and title) is the tooltip text.

import { subscribeJobEvents } from "./job-events.js";

const ACTIVE_STATUSES = new Set(["pending", "in_progress"]);
const EVENT_NAMES = ["job.created", "job.status_changed", "job.progress", "job.snapshot"];
const RELATIVE_TIME_REFRESH_MS = 15000;
const DEFAULTS = {
  apiBase: "/api",
  jobUrl: "/settings/jobs/{id}",
  csrfCookie: "csrftoken",
  csrfHeader: "x-csrftoken",
  activePollMs: 2000,
  idlePollMs: 30000,
};

const REFRESH_ICON = `<svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"
  focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
  stroke-linejoin="round"><path d="M3 12a9 9 0 0 1 9-9 9.75 9.75 0 0 1 6.74 2.74L21 8"/>
  <path d="M21 3v5h-5"/><path d="M21 12a9 9 0 0 1-9 9 9.75 9.75 0 0 1-6.74-2.74L3 16"/>
  <path d="M8 16H3v5"/></svg>`;

// A triangle with an exclamation mark: the failure reads by shape, not only by colour.
const WARNING_BADGE = `<svg class="badge" viewBox="0 0 24 24" width="12" height="12"
  aria-hidden="true" focusable="false"><path d="M12 2 1 21h22z" fill="#d97706"
  stroke="#fff" stroke-width="1.5" stroke-linejoin="round"/><path d="M12 9v5" stroke="#fff"
  stroke-width="2.5" stroke-linecap="round"/><circle cx="12" cy="17.5" r="1.4" fill="#fff"/></svg>`;

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
:host([data-state="failed"]) .badge { display: block; }
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

/** The button's state for the latest scan (or none). */
export function stateOf(job) {
  if (!job) return "idle";
  if (ACTIVE_STATUSES.has(job.status)) return "active";
  return job.status === "failed" ? "failed" : "completed";
}

/** The tooltip (and accessible name) for a state. */
export function tooltipOf(state, job, now = Date.now()) {
  switch (state) {
    case "loading":
      return "Loading scan status";
    case "starting":
      return "Starting scan...";
    case "active":
      return `Scan started ${relativeTime(job.started_at || job.created_at, now)}`;
    case "failed":
      return "Last scan failed - view logs";
    case "completed":
      return `Last synced ${relativeTime(job.finished_at || job.updated_at, now)}`;
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
    this.connected = false;
    const root = this.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${STYLES}</style>
      <button type="button" part="button">${REFRESH_ICON}${WARNING_BADGE}
        <span class="progress" part="progress" aria-hidden="true"></span></button>
      <span class="visually-hidden" role="status" aria-live="polite"></span>`;
    this.button = root.querySelector("button");
    this.progressText = root.querySelector(".progress");
    this.liveRegion = root.querySelector('[role="status"]');
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
    const active = this.state === "active" || this.state === "starting";
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
    if (this.state === "idle" || this.state === "completed") {
      this.startScan();
    } else if ((this.state === "active" || this.state === "failed") && this.job) {
      const template = this.option("job-url", DEFAULTS.jobUrl);
      window.location.assign(template.replace("{id}", encodeURIComponent(this.job.id)));
    }
  }

  async startScan() {
    const previous = this.state;
    this.heldWhileStarting = [];
    this.setState("starting", true);
    let job = null;
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
        this.announce(`Could not start the scan: ${(body && body.detail) || response.status}`);
      }
    } catch (_error) {
      this.announce("Could not start the scan: the server did not answer");
    }
    this.state = previous;
    if (job) {
      this.job = job;
      this.setState(stateOf(job), true);
    } else {
      this.setState(previous, false);
    }
    // Events that came while the POST was out (the scan may even have finished already).
    const held = this.heldWhileStarting;
    this.heldWhileStarting = [];
    for (const update of held) this.showJob(update, false);
    // And ask once more: an event could have been sent before the stream was listening.
    this.refresh();
  }

  // --- rendering -------------------------------------------------------------------------

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
    this.button.title = label;
    const busy = this.state === "loading" || this.state === "starting";
    this.button.setAttribute("aria-disabled", busy ? "true" : "false");
    this.button.setAttribute("aria-busy", busy || this.state === "active" ? "true" : "false");
    const progress = this.state === "active" && this.job ? `${this.job.progress || 0}%` : "";
    this.progressText.textContent = progress;
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
