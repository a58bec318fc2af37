// useCancelJob and useRetryJob: what each answer of the API leads to, and the caches after.

import type { QueryClient } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";

import { QueryKey, useCancelJob, useJob, useRetryJob } from "../hooks/queries/jobs";
import { ApiError } from "../lib/api";
import type { Job, ListJobsResponse } from "../types/generated";
import type { FakeJobsApi } from "./support/fakeApi";
import { json, makeJob, scanAlreadyActive, signedInFakeApi } from "./support/fakeApi";
import { newQueryClient, queryClientWrapper } from "./support/render";

let api: FakeJobsApi;
let client: QueryClient;
const wrapper = queryClientWrapper(() => client);

beforeEach(() => {
  api = signedInFakeApi();
  client = newQueryClient();
});

describe("useCancelJob", () => {
  it("cancels a pending job at once and shows it cancelled in the job's query", async () => {
    const pending = makeJob();
    api.jobs = [pending];
    const { result } = renderHook(() => ({ cancel: useCancelJob(), job: useJob(pending.id) }), {
      wrapper,
    });
    await waitFor(() => expect(result.current.job.data?.status).toBe("pending"));

    const answer = await act(() => result.current.cancel.mutateAsync(pending.id));

    expect(answer.alreadyFinished).toBe(false);
    expect(answer.job.status).toBe("cancelled");
    const [post] = api.requestsTo("POST", `/api/jobs/${pending.id}/cancel`);
    expect(post?.headers.get("X-CSRFToken")).toBe("token-123");
    await waitFor(() => expect(result.current.job.data?.status).toBe("cancelled"));
  });

  it("asks a running job to stop (202): still in progress, cancel_requested", async () => {
    const running = makeJob({ status: "in_progress" });
    api.jobs = [running];
    const { result } = renderHook(() => useCancelJob(), { wrapper });

    const answer = await act(() => result.current.mutateAsync(running.id));

    expect(answer.job.status).toBe("in_progress");
    expect(answer.job.cancel_requested).toBe(true);
    expect(client.getQueryData<Job>([QueryKey.RetrieveJob, running.id])?.cancel_requested).toBe(
      true,
    );
    const latest = client.getQueryData<ListJobsResponse>([QueryKey.LatestScanJob, 1]);
    expect(latest?.jobs[0]?.cancel_requested).toBe(true);
  });

  it("resolves with alreadyFinished when the job finished first (409)", async () => {
    const done = makeJob({ status: "completed" });
    api.jobs = [done];
    const { result } = renderHook(() => useCancelJob(), { wrapper });

    const answer = await act(() => result.current.mutateAsync(done.id));

    expect(answer).toEqual({ job: done, alreadyFinished: true });
  });

  it("fails with the API's reason when the user may not cancel (403)", async () => {
    const running = makeJob({ status: "in_progress" });
    api.jobs = [running];
    api.onCancel = () =>
      json({ status_code: 403, detail: "You need the jobs:write permission." }, 403);
    const { result } = renderHook(() => useCancelJob(), { wrapper });

    act(() => result.current.mutate(running.id));

    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.error).toBeInstanceOf(ApiError);
    expect(result.current.error?.message).toBe("You need the jobs:write permission.");
  });
});

describe("useRetryJob", () => {
  it("starts the same job again with trigger retry and shows it as the latest scan", async () => {
    const failed = makeJob({ status: "failed", library_id: 3 });
    api.jobs = [failed];
    const { result } = renderHook(() => useRetryJob(), { wrapper });

    const answer = await act(() => result.current.mutateAsync(failed.id));

    expect(answer.joined).toBe(false);
    expect(answer.job).toMatchObject({ trigger: "retry", retry_of: failed.id, library_id: 3 });
    expect(api.requestsTo("POST", `/api/jobs/${failed.id}/retry`)).toHaveLength(1);
    const latest = client.getQueryData<ListJobsResponse>([QueryKey.LatestScanJob, 3]);
    expect(latest?.jobs[0]?.id).toBe(answer.job.id);
  });

  it("joins the active job that blocks it (409) instead of failing", async () => {
    const failed = makeJob({ status: "failed" });
    const running = makeJob({ status: "in_progress" });
    api.jobs = [running, failed];
    api.onRetry = () => scanAlreadyActive(running);
    const { result } = renderHook(() => useRetryJob(), { wrapper });

    const answer = await act(() => result.current.mutateAsync(failed.id));

    expect(answer).toEqual({ job: running, joined: true });
  });

  it("fails with a 404 for a job the user cannot see", async () => {
    const { result } = renderHook(() => useRetryJob(), { wrapper });

    act(() => result.current.mutate(99_999));

    await waitFor(() => expect(result.current.isError).toBe(true));
    expect((result.current.error as ApiError).status).toBe(404);
  });
});
