// One jobs event stream per browser (profile and origin), shared by every tab and by every
// subscriber in a tab: the resync button, the host's job page, anything else.
//
//   const subscription = subscribeJobEvents({ apiBase: "/api", onEvent, onStatus });
//   onEvent({name, data, id})  every event the user may see, of every library (filter yourself)
//   onStatus(open)             the stream is live (true) or down (false: poll meanwhile)
//   subscription.open          the current status;  subscription.close()  unsubscribes
//
// Transport, best first: a SharedWorker owning the stream (job-events-worker.js); where there
// is none (Android Chrome, older Safari), one leader tab chosen with the Web Locks API owns it
// and relays over a BroadcastChannel, and the next tab takes over (resuming from the last event
// id) when the leader closes; without either, each tab has its own stream.

import { JobEventStream, alreadySeen } from "./job-event-stream.js";

const NAME_PREFIX = "shisho-jobs-events ";
const WORKER_URL = new URL("./job-events-worker.js", import.meta.url);
const links = new Map(); // events URL -> this page's link to the shared stream

/** A page's link to the shared stream through the SharedWorker. */
class WorkerLink {
  constructor(url, sink) {
    this.url = url;
    this.sink = sink;
    const worker = new SharedWorker(WORKER_URL, { type: "module", name: NAME_PREFIX + url });
    this.port = worker.port;
    this.port.onmessage = (message) => {
      const data = message.data;
      if (data.type === "event") sink.event(data);
      else if (data.type === "status") sink.status(data.open);
    };
    this.port.postMessage({ type: "join", url });
  }

  close() {
    this.port.postMessage({ type: "leave" });
    this.port.close();
  }
}

/** Without SharedWorker: the tab holding the lock owns the stream and relays its events. */
class LeaderLink {
  constructor(url, sink) {
    this.url = url;
    this.sink = sink;
    this.stream = null;
    this.lastEventId = null;
    this.resign = null;
    this.channel = new BroadcastChannel(NAME_PREFIX + url);
    this.channel.onmessage = (message) => this.onMessage(message.data);
    this.abandon = new AbortController();
    navigator.locks
      .request(NAME_PREFIX + url, { signal: this.abandon.signal }, () => this.lead())
      .catch(() => {}); // closed before it became the leader
    this.channel.postMessage({ type: "join" });
  }

  lead() {
    this.stream = new JobEventStream(this.url, {
      lastEventId: this.lastEventId, // resume where the previous leader stopped
      onEvent: (event) => {
        this.channel.postMessage({ type: "event", ...event });
        this.accept(event);
      },
      onStatus: (open) => {
        this.channel.postMessage({ type: "status", open });
        this.sink.status(open);
      },
    });
    this.stream.start();
    // Hold the lock until this page leaves.
    return new Promise((resolve) => {
      this.resign = resolve;
    });
  }

  onMessage(data) {
    if (data.type === "event") {
      this.accept(data);
    } else if (data.type === "status") {
      if (this.stream === null) this.sink.status(data.open);
    } else if (data.type === "join" && this.stream !== null) {
      this.stream.reopen(); // under the joining page's session (see job-events-worker.js)
      this.channel.postMessage({ type: "status", open: this.stream.open });
    }
  }

  accept(event) {
    // A new leader replays from its last id: drop what this tab already has.
    if (this.stream === null && alreadySeen(event.name, event.id, this.lastEventId)) return;
    if (event.id !== "" && !alreadySeen("", event.id, this.lastEventId)) {
      this.lastEventId = event.id;
    }
    this.sink.event(event);
  }

  close() {
    this.abandon.abort();
    if (this.stream !== null) {
      this.stream.close();
      this.channel.postMessage({ type: "status", open: false }); // until the next leader opens
      this.resign();
    }
    this.channel.close();
  }
}

/** Neither SharedWorker nor Web Locks: this tab's own stream. */
class DirectLink {
  constructor(url, sink) {
    this.stream = new JobEventStream(url, {
      onEvent: (event) => sink.event(event),
      onStatus: (open) => sink.status(open),
    });
    this.stream.start();
  }

  close() {
    this.stream.close();
  }
}

function transportFor() {
  if (typeof SharedWorker === "function") return WorkerLink;
  if (typeof BroadcastChannel === "function" && globalThis.navigator?.locks) return LeaderLink;
  return DirectLink;
}

/** This page's subscribers of one events URL, and its one link to the shared stream. */
class PageLink {
  constructor(url) {
    this.url = url;
    this.subscribers = new Set();
    this.open = false;
    this.transport = null;
    this.onPageHide = () => this.disconnect();
    this.onPageShow = (event) => {
      if (event.persisted) this.connect(); // back from the back/forward cache
    };
    addEventListener("pagehide", this.onPageHide);
    addEventListener("pageshow", this.onPageShow);
    this.connect();
  }

  connect() {
    if (this.transport !== null) return;
    const sink = {
      event: (event) => this.notify((subscriber) => subscriber.onEvent?.(event)),
      status: (open) => this.setOpen(open),
    };
    const Transport = transportFor();
    try {
      this.transport = new Transport(this.url, sink);
    } catch (_error) {
      this.transport = new DirectLink(this.url, sink); // a SharedWorker refused (CSP, say)
    }
  }

  disconnect() {
    this.transport?.close();
    this.transport = null;
    this.setOpen(false);
  }

  setOpen(open) {
    if (open === this.open) return;
    this.open = open;
    this.notify((subscriber) => subscriber.onStatus?.(open));
  }

  /** Call every subscriber; one that throws must not stop the others, nor the stream. */
  notify(call) {
    for (const subscriber of [...this.subscribers]) {
      try {
        call(subscriber);
      } catch (error) {
        setTimeout(() => {
          throw error; // reported like any uncaught error, after the others had theirs
        });
      }
    }
  }

  remove(subscriber) {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size > 0) return;
    this.disconnect();
    removeEventListener("pagehide", this.onPageHide);
    removeEventListener("pageshow", this.onPageShow);
    links.delete(this.url);
  }
}

/**
 * Subscribe to the shared stream of every job event the user may see.
 *
 * @param {{apiBase?: string, onEvent?: Function, onStatus?: Function}} options
 * @returns {{readonly open: boolean, close(): void}}
 */
export function subscribeJobEvents({ apiBase = "/api", onEvent, onStatus } = {}) {
  const url = new URL(`${apiBase.replace(/\/$/, "")}/jobs/events`, location.href).href;
  let link = links.get(url);
  if (link === undefined) {
    link = new PageLink(url);
    links.set(url, link);
  }
  const subscriber = { onEvent, onStatus };
  link.subscribers.add(subscriber);
  // A late subscriber learns at once that the stream is live (and catches up itself).
  if (link.open) queueMicrotask(() => link.subscribers.has(subscriber) && onStatus?.(true));
  let closed = false;
  return {
    get open() {
      return !closed && link.open;
    },
    close() {
      if (closed) return;
      closed = true;
      link.remove(subscriber);
    },
  };
}
