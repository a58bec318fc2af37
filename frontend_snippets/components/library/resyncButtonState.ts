// What the resync button shows and does in each state (CONTRACT section 5), apart from the
// component: a module of a component exports only components, or Vite's Fast Refresh reloads
// the whole page on every edit of it.
//
// New states (waiting, stalled, warning, cancelled) join here: a case in `resyncState`, a
// tooltip, and a line in `CLICK_ACTIONS`; the component renders from these.

import { formatDistance } from "date-fns";

import { isActiveJob } from "../../hooks/queries/jobs";
import { ApiError } from "../../lib/api";
import { JobStatus, type Job } from "../../types/generated";

/** The button's `data-state`. */
export type ResyncState = "loading" | "idle" | "starting" | "active" | "failed" | "completed";

/** What a click does in a state: start a scan, open the latest scan's page, or nothing. */
export type ResyncClickAction = "start" | "open" | "none";

export const CLICK_ACTIONS: Readonly<Record<ResyncState, ResyncClickAction>> = {
  loading: "none",
  idle: "start",
  starting: "none",
  active: "open",
  failed: "open",
  completed: "start",
};

/** States whose icon spins (all others stand still). */
export const SPINNING_STATES: ReadonlySet<ResyncState> = new Set(["starting", "active"]);

/** States in which the button ignores clicks (`aria-disabled`). */
export const BUSY_STATES: ReadonlySet<ResyncState> = new Set(["loading", "starting"]);

/** How often the relative time of the tooltip is refreshed, in milliseconds. */
export const CLOCK_INTERVAL_MS = 15_000;

/** How long the reason a click could not start a scan stays on the button, in milliseconds. */
export const START_ERROR_DISPLAY_MS = 5_000;

export const defaultJobPageUrl = (jobId: number): string => `/settings/jobs/${jobId}`;

/** The button's state from the latest scan and whether a scan is being created. */
export function resyncState(
  latest: Job | undefined,
  { loading, starting }: { loading: boolean; starting: boolean },
): ResyncState {
  if (starting) return "starting";
  if (loading) return "loading";
  if (latest === undefined) return "idle";
  if (isActiveJob(latest)) return "active";
  return latest.status === JobStatus.Failed ? "failed" : "completed";
}

/** The tooltip (and aria-label) of a state, with times relative to `now`. */
export function resyncTooltip(state: ResyncState, latest: Job | undefined, now: number): string {
  // formatDistanceToNow against an explicit `now`, so the text follows the refresh clock. A time
  // after `now` (server clock ahead, or a job newer than the last tick) still reads as past.
  const ago = (timestamp: string | undefined) => {
    const then = timestamp === undefined ? now : Math.min(Date.parse(timestamp), now);
    return formatDistance(then, now, { addSuffix: true });
  };
  switch (state) {
    case "loading":
      return "Loading scan status";
    case "starting":
      return "Starting scan...";
    case "active":
      return `Scan started ${ago(latest?.started_at ?? latest?.created_at)}`;
    case "failed":
      return "Last scan failed - view logs";
    case "completed":
      return `Last synced ${ago(latest?.finished_at ?? latest?.updated_at)}`;
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
