// The resync button of the top nav (CONTRACT section 5), for React hosts.
//
// Self-contained on purpose: a plain <button> with a native `title` tooltip and Tailwind class
// names. A host with its own Button/Tooltip components (shadcn/ui in Shisho) swaps them in; see
// the README.

import { formatDistance } from "date-fns";
import { AlertTriangle, RefreshCw } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router";

import { isActiveJob, useCreateJob, useLatestScanJob } from "../../hooks/queries/jobs";
import { ApiError } from "../../lib/api";
import { useJobEvents } from "../../hooks/useJobEvents";
import { JobStatus, JobType, type Job } from "../../types/generated";

export type ResyncState = "loading" | "idle" | "starting" | "active" | "failed" | "completed";

/** How often the relative time of the tooltip is refreshed, in milliseconds. */
export const CLOCK_INTERVAL_MS = 15_000;

export const defaultJobPageUrl = (jobId: number): string => `/settings/jobs/${jobId}`;

export interface ResyncButtonProps {
  /** The selected library. */
  libraryId: number;
  /** The page of a job, opened by a click while a scan runs or after it failed. */
  jobPageUrl?: (jobId: number) => string;
  /** Subscribe to the live job events (default). Without them the button still polls. */
  liveEvents?: boolean;
  /** How often the relative time is refreshed, in milliseconds. */
  clockIntervalMs?: number;
}

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
    default:
      return "Resync library";
  }
}

/**
 * What the live region says when the button moves into a state: the tooltip, with the progress
 * while a scan runs (the same words as the plugin's custom element).
 */
export function resyncAnnouncement(state: ResyncState, tooltip: string, latest: Job | undefined) {
  return state === "active" && latest !== undefined
    ? `${tooltip}, ${latest.progress}% done`
    : tooltip;
}

/** Why a scan could not be started, for the live region. */
export function startFailure(error: Error): string {
  const reason = error instanceof ApiError ? error.message : "the server did not answer";
  return `Could not start the scan: ${reason}`;
}

export function ResyncButton({
  libraryId,
  jobPageUrl = defaultJobPageUrl,
  liveEvents = true,
  clockIntervalMs = CLOCK_INTERVAL_MS,
}: ResyncButtonProps) {
  const navigate = useNavigate();
  const latestScan = useLatestScanJob(libraryId);
  const createJob = useCreateJob();
  useJobEvents(liveEvents ? libraryId : undefined);
  const now = useNow(clockIntervalMs);

  const latest = latestScan.data?.jobs[0];
  const state = resyncState(latest, {
    // Pending means "no answer yet"; a failed status request ends it, so the button stays usable.
    loading: latestScan.isPending,
    starting: createJob.isPending,
  });
  const tooltip = resyncTooltip(state, latest, now);
  const announcement = useAnnouncement(
    state,
    resyncAnnouncement(state, tooltip, latest),
    createJob.error,
  );
  const spinning = state === "starting" || state === "active";
  const busy = state === "loading" || state === "starting";

  const handleClick = () => {
    if ((state === "active" || state === "failed") && latest !== undefined) {
      void navigate(jobPageUrl(latest.id));
    } else if (state === "idle" || state === "completed") {
      createJob.mutate({ type: JobType.Scan, data: {}, library_id: libraryId });
    }
  };

  return (
    <span
      className="shisho-resync-button relative inline-flex"
      data-job-id={latest?.id}
      data-state={state}
    >
      {/* aria-disabled, not disabled: a disabled button drops the keyboard focus on Enter. */}
      <button
        aria-busy={busy || state === "active"}
        aria-disabled={busy}
        aria-label={tooltip}
        className="relative inline-flex h-9 min-w-9 items-center justify-center gap-1 rounded-md px-2 hover:bg-accent aria-disabled:cursor-progress aria-disabled:opacity-50"
        data-state={state}
        onClick={handleClick}
        title={tooltip}
        type="button"
      >
        <RefreshCw
          aria-hidden="true"
          className={`h-4 w-4${spinning ? " shisho-resync-spin animate-spin motion-reduce:animate-none" : ""}`}
        />
        {state === "active" && latest !== undefined ? (
          <span aria-hidden="true" className="text-xs tabular-nums" data-testid="resync-progress">
            {latest.progress}%
          </span>
        ) : null}
        {state === "failed" ? (
          <>
            <AlertTriangle
              aria-hidden="true"
              className="absolute -right-0.5 -top-0.5 h-3 w-3 text-yellow-500"
              data-testid="resync-warning-badge"
            />
            <span className="sr-only">Last scan failed</span>
          </>
        ) : null}
      </button>
      <span aria-atomic="true" aria-live="polite" className="sr-only" role="status">
        {announcement}
      </span>
    </span>
  );
}

/** The current time, refreshed every `intervalMs` so relative times stay current. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * The live region's text: `message` when the state changes after the first answer (not on page
 * load, which would be noise), or why a scan could not be started.
 */
function useAnnouncement(state: ResyncState, message: string, error: Error | null) {
  const [announcement, setAnnouncement] = useState("");
  const previous = useRef<ResyncState>(state);
  useEffect(() => {
    const before = previous.current;
    previous.current = state;
    if (before !== state && before !== "loading") {
      setAnnouncement(message);
    }
  }, [state, message]);
  // Keyed on the error object: a quick failure may never render "starting" at all.
  useEffect(() => {
    if (error !== null) {
      setAnnouncement(startFailure(error));
    }
  }, [error]);
  return announcement;
}
