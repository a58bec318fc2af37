// A tiny typed fetch helper for the jobs API. Hosts with their own API client
// (Shisho's `API.request`) can swap it in: the hooks only call `apiRequest`.

/** Where the plugin mounts its routes (`ResyncConfig.api_prefix`). */
export const API_PREFIX = "/api";

/** The cookie holding the CSRF token and the header that must echo it on unsafe requests. */
export const CSRF_COOKIE = "csrftoken";
export const CSRF_HEADER = "X-CSRFToken";

/** The error body the API answers with (Litestar's shape), e.g. the 409 of a second scan. */
export interface ApiErrorBody {
  status_code: number;
  detail: string;
  extra?: Record<string, unknown>;
}

/** A non-2xx answer: its status and, when it was JSON, its body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody | undefined;

  constructor(status: number, body: ApiErrorBody | undefined) {
    super(body?.detail ?? `Request failed with status ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** Query values; arrays become repeated keys (`status=pending&status=in_progress`). */
export type QueryParams = Record<
  string,
  string | number | boolean | null | undefined | readonly (string | number)[]
>;

export interface RequestOptions {
  query?: QueryParams;
  body?: unknown;
  signal?: AbortSignal;
}

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The value of a cookie of `document.cookie`, or undefined. */
export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) {
      return decodeURIComponent(value.join("="));
    }
  }
  return undefined;
}

/** `path` under the API prefix with the query string; null and undefined values are left out. */
export function apiUrl(path: string, query: QueryParams = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item !== null && item !== undefined) {
        params.append(key, String(item));
      }
    }
  }
  const search = params.toString();
  return `${API_PREFIX}${path}${search ? `?${search}` : ""}`;
}

/**
 * Sends a JSON request to the jobs API and decodes the JSON answer.
 *
 * @throws ApiError for a non-2xx answer (with the decoded error body when there is one).
 */
export async function apiRequest<T>(
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  { query, body, signal }: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const csrfToken = UNSAFE_METHODS.has(method) ? readCookie(CSRF_COOKIE) : undefined;
  if (csrfToken !== undefined) {
    headers[CSRF_HEADER] = csrfToken;
  }
  const response = await fetch(apiUrl(path, query), {
    method,
    headers,
    credentials: "same-origin",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
  if (!response.ok) {
    const errorBody = parseJson(await response.text());
    throw new ApiError(response.status, isErrorBody(errorBody) ? errorBody : undefined);
  }
  return (await response.json()) as T;
}

// An error page of a proxy or a crash is not JSON: keep the status, drop the body.
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === "object" && value !== null && "detail" in value;
}
