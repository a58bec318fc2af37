// Keeps the jobs list's "Workers" table current: workers come and go without a job event, so
// the table asks GET /api/jobs/workers every few seconds while the page is visible.
const API = "/api";
const POLL_INTERVAL_MS = 3000;
const rows = document.querySelector('[data-testid="worker-rows"]');
const table = rows.closest("table");
const none = document.querySelector('[data-testid="no-workers"]');

const pad = (n) => String(n).padStart(2, "0");
function formatTimestamp(iso) {
  const d = new Date(iso);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function timeCell(iso) {
  const td = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = iso;
  time.textContent = formatTimestamp(iso);
  td.append(time);
  return td;
}

function render(workers) {
  rows.replaceChildren(
    ...workers.map((worker) => {
      const row = document.createElement("tr");
      row.dataset.testid = "worker-row";
      row.dataset.workerId = worker.id;
      row.append(
        cell(worker.id),
        cell(worker.host),
        cell(String(worker.pid)),
        cell(String(worker.concurrency)),
        cell(worker.job_types.join(", ")),
        timeCell(worker.started_at),
        timeCell(worker.heartbeat_at),
      );
      return row;
    }),
  );
  table.hidden = workers.length === 0;
  none.hidden = workers.length > 0;
}

async function refresh() {
  if (document.visibilityState !== "visible") return;
  try {
    const response = await fetch(`${API}/jobs/workers`, { credentials: "same-origin" });
    if (response.ok) render((await response.json()).workers);
  } catch {
    // Offline for a moment: the next poll tries again.
  }
}

setInterval(refresh, POLL_INTERVAL_MS);
document.addEventListener("visibilitychange", refresh);
