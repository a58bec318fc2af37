// What the resync button shows and does in each state (CONTRACT section 5), apart from the
// component: a module of a component exports only components, or Vite's Fast Refresh reloads
// the whole page on every edit of it.
//
// Each state is a case in `resyncState`, a tooltip, a line in `CLICK_ACTIONS` and, where it
// needs attention, a badge in `BADGED_STATES`; the component renders from these.

import { formatDistance } from "date-fns";

import { isActiveJob } from "../../hooks/queries/jobs";
import { ApiError } from "../../lib/api";
import { JobStatus, type Job } from "../../types/generated";

/** The button's `data-state`. */
export type ResyncState =
  | "loading"
  | "idle"
  | "starting"
  | "active"
  | "waiting"
  | "stalled"
  | "failed"
  | "completed"
  | "warning"
  | "cancelled";

/** What a click does in a state: start a scan, open the latest scan's page, or nothing. */
export type ResyncClickAction = "start" | "open" | "none";

export const CLICK_ACTIONS: Readonly<Record<ResyncState, ResyncClickAction>> = {
  loading: "none",
  idle: "start",
  starting: "none",
  active: "open",
  waiting: "open",
  stalled: "open",
  failed: "open",
  completed: "start",
  warning: "start",
  cancelled: "start",
};

/**
 * States with a badge over the icon, each its own shape so none reads by colour alone:
 * failed a triangle, warning a circle with "!", stalled a pause sign, waiting a clock.
 */
export type ResyncBadge = "failed" | "warning" | "stalled" | "waiting";
export const BADGED_STATES: ReadonlySet<ResyncState> = new Set<ResyncBadge>([
  "failed",
  "warning",
  "stalled",
  "waiting",
]);

/** The same words as the badge, for screen readers (the tooltip says the rest). */
export const BADGE_TEXTS: Readonly<Record<ResyncBadge, string>> = {
  failed: "Last scan failed",
  warning: "Last scan had warnings",
  stalled: "Scan stalled",
  waiting: "Scan waiting",
};

/** States whose icon spins (all others stand still). */
export const SPINNING_STATES: ReadonlySet<ResyncState> = new Set<ResyncState>([
  "starting",
  "active",
]);

/** States in which the button ignores clicks (`aria-disabled`). */
export const BUSY_STATES: ReadonlySet<ResyncState> = new Set<ResyncState>(["loading", "starting"]);

/** How often the relative time of the tooltip is refreshed, in milliseconds. */
export const CLOCK_INTERVAL_MS = 15_000;

/** How long the reason a click could not start a scan stays on the button, in milliseconds. */
export const START_ERROR_DISPLAY_MS = 5_000;

export const defaultJobPageUrl = (jobId: number): string => `/settings/jobs/${jobId}`;

/** How many warnings a scan has: its live count, or its result's. */
export function warningCount(job: Job | undefined): number {
  const fromResult = job?.result?.["warnings"];
  const count = job?.warnings ?? (typeof fromResult === "number" ? fromResult : 0);
  return Number.isInteger(count) && count > 0 ? count : 0;
}

/** The button's state from the latest scan and whether a scan is being created. */
export function resyncState(
  latest: Job | undefined,
  { loading, starting }: { loading: boolean; starting: boolean },
): ResyncState {
  if (starting) return "starting";
  if (loading) return "loading";
  if (latest === undefined) return "idle";
  if (isActiveJob(latest)) {
    if (latest.status === JobStatus.Pending && latest.waiting) return "waiting";
    if (latest.status === JobStatus.InProgress && latest.stalled_since) return "stalled";
    return "active";
  }
  switch (latest.status) {
    case JobStatus.Failed:
      return "failed";
    case JobStatus.Cancelled:
      return "cancelled";
    default:
      return warningCount(latest) > 0 ? "warning" : "completed";
  }
}

/** "no worker is running" from the API's "No worker is running.": a clause of the tooltip. */
function asClause(reason: string): string {
  const text = reason.trim().replace(/\.$/, "");
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The tooltip (and aria-label) of a state, with times relative to `now`. */
export function resyncTooltip(state: ResyncState, latest: Job | undefined, now: number): string {
  // formatDistanceToNow against an explicit `now`, so the text follows the refresh clock. A time
  // after `now` (server clock ahead, or a job newer than the last tick) still reads as past.
  const at = (timestamp: string | undefined) =>
    timestamp === undefined ? now : Math.min(Date.parse(timestamp), now);
  const ago = (timestamp: string | undefined) =>
    formatDistance(at(timestamp), now, { addSuffix: true });
  const finished = latest?.finished_at ?? latest?.updated_at;
  switch (state) {
    case "loading":
      return "Loading scan status";
    case "starting":
      return "Starting scan...";
    case "active": {
      const started = `Scan started ${ago(latest?.started_at ?? latest?.created_at)}`;
      return latest?.cancel_requested ? `${started} - stopping` : started;
    }
    case "waiting":
      return `Scan waiting - ${asClause(latest?.waiting ?? "No worker is running.")}`;
    case "stalled": {
      const stalled = `Scan stalled - no progress for ${formatDistance(at(latest?.stalled_since), now)}`;
      return latest?.cancel_requested ? `${stalled} - stopping` : stalled;
    }
    case "failed":
      return "Last scan failed - view logs";
    case "completed":
      return `Last synced ${ago(finished)}`;
    case "warning": {
      const count = warningCount(latest);
      return `Last synced ${ago(finished)} - ${count} warning${count === 1 ? "" : "s"}`;
    }
    case "cancelled":
      return `Last scan cancelled ${ago(finished)}`;
    case "idle":
      return "Resync library";
  }
}

/**
 * What the live region says when the button moves into a state: the tooltip, with the progress
 * while a scan runs (the same words as the plugin's custom element).
 */
export function resyncAnnouncement(
  state: ResyncState,
  tooltip: string,
  latest: Job | undefined,
): string {
  return state === "active" && latest !== undefined
    ? `${tooltip}, ${latest.progress}% done`
    : tooltip;
}

/**
 * Why a scan could not be started, shown on the button and announced: the API's `detail`
 * (401 "Sign in to use the jobs API.", 403 "You need the jobs:write permission.", a refused
 * CSRF token...), or that the server did not answer (network down, proxy error without JSON).
 */
export function startFailure(error: Error): string {
  const reason = error instanceof ApiError ? error.message : "the server did not answer";
  return `Could not start the scan: ${reason}`;
}
