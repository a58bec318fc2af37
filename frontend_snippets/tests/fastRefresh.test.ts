// Vite's Fast Refresh keeps state across edits only in modules that export nothing but
// components: a helper exported beside a component makes every edit reload the whole page.
import { describe, expect, it } from "vitest";

const componentModules = import.meta.glob<Record<string, unknown>>("../components/**/*.tsx");

describe("component modules", () => {
  it.each(Object.keys(componentModules))("%s exports only components", async (path) => {
    const load = componentModules[path];
    expect(load).toBeDefined();
    const exports = await load!();
    const others = Object.entries(exports)
      .filter(([name, value]) => !(typeof value === "function" && /^[A-Z]/.test(name)))
      .map(([name]) => name);
    expect(others).toEqual([]);
  });
});
