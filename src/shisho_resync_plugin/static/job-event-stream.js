// One connection to the jobs event stream (`GET {api}/jobs/events`, Server-Sent Events), kept
// live: it reconnects after a drop, resumes with `Last-Event-ID`, and can be reopened without a
// gap (the new connection replaces the old one only once it answers).
//
// Read with fetch(), not EventSource: a connection that takes over from another one (a new
// leader tab after the old one closed, or a reopen under the browser's current session) must
// resume from the last event the *tabs* saw, and an EventSource cannot be given a
// `Last-Event-ID` header; it only re-sends its own id on its own reconnects.

export const SNAPSHOT_EVENT = "job.snapshot";
const DEFAULT_RETRY_MS = 3000; // until the server suggests one (`retry:`)
const MAX_RETRY_MS = 60000; // back-off cap after repeated failures (signed out, 429, offline)

/** Whether event `id` was already seen when the highest id seen is `lastId` (both strings). */
export function alreadySeen(name, id, lastId) {
  // Snapshot events all carry the id the stream started at: never drop them.
  if (name === SNAPSHOT_EVENT || id === "" || lastId === null) return false;
  const number = Number(id);
  const last = Number(lastId);
  return Number.isFinite(number) && Number.isFinite(last) && number <= last;
}

export class JobEventStream {
  /**
   * @param {string} url the events URL (every library the user may see)
   * @param {{lastEventId?: string|null, onEvent: Function, onStatus: Function}} options
   *   onEvent({name, data, id}) for each new event; onStatus(open) when the stream opens or drops.
   */
  constructor(url, { lastEventId = null, onEvent, onStatus }) {
    this.url = url;
    this.lastEventId = lastEventId;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.current = null; // the connection events are read from
    this.pending = null; // a newer connection that has not answered yet
    this.open = false;
    this.closed = false;
    this.retryMs = DEFAULT_RETRY_MS;
    this.failures = 0;
    this.retryTimer = null;
  }

  start() {
    if (!this.current && !this.pending) this.connect();
  }

  /** Connect again now (with the browser's current cookies); the old connection serves meanwhile. */
  reopen() {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    if (this.pending) this.pending.again = true;
    else this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const attempt of [this.current, this.pending]) attempt?.controller.abort();
    this.current = this.pending = null;
    this.setOpen(false);
  }

  connect() {
    const attempt = { controller: new AbortController(), again: false };
    this.pending = attempt;
    const headers = { Accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["Last-Event-ID"] = this.lastEventId;
    fetch(this.url, {
      headers,
      credentials: "same-origin",
      cache: "no-store",
      signal: attempt.controller.signal,
    })
      .then((response) => {
        if (response.status === 401 || response.status === 403) {
          // The browser's session may no longer see the stream: neither may the old connection.
          this.current?.controller.abort();
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        if (this.pending === attempt) this.pending = null;
        this.current?.controller.abort();
        this.current = attempt;
        this.failures = 0;
        this.setOpen(true);
        if (attempt.again) this.reopen(); // asked to reopen while this one was on its way
        return this.read(response.body, attempt);
      })
      .catch(() => {
        // Dropped, refused or aborted: decided below.
      })
      .finally(() => this.ended(attempt));
  }

  ended(attempt) {
    if (this.closed) return;
    if (this.pending === attempt) {
      this.pending = null;
      if (attempt.again) return this.connect();
    }
    if (this.current === attempt) this.current = null;
    if (this.current || this.pending) return; // another connection carries on
    this.setOpen(false);
    this.failures += 1;
    const delay = Math.min(MAX_RETRY_MS, this.retryMs * 2 ** Math.max(0, this.failures - 1));
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  async read(body, attempt) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let afterCR = false; // a chunk ended in CR: a LF opening the next one ends no other line
    let event = { name: "", data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.current !== attempt) break;
      buffer += afterCR && value.startsWith("\n") ? value.slice(1) : value;
      afterCR = value.endsWith("\r");
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          this.dispatch(event);
          event = { name: "", data: [], id: null };
          continue;
        }
        if (line.startsWith(":")) continue; // a comment (keep-alive)
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "data") event.data.push(text);
        else if (field === "event") event.name = text;
        else if (field === "id" && !text.includes("\0")) event.id = text;
        else if (field === "retry" && /^\d+$/.test(text)) this.retryMs = Number(text);
      }
    }
    await reader.cancel().catch(() => {});
  }

  dispatch(event) {
    if (event.data.length === 0) {
      if (event.id !== null) this.lastEventId = event.id;
      return;
    }
    const name = event.name || "message";
    const id = event.id ?? "";
    if (alreadySeen(name, id, this.lastEventId)) return; // replayed after a reopen
    // A snapshot's id is where the stream started: resume from there next time.
    if (event.id !== null && !alreadySeen("", event.id, this.lastEventId)) {
      this.lastEventId = event.id;
    }
    this.onEvent({ name, data: event.data.join("\n"), id });
  }

  setOpen(open) {
    if (open === this.open) return;
    this.open = open;
    this.onStatus(open);
  }
}
