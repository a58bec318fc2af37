// TanStack Query hooks of the jobs API (CONTRACT section 4).

import {
  useMutation,
  useQuery,
  useQueryClient,
  type Query,
  type QueryClient,
} from "@tanstack/react-query";

import { ApiError, apiRequest } from "../../lib/api";
import {
  JobStatus,
  JobType,
  type CreateJobPayload,
  type Job,
  type ListJobLogsResponse,
  type ListJobsQuery,
  type ListJobsResponse,
} from "../../types/generated";

// A const object, not an enum: Vite's react-ts template sets `erasableSyntaxOnly`, which refuses
// enums (TS1294). `QueryKey.LatestScanJob` reads the same; `QueryKey` is also the type of a key.
export const QueryKey = {
  RetrieveJob: "RetrieveJob",
  ListJobs: "ListJobs",
  ListJobLogs: "ListJobLogs",
  LatestScanJob: "LatestScanJob",
} as const;
export type QueryKey = (typeof QueryKey)[keyof typeof QueryKey];

/** How often the latest scan is re-read while it is pending or running, in milliseconds. */
export const ACTIVE_REFETCH_INTERVAL_MS = 2_000;
/** How often it is re-read otherwise (another user or a schedule may start one), in milliseconds. */
export const IDLE_REFETCH_INTERVAL_MS = 30_000;

/** Pending or in progress: a worker will run it or is running it. */
export function isActiveJob(job: Job | undefined): boolean {
  return job?.status === JobStatus.Pending || job?.status === JobStatus.InProgress;
}

/** The polling interval for a latest-scan answer: quick while a scan is active. */
export function latestScanRefetchInterval(data: ListJobsResponse | undefined): number {
  return isActiveJob(data?.jobs[0]) ? ACTIVE_REFETCH_INTERVAL_MS : IDLE_REFETCH_INTERVAL_MS;
}

export const useJob = (id: number | undefined) =>
  useQuery<Job, Error>({
    queryKey: [QueryKey.RetrieveJob, id],
    queryFn: ({ signal }) => apiRequest<Job>("GET", `/jobs/${id}`, { signal }),
    enabled: id !== undefined,
  });

export const useJobs = (query: ListJobsQuery = {}) =>
  useQuery<ListJobsResponse, Error>({
    queryKey: [QueryKey.ListJobs, query],
    queryFn: ({ signal }) =>
      apiRequest<ListJobsResponse>("GET", "/jobs", { query: { ...query }, signal }),
  });

export const useJobLogs = (jobId: number | undefined, afterId?: number) =>
  useQuery<ListJobLogsResponse, Error>({
    queryKey: [QueryKey.ListJobLogs, jobId, afterId],
    queryFn: ({ signal }) =>
      apiRequest<ListJobLogsResponse>("GET", `/jobs/${jobId}/logs`, {
        query: { after_id: afterId },
        signal,
      }),
    enabled: jobId !== undefined,
  });

/**
 * The newest scan that concerns a library: its own or a global one (`library_id_or_global`).
 * Polls every 2 s while that scan is active and every 30 s otherwise; disabled without a library.
 */
export const useLatestScanJob = (libraryId: number | undefined) =>
  useQuery<ListJobsResponse, Error>({
    queryKey: [QueryKey.LatestScanJob, libraryId],
    queryFn: ({ signal }) =>
      apiRequest<ListJobsResponse>("GET", "/jobs", {
        query: { type: JobType.Scan, library_id_or_global: libraryId, limit: 1 },
        signal,
      }),
    enabled: libraryId !== undefined,
    refetchInterval: (query: Query<ListJobsResponse, Error>) =>
      latestScanRefetchInterval(query.state.data),
  });

/** What creating a job led to: a new job, or the scan already running that was joined. */
export interface CreateJobResult {
  job: Job;
  /** True when the API answered 409 and `job` is the scan that was already pending or running. */
  joined: boolean;
}

/** Whether a decoded JSON value (an event's data, a 409's `extra.job`) is a Job. */
export function isJob(value: unknown): value is Job {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const job = value as Record<string, unknown>;
  return (
    typeof job["id"] === "number" &&
    typeof job["type"] === "string" &&
    typeof job["status"] === "string" &&
    typeof job["created_at"] === "string" &&
    typeof job["updated_at"] === "string"
  );
}

/** The active job of a 409 answer (`extra.job`), if the answer carries one. */
export function conflictingJob(error: unknown): Job | undefined {
  if (error instanceof ApiError && error.status === 409) {
    const job = error.body?.extra?.["job"];
    if (isJob(job)) {
      return job;
    }
  }
  return undefined;
}

/**
 * Which of two scans to show as a library's latest: the newer scan (created later; the higher
 * id on a tie), and of two states of the same scan the newer one (by `updated_at`; on a tie
 * `arrived`). Events and answers can cross on the way (a scan may even finish before the
 * request that created it has answered), so what arrives last is not always the newest.
 */
export function newestScan(shown: Job | undefined, arrived: Job): Job {
  if (shown === undefined) {
    return arrived;
  }
  if (arrived.id === shown.id) {
    return Date.parse(arrived.updated_at) < Date.parse(shown.updated_at) ? shown : arrived;
  }
  const shownAt = Date.parse(shown.created_at);
  const arrivedAt = Date.parse(arrived.created_at);
  const arrivedIsNewer = arrivedAt > shownAt || (arrivedAt === shownAt && arrived.id > shown.id);
  return arrivedIsNewer ? arrived : shown;
}

/**
 * Shows a scan that arrived outside a status answer (the answer of `POST /api/jobs`, or a live
 * event) as the latest scan of `libraryId`, unless the one shown is newer (see `newestScan`).
 * Jobs of other types or of another library are left out; a global scan concerns every library.
 */
export function showAsLatestScan(
  queryClient: QueryClient,
  job: Job,
  libraryId: number | undefined,
): void {
  const concernsLibrary = job.library_id === undefined || job.library_id === libraryId;
  if (job.type !== JobType.Scan || libraryId === undefined || !concernsLibrary) {
    return;
  }
  queryClient.setQueryData<ListJobsResponse>([QueryKey.LatestScanJob, libraryId], (old) => {
    const shown = old?.jobs[0];
    const newest = newestScan(shown, job);
    if (old !== undefined && newest === shown) {
      return old; // unchanged: no re-render
    }
    return { jobs: [newest], total: Math.max(old?.total ?? 0, 1) };
  });
}

/**
 * Creates a job (`POST /api/jobs`). A scan that is already pending or running for the scope
 * answers 409; the mutation then resolves to that scan ("start or join") instead of failing.
 */
export const useCreateJob = () => {
  const queryClient = useQueryClient();
  return useMutation<CreateJobResult, Error, CreateJobPayload>({
    mutationFn: async (payload) => {
      try {
        const job = await apiRequest<Job>("POST", "/jobs", { body: payload });
        return { job, joined: false };
      } catch (error) {
        const active = conflictingJob(error);
        if (active !== undefined) {
          return { job: active, joined: true };
        }
        throw error;
      }
    },
    onSuccess: async ({ job }, payload) => {
      // The answer may be older than what the events already showed (the scan finished
      // before the POST answered): the newest state wins, then the refetch confirms it.
      showAsLatestScan(queryClient, job, payload.library_id ?? undefined);
      // Awaited so the mutation stays pending ("Starting scan...") until the lists are fresh.
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: [QueryKey.LatestScanJob] }),
        queryClient.invalidateQueries({ queryKey: [QueryKey.ListJobs] }),
      ]);
    },
  });
};
