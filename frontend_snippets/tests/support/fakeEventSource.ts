// A stand-in for the browser's EventSource (a browser API jsdom lacks): records what was opened
// and lets a test deliver named Server-Sent Events.

type Listener = (event: MessageEvent<string>) => void;

export class FakeEventSource {
  static instances: FakeEventSource[] = [];

  readonly url: string;
  readonly withCredentials: boolean;
  closed = false;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(url: string | URL, init?: EventSourceInit) {
    this.url = String(url);
    this.withCredentials = init?.withCredentials ?? false;
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.listeners.get(type) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(type, set);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  close(): void {
    this.closed = true;
  }

  /** Delivers an event as the server would: a name, an id and the JSON data. */
  emit(type: string, data: unknown, lastEventId = "1"): void {
    const event = new MessageEvent<string>(type, { data: JSON.stringify(data), lastEventId });
    for (const listener of this.listeners.get(type) ?? []) {
      listener(event);
    }
  }

  /** The connection (re)opens, as the browser reports it with an `open` event. */
  connect(): void {
    const event = new Event("open");
    for (const listener of this.listeners.get("open") ?? []) {
      listener(event as MessageEvent<string>);
    }
  }

  /** The one open source, failing the test when there is none or several. */
  static open(): FakeEventSource {
    const open = FakeEventSource.instances.filter((source) => !source.closed);
    if (open.length !== 1) {
      throw new Error(`expected one open EventSource, found ${open.length}`);
    }
    return open[0] as FakeEventSource;
  }
}
