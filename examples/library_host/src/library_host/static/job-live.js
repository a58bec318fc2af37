// Keeps the job page current while the job runs: status, progress, trigger, attempts, times,
// duration, result, notices (waiting, stalled, stopping), warnings and new log lines; and runs
// its cancel and "scan again" buttons. The server renders the same parts first (job.html and
// job_view.py: keep the words in step).
// Live through the plugin's event stream; a slow poll covers a stream that cannot connect.
import { subscribeJobEvents } from "/static/shisho-resync/job-events.js";

const section = document.getElementById("job");
const jobId = Number(section.dataset.jobId);
const API = "/api";
const POLL_INTERVAL_MS = 2000;
const CLOCK_INTERVAL_MS = 1000;
const ACTIVE = new Set(["pending", "in_progress"]);
const SCAN_COUNTS = ["files", "added", "updated", "removed", "unchanged", "warnings"];
const TRIGGER_LABELS = {
  manual: "Started by hand",
  watch: "Started by file changes",
  schedule: "Started by the schedule",
  retry: "Started again (retry)",
};
let lastLogId = Number(section.dataset.lastLogId || 0);
let job = null; // the latest Job JSON, once one arrived
let status = byTestId("job-status").textContent.trim();

function byTestId(testId) {
  return document.querySelector(`[data-testid="${testId}"]`);
}

const pad = (n) => String(n).padStart(2, "0");
function formatTimestamp(iso) {
  const d = new Date(iso);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** The same words as job_view.format_duration. */
function formatDuration(seconds) {
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(s) % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function durationOf(current) {
  if (!current.started_at) return "—";
  const end = current.finished_at
    ? Date.parse(current.finished_at)
    : ACTIVE.has(current.status)
      ? Date.now()
      : null;
  return end === null ? "—" : formatDuration((end - Date.parse(current.started_at)) / 1000);
}

function setTime(testId, iso) {
  const el = byTestId(testId);
  if (!iso) return;
  el.dateTime = iso;
  el.textContent = formatTimestamp(iso);
}

function noticeOf(current) {
  if (current.cancel_requested && ACTIVE.has(current.status)) {
    return "Stopping: the scan ends once it has finished the file it is reading.";
  }
  if (current.waiting) return `Waiting: ${current.waiting}`;
  if (current.stalled_since) {
    return `Stalled: no progress since ${formatTimestamp(current.stalled_since)}.`;
  }
  return "";
}

function renderResult(current) {
  const box = byTestId("job-result");
  const result = current.result;
  box.replaceChildren();
  if (result && typeof result === "object" && SCAN_COUNTS.some((name) => name in result)) {
    const list = document.createElement("dl");
    list.className = "counts";
    for (const name of SCAN_COUNTS) {
      const item = document.createElement("div");
      item.dataset.count = name;
      const term = document.createElement("dt");
      term.textContent = name;
      const value = document.createElement("dd");
      value.textContent = String(result[name] || 0);
      item.append(term, value);
      list.append(item);
    }
    box.append(list);
    return;
  }
  const text = document.createElement("p");
  text.className = "muted";
  text.textContent =
    result !== undefined && result !== null
      ? JSON.stringify(result)
      : ACTIVE.has(current.status)
        ? "Not finished yet."
        : "—";
  box.append(text);
}

function renderActions(current) {
  const cancel = byTestId("job-cancel");
  const retry = byTestId("job-retry");
  if (!cancel || !retry) return; // the user may not cancel or retry this job
  const active = ACTIVE.has(current.status);
  cancel.hidden = !active;
  cancel.disabled = Boolean(current.cancel_requested);
  cancel.textContent = current.cancel_requested ? "Stopping…" : "Cancel";
  retry.hidden = active;
}

function render(current) {
  job = current;
  status = current.status;
  const statusEl = byTestId("job-status");
  statusEl.textContent = current.status;
  statusEl.className = `status status-${current.status}`;
  byTestId("job-progress").value = current.progress;
  byTestId("job-progress-text").textContent = `${current.progress}%`;
  const trigger = byTestId("job-trigger");
  if (trigger.dataset.trigger !== current.trigger) {
    trigger.dataset.trigger = current.trigger;
    trigger.textContent = TRIGGER_LABELS[current.trigger] || current.trigger;
  }
  byTestId("job-attempts").textContent = String(current.attempt || 0);
  setTime("job-started", current.started_at);
  setTime("job-finished", current.finished_at);
  byTestId("job-duration").textContent = durationOf(current);
  if (current.error) byTestId("job-error").textContent = current.error;
  const notice = byTestId("job-notice");
  const words = noticeOf(current);
  if (notice.textContent !== words) notice.textContent = words;
  notice.hidden = words === "";
  renderResult(current);
  renderActions(current);
}

function appendWarning(log) {
  const data = log.data || {};
  const item = document.createElement("li");
  item.dataset.testid = "job-warning";
  item.dataset.logId = log.id;
  const badge = document.createElement("span");
  badge.className = "badge-warning";
  badge.setAttribute("aria-hidden", "true");
  badge.textContent = "!";
  item.append(badge, " ");
  if (data.path !== undefined && data.path !== null) {
    const file = document.createElement("code");
    file.className = "file";
    file.dataset.testid = "job-warning-file";
    file.textContent = String(data.path);
    item.append(file, ": ");
  }
  const reason = document.createElement("span");
  reason.className = "reason";
  reason.dataset.testid = "job-warning-reason";
  reason.textContent = data.reason !== undefined && data.reason !== null
    ? String(data.reason)
    : log.message;
  item.append(reason);
  byTestId("job-warnings").append(item);
  const count = byTestId("job-warning-count");
  count.textContent = String(Number(count.textContent) + 1);
  byTestId("no-warnings").hidden = true;
}

function appendLog(log) {
  const item = document.createElement("li");
  item.dataset.testid = "job-log";
  item.dataset.logId = log.id;
  item.dataset.level = log.level;
  item.className = `log log-${log.level}`;
  const time = document.createElement("time");
  time.dateTime = log.created_at;
  time.textContent = formatTimestamp(log.created_at).slice(11, 19);
  const level = document.createElement("span");
  level.className = "level";
  level.textContent = log.level.toUpperCase();
  const message = document.createElement("span");
  message.className = "message";
  message.textContent = log.message;
  item.append(time, " ", level, " ", message);
  if (log.stack_trace) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "Stack trace";
    const pre = document.createElement("pre");
    pre.textContent = log.stack_trace;
    details.append(summary, pre);
    item.append(details);
  }
  byTestId("job-logs").append(item);
  if (log.level === "warn") appendWarning(log);
}

// The log is paged (the server renders the first page): one page after the last line shown.
const moreLogs = document.querySelector('[data-testid="job-logs-more"]');
async function loadLogs() {
  const response = await fetch(`${API}/jobs/${jobId}/logs?after_id=${lastLogId}`, {
    credentials: "same-origin",
  });
  if (!response.ok) return;
  const page = await response.json();
  for (const log of page.logs) {
    if (log.id > lastLogId) {
      appendLog(log);
      lastLogId = log.id;
    }
  }
  moreLogs.hidden = !page.has_more;
  moreLogs.href = `/settings/jobs/${jobId}?after_id=${lastLogId}`;
}
moreLogs.addEventListener("click", (event) => {
  event.preventDefault();
  loadLogs().catch(() => {});
});

// One refresh at a time; a change arriving meanwhile asks for one more pass.
let refreshing = false;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    do {
      again = false;
      const jobResponse = await fetch(`${API}/jobs/${jobId}`, { credentials: "same-origin" });
      if (jobResponse.ok) render(await jobResponse.json());
      // New lines follow live only once every earlier line is shown; until then the
      // "load more" control brings them, one page per click.
      if (moreLogs.hidden) await loadLogs();
    } while (again);
  } catch {
    // Offline for a moment: the next event or poll tries again.
  } finally {
    refreshing = false;
  }
}

// --- cancel and scan again ------------------------------------------------------------------

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function say(message) {
  const box = byTestId("job-action-message");
  if (box) box.textContent = message;
}

async function post(path) {
  const response = await fetch(`${API}/jobs/${jobId}/${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": readCookie("csrftoken") },
  });
  const body = await response.json().catch(() => null);
  return { response, body };
}

async function cancel() {
  say("");
  const button = byTestId("job-cancel");
  button.disabled = true;
  try {
    const { response, body } = await post("cancel");
    if (response.ok) {
      render(body); // 200: cancelled; 202: the handler was asked to stop
    } else if (response.status === 409 && body?.extra?.job) {
      render(body.extra.job);
      say("The job had already finished.");
    } else {
      button.disabled = false;
      say(`Could not cancel: ${body?.detail || response.status}`);
    }
  } catch {
    button.disabled = false;
    say("Could not cancel: the server did not answer");
  }
  refresh();
}

async function retry() {
  say("");
  const button = byTestId("job-retry");
  button.disabled = true;
  try {
    const { response, body } = await post("retry");
    // The new job, or (409) the active one that blocks it: either way, follow it.
    const next = response.ok ? body : response.status === 409 ? body?.extra?.job : null;
    if (next && next.id) {
      window.location.assign(`/settings/jobs/${encodeURIComponent(next.id)}`);
      return;
    }
    say(`Could not start it again: ${body?.detail || response.status}`);
  } catch {
    say("Could not start it again: the server did not answer");
  }
  button.disabled = false;
}

byTestId("job-cancel")?.addEventListener("click", cancel);
byTestId("job-retry")?.addEventListener("click", retry);

// The browser's one shared jobs event stream (served by the plugin), so this page does not take
// a connection of its own: it carries every job the user may see; this page keeps its job's.
const LIVE_EVENTS = new Set(["job.created", "job.status_changed", "job.progress", "job.snapshot"]);
subscribeJobEvents({
  apiBase: API,
  onEvent(event) {
    if (!LIVE_EVENTS.has(event.name)) return;
    try {
      if (JSON.parse(event.data).id === jobId) refresh();
    } catch {
      // Not a job payload: nothing to do.
    }
  },
  onStatus(open) {
    if (open) refresh();
  },
});

setInterval(() => {
  if (ACTIVE.has(status)) refresh(); // log lines come without an event of their own
}, POLL_INTERVAL_MS);

setInterval(() => {
  // A running job's duration grows by itself.
  if (job && ACTIVE.has(job.status)) byTestId("job-duration").textContent = durationOf(job);
}, CLOCK_INTERVAL_MS);

