import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { useLatestScanJob } from "../hooks/queries/jobs";
import { useJobEvents } from "../hooks/useJobEvents";
import { PLUGIN_STATIC_DIR } from "./setup";
import { FakeJobsApi, makeJob } from "./support/fakeApi";
import { FakeSharedWorker } from "./support/fakeSharedWorker";
import { newQueryClient } from "./support/render";

const EVENTS_URL = new URL("/api/jobs/events", location.href).href;
let api: FakeJobsApi;

function wrapperOf(client: QueryClient) {
  return function Wrapper({ children }: { children: ReactNode }) {
    return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  };
}

/** A component of the host showing a library's latest scan, live. */
function renderLiveScan(libraryId: number, client: QueryClient = newQueryClient()) {
  return renderHook(
    () => {
      useJobEvents(libraryId);
      return useLatestScanJob(libraryId);
    },
    { wrapper: wrapperOf(client) },
  );
}

beforeEach(() => {
  api = new FakeJobsApi().install();
});

describe("useJobEvents with SharedWorker", () => {
  beforeEach(() => {
    FakeSharedWorker.instances = [];
    vi.stubGlobal("SharedWorker", FakeSharedWorker);
  });

  it("joins the plugin's worker once per page and opens no stream of its own", async () => {
    const first = renderLiveScan(1);
    const second = renderLiveScan(2);
    await waitFor(() => expect(first.result.current.data?.total).toBe(0));
    await waitFor(() => expect(second.result.current.data?.total).toBe(0));

    expect(api.requestsTo("GET", "/api/jobs/events")).toHaveLength(0);
    expect(FakeSharedWorker.instances).toHaveLength(1);
    const [worker] = FakeSharedWorker.instances;
    // The plugin's worker, beside the job-events.js the hook loaded from the static path.
    expect(worker?.url).toMatch(/\/src\/shisho_resync_plugin\/static\/job-events-worker\.js$/);
    // The same worker as the plugin's <shisho-resync-button> on any page of the origin.
    expect(worker?.options).toEqual({ type: "module", name: `shisho-jobs-events ${EVENTS_URL}` });
    expect(worker?.port.posted).toEqual([{ type: "join", url: EVENTS_URL }]);
  });

  it("shows the events the worker fans out, each in its own library's button", async () => {
    const first = renderLiveScan(1);
    const second = renderLiveScan(2);
    await waitFor(() => expect(second.result.current.data?.total).toBe(0));
    const started = makeJob({ library_id: 1, status: "in_progress", progress: 5 });
    api.jobs = [started];

    act(() => FakeSharedWorker.emit("job.created", started));

    await waitFor(() => expect(first.result.current.data?.jobs[0]).toEqual(started));
    expect(second.result.current.data?.jobs).toEqual([]);
  });

  it("refetches each time the shared stream opens, the first time included", async () => {
    const { result } = renderLiveScan(1);
    await waitFor(() => expect(result.current.data?.total).toBe(0));
    // The worker connected after the first status answer: a scan finished in between.
    api.jobs = [makeJob({ status: "completed", progress: 100 })];
    act(() => FakeSharedWorker.status(true));
    await waitFor(() => expect(result.current.data?.jobs[0]?.status).toBe("completed"));
    act(() => FakeSharedWorker.status(false));
    api.jobs = [makeJob({ status: "failed" })];

    act(() => FakeSharedWorker.status(true));

    await waitFor(() => expect(result.current.data?.jobs[0]?.status).toBe("failed"));
  });

  it("leaves the worker when the page's last hook unmounts", async () => {
    const first = renderLiveScan(1);
    const second = renderLiveScan(1);
    const [worker] = FakeSharedWorker.instances;
    first.unmount();
    expect(worker?.port.closed).toBe(false);

    second.unmount();

    expect(worker?.port.posted.at(-1)).toEqual({ type: "leave" });
    expect(worker?.port.closed).toBe(true);
  });
});

describe("useJobEvents without SharedWorker or Web Locks", () => {
  beforeEach(() => {
    vi.stubGlobal("SharedWorker", undefined);
  });

  it("shares one stream of every library among the page's hooks", async () => {
    const first = renderLiveScan(1);
    const second = renderLiveScan(2);
    await waitFor(() => expect(second.result.current.data?.total).toBe(0));
    await waitFor(() => expect(api.openEventStreams()).toBe(1));
    expect(api.requestsTo("GET", "/api/jobs/events")).toHaveLength(1);
    const started = makeJob({ library_id: 2, status: "pending" });
    api.jobs = [started];

    act(() => api.sendEvent("job.created", started, "7"));

    await waitFor(() => expect(second.result.current.data?.jobs[0]).toEqual(started));
    expect(first.result.current.data?.jobs).toEqual([]);
    first.unmount();
    second.unmount();
    expect(api.openEventStreams()).toBe(0);
  });
});

describe("useJobEvents when the plugin's module cannot be loaded", () => {
  it("still shows the latest scan (the polls carry on), with no stream", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { result } = renderHook(
      () => {
        useJobEvents(1, { staticPath: `${PLUGIN_STATIC_DIR}/missing` });
        return useLatestScanJob(1);
      },
      { wrapper: wrapperOf(newQueryClient()) },
    );
    await waitFor(() => expect(result.current.data?.total).toBe(0));
    await waitFor(() => expect(warn).toHaveBeenCalled());

    expect(FakeSharedWorker.instances).toHaveLength(0);
    expect(String(warn.mock.calls[0]?.[0])).toContain("no live job events, polling only");
  });
});
