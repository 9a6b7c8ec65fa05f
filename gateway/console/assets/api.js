// The admin API, called with the signed-in token. The token lives in this
// tab's sessionStorage and travels only as Authorization: never as a
// cookie, so no other site can make the browser use it.

const KEY = 'regiongate.adminToken';
const PROBLEM = 'https://regiongate.dev/problems/';

export const session = {
  get token() { return sessionStorage.getItem(KEY) || ''; },
  set(token) { sessionStorage.setItem(KEY, token); },
  clear() { sessionStorage.removeItem(KEY); },
};

// ApiError is an answer that was not a success, with its problem (RFC 9457).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
  // kind is the problem type's name: 'precondition-failed', 'drill-would-refuse', ...
  get kind() { return (this.problem.type || '').replace(PROBLEM, ''); }
}

let unauthorized = () => {};

// onUnauthorized is called when the API answers 401 (the token is no longer valid).
export function onUnauthorized(f) { unauthorized = f; }

// api sends one request. json is sent as JSON, yaml as YAML; the answer's
// body is parsed by its type. Resolves to {data, headers, status}; rejects
// with an ApiError for any other status.
export async function api(method, path, { json, yaml, headers = {} } = {}) {
  const h = { Authorization: `Bearer ${session.token}`, ...headers };
  let body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (yaml !== undefined) {
    h['Content-Type'] = 'application/yaml';
    body = yaml;
  }
  const resp = await fetch(path, { method, headers: h, body, credentials: 'omit', cache: 'no-store' });
  const type = resp.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await resp.json() : await resp.text();
  if (!resp.ok) {
    if (resp.status === 401) unauthorized();
    throw new ApiError(resp.status, typeof data === 'object' ? data : { detail: data });
  }
  return { data, headers: resp.headers, status: resp.status };
}
