// Live job events (`GET /api/jobs/events`, Server-Sent Events) turned into query invalidations.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { JobEventName, type Job } from "../types/generated";
import { QueryKey, isJob, showAsLatestScan } from "./queries/jobs";
import { subscribeJobEvents, type SharedJobEventsOptions } from "./sharedJobEvents";

const EVENT_NAMES: readonly JobEventName[] = Object.values(JobEventName);

/**
 * Subscribes to the job events of a library (its jobs and global ones) while mounted. On
 * `job.created`, `job.status_changed` and `job.progress` the event's job is shown at once as the
 * library's latest scan when it is newer than the one shown (`showAsLatestScan`), and the
 * LatestScanJob, ListJobs and RetrieveJob queries are invalidated, so the button reacts without
 * waiting for its poll. Events that arrive while a scan is being created are not lost: the
 * create answer, which may be older than them, does not overwrite them.
 *
 * The events come from the browser's one shared stream (`sharedJobEvents`: the plugin's own
 * `job-events.js`, loaded from the server, shared with every tab and with the plugin's element),
 * which carries every library the user may see; this hook keeps its library's. The stream reconnects by itself (resuming with `Last-Event-ID`, or
 * sending `job.snapshot` events when the missed ones are gone); each (re)connect also refetches
 * the latest scan, so nothing missed before or while the stream was down waits for the next poll. While it is
 * down, the polling of `useLatestScanJob` keeps the button current.
 *
 * @param libraryId The selected library; nothing is subscribed without one.
 * @param options `staticPath`: where the plugin serves its assets, when not the default
 *   (`/static/shisho-resync`, or the one given to `setJobEventsStaticPath`).
 */
export function useJobEvents(
  libraryId: number | undefined,
  { staticPath }: SharedJobEventsOptions = {},
): void {
  const queryClient = useQueryClient();

  useEffect(() => {
    if (libraryId === undefined) {
      return undefined;
    }
    const onJobEvent = (data: string) => {
      const job = parseJob(data);
      if (job !== undefined) {
        showAsLatestScan(queryClient, job, libraryId);
      }
      const jobId = job?.id;
      void queryClient.invalidateQueries({ queryKey: [QueryKey.LatestScanJob] });
      void queryClient.invalidateQueries({ queryKey: [QueryKey.ListJobs] });
      void queryClient.invalidateQueries({
        queryKey: jobId === undefined ? [QueryKey.RetrieveJob] : [QueryKey.RetrieveJob, jobId],
      });
    };
    return subscribeJobEvents(
      {
        onEvent(event) {
          if (EVENT_NAMES.includes(event.name as JobEventName)) {
            onJobEvent(event.data);
          }
        },
        onStatus(open) {
          // Also on the first open: the shared stream may connect (a SharedWorker starting) after
          // the first status answer, and a first connection has no Last-Event-ID to replay from.
          if (open) {
            void queryClient.invalidateQueries({ queryKey: [QueryKey.LatestScanJob] });
          }
        },
      },
      { staticPath },
    );
  }, [libraryId, queryClient, staticPath]);
}

// The event's data is the Job JSON; anything else only triggers the refetches.
function parseJob(data: string): Job | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isJob(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
