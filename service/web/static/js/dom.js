// Small DOM helpers shared by every view. Text is always set as text, never parsed as HTML.

export const $ = (id) => document.getElementById(id);

export const KIND_ZH = {
  enterprise: "企业", university: "高校", institute: "科研院所",
  new_rd_institution: "新型研发机构", other: "其他",
};

export const VERDICT_ZH = { eligible: "符合", not_eligible: "不符合", undetermined: "待定" };
export const STATUS_ZH = { met: "✓ 满足", not_met: "✗ 不满足", unknown: "? 未知" };
export const REGIME_ZH = { general: "一般企业", strategic_emerging: "战略性新兴产业企业", institute: "科研院所牵头" };

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A status line: `text` (or nothing), red when it reports an error, brought into view then.
export function note(id, text, isError) {
  const node = typeof id === "string" ? $(id) : id;
  node.textContent = text || "";
  node.classList.toggle("error", Boolean(isError));
  if (isError && text) node.scrollIntoView({ block: "nearest" });
}

export function kindBadge(kind) {
  return el("span", { class: `kind ${kind}`, text: KIND_ZH[kind] || kind });
}

export function percent(value) {
  return `${Math.round(value * 100)}%`;
}

export function orgLink(orgId, name) {
  return el("a", { href: `#/org/${encodeURIComponent(orgId)}`, class: "org", text: name });
}

export function challengeLink(id, text) {
  return el("a", { href: `#/c/${encodeURIComponent(id)}`, text: text || id });
}

// The first `chars` characters of a long text, for titles and compact lists.
export function shorten(text, chars) {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

// CJK ideographs or Latin letters: what the service needs to match (emoji alone match nothing).
export const HAS_LETTERS = /[A-Za-z\u00C0-\u024F\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u{20000}-\u{3134F}]/u;

export function tooLong(text, limit) {
  return `技术难题最多 ${limit} 字，当前 ${text.length} 字；请删减后再提交（不会自动截断）`;
}

// A live "n / limit 字" counter under a text box; red beyond the limit.
export function attachCounter(textarea, counter, limit) {
  const update = () => {
    const length = textarea.value.trim().length;
    counter.textContent = `${length} / ${limit} 字`;
    counter.classList.toggle("error", length > limit);
  };
  textarea.addEventListener("input", update);
  update();
  return update;
}

// Evidence with the matched terms in <mark>: from the server's escaped `highlighted` markup,
// parsed as text (never injected as HTML), else from the query's shared substrings.
export function highlighted(hit, query, terms) {
  const span = el("span");
  if (hit.highlighted) {
    const parts = hit.highlighted.split(/<mark>|<\/mark>/);
    parts.forEach((part, i) => {
      const text = new DOMParser().parseFromString(part, "text/html").body.textContent;
      span.append(i % 2 ? el("mark", { text }) : document.createTextNode(text));
    });
    return span;
  }
  let at = 0;
  for (const [start, end] of markRanges(hit.text, query, terms)) {
    span.append(document.createTextNode(hit.text.slice(at, start)));
    span.append(el("mark", { text: hit.text.slice(start, end) }));
    at = end;
  }
  span.append(document.createTextNode(hit.text.slice(at)));
  return span;
}

function markRanges(text, query, terms) {
  const ranges = [];
  const list = (terms || []).filter((t) => t && t.length > 1);
  let i = 0;
  while (i < text.length) {
    let best = 0;
    for (const term of list) if (text.startsWith(term, i) && term.length > best) best = term.length;
    if (!best) {
      // The longest run (≥ 2 characters, not punctuation) that also occurs in the query.
      let j = i + 2;
      while (j <= text.length && /^[\p{L}\p{N}]+$/u.test(text.slice(i, j)) && query.includes(text.slice(i, j))) j++;
      if (j - 1 - i >= 2 && /^[\p{L}\p{N}]+$/u.test(text.slice(i, j - 1))) best = j - 1 - i;
    }
    if (best) { ranges.push([i, i + best]); i += best; } else i++;
  }
  return ranges;
}
