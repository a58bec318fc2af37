// The browser's one jobs event stream, shared with every tab and with the plugin's own
// <shisho-resync-button>: a browser opens only six HTTP/1.1 connections to a host, so one
// stream per tab would stop the seventh tab from loading.
//
// The transport is the plugin's, not a copy: this module loads `{staticPath}/job-events.js`
// from the server at run time (the same file the element uses) and subscribes through its
// `subscribeJobEvents`. That module picks the best transport the browser has — the plugin's
// SharedWorker; else one leader tab chosen with Web Locks relaying over a BroadcastChannel;
// else a stream per tab — and does the reconnects, `Last-Event-ID` resume and back-off. When it
// cannot be loaded (an older plugin, a proxy that does not pass `/static`), the hooks get no
// events and the status polls keep the button current, as they do while the stream is down.

import { API_PREFIX } from "../lib/api";

/** Where the plugin serves its assets by default (`ResyncConfig.static_path`). */
export const DEFAULT_STATIC_PATH = "/static/shisho-resync";
/** The plugin's module owning the shared stream, under the static path. */
export const JOB_EVENTS_MODULE = "job-events.js";

/** One event of the stream: its name, its `data:` (the Job JSON) and its `id:`. */
export interface JobStreamEvent {
  name: string;
  data: string;
  id: string;
}

export interface JobEventsListener {
  onEvent(event: JobStreamEvent): void;
  /** `true` each time the stream (re)connects, `false` when it drops. */
  onStatus(open: boolean): void;
}

export interface SharedJobEventsOptions {
  /**
   * Where the plugin serves its assets (`ResyncConfig.static_path`), a path or a full URL;
   * default `/static/shisho-resync`. Give a full URL when the bundle comes from another origin.
   */
  staticPath?: string | undefined;
}

/** What the plugin's `job-events.js` exports (documented in the plugin's docs, "One event stream per browser"). */
export interface PluginJobEventsModule {
  subscribeJobEvents(options: {
    apiBase?: string;
    onEvent?: (event: JobStreamEvent) => void;
    onStatus?: (open: boolean) => void;
  }): { readonly open: boolean; close(): void };
}

let defaultStaticPath = DEFAULT_STATIC_PATH;
const modules = new Map<string, Promise<PluginJobEventsModule>>(); // module URL -> its load
const loaded = new Map<string, PluginJobEventsModule>(); // module URL -> the module, once loaded

/**
 * Sets the static path every hook uses unless given its own (for a host that mounts the
 * plugin's assets elsewhere: call once at start-up, before rendering).
 */
export function setJobEventsStaticPath(staticPath: string): void {
  defaultStaticPath = staticPath;
}

// Left as given, not resolved against the page: a path is resolved like any module specifier,
// against the URL of the script importing it (the host's bundle, on the host's origin).
function moduleUrl(staticPath: string): string {
  return `${staticPath.replace(/\/$/, "")}/${JOB_EVENTS_MODULE}`;
}

function isPluginModule(value: unknown): value is PluginJobEventsModule {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>)["subscribeJobEvents"] === "function"
  );
}

/**
 * Loads the plugin's `job-events.js` (once per URL; a failed load is tried again next time).
 *
 * @throws Error (as a rejection) when the module cannot be loaded or lacks `subscribeJobEvents`.
 */
export function loadJobEventsModule(
  staticPath: string = defaultStaticPath,
): Promise<PluginJobEventsModule> {
  const url = moduleUrl(staticPath);
  let load = modules.get(url);
  if (load === undefined) {
    // Same-origin, served by the plugin, not part of the host's bundle: the bundler must leave it.
    load = import(/* @vite-ignore */ url).then((module: unknown) => {
      if (!isPluginModule(module)) throw new Error(`${url} does not export subscribeJobEvents`);
      loaded.set(url, module);
      return module;
    });
    load.catch((error: unknown) => {
      modules.delete(url);
      // No live events: the polls carry on. Say why, for whoever reads the console.
      console.warn("shisho-resync: no live job events, polling only:", error);
    });
    modules.set(url, load);
  }
  return load;
}

/**
 * Listens to the shared stream of every job event the user may see, of every library (each
 * listener keeps what it needs). A listener added while the stream is live hears `onStatus(true)`
 * at once. Until the plugin's module has loaded (and if it never does) the listener hears nothing.
 *
 * @returns A function that stops listening.
 */
export function subscribeJobEvents(
  listener: JobEventsListener,
  { staticPath = defaultStaticPath }: SharedJobEventsOptions = {},
): () => void {
  let subscription: { close(): void } | null = null;
  let stopped = false;
  const subscribe = (module: PluginJobEventsModule) => {
    if (stopped) return;
    subscription = module.subscribeJobEvents({
      apiBase: API_PREFIX,
      onEvent: (event) => listener.onEvent(event),
      onStatus: (open) => listener.onStatus(open),
    });
  };
  const ready = loaded.get(moduleUrl(staticPath));
  if (ready !== undefined) {
    subscribe(ready);
  } else {
    loadJobEventsModule(staticPath).then(subscribe, () => undefined); // reported by the load
  }
  return () => {
    stopped = true;
    subscription?.close();
  };
}
