// The network boundary: a fetch that answers the jobs API from an in-memory list, as the
// plugin would, and records every request.

import { vi } from "vitest";

import type { CreateJobPayload, Job } from "../../types/generated";

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

let nextId = 100;

/** A job as the API returns it; a pending library-1 scan unless told otherwise. */
export function makeJob(fields: Partial<Job> = {}): Job {
  const at = new Date().toISOString();
  return {
    id: nextId++,
    created_at: at,
    updated_at: at,
    type: "scan",
    status: "pending",
    data: {},
    progress: 0,
    library_id: 1,
    trigger: "manual",
    ...fields,
  };
}

export class FakeJobsApi {
  /** Jobs newest first, as `GET /api/jobs` lists them. */
  jobs: Job[] = [];
  requests: RecordedRequest[] = [];
  /** How `POST /api/jobs` answers; by default it creates a pending job. */
  onCreate: (payload: CreateJobPayload) => Response | Promise<Response> = (payload) => {
    const job = makeJob({
      ...(payload.library_id != null ? { library_id: payload.library_id } : {}),
    });
    this.jobs.unshift(job);
    return json(job, 201);
  };

  /**
   * How `POST /api/jobs/{id}/cancel` answers; by default as the contract says: a pending job
   * 200 and cancelled, a running one 202 with `cancel_requested`, a finished one 409.
   */
  onCancel: (job: Job) => Response | Promise<Response> = (job) => {
    const at = new Date(Date.parse(job.updated_at) + 1).toISOString();
    if (job.status === "pending") {
      return json(this.replace({ ...job, status: "cancelled", finished_at: at, updated_at: at }));
    }
    if (job.status === "in_progress") {
      return json(this.replace({ ...job, cancel_requested: true, updated_at: at }), 202);
    }
    return json({ status_code: 409, detail: "The job has already finished.", extra: { job } }, 409);
  };

  /** How `POST /api/jobs/{id}/retry` answers; by default a new pending job of the same scope. */
  onRetry: (job: Job) => Response | Promise<Response> = (job) => {
    const again = makeJob({ trigger: "retry", retry_of: job.id, type: job.type });
    if (job.library_id === undefined) delete again.library_id;
    else again.library_id = job.library_id;
    this.jobs.unshift(again);
    return json(again, 201);
  };

  /** Puts `job` in place of the stored job with its id; returns it. */
  replace(job: Job): Job {
    this.jobs = this.jobs.map((candidate) => (candidate.id === job.id ? job : candidate));
    return job;
  }

  /** While true, `GET /api/jobs` answers 503, as an overloaded or restarting server would. */
  listsFail = false;
  /** How long `GET /api/jobs` takes to answer, in milliseconds (a real server is not instant). */
  listLatencyMs = 0;

  /** The open `GET /api/jobs/events` answers (Server-Sent Events), as their readers get them. */
  private readonly eventStreams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  /** How many event streams are open (requested and not yet closed by the page). */
  openEventStreams(): number {
    return this.eventStreams.size;
  }

  /** Sends one Server-Sent Event on every open event stream. */
  sendEvent(name: string, data: unknown, id: string): void {
    const chunk = new TextEncoder().encode(
      `event: ${name}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`,
    );
    for (const stream of this.eventStreams) stream.enqueue(chunk);
  }

  /** Installs this fake as the global fetch for the current test. */
  install(): this {
    vi.stubGlobal("fetch", (input: string, init: RequestInit = {}) => this.handle(input, init));
    return this;
  }

  requestsTo(method: string, pathname: string): RecordedRequest[] {
    return this.requests.filter(
      (request) => request.method === method && request.url.pathname === pathname,
    );
  }

  private async handle(input: string, init: RequestInit): Promise<Response> {
    const url = new URL(input, "http://host.test");
    const method = init.method ?? "GET";
    const body: unknown = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    this.requests.push({ method, url, headers: new Headers(init.headers), body });
    if (method === "GET" && url.pathname === "/api/jobs/events") {
      return this.eventStream(init.signal ?? undefined);
    }
    if (method === "POST" && url.pathname === "/api/jobs") {
      return this.onCreate(body as CreateJobPayload);
    }
    if (method === "GET" && url.pathname === "/api/jobs") {
      if (this.listLatencyMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.listLatencyMs));
      }
      return this.listsFail
        ? json({ status_code: 503, detail: "Service Unavailable" }, 503)
        : json(this.list(url.searchParams));
    }
    const action = /^\/api\/jobs\/(\d+)\/(cancel|retry)$/.exec(url.pathname);
    if (method === "POST" && action !== null) {
      const target = this.jobs.find((candidate) => candidate.id === Number(action[1]));
      if (target === undefined) {
        return json({ status_code: 404, detail: "Not Found" }, 404);
      }
      return action[2] === "cancel" ? this.onCancel(target) : this.onRetry(target);
    }
    const match = /^\/api\/jobs\/(\d+)$/.exec(url.pathname);
    const job = match
      ? this.jobs.find((candidate) => candidate.id === Number(match[1]))
      : undefined;
    if (method === "GET" && job !== undefined) {
      return json(job);
    }
    return json({ status_code: 404, detail: "Not Found" }, 404);
  }

  private eventStream(signal: AbortSignal | undefined): Response {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const streams = this.eventStreams;
    const body = new ReadableStream<Uint8Array>({
      start(opened) {
        controller = opened;
        streams.add(opened);
      },
      cancel() {
        if (controller !== undefined) streams.delete(controller);
      },
    });
    signal?.addEventListener("abort", () => {
      if (controller === undefined || !streams.delete(controller)) return;
      controller.error(new DOMException("aborted", "AbortError"));
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  }

  private list(params: URLSearchParams) {
    const type = params.get("type");
    const library = params.get("library_id_or_global");
    const matching = this.jobs.filter(
      (job) =>
        (type === null || job.type === type) &&
        (library === null || job.library_id === undefined || job.library_id === Number(library)),
    );
    const limit = Number(params.get("limit") ?? 10);
    return { jobs: matching.slice(0, limit), total: matching.length };
  }
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** The API's 409 to a scan that the active scan `job` already covers (start or join). */
export function scanAlreadyActive(job: Job): Response {
  return json(
    { status_code: 409, detail: "A scan job is already running or pending.", extra: { job } },
    409,
  );
}

/** The CSRF token in the cookie that signedInFakeApi sets (the host sets one at sign-in). */
export const CSRF_TOKEN = "token-123";

/** A fake API installed for the current test, with the signed-in session's CSRF cookie set. */
export function signedInFakeApi(): FakeJobsApi {
  const api = new FakeJobsApi().install();
  document.cookie = `csrftoken=${CSRF_TOKEN}; path=/`;
  return api;
}
