// Where the page is lives in the URL's hash, so reload, back/forward and shared links work:
//   #/                       the catalogue (params: area, q)
//   #/c/<id>                 a challenge (params: tab, kind, region, top, all, size, teams, area, q)
//   #/match?text=…           ad-hoc text, not saved (params as for a challenge)
//   #/roadmap?job=…          the technology roadmap
//   #/patents[/<job>]        bulk patent upload, a job's progress and its landscape
//   #/org/<id>               an organisation
//   #/print?ids=a,b&top=…    the printable shortlist, one page per challenge

export function parse(hash) {
  const raw = (hash || "").replace(/^#\/?/, "");
  const [path, query] = raw.split("?", 2);
  const parts = path ? path.split("/").map(decodeURIComponent) : [];
  return { view: parts[0] || "", id: parts.slice(1).join("/") || null, params: new URLSearchParams(query || "") };
}

export function format(view, id, params) {
  let hash = `#/${view || ""}`;
  if (id) hash += `/${encodeURIComponent(id)}`;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value != null && value !== "" && value !== false) query.set(key, value);
  }
  const text = query.toString();
  return text ? `${hash}?${text}` : hash;
}

export function current() {
  return parse(location.hash);
}

// Go to a place: a new history entry (back returns), or with `replace` the same one (typing).
export function go(view, id, params, { replace = false } = {}) {
  const hash = format(view, id, params);
  if (hash === location.hash) return;
  if (replace) {
    history.replaceState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = hash;
  }
}

// The current params as a plain object, with `changes` applied (null removes a key).
export function withParams(changes) {
  const { params } = current();
  const merged = Object.fromEntries(params.entries());
  for (const [key, value] of Object.entries(changes)) {
    if (value == null || value === "") delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
