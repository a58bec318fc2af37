// Renders a component the way a host does: inside a QueryClientProvider and a router with a
// job page, so navigation can be seen.

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";
import { MemoryRouter, Route, Routes, useParams } from "react-router";

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
}

function JobPage() {
  const { id } = useParams();
  return <h1>Job page {id}</h1>;
}

export function Providers({ client, children }: { client: QueryClient; children: ReactNode }) {
  return (
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={["/libraries/1"]}>
        <Routes>
          <Route element={children} path="/libraries/:libraryId" />
          <Route element={<JobPage />} path="/settings/jobs/:id" />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>
  );
}

/**
 * A `renderHook` wrapper that provides the client `client()` returns when it renders: the tests
 * of a file make a fresh client before each test, after the wrapper is made.
 */
export function queryClientWrapper(client: () => QueryClient) {
  return function QueryWrapper({ children }: { children: ReactNode }) {
    return <QueryClientProvider client={client()}>{children}</QueryClientProvider>;
  };
}

export function renderInHost(
  ui: ReactElement,
  client: QueryClient = newQueryClient(),
): RenderResult & { client: QueryClient } {
  return { ...render(<Providers client={client}>{ui}</Providers>), client };
}
