import type { QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import {
  ACTIVE_REFETCH_INTERVAL_MS,
  IDLE_REFETCH_INTERVAL_MS,
  QueryKey,
  useCreateJob,
  useJob,
  useJobs,
  useLatestScanJob,
} from "../hooks/queries/jobs";
import { useJobEvents } from "../hooks/useJobEvents";
import { ApiError, apiRequest } from "../lib/api";
import type { Job, ListJobsResponse } from "../types/generated";
import { FakeEventSource } from "./support/fakeEventSource";
import { FakeJobsApi, json, makeJob, scanAlreadyActive } from "./support/fakeApi";
import { newQueryClient, queryClientWrapper } from "./support/render";

let api: FakeJobsApi;
let client: QueryClient;
const wrapper = queryClientWrapper(() => client);

beforeEach(() => {
  api = new FakeJobsApi().install();
  client = newQueryClient();
});

describe("useLatestScanJob", () => {
  it("asks nothing without a selected library", async () => {
    const { result } = renderHook(() => useLatestScanJob(undefined), { wrapper });
    await act(async () => undefined);
    expect(result.current.fetchStatus).toBe("idle");
    expect(api.requests).toHaveLength(0);
  });

  it("polls every 2 s while the scan is active and every 30 s once it is not", async () => {
    vi.useFakeTimers();
    const job = makeJob({ status: "in_progress" });
    api.jobs = [job];
    const lists = () => api.requestsTo("GET", "/api/jobs").length;
    const { result } = renderHook(() => useLatestScanJob(1), { wrapper });
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current.data?.jobs[0]?.id).toBe(job.id);
    expect(lists()).toBe(1);

    await act(() => vi.advanceTimersByTimeAsync(ACTIVE_REFETCH_INTERVAL_MS));
    expect(lists()).toBe(2);

    api.jobs = [{ ...job, status: "completed" }];
    await act(() => vi.advanceTimersByTimeAsync(ACTIVE_REFETCH_INTERVAL_MS));
    // The answer's body is read and delivered on later ticks of the (fake) clock.
    await act(() => vi.advanceTimersByTimeAsync(10));
    expect(lists()).toBe(3);
    expect(result.current.data?.jobs[0]?.status).toBe("completed");

    await act(() => vi.advanceTimersByTimeAsync(IDLE_REFETCH_INTERVAL_MS - 1_010));
    expect(lists()).toBe(3);
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(lists()).toBe(4);
  });
});

describe("useCreateJob", () => {
  it("resolves to the new job", async () => {
    const { result } = renderHook(() => useCreateJob(), { wrapper });
    const created = await act(() =>
      result.current.mutateAsync({ type: "scan", data: {}, library_id: 2 }),
    );
    expect(created.joined).toBe(false);
    expect(created.job.library_id).toBe(2);
  });

  it("resolves to the active job of a 409 answer (start or join)", async () => {
    const active = makeJob({ status: "pending", library_id: 3 });
    api.onCreate = () => scanAlreadyActive(active);
    const { result } = renderHook(() => useCreateJob(), { wrapper });
    const outcome = await act(() =>
      result.current.mutateAsync({ type: "scan", data: {}, library_id: 3 }),
    );
    expect(outcome).toEqual({ job: active, joined: true });
  });

  it("fails with the API's detail on other errors", async () => {
    api.onCreate = () => json({ status_code: 400, detail: "Invalid `library_id`" }, 400);
    const { result } = renderHook(() => useCreateJob(), { wrapper });
    const failure = await act(() =>
      result.current
        .mutateAsync({ type: "scan", data: {}, library_id: 9 })
        .catch((e: unknown) => e),
    );
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(400);
    expect((failure as ApiError).message).toBe("Invalid `library_id`");
  });
});

/** `useLatestScanJob(1)` beside the live events of library 1, as the button mounts them. */
function renderLatestScanWithEvents() {
  return renderHook(
    () => {
      useJobEvents(1);
      return useLatestScanJob(1);
    },
    { wrapper },
  );
}

describe("useJobEvents", () => {
  it("refreshes the latest scan, job lists and that job when an event arrives", async () => {
    const job = makeJob({ status: "pending" });
    api.jobs = [job];
    const { result } = renderHook(
      () => {
        useJobEvents(1);
        return { latest: useLatestScanJob(1), list: useJobs(), one: useJob(job.id) };
      },
      { wrapper },
    );
    await waitFor(() => expect(result.current.one.data?.status).toBe("pending"));
    const source = FakeEventSource.open();
    expect(source.url).toBe(new URL("/api/jobs/events", location.href).href); // every library

    for (const [event, status, progress] of [
      ["job.status_changed", "in_progress", 0],
      ["job.progress", "in_progress", 55],
      ["job.status_changed", "completed", 100],
    ] as const) {
      const updated = { ...job, status, progress };
      api.jobs = [updated];
      act(() => source.emit(event, updated));
      await waitFor(() => {
        expect(result.current.one.data).toEqual(updated);
        expect(result.current.latest.data?.jobs[0]).toEqual(updated);
        expect(result.current.list.data?.jobs[0]).toEqual(updated);
      });
    }
  });

  it("refreshes on job.created", async () => {
    const { result } = renderLatestScanWithEvents();
    await waitFor(() => expect(result.current.data?.total).toBe(0));
    const created = makeJob();
    api.jobs = [created];
    act(() => FakeEventSource.open().emit("job.created", created));
    await waitFor(() => expect(result.current.data?.jobs[0]?.id).toBe(created.id));
  });

  it("shows the job of a job.snapshot sent after a reconnect that cannot be replayed", async () => {
    const { result } = renderLatestScanWithEvents();
    await waitFor(() => expect(result.current.data?.total).toBe(0));
    const finished = makeJob({ status: "completed", progress: 100 });
    api.jobs = [finished];
    act(() => FakeEventSource.open().emit("job.snapshot", finished));
    await waitFor(() => expect(result.current.data?.jobs[0]?.status).toBe("completed"));
  });

  it("refetches the latest scan each time the stream opens, the first time included", async () => {
    const { result } = renderLatestScanWithEvents();
    await waitFor(() => expect(result.current.data?.total).toBe(0));
    const source = FakeEventSource.open();
    // A scan finished before the stream connected: no event will ever tell of it.
    api.jobs = [makeJob({ status: "completed", progress: 100 })];
    act(() => source.connect());
    await waitFor(() => expect(result.current.data?.jobs[0]?.status).toBe("completed"));
    // And one that failed while the stream was down.
    api.jobs = [makeJob({ status: "failed" })];
    act(() => source.connect());
    await waitFor(() => expect(result.current.data?.jobs[0]?.status).toBe("failed"));
  });

  it("shows a newer event at once and never an older state or another library's scan", async () => {
    const shown = makeJob({ status: "completed", progress: 100 });
    api.jobs = [shown];
    const { result } = renderLatestScanWithEvents();
    await waitFor(() => expect(result.current.data?.jobs[0]).toEqual(shown));
    // No status answer can help from here on: what is shown comes from the events alone.
    api.listsFail = true;
    const source = FakeEventSource.open();
    const at = (ms: number) => new Date(Date.parse(shown.updated_at) + ms).toISOString();
    // The cache, not the last render: an ignored event must not even pass through it.
    const latestInCache = () =>
      client.getQueryData<ListJobsResponse>([QueryKey.LatestScanJob, 1])?.jobs[0];

    const outOfOrder: Job = { ...shown, status: "in_progress", updated_at: at(-1) };
    act(() => source.emit("job.progress", outOfOrder));
    expect(latestInCache()).toEqual(shown);
    const olderScan: Job = { ...makeJob({ status: "pending" }), created_at: at(-60_000) };
    act(() => source.emit("job.created", olderScan));
    expect(latestInCache()).toEqual(shown);
    const otherLibrary: Job = { ...makeJob({ library_id: 2 }), created_at: at(1_000) };
    act(() => source.emit("job.created", otherLibrary));
    expect(latestInCache()).toEqual(shown);

    const newer: Job = {
      ...makeJob({ status: "in_progress", progress: 5 }),
      created_at: at(2_000),
    };
    act(() => source.emit("job.created", newer));
    await waitFor(() => expect(result.current.data?.jobs[0]).toEqual(newer));
  });

  it("subscribes to nothing without a library", () => {
    renderHook(() => useJobEvents(undefined), { wrapper });
    expect(FakeEventSource.instances).toHaveLength(0);
  });
});

describe("apiRequest", () => {
  it("sends the CSRF cookie's token on unsafe requests only", async () => {
    document.cookie = "csrftoken=a%3Db; path=/";
    await apiRequest("POST", "/jobs", { body: { type: "scan", data: {} } });
    await apiRequest("GET", "/jobs", { query: { status: ["pending", "in_progress"], type: null } });
    const [post, get] = api.requests;
    expect(post?.headers.get("X-CSRFToken")).toBe("a=b");
    expect(get?.headers.get("X-CSRFToken")).toBeNull();
    expect(get?.url.search).toBe("?status=pending&status=in_progress");
  });

  it("keeps the status of an error answer that is not JSON", async () => {
    vi.stubGlobal("fetch", () =>
      Promise.resolve(new Response("<h1>Bad gateway</h1>", { status: 502 })),
    );
    const failure = await apiRequest("GET", "/jobs").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(502);
    expect((failure as ApiError).body).toBeUndefined();
  });
});
