import { readFileSync } from "node:fs";
import { join } from "node:path";

import { act, fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { ResyncButton } from "../components/library/ResyncButton";
import { ApiError } from "../lib/api";
import type { Job } from "../types/generated";
import { FakeEventSource } from "./support/fakeEventSource";
import type { FakeJobsApi } from "./support/fakeApi";
import { json, makeJob, scanAlreadyActive, signedInFakeApi } from "./support/fakeApi";
import { Providers, newQueryClient, renderInHost } from "./support/render";
import { MINUTE, minutesAgo, spins, stateOf } from "./support/resyncButton";

// Vitest does not load stylesheets into jsdom: the rules are checked as text.
const resyncButtonCss = readFileSync(
  join(import.meta.dirname, "../components/library/ResyncButton.css"),
  "utf8",
);
let api: FakeJobsApi;

beforeEach(() => {
  api = signedInFakeApi();
});

async function buttonNamed(name: string | RegExp): Promise<HTMLElement> {
  return screen.findByRole("button", { name });
}

async function idleButton(): Promise<HTMLElement> {
  await waitFor(() => expect(stateOf(screen.getByRole("button"))).toBe("idle"));
  return screen.getByRole("button", { name: "Resync library" });
}

describe("ResyncButton states and tooltips", () => {
  it("is inert in loading until the latest scan is known", () => {
    vi.stubGlobal("fetch", () => new Promise<Response>(() => undefined));
    renderInHost(<ResyncButton libraryId={1} />);
    const button = screen.getByRole("button", { name: "Loading scan status" });
    expect(stateOf(button)).toBe("loading");
    expect(button.dataset["state"]).toBe("loading");
    expect(button.getAttribute("aria-disabled")).toBe("true");
    fireEvent.click(button);
    expect(stateOf(button)).toBe("loading");
  });

  it("is idle with 'Resync library' when the library was never scanned", async () => {
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await idleButton();
    expect(button.getAttribute("aria-label")).toBe("Resync library");
    expect(button.title).toBe("Resync library");
    expect(spins(button)).toBe(false);
    const request = api.requestsTo("GET", "/api/jobs")[0];
    expect(Object.fromEntries(request?.url.searchParams ?? [])).toEqual({
      type: "scan",
      library_id_or_global: "1",
      limit: "1",
    });
  });

  it("stays usable (idle) when the status request fails", async () => {
    vi.stubGlobal("fetch", () =>
      Promise.resolve(json({ status_code: 500, detail: "Internal Server Error" }, 500)),
    );
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await idleButton();
    expect(button.getAttribute("aria-disabled")).toBe("false");
  });

  it("is completed with 'Last synced <relative>' after a finished scan", async () => {
    api.jobs = [makeJob({ status: "completed", progress: 100, finished_at: minutesAgo(2) })];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await buttonNamed("Last synced 2 minutes ago");
    expect(stateOf(button)).toBe("completed");
    expect(button.title).toBe("Last synced 2 minutes ago");
    expect(spins(button)).toBe(false);
  });

  it("is active, spinning and showing progress while a scan runs", async () => {
    api.jobs = [makeJob({ status: "in_progress", progress: 42, started_at: minutesAgo(5) })];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await buttonNamed("Scan started 5 minutes ago");
    expect(stateOf(button)).toBe("active");
    expect(spins(button)).toBe(true);
    // Reduced motion: the stylesheet only animates the spinning class without that preference.
    expect(resyncButtonCss).toMatch(
      /@media \(prefers-reduced-motion: no-preference\) \{\s*\.shisho-resync-button__icon--spinning \{\s*animation:/,
    );
    expect(screen.getByTestId("resync-progress").textContent).toBe("42%");
  });

  it("counts a pending global scan for the library", async () => {
    const global: Job = makeJob({ status: "pending", created_at: minutesAgo(1) });
    delete global.library_id;
    api.jobs = [global];
    renderInHost(<ResyncButton libraryId={2} />);
    const button = await buttonNamed("Scan started 1 minute ago");
    expect(stateOf(button)).toBe("active");
    expect(spins(button)).toBe(true);
  });

  it("is failed with a warning badge and text, not only colour", async () => {
    api.jobs = [makeJob({ status: "failed", error: "folder missing" })];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await buttonNamed("Last scan failed - view logs");
    expect(stateOf(button)).toBe("failed");
    expect(spins(button)).toBe(false);
    expect(screen.getByTestId("resync-warning-badge")).toBeTruthy();
    expect(button.textContent).toContain("Last scan failed");
  });

  it("keeps the relative time current", async () => {
    api.jobs = [makeJob({ status: "completed", finished_at: new Date().toISOString() })];
    renderInHost(<ResyncButton clockIntervalMs={20} libraryId={1} />);
    await buttonNamed("Last synced less than a minute ago");
    vi.setSystemTime(Date.now() + 3 * MINUTE);
    expect(await buttonNamed("Last synced 3 minutes ago")).toBeTruthy();
  });
});

describe("ResyncButton clicks", () => {
  it("starts a scan of the library from idle, showing 'Starting scan...' meanwhile", async () => {
    let answer: (response: Response) => void = () => undefined;
    const defaultCreate = api.onCreate;
    api.onCreate = (payload) =>
      new Promise<Response>((resolve) => {
        answer = resolve;
      }).then(() => defaultCreate(payload));
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await idleButton());

    const starting = await buttonNamed("Starting scan...");
    expect(stateOf(starting)).toBe("starting");
    expect(spins(starting)).toBe(true);
    const [post] = api.requestsTo("POST", "/api/jobs");
    expect(post?.body).toEqual({ type: "scan", data: {}, library_id: 1 });
    expect(post?.headers.get("X-CSRFToken")).toBe("token-123");
    fireEvent.click(starting);
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(1);

    act(() => answer(json({})));
    const active = await buttonNamed("Scan started less than a minute ago");
    expect(stateOf(active)).toBe("active");
    expect(screen.getByRole("status").textContent).toBe(
      "Scan started less than a minute ago, 0% done",
    );
  });

  it("starts a scan from completed", async () => {
    api.jobs = [makeJob({ status: "completed", finished_at: minutesAgo(10) })];
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await buttonNamed("Last synced 10 minutes ago"));
    await buttonNamed("Scan started less than a minute ago");
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(1);
  });

  it("opens the running scan's page instead of starting another", async () => {
    const running = makeJob({ status: "in_progress", progress: 10 });
    api.jobs = [running];
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await screen.findByRole("button", { name: /^Scan started/ }));
    expect(await screen.findByRole("heading", { name: `Job page ${running.id}` })).toBeTruthy();
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(0);
  });

  it("opens the failed scan's page to show its logs", async () => {
    const failed = makeJob({ status: "failed" });
    api.jobs = [failed];
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await buttonNamed("Last scan failed - view logs"));
    expect(await screen.findByRole("heading", { name: `Job page ${failed.id}` })).toBeTruthy();
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(0);
  });

  it("joins the scan already running when the API answers 409", async () => {
    api.jobs = [makeJob({ status: "completed", finished_at: minutesAgo(3) })];
    // Another tab started a global scan after this button's last poll.
    const other = { ...makeJob({ status: "in_progress", progress: 7 }) };
    delete other.library_id;
    api.onCreate = () => {
      api.jobs.unshift(other);
      return scanAlreadyActive(other);
    };
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await buttonNamed("Last synced 3 minutes ago"));

    const joined = await buttonNamed("Scan started less than a minute ago");
    expect(stateOf(joined)).toBe("active");
    expect(screen.getByRole("status").textContent).toBe(
      "Scan started less than a minute ago, 7% done",
    );
    fireEvent.click(joined);
    expect(await screen.findByRole("heading", { name: `Job page ${other.id}` })).toBeTruthy();
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(1);
  });

  it("says so when a scan cannot be started, and stays usable", async () => {
    api.onCreate = () => json({ status_code: 403, detail: "Missing permission jobs:write" }, 403);
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await idleButton());
    await waitFor(() =>
      expect(screen.getByRole("status").textContent).toBe(
        "Could not start the scan: Missing permission jobs:write",
      ),
    );
    expect(stateOf(screen.getByRole("button", { name: "Resync library" }))).toBe("idle");
  });

  it("shows why on the button for a few seconds, tells onError, then returns", async () => {
    api.onCreate = () => json({ status_code: 401, detail: "Sign in to use the jobs API." }, 401);
    const onError = vi.fn<(error: Error) => void>();
    renderInHost(<ResyncButton libraryId={1} onError={onError} startErrorDisplayMs={300} />);
    fireEvent.click(await idleButton());

    const reason = await screen.findByTestId("resync-error");
    expect(reason.textContent).toBe("Could not start the scan: Sign in to use the jobs API.");
    expect(reason.closest("button")?.title).toBe(
      "Could not start the scan: Sign in to use the jobs API.",
    );
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(ApiError);
    expect((onError.mock.calls[0]?.[0] as ApiError).status).toBe(401);
    expect(stateOf(screen.getByRole("button", { name: "Resync library" }))).toBe("idle");
    await waitFor(() => expect(screen.queryByTestId("resync-error")).toBeNull());
    expect(screen.getByRole("button", { name: "Resync library" }).title).toBe("Resync library");
  });

  it("says so when the server does not answer", async () => {
    api.onCreate = () => Promise.reject(new TypeError("Failed to fetch"));
    renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await idleButton());
    await waitFor(() =>
      expect(screen.getByRole("status").textContent).toBe(
        "Could not start the scan: the server did not answer",
      ),
    );
  });
});

describe("ResyncButton live events", () => {
  it("follows a scan started elsewhere as soon as its event arrives", async () => {
    api.jobs = [makeJob({ status: "completed", finished_at: minutesAgo(4) })];
    renderInHost(<ResyncButton libraryId={1} />);
    await buttonNamed("Last synced 4 minutes ago");
    const source = FakeEventSource.open();
    expect(source.url).toBe(new URL("/api/jobs/events", location.href).href); // every library

    const started = makeJob({ status: "in_progress", progress: 0 });
    api.jobs.unshift(started);
    act(() => source.emit("job.created", started));
    expect(stateOf(await buttonNamed("Scan started less than a minute ago"))).toBe("active");

    api.jobs[0] = { ...started, status: "failed" };
    act(() => source.emit("job.status_changed", api.jobs[0]));
    expect(stateOf(await buttonNamed("Last scan failed - view logs"))).toBe("failed");
    expect(screen.getByRole("status").textContent).toBe("Last scan failed - view logs");
  });

  it("closes the event stream when it goes away", async () => {
    const { unmount } = renderInHost(<ResyncButton libraryId={1} />);
    await idleButton();
    const source = FakeEventSource.open();
    unmount();
    expect(source.closed).toBe(true);
  });
});

describe("ResyncButton when the scan finishes before the start request answers", () => {
  // The worker may run a whole (small) scan before `POST /api/jobs` has answered: its events
  // arrive while the button is `starting`, and the answer then names the job as still pending.
  // Only the polls (and the tooltip clock) run on setInterval: frozen, no status poll can fire,
  // so whatever the button ends up showing comes from the events and the start request.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
  });

  const createdAnswer = (job: Job) => json(job, 201);
  const joinedAnswer = scanAlreadyActive;

  interface Race {
    /** The scan the button created or joined. */
    job: Job;
    /** Every `data-state` the button has shown since the click, in order. */
    states: () => string[];
  }

  /** Records every value the wrapper's `data-state` takes, even one shown only for a moment. */
  function recordStates(): () => string[] {
    const wrapper = document.querySelector<HTMLElement>(".shisho-resync-button");
    if (wrapper === null) {
      throw new Error("the button is not rendered");
    }
    // Each change's old value is a state that was shown; the current one is the last.
    const oldValues = (records: MutationRecord[]) => records.map((record) => record.oldValue ?? "");
    const seen: string[] = [];
    const observer = new MutationObserver((records) => seen.push(...oldValues(records)));
    observer.observe(wrapper, { attributeFilter: ["data-state"], attributeOldValue: true });
    return () => [...seen, ...oldValues(observer.takeRecords()), wrapper.dataset["state"] ?? ""];
  }

  /**
   * Clicks the idle button; while the POST is out, the scan it creates (or joins) runs to the
   * end and its events are delivered; then the POST answers with the job as it was at first.
   */
  async function scanFinishingBeforeTheAnswer(
    answer: (job: Job) => Response,
    {
      whileStarting = () => undefined,
      deliverEvents = true,
    }: { whileStarting?: () => void; deliverEvents?: boolean } = {},
  ): Promise<Race> {
    let release: () => void = () => undefined;
    api.onCreate = (payload) => {
      const job = makeJob({ library_id: payload.library_id ?? 1 });
      api.jobs.unshift(job);
      return new Promise<Response>((resolve) => {
        release = () => resolve(answer(job));
      });
    };
    renderInHost(<ResyncButton libraryId={1} />);
    const idle = await idleButton();
    // Status answers take a moment from now on, so a wrong state shown meanwhile gets rendered.
    api.listLatencyMs = 20;
    const states = recordStates();
    fireEvent.click(idle);
    await buttonNamed("Starting scan...");
    await waitFor(() => expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(1));
    const created = api.jobs[0] as Job;
    whileStarting();

    const later = (ms: number) => new Date(Date.parse(created.updated_at) + ms).toISOString();
    const running: Job = { ...created, status: "in_progress", updated_at: later(100) };
    const finished: Job = {
      ...running,
      status: "completed",
      progress: 100,
      finished_at: later(200),
      updated_at: later(200),
    };
    const source = FakeEventSource.open();
    api.jobs[0] = running;
    if (deliverEvents) {
      act(() => source.emit("job.status_changed", running, "2"));
    }
    api.jobs[0] = finished;
    if (deliverEvents) {
      act(() => source.emit("job.status_changed", finished, "3"));
    }
    await act(async () => undefined); // render what the events changed
    expect(stateOf(screen.getByRole("button"))).toBe("starting");

    act(() => release());
    return { job: created, states };
  }

  /** The button ends `completed` with the scan's tooltip, and never showed it as running. */
  async function expectCompleted({ job, states }: Race): Promise<void> {
    const button = await buttonNamed("Last synced less than a minute ago");
    expect(stateOf(button)).toBe("completed");
    expect(button.closest<HTMLElement>(".shisho-resync-button")?.dataset["jobId"]).toBe(
      String(job.id),
    );
    expect(screen.getByRole("status").textContent).toBe("Last synced less than a minute ago");
    expect(states()).toEqual(["idle", "starting", "completed"]);
  }

  it("ends completed, not active, for the scan it created", async () => {
    await expectCompleted(await scanFinishingBeforeTheAnswer(createdAnswer));
  });

  it("ends completed, not active, for the scan it joined (409)", async () => {
    await expectCompleted(await scanFinishingBeforeTheAnswer(joinedAnswer));
  });

  it("ends completed from the events alone when the status requests fail meanwhile", async () => {
    const race = await scanFinishingBeforeTheAnswer(createdAnswer, {
      whileStarting: () => {
        api.listsFail = true;
      },
    });
    await expectCompleted(race);
  });

  it("ends completed from the status request alone when the events were missed", async () => {
    // The stream was down (or not listening yet): the refetch right after the answer tells.
    const race = await scanFinishingBeforeTheAnswer(createdAnswer, { deliverEvents: false });
    await expectCompleted(race);
  });
});

describe("ResyncButton moved to another library", () => {
  it("starts afresh: no loading announcement, nothing of the previous library", async () => {
    api.jobs = [
      makeJob({ status: "completed", finished_at: minutesAgo(2), library_id: 1 }),
      makeJob({ status: "failed", library_id: 2 }),
    ];
    api.onCreate = () => json({ status_code: 403, detail: "You may not access library 1." }, 403);
    api.listLatencyMs = 50;
    const { rerender } = renderInHost(<ResyncButton libraryId={1} />);
    fireEvent.click(await buttonNamed("Last synced 2 minutes ago"));
    expect((await screen.findByTestId("resync-error")).textContent).toBe(
      "Could not start the scan: You may not access library 1.",
    );

    rerender(
      <Providers client={newQueryClient()}>
        <ResyncButton libraryId={2} />
      </Providers>,
    );

    const failed = await buttonNamed("Last scan failed - view logs");
    expect(stateOf(failed)).toBe("failed");
    expect(screen.queryByTestId("resync-error")).toBeNull();
    // Like a page load: the new library's first answer is in the label, not announced.
    expect(screen.getByRole("status").textContent).toBe("");
  });

  it("never announces 'Loading scan status' while the new library loads", async () => {
    api.jobs = [makeJob({ status: "completed", finished_at: minutesAgo(2), library_id: 1 })];
    api.listLatencyMs = 50;
    const client = newQueryClient();
    const { rerender } = renderInHost(<ResyncButton libraryId={1} />, client);
    await buttonNamed("Last synced 2 minutes ago");
    const announced: string[] = [];
    const observer = new MutationObserver(() =>
      announced.push(screen.getByRole("status").textContent ?? ""),
    );
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });

    rerender(
      <Providers client={client}>
        <ResyncButton libraryId={2} />
      </Providers>,
    );
    expect(screen.getByRole("button", { name: "Loading scan status" })).toBeTruthy();
    await buttonNamed("Resync library");
    observer.disconnect();

    expect(announced.filter((text) => text !== "")).toEqual([]);
  });
});
