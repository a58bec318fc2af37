// The button's states of issue 10 (waiting, stalled, warning, cancelled, a cancel asked for):
// tooltips, badges, spin, clicks and what the live region says.

import { fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";

import { ResyncButton } from "../components/library/ResyncButton";
import {
  BADGED_STATES,
  CLICK_ACTIONS,
  SPINNING_STATES,
  resyncState,
  resyncTooltip,
  warningCount,
} from "../components/library/resyncButtonState";
import { type FakeJobsApi, makeJob, signedInFakeApi } from "./support/fakeApi";
import { renderInHost } from "./support/render";
import { minutesAgo, spins, stateOf } from "./support/resyncButton";

let api: FakeJobsApi;

beforeEach(() => {
  api = signedInFakeApi();
});

function badgeOf(button: HTMLElement): string | undefined {
  return button.querySelector<SVGElement>("[data-badge]")?.dataset["badge"];
}

describe("resyncState and resyncTooltip", () => {
  const now = Date.now();
  const opts = { loading: false, starting: false };

  it("maps each job to its state", () => {
    expect(resyncState(makeJob({ waiting: "No worker is running." }), opts)).toBe("waiting");
    expect(resyncState(makeJob({ status: "pending" }), opts)).toBe("active");
    expect(
      resyncState(makeJob({ status: "in_progress", stalled_since: minutesAgo(12) }), opts),
    ).toBe("stalled");
    expect(resyncState(makeJob({ status: "completed", warnings: 3 }), opts)).toBe("warning");
    expect(
      resyncState(
        makeJob({
          status: "completed",
          result: { files: 4, added: 3, updated: 0, removed: 0, unchanged: 0, warnings: 1 },
        }),
        opts,
      ),
    ).toBe("warning");
    expect(resyncState(makeJob({ status: "completed" }), opts)).toBe("completed");
    expect(resyncState(makeJob({ status: "cancelled" }), opts)).toBe("cancelled");
  });

  it("says why a scan waits, how long it stalled and how many warnings it had", () => {
    expect(resyncTooltip("waiting", makeJob({ waiting: "No worker runs `scan` jobs." }), now)).toBe(
      "Scan waiting - no worker runs `scan` jobs",
    );
    expect(
      resyncTooltip(
        "stalled",
        makeJob({ status: "in_progress", stalled_since: minutesAgo(12) }),
        now,
      ),
    ).toBe("Scan stalled - no progress for 12 minutes");
    expect(
      resyncTooltip("warning", makeJob({ warnings: 1, finished_at: minutesAgo(2) }), now),
    ).toBe("Last synced 2 minutes ago - 1 warning");
    expect(resyncTooltip("cancelled", makeJob({ finished_at: minutesAgo(5) }), now)).toBe(
      "Last scan cancelled 5 minutes ago",
    );
    expect(
      resyncTooltip(
        "active",
        makeJob({ status: "in_progress", started_at: minutesAgo(1), cancel_requested: true }),
        now,
      ),
    ).toBe("Scan started 1 minute ago - stopping");
    expect(
      resyncTooltip(
        "stalled",
        makeJob({
          status: "in_progress",
          stalled_since: minutesAgo(3),
          cancel_requested: true,
        }),
        now,
      ),
    ).toBe("Scan stalled - no progress for 3 minutes - stopping");
    expect(warningCount(makeJob({ warnings: 0 }))).toBe(0);
  });

  it("spins only while starting or active; clicks start or open as the contract says", () => {
    expect([...SPINNING_STATES].sort()).toEqual(["active", "starting"]);
    expect([...BADGED_STATES].sort()).toEqual(["failed", "stalled", "waiting", "warning"]);
    expect(CLICK_ACTIONS).toMatchObject({
      idle: "start",
      completed: "start",
      warning: "start",
      cancelled: "start",
      active: "open",
      waiting: "open",
      stalled: "open",
      failed: "open",
    });
  });
});

describe("ResyncButton in the new states", () => {
  it("waits with a clock badge, no spin, and opens the waiting scan's page", async () => {
    const waiting = makeJob({ waiting: "No worker is running." });
    api.jobs = [waiting];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await screen.findByRole("button", {
      name: "Scan waiting - no worker is running",
    });
    expect(stateOf(button)).toBe("waiting");
    expect(badgeOf(button)).toBe("waiting");
    expect(spins(button)).toBe(false);
    fireEvent.click(button);
    expect(await screen.findByRole("heading", { name: `Job page ${waiting.id}` })).toBeTruthy();
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(0);
  });

  it("is stalled with a pause badge, no spin, and opens the stalled scan's page", async () => {
    const stalled = makeJob({
      status: "in_progress",
      started_at: minutesAgo(30),
      stalled_since: minutesAgo(12),
    });
    api.jobs = [stalled];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await screen.findByRole("button", {
      name: "Scan stalled - no progress for 12 minutes",
    });
    expect(badgeOf(button)).toBe("stalled");
    expect(button.textContent).toContain("Scan stalled");
    expect(spins(button)).toBe(false);
    fireEvent.click(button);
    expect(await screen.findByRole("heading", { name: `Job page ${stalled.id}` })).toBeTruthy();
  });

  it("shows warnings with their own badge (not the failure's) and a click scans again", async () => {
    api.jobs = [makeJob({ status: "completed", warnings: 3, finished_at: minutesAgo(2) })];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await screen.findByRole("button", {
      name: "Last synced 2 minutes ago - 3 warnings",
    });
    expect(stateOf(button)).toBe("warning");
    expect(badgeOf(button)).toBe("warning");
    expect(screen.queryByTestId("resync-warning-badge")).toBeNull(); // the failure's badge
    expect(button.textContent).toContain("Last scan had warnings");
    expect(spins(button)).toBe(false);
    fireEvent.click(button);
    await screen.findByRole("button", { name: "Scan started less than a minute ago" });
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(1);
  });

  it("is cancelled without a badge and a click scans again", async () => {
    api.jobs = [makeJob({ status: "cancelled", finished_at: minutesAgo(4) })];
    renderInHost(<ResyncButton libraryId={1} />);
    const button = await screen.findByRole("button", {
      name: "Last scan cancelled 4 minutes ago",
    });
    expect(stateOf(button)).toBe("cancelled");
    expect(badgeOf(button)).toBeUndefined();
    fireEvent.click(button);
    await screen.findByRole("button", { name: "Scan started less than a minute ago" });
    expect(api.requestsTo("POST", "/api/jobs")).toHaveLength(1);
  });

  it("announces a move from waiting to active when a worker starts", async () => {
    const waiting = makeJob({ waiting: "No worker is running." });
    api.jobs = [waiting];
    const { client } = renderInHost(<ResyncButton libraryId={1} liveEvents={false} />);
    await screen.findByRole("button", { name: "Scan waiting - no worker is running" });
    const { waiting: _gone, ...running } = waiting;
    api.jobs = [{ ...running, status: "in_progress", started_at: new Date().toISOString() }];
    await client.refetchQueries();
    await waitFor(() =>
      expect(screen.getByRole("status").textContent).toBe(
        "Scan started less than a minute ago, 0% done",
      ),
    );
  });
});
