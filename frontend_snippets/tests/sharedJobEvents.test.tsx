import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { useLatestScanJob } from "../hooks/queries/jobs";
import { JOB_EVENTS_WORKER_PATH } from "../hooks/sharedJobEvents";
import { useJobEvents } from "../hooks/useJobEvents";
import { FakeEventSource } from "./support/fakeEventSource";
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

    expect(FakeEventSource.instances).toHaveLength(0);
    expect(FakeSharedWorker.instances).toHaveLength(1);
    const [worker] = FakeSharedWorker.instances;
    expect(worker?.url).toBe(new URL(JOB_EVENTS_WORKER_PATH, location.href).href);
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

describe("useJobEvents without SharedWorker", () => {
  it("shares one stream of every library among the page's hooks", async () => {
    const first = renderLiveScan(1);
    const second = renderLiveScan(2);
    await waitFor(() => expect(second.result.current.data?.total).toBe(0));
    const source = FakeEventSource.open();
    expect(source.url).toBe("/api/jobs/events");
    const started = makeJob({ library_id: 2, status: "pending" });
    api.jobs = [started];

    act(() => source.emit("job.created", started));

    await waitFor(() => expect(second.result.current.data?.jobs[0]).toEqual(started));
    expect(first.result.current.data?.jobs).toEqual([]);
    first.unmount();
    second.unmount();
    expect(source.closed).toBe(true);
  });
});
