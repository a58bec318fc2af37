// A stand-in for the browser's SharedWorker (jsdom has none) playing the plugin's
// job-events-worker.js: it records who was started and what each page posted, and lets a test
// fan a stream event or a status out to every connected port, as the worker does.

export class FakePort {
  onmessage: ((message: MessageEvent<unknown>) => void) | null = null;
  readonly posted: unknown[] = [];
  closed = false;

  postMessage(message: unknown): void {
    this.posted.push(message);
  }

  start(): void {}

  close(): void {
    this.closed = true;
  }

  deliver(message: unknown): void {
    this.onmessage?.(new MessageEvent("message", { data: message }));
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
