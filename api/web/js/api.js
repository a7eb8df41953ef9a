// The API over fetch: the session (an API key or a login token), JSON in and out, and errors
// as ApiError carrying the API's {code, message, details}.

const STORE = "vc.session";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "HttpError";
    this.details = body.details || {};
  }
}

export const session = {
  get() {
    const raw = sessionStorage.getItem(STORE);
    return raw ? JSON.parse(raw) : null;
  },
  set(value) {
    sessionStorage.setItem(STORE, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(STORE);
  },
};

async function request(method, path, body, { idempotent = false, auth = true, text = false } = {}) {
  const headers = { Accept: "application/json" };
  const s = session.get();
  if (auth && s) headers.Authorization = `Bearer ${s.secret}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const raw = await response.text();
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = { message: raw };
  }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return text ? raw : data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body = {}, options = {}) => request("POST", path, body, options),
  put: (path, body) => request("PUT", path, body),
  patch: (path, body) => request("PATCH", path, body),
  // value-moving steps need an Idempotency-Key: one fresh key per click
  send: (path, body = {}) => request("POST", path, body, { idempotent: true }),
  public: (method, path, body) => request(method, path, body, { auth: false }),
  // a report as text (?format=csv)
  text: (path) => request("GET", path, undefined, { text: true }),
};

// Every page of a list endpoint
export async function all(path) {
  const sep = path.includes("?") ? "&" : "?";
  const out = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api.get(`${path}${sep}limit=500&offset=${offset}`);
    out.push(...page.data);
    if (out.length >= page.count || page.data.length === 0) return out;
  }
}
