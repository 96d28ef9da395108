// HTTP to the service's own JSON API. Errors carry the server's Chinese message and its code.

const KEY_STORAGE = "jiebang-api-key";

export function apiKey() {
  const input = document.getElementById("api-key");
  return input ? input.value.trim() : "";
}

export function rememberKey() {
  const input = document.getElementById("api-key");
  input.value = sessionStorage.getItem(KEY_STORAGE) || "";
  input.addEventListener("change", () => sessionStorage.setItem(KEY_STORAGE, apiKey()));
}

export class ApiError extends Error {
  constructor(message, status, code, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

// `fetch` with the API key; a non-2xx answer throws an ApiError whose message is for people.
export async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = Object.assign({}, opts.headers || {});
  const key = apiKey();
  if (key) opts.headers["X-API-Key"] = key;
  let response;
  try {
    response = await fetch(path, opts);
  } catch (_) {
    throw new ApiError("无法连接服务，请检查服务是否在运行", 0, "network");
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    const error = body && body.error;
    const message = error && error.message ? error.message : `请求失败（HTTP ${response.status}）`;
    throw new ApiError(message, response.status, error && error.code, error && error.detail);
  }
  return response;
}

export const getJSON = async (path) => (await api(path)).json();

export async function sendJSON(method, path, body) {
  const response = await api(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.status === 204 ? null : response.json();
}

// Save what `path` answers as a file (the server names it in Content-Disposition).
export async function download(path, fallbackName, options) {
  const response = await api(path, options);
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename\*=UTF-8''([^;]+)/.exec(disposition);
  const name = named ? decodeURIComponent(named[1]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The service's limits (GET /limits), fetched once.
let limits = null;
export async function getLimits() {
  if (!limits) limits = await getJSON("/limits");
  return limits;
}
