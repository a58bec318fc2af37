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
 * POSTs to `path` and resolves to the job the API answers with. A 409 that carries a job (the
 * one already active, or already finished) resolves to that job with `conflict: true` instead
 * of failing: create, retry and cancel each treat it as done, not as an error.
 */
async function postForJob(path: string, body?: unknown): Promise<{ job: Job; conflict: boolean }> {
  try {
    return { job: await apiRequest<Job>("POST", path, { body }), conflict: false };
  } catch (error) {
    const conflicting = conflictingJob(error);
    if (conflicting !== undefined) {
      return { job: conflicting, conflict: true };
    }
    throw error;
  }
}

/**
 * Creates a job (`POST /api/jobs`). A scan that is already pending or running for the scope
 * answers 409; the mutation then resolves to that scan ("start or join") instead of failing.
 */
export const useCreateJob = () => {
  const queryClient = useQueryClient();
  return useMutation<CreateJobResult, Error, CreateJobPayload>({
    mutationFn: async (payload) => {
      const { job, conflict } = await postForJob("/jobs", payload);
      return { job, joined: conflict };
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

/** What asking to cancel a job led to. */
export interface CancelJobResult {
  /**
   * The job: `cancelled` (it was pending), still `in_progress` with `cancel_requested` (it ends
   * `cancelled` once its handler stops; the live events tell when), or, when `alreadyFinished`,
   * the finished job as the API's 409 showed it.
   */
  job: Job;
  /** True when the API answered 409: the job had finished before the cancel arrived. */
  alreadyFinished: boolean;
}

/** Shows `job` wherever the caches hold it: its own query, the lists, the latest scans. */
async function showChangedJob(queryClient: QueryClient, job: Job): Promise<void> {
  queryClient.setQueryData<Job>([QueryKey.RetrieveJob, job.id], (old) =>
    old === undefined || Date.parse(old.updated_at) <= Date.parse(job.updated_at) ? job : old,
  );
  if (job.library_id !== undefined) {
    showAsLatestScan(queryClient, job, job.library_id);
  }
  await Promise.all([
    queryClient.invalidateQueries({ queryKey: [QueryKey.LatestScanJob] }),
    queryClient.invalidateQueries({ queryKey: [QueryKey.ListJobs] }),
  ]);
}

/**
 * A mutation of `POST /api/jobs/{id}/{action}` (the job id is its variable); `toResult` names
 * what a 409 means for that action. The changed job is shown wherever the caches hold it.
 */
function useJobAction<TResult extends { job: Job }>(
  action: "cancel" | "retry",
  toResult: (job: Job, conflict: boolean) => TResult,
) {
  const queryClient = useQueryClient();
  return useMutation<TResult, Error, number>({
    mutationFn: async (jobId) => {
      const { job, conflict } = await postForJob(`/jobs/${jobId}/${action}`);
      return toResult(job, conflict);
    },
    onSuccess: ({ job }) => showChangedJob(queryClient, job),
  });
}

/**
 * Cancels a job (`POST /api/jobs/{id}/cancel`): a pending job at once, a running one by asking
 * its handler to stop (asking twice is harmless). A job that has already finished answers 409;
 * the mutation then resolves with that job and `alreadyFinished` instead of failing, since
 * what the user wanted (the job no longer running) is true. Errors: 401, 403, 404, network.
 */
export const useCancelJob = () =>
  useJobAction<CancelJobResult>("cancel", (job, conflict) => ({ job, alreadyFinished: conflict }));

/**
 * Runs a finished job again (`POST /api/jobs/{id}/retry`, the job page's "scan again"): the same
 * type, data and library, `trigger: "retry"`, through start or join. When a job of that scope
 * is already active (or the job itself still is), the API answers 409 and the mutation resolves
 * to that job with `joined` instead of failing, as `useCreateJob` does.
 */
export const useRetryJob = () =>
  useJobAction<CreateJobResult>("retry", (job, conflict) => ({ job, joined: conflict }));
