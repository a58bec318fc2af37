// Keeps the job page current while the job runs: status, progress, timestamps and new log lines.
// Live through the plugin's event stream; a slow poll covers a stream that cannot connect.
import { subscribeJobEvents } from "/static/shisho-resync/job-events.js";

const section = document.getElementById("job");
const jobId = Number(section.dataset.jobId);
const API = "/api";
const POLL_INTERVAL_MS = 2000;
const ACTIVE = new Set(["pending", "in_progress"]);
let lastLogId = Number(section.dataset.lastLogId || 0);
let status = document.querySelector('[data-testid="job-status"]').textContent.trim();

const pad = (n) => String(n).padStart(2, "0");
function formatTimestamp(iso) {
  const d = new Date(iso);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

function setTime(testId, iso) {
  const el = document.querySelector(`[data-testid="${testId}"]`);
  if (!iso) return;
  el.dateTime = iso;
  el.textContent = formatTimestamp(iso);
}

function render(job) {
  status = job.status;
  const statusEl = document.querySelector('[data-testid="job-status"]');
  statusEl.textContent = job.status;
  statusEl.className = `status status-${job.status}`;
  document.querySelector('[data-testid="job-progress"]').value = job.progress;
  document.querySelector('[data-testid="job-progress-text"]').textContent = `${job.progress}%`;
  setTime("job-started", job.started_at);
  setTime("job-finished", job.finished_at);
  if (job.error) document.querySelector('[data-testid="job-error"]').textContent = job.error;
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
  document.querySelector('[data-testid="job-logs"]').append(item);
}

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
      const logsResponse = await fetch(`${API}/jobs/${jobId}/logs?after_id=${lastLogId}`, {
        credentials: "same-origin",
      });
      if (logsResponse.ok) {
        for (const log of (await logsResponse.json()).logs) {
          if (log.id > lastLogId) {
            appendLog(log);
            lastLogId = log.id;
          }
        }
      }
    } while (again);
  } catch {
    // Offline for a moment: the next event or poll tries again.
  } finally {
    refreshing = false;
  }
}

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
