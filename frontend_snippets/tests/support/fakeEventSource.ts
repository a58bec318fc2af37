// The event stream the plugin's SharedWorker holds for the page (played by FakeSharedWorker):
// records which stream was opened and lets a test deliver named Server-Sent Events to every
// page joined to it, or make it (re)connect.

interface JoinedPort {
  deliver(message: unknown): void;
}

export class FakeEventSource {
  static instances: FakeEventSource[] = [];

  readonly url: string;
  closed = false;
  /** Whether the stream is connected (what the worker tells a page that joins). */
  live = false;
  private readonly ports = new Set<JoinedPort>();

  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }

  attach(port: JoinedPort): void {
    this.ports.add(port);
  }

  /** A page left; the worker closes its stream when no page is left. */
  detach(port: JoinedPort): void {
    this.ports.delete(port);
    if (this.ports.size === 0) this.closed = true;
  }

  /** Delivers an event as the server would: a name, an id and the JSON data. */
  emit(type: string, data: unknown, lastEventId = "1"): void {
    this.post({ type: "event", name: type, data: JSON.stringify(data), id: lastEventId });
  }

  /** The connection (re)opens: a drop first when it was live, as the worker reports a reconnect. */
  connect(): void {
    if (this.live) this.post({ type: "status", open: false });
    this.live = true;
    this.post({ type: "status", open: true });
  }

  private post(message: unknown): void {
    for (const port of [...this.ports]) port.deliver(message);
  }

  /** The stream of `url` still open, if any. */
  static openAt(url: string): FakeEventSource | undefined {
    return FakeEventSource.instances.find((source) => !source.closed && source.url === url);
  }

  /** The one open stream, failing the test when there is none or several. */
  static open(): FakeEventSource {
    const open = FakeEventSource.instances.filter((source) => !source.closed);
    if (open.length !== 1) {
      throw new Error(`expected one open event stream, found ${open.length}`);
    }
    return open[0] as FakeEventSource;
  }
}
