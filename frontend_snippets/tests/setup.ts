// Test environment: jsdom has no SharedWorker, so the fake one stands in for the browser's (and
// for the plugin's worker), behind the plugin's real job-events.js, loaded from the source tree
// as a server would serve it under its static path.
import { cleanup, configure } from "@testing-library/react";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, vi } from "vitest";

import { loadJobEventsModule, setJobEventsStaticPath } from "../hooks/sharedJobEvents";
import { FakeEventSource } from "./support/fakeEventSource";
import { FakeSharedWorker } from "./support/fakeSharedWorker";

/** The plugin's static assets (`src/shisho_resync_plugin/static`), by file path. */
export const PLUGIN_STATIC_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../src/shisho_resync_plugin/static",
);

// The machine running `make test` may be busy: give findBy*/waitFor room (they return early).
configure({ asyncUtilTimeout: 5_000 });

beforeAll(async () => {
  setJobEventsStaticPath(PLUGIN_STATIC_DIR);
  await loadJobEventsModule(); // loaded before any hook mounts: the hooks subscribe at once
});

beforeEach(() => {
  FakeEventSource.instances = [];
  FakeSharedWorker.instances = [];
  vi.stubGlobal("SharedWorker", FakeSharedWorker);
});

afterEach(() => {
  cleanup();
  vi.useRealTimers(); // also ends a vi.setSystemTime() date mock
  vi.unstubAllGlobals();
  document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});
