// The demo React host: Vite's react-ts template plus the snippets, served on the same origin
// as the jobs API. `vite` (dev) and `vite preview` (the built app, what the e2e tests drive)
// pass the server's routes through to the Litestar host, so the browser sees one origin: the
// session and `csrftoken` cookies are the API's own, and `document.cookie` can read the token.

import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

/** Where the Litestar host (the reference host, or yours) listens. */
const apiOrigin = process.env["SHISHO_HOST_URL"] ?? "http://127.0.0.1:8000";

// The jobs API (its event stream included: Vite's proxy passes it through unbuffered), the
// host's sign-in pages, and the plugin's static assets. Everything else is the React app.
const toHost: ProxyOptions = { target: apiOrigin, changeOrigin: false };
const proxy: Record<string, ProxyOptions> = {
  "/api": toHost,
  "/login": toHost,
  "/logout": toHost,
  "/static": toHost,
};

export default defineConfig({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
});
