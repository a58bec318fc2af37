// The browser's one jobs event stream, shared with every tab and with the plugin's own
// <shisho-resync-button> (same SharedWorker, same name): a browser opens only six HTTP/1.1
// connections to a host, so one stream per tab would stop the seventh tab from loading.
//
// Transport: the plugin's SharedWorker (`job-events-worker.js`, served under
// `ResyncConfig.static_path`) owns the stream and fans its events out to every tab; where
// SharedWorker is missing, one EventSource per tab, shared by all of the tab's hooks.

import { apiUrl } from "../lib/api";

/** Where the plugin serves the worker that owns the stream (`{static_path}/job-events-worker.js`). */
export const JOB_EVENTS_WORKER_PATH = "/static/shisho-resync/job-events-worker.js";
/** The worker's name prefix; the plugin's element uses the same, so both share one worker. */
export const JOB_EVENTS_WORKER_NAME_PREFIX = "shisho-jobs-events ";
const EVENT_NAMES = ["job.created", "job.status_changed", "job.progress", "job.snapshot"];

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

interface Sink {
  event(event: JobStreamEvent): void;
  status(open: boolean): void;
}

interface Transport {
  close(): void;
}

function isWorkerMessage(
  value: unknown,
): value is ({ type: "event" } & JobStreamEvent) | { type: "status"; open: boolean } {
  if (typeof value !== "object" || value === null) return false;
  const message = value as Record<string, unknown>;
  if (message.type === "status") return typeof message.open === "boolean";
  return message.type === "event" && typeof message.name === "string";
}

function workerTransport(url: string, sink: Sink): Transport {
  const worker = new SharedWorker(new URL(JOB_EVENTS_WORKER_PATH, location.href), {
    type: "module",
    name: JOB_EVENTS_WORKER_NAME_PREFIX + url,
  });
  const port = worker.port;
  port.onmessage = (message: MessageEvent<unknown>) => {
    const data = message.data;
    if (!isWorkerMessage(data)) return;
    if (data.type === "status") sink.status(data.open);
    else sink.event({ name: data.name, data: String(data.data), id: String(data.id) });
  };
  port.postMessage({ type: "join", url });
  return {
    close() {
      port.postMessage({ type: "leave" });
      port.close();
    },
  };
}

function eventSourceTransport(url: string, sink: Sink): Transport {
  // The browser reconnects by itself, resuming with Last-Event-ID.
  const source = new EventSource(url, { withCredentials: true });
  const onEvent = (event: MessageEvent<string>) =>
    sink.event({ name: event.type, data: event.data, id: event.lastEventId });
  const onOpen = () => sink.status(true);
  const onError = () => sink.status(false);
  for (const name of EVENT_NAMES) source.addEventListener(name, onEvent);
  source.addEventListener("open", onOpen);
  source.addEventListener("error", onError);
  return {
    close() {
      for (const name of EVENT_NAMES) source.removeEventListener(name, onEvent);
      source.removeEventListener("open", onOpen);
      source.removeEventListener("error", onError);
      source.close();
    },
  };
}

/** This page's listeners and its one link to the shared stream. */
class PageLink {
  readonly listeners = new Set<JobEventsListener>();
  open = false;
  private transport: Transport | null = null;
  private readonly onPageHide = () => this.disconnect();
  private readonly onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted) this.connect(); // back from the back/forward cache
  };

  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    addEventListener("pagehide", this.onPageHide);
    addEventListener("pageshow", this.onPageShow);
    this.connect();
  }

  private connect(): void {
    if (this.transport !== null) return;
    const sink: Sink = {
      event: (event) => this.notify((listener) => listener.onEvent(event)),
      status: (open) => {
        // Every (re)connect is news (the fake and the real EventSource may skip the drop).
        if (open === this.open && !open) return;
        this.open = open;
        this.notify((listener) => listener.onStatus(open));
      },
    };
    if (typeof SharedWorker === "function") {
      this.transport = workerTransport(new URL(this.path, location.href).href, sink);
    } else if (typeof EventSource !== "undefined") {
      this.transport = eventSourceTransport(this.path, sink);
    }
  }

  private disconnect(): void {
    this.transport?.close();
    this.transport = null;
    this.open = false;
  }

  private notify(call: (listener: JobEventsListener) => void): void {
    for (const listener of [...this.listeners]) {
      try {
        call(listener);
      } catch (error) {
        // One failing listener must not stop the others: report it like any uncaught error.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  remove(listener: JobEventsListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size > 0) return;
    this.disconnect();
    removeEventListener("pagehide", this.onPageHide);
    removeEventListener("pageshow", this.onPageShow);
    links.delete(this.path);
  }
}

const links = new Map<string, PageLink>();

/**
 * Listens to the shared stream of every job event the user may see, of every library (each
 * listener keeps what it needs). A listener added while the stream is live hears `onStatus(true)`
 * at once.
 *
 * @returns A function that stops listening.
 */
export function subscribeJobEvents(listener: JobEventsListener): () => void {
  const path = apiUrl("/jobs/events");
  let link = links.get(path);
  if (link === undefined) {
    link = new PageLink(path);
    links.set(path, link);
  }
  const joined = link;
  joined.listeners.add(listener);
  if (joined.open) {
    queueMicrotask(() => {
      if (joined.listeners.has(listener)) listener.onStatus(true);
    });
  }
  return () => joined.remove(listener);
}
