// Live job events (`GET /api/jobs/events`, Server-Sent Events) turned into query invalidations.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { apiUrl } from "../lib/api";
import { JobEventName, type Job } from "../types/generated";
import { QueryKey } from "./queries/jobs";

const EVENT_NAMES: readonly JobEventName[] = Object.values(JobEventName);

/**
 * Subscribes to the job events of a library (its jobs and global ones) while mounted, and
 * invalidates the LatestScanJob, ListJobs and RetrieveJob queries on `job.created`,
 * `job.status_changed` and `job.progress`, so the button reacts without waiting for its poll.
 *
 * The browser's EventSource reconnects by itself (resuming with `Last-Event-ID`); while it is
 * down, the polling of `useLatestScanJob` still keeps the button current.
 *
 * @param libraryId The selected library; nothing is subscribed without one.
 */
export function useJobEvents(libraryId: number | undefined): void {
  const queryClient = useQueryClient();

  useEffect(() => {
    if (libraryId === undefined || typeof EventSource === "undefined") {
      return undefined;
    }
    const source = new EventSource(apiUrl("/jobs/events", { library_id: libraryId }), {
      withCredentials: true,
    });
    const onJobEvent = (event: MessageEvent<string>) => {
      const jobId = parseJobId(event.data);
      void queryClient.invalidateQueries({ queryKey: [QueryKey.LatestScanJob] });
      void queryClient.invalidateQueries({ queryKey: [QueryKey.ListJobs] });
      void queryClient.invalidateQueries({
        queryKey: jobId === undefined ? [QueryKey.RetrieveJob] : [QueryKey.RetrieveJob, jobId],
      });
    };
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, onJobEvent);
    }
    return () => {
      for (const name of EVENT_NAMES) {
        source.removeEventListener(name, onJobEvent);
      }
      source.close();
    };
  }, [libraryId, queryClient]);
}

// The event's data is the Job JSON; only its id is needed to pick the query to refresh.
function parseJobId(data: string): number | undefined {
  try {
    const job = JSON.parse(data) as Partial<Job>;
    return typeof job.id === "number" ? job.id : undefined;
  } catch {
    return undefined;
  }
}
