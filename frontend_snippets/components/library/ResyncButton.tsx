// The resync button of the top nav (CONTRACT section 5), for React hosts.
//
// Self-contained on purpose: a plain <button> with a native `title` tooltip, styled by
// ResyncButton.css (plain CSS in a cascade layer, no Tailwind needed; every part has a class the
// host can restyle). A host with its own Button/Tooltip components (shadcn/ui in Shisho) swaps
// them in; see the README. The states, texts and click rules are in resyncButtonState.ts.

import "./ResyncButton.css";

import { AlertTriangle, RefreshCw } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router";

import { useCreateJob, useLatestScanJob } from "../../hooks/queries/jobs";
import { useJobEvents } from "../../hooks/useJobEvents";
import { JobType } from "../../types/generated";
import {
  BUSY_STATES,
  CLICK_ACTIONS,
  CLOCK_INTERVAL_MS,
  SPINNING_STATES,
  START_ERROR_DISPLAY_MS,
  defaultJobPageUrl,
  resyncAnnouncement,
  resyncState,
  resyncTooltip,
  startFailure,
  type ResyncState,
} from "./resyncButtonState";

export interface ResyncButtonProps {
  /** The selected library. */
  libraryId: number;
  /** The page of a job, opened by a click while a scan runs or after it failed. */
  jobPageUrl?: (jobId: number) => string;
  /** Subscribe to the live job events (default). Without them the button still polls. */
  liveEvents?: boolean;
  /** How often the relative time is refreshed, in milliseconds. */
  clockIntervalMs?: number;
  /**
   * Called when a click could not start a scan: an `ApiError` (401 signed out, 403 no
   * permission or a refused CSRF token, ...) or the `TypeError` of a request that got no answer.
   * The button shows the reason itself for `startErrorDisplayMs`; use this to sign in again,
   * report, or show a toast.
   */
  onError?: (error: Error) => void;
  /** How long the reason a click failed stays visible on the button, in milliseconds. */
  startErrorDisplayMs?: number;
  /** Extra class names for the `<button>` (the host's own styles). */
  className?: string;
}

/**
 * The resync button of one library. Moving it to another library starts afresh, as a new mount
 * does: nothing of the previous library (a failure shown, a scan being started, the live
 * region's last words) carries over, and the new library's first status is not announced
 * (the same rule as on page load; its tooltip says it to whoever focuses the button).
 */
export function ResyncButton(props: ResyncButtonProps) {
  return <LibraryResyncButton key={props.libraryId} {...props} />;
}

function LibraryResyncButton({
  libraryId,
  jobPageUrl = defaultJobPageUrl,
  liveEvents = true,
  clockIntervalMs = CLOCK_INTERVAL_MS,
  onError,
  startErrorDisplayMs = START_ERROR_DISPLAY_MS,
  className,
}: ResyncButtonProps) {
  const navigate = useNavigate();
  const latestScan = useLatestScanJob(libraryId);
  const createJob = useCreateJob();
  useJobEvents(liveEvents ? libraryId : undefined);
  const now = useNow(clockIntervalMs);
  const [startError, showStartError] = useShownFor(startErrorDisplayMs);

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
    startError,
  );
  const spinning = SPINNING_STATES.has(state);
  const busy = BUSY_STATES.has(state);

  const handleClick = () => {
    const action = CLICK_ACTIONS[state];
    if (action === "open" && latest !== undefined) {
      void navigate(jobPageUrl(latest.id));
    } else if (action === "start") {
      showStartError(undefined);
      createJob.mutate(
        { type: JobType.Scan, data: {}, library_id: libraryId },
        {
          onError: (error) => {
            showStartError(startFailure(error));
            onError?.(error);
          },
        },
      );
    }
  };

  return (
    <span className="shisho-resync-button" data-job-id={latest?.id} data-state={state}>
      {/* aria-disabled, not disabled: a disabled button drops the keyboard focus on Enter. */}
      <button
        aria-busy={busy || state === "active"}
        aria-disabled={busy}
        aria-label={tooltip}
        className={
          className === undefined
            ? "shisho-resync-button__button"
            : `shisho-resync-button__button ${className}`
        }
        data-state={state}
        onClick={handleClick}
        title={startError ?? tooltip}
        type="button"
      >
        {/* Sizes as attributes too: without the stylesheet the icons are 16 and 12 px, not 24. */}
        <RefreshCw
          aria-hidden="true"
          className={
            spinning
              ? "shisho-resync-button__icon shisho-resync-button__icon--spinning"
              : "shisho-resync-button__icon"
          }
          size={16}
        />
        {state === "active" && latest !== undefined ? (
          <span
            aria-hidden="true"
            className="shisho-resync-button__progress"
            data-testid="resync-progress"
          >
            {latest.progress}%
          </span>
        ) : null}
        {state === "failed" ? (
          <>
            <AlertTriangle
              aria-hidden="true"
              className="shisho-resync-button__badge"
              data-testid="resync-warning-badge"
              size={12}
            />
            <span className="shisho-resync-button__sr-only">Last scan failed</span>
          </>
        ) : null}
        {startError !== undefined ? (
          // Visible, not only announced (CONTRACT section 5); the live region says it as well.
          <span
            aria-hidden="true"
            className="shisho-resync-button__error"
            data-testid="resync-error"
          >
            {startError}
          </span>
        ) : null}
      </button>
      <span
        aria-atomic="true"
        aria-live="polite"
        className="shisho-resync-button__sr-only"
        role="status"
      >
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

/** A text shown for `durationMs` after it is set (undefined: nothing shown). */
function useShownFor(durationMs: number): [string | undefined, (text: string | undefined) => void] {
  const [shown, setShown] = useState<{ text: string } | undefined>(undefined);
  useEffect(() => {
    if (shown === undefined) {
      return undefined;
    }
    const timer = setTimeout(() => setShown(undefined), durationMs);
    return () => clearTimeout(timer);
  }, [shown, durationMs]);
  // A new object each time: the same failure twice in a row restarts its timer.
  return [shown?.text, (text) => setShown(text === undefined ? undefined : { text })];
}

/**
 * The live region's text: `message` when the state changes after the first answer (not on page
 * load, which would be noise), or why a scan could not be started.
 */
function useAnnouncement(state: ResyncState, message: string, startError: string | undefined) {
  const [announcement, setAnnouncement] = useState("");
  const previous = useRef<ResyncState>(state);
  useEffect(() => {
    const before = previous.current;
    previous.current = state;
    if (before !== state && before !== "loading") {
      setAnnouncement(message);
    }
  }, [state, message]);
  // Set after the state's own announcement: a quick failure may never render "starting" at all.
  useEffect(() => {
    if (startError !== undefined) {
      setAnnouncement(startError);
    }
  }, [startError]);
  return announcement;
}
