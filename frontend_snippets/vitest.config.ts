import { defineConfig } from "vitest/config";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  // The tests load the plugin's own job-events.js from ../src (tests/setup.ts).
  server: { fs: { allow: [".."] } },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.{ts,tsx}"],
    setupFiles: ["tests/setup.ts"],
    // Each file gets a fresh jsdom; the suite is small, so one worker keeps the shared CPU free.
    pool: "threads",
    maxWorkers: 1,
    restoreMocks: true,
    testTimeout: 20_000,
  },
});
