import { fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { TopNav, type HasPermission } from "../components/library/TopNav.snippet";
import { FakeJobsApi, json } from "./support/fakeApi";
import { renderInHost } from "./support/render";

const switcher = <button data-testid="library-switcher">Books</button>;
const grants =
  (...granted: string[]): HasPermission =>
  (resource, operation) =>
    granted.includes(`${resource}:${operation}`);

let api: FakeJobsApi;

beforeEach(() => {
  api = new FakeJobsApi().install();
});

describe("TopNav integration", () => {
  it("puts the button right after the library switcher for a user with jobs:write", async () => {
    renderInHost(
      <TopNav hasPermission={grants("jobs:write")} libraryId={1} librarySwitcher={switcher}>
        <span>search</span>
      </TopNav>,
    );
    const nav = screen.getByTestId("top-nav");
    const next = screen.getByTestId("library-switcher").nextElementSibling as HTMLElement;
    expect(next.classList.contains("shisho-resync-button")).toBe(true);
    await waitFor(() => expect(next.dataset["state"]).toBe("idle"));
    expect(nav.querySelectorAll("button")).toHaveLength(2);
  });

  it("shows no button without jobs:write", () => {
    renderInHost(
      <TopNav hasPermission={grants("jobs:read")} libraryId={1} librarySwitcher={switcher} />,
    );
    expect(screen.queryByRole("button", { name: "Resync library" })).toBeNull();
  });

  it("shows no button without a selected library", () => {
    renderInHost(
      <TopNav
        hasPermission={grants("jobs:write")}
        libraryId={undefined}
        librarySwitcher={switcher}
      />,
    );
    expect(screen.queryByRole("button", { name: "Resync library" })).toBeNull();
  });

  it("shows no button for a library the user cannot access", () => {
    renderInHost(
      <TopNav
        canAccessLibrary={(id) => id === 1}
        hasPermission={grants("jobs:write")}
        libraryId={2}
        librarySwitcher={switcher}
      />,
    );
    expect(screen.queryByRole("button", { name: "Resync library" })).toBeNull();
  });

  it("passes onResyncError on to the button", async () => {
    api.onCreate = () => json({ status_code: 403, detail: "CSRF token verification failed" }, 403);
    const onResyncError = vi.fn<(error: Error) => void>();
    renderInHost(
      <TopNav
        hasPermission={grants("jobs:write")}
        libraryId={1}
        librarySwitcher={switcher}
        onResyncError={onResyncError}
      />,
    );
    fireEvent.click(await screen.findByRole("button", { name: "Resync library" }));
    await waitFor(() => expect(onResyncError).toHaveBeenCalledTimes(1));
    expect(onResyncError.mock.calls[0]?.[0]?.message).toBe("CSRF token verification failed");
  });
});
