// A stand-in for the browser's SharedWorker (jsdom has none) playing the plugin's
// job-events-worker.js behind the plugin's real job-events.js: it records who was started and
// what each page posted, holds one stream per events URL while a page is joined (a
// FakeEventSource, which the tests drive), and fans its events and status out to every joined
// port, as the worker does.

import { FakeEventSource } from "./fakeEventSource";

export class FakePort {
  onmessage: ((message: MessageEvent<unknown>) => void) | null = null;
  readonly posted: unknown[] = [];
  closed = false;
  joined: string | null = null;

  postMessage(message: unknown): void {
    this.posted.push(message);
    const { type, url } = (message ?? {}) as { type?: string; url?: unknown };
    if (type === "join" && typeof url === "string") {
      this.joined = url;
      const stream = FakeEventSource.openAt(url) ?? new FakeEventSource(url);
      stream.attach(this);
      this.deliver({ type: "status", open: stream.live });
    } else if (type === "leave" && this.joined !== null) {
      FakeEventSource.openAt(this.joined)?.detach(this);
      this.joined = null;
    }
  }

  start(): void {}

  close(): void {
    this.closed = true;
  }

  deliver(message: unknown): void {
    if (!this.closed) this.onmessage?.(new MessageEvent("message", { data: message }));
  }
}

export class FakeSharedWorker {
  static instances: FakeSharedWorker[] = [];

  readonly url: string;
  readonly options: WorkerOptions | undefined;
  readonly port = new FakePort();

  constructor(url: string | URL, options?: string | WorkerOptions) {
    this.url = String(url);
    this.options = typeof options === "string" ? { name: options } : options;
    FakeSharedWorker.instances.push(this);
  }

  /** Every port still open, of every page that started the worker. */
  static openPorts(): FakePort[] {
    return FakeSharedWorker.instances.map((worker) => worker.port).filter((port) => !port.closed);
  }

  /** The worker's stream received an event: every open port gets it. */
  static emit(name: string, data: unknown, id = "1"): void {
    for (const port of FakeSharedWorker.openPorts()) {
      port.deliver({ type: "event", name, data: JSON.stringify(data), id });
    }
  }

  /** The worker's stream opened (true) or dropped (false). */
  static status(open: boolean): void {
    for (const port of FakeSharedWorker.openPorts()) {
      port.deliver({ type: "status", open });
    }
  }
}
