import { defineConfig } from "vitest/config";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
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
