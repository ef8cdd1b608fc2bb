// The notebox HTTP API (/api/auth/*). Same-origin fetches: the session is an HttpOnly
// cookie, and state-changing requests are JSON so the server's CSRF checks pass.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** The server could not be reached at all (offline, DNS, server down). */
export class NetworkError extends Error {
  constructor(cause) {
    super('notebox could not be reached. Check your connection and try again.');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

export async function request(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    cache: 'no-store',
  };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new NetworkError(error);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page, say: reported below by status.
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('retry-after')) || null;
    const code = json?.error?.code ?? `http_${response.status}`;
    let message = json?.error?.message ?? `The server answered ${response.status} ${response.statusText}.`;
    if (response.status === 429 && retryAfter) {
      message = `Too many attempts. Try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`;
    }
    throw new ApiError(response.status, code, message, retryAfter);
  }
  return json;
}

export const api = {
  /** {needs_setup, signup: "open"|"closed"} */
  setup: () => request('GET', '/api/auth/setup'),
  /** {id, email, display_name, is_admin}; ApiError 401 without a session. */
  me: () => request('GET', '/api/auth/me'),
  login: (email, password) => request('POST', '/api/auth/login', { email, password }),
  /** `extra`: e.g. {setup_token} for the first (admin) account. */
  signup: (email, password, display_name, extra = {}) =>
    request('POST', '/api/auth/signup', { email, password, display_name, ...extra }),
  logout: () => request('POST', '/api/auth/logout', {}),
};
