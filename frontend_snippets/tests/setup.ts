// Test environment: jsdom has no EventSource, so the fake one stands in for the browser's.
import { cleanup, configure } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

import { FakeEventSource } from "./support/fakeEventSource";

// The machine running `make test` may be busy: give findBy*/waitFor room (they return early).
configure({ asyncUtilTimeout: 5_000 });

beforeEach(() => {
  FakeEventSource.instances = [];
  vi.stubGlobal("EventSource", FakeEventSource);
});

afterEach(() => {
  cleanup();
  vi.useRealTimers(); // also ends a vi.setSystemTime() date mock
  vi.unstubAllGlobals();
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});
