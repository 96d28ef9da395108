// The catalogue (aside): search by id or text, the area menu with live counts, the list (posted
// challenges first, newest first), and the form that posts or matches a new challenge.

import { ApiError, getJSON, getLimits, sendJSON } from "./api.js";
import { $, el, note, attachCounter, shorten, tooLong } from "./dom.js";
import { current, go, withParams } from "./router.js";

export const catalogue = { areas: [], challenges: [], loaded: false };
const POSTED = "posted";
const listeners = [];

// Called after every change to the catalogue (post, edit, delete): counts elsewhere follow.
export function onCatalogueChange(listener) {
  listeners.push(listener);
}

export async function loadCatalogue() {
  const data = await getJSON("/challenges");
  catalogue.areas = data.areas;
  catalogue.challenges = data.challenges;
  catalogue.loaded = true;
  renderAreaMenu();
  renderList();
  for (const listener of listeners) listener();
}

export function findChallenge(id) {
  return catalogue.challenges.find((c) => c.id === id) || null;
}

export function areaLabel(challenge) {
  return challenge.area_inferred ? `${challenge.area}（推断）` : challenge.area;
}

function posted() {
  // The API lists posted challenges oldest first; the newest is what a user looks for.
  return catalogue.challenges.filter((c) => c.source === POSTED).reverse();
}

function renderAreaMenu() {
  const select = $("area-select");
  const chosen = current().params.get("area") || "";
  const mine = posted();
  select.replaceChildren(el("option", { value: "", text: `全部领域（${catalogue.challenges.length}）` }));
  if (mine.length) select.append(el("option", { value: POSTED, text: `用户发布的挑战（${mine.length}）` }));
  for (const area of catalogue.areas) {
    const label = `${area.no}. ${area.name}${area.name_inferred ? "（推断）" : ""}`;
    select.append(el("option", { value: String(area.no), text: `${label}（${area.challenges}）` }));
  }
  select.value = chosen;
  const names = $("area-names");
  names.replaceChildren(...catalogue.areas.map((area) => el("option", { value: area.name })));
}

// The challenges the area menu and the search box select, posted ones first.
export function listedChallenges() {
  const { params } = current();
  const area = params.get("area") || "";
  const query = (params.get("q") || "").trim().toLowerCase();
  const ordered = [...posted(), ...catalogue.challenges.filter((c) => c.source !== POSTED)];
  return ordered.filter((c) =>
    (!area || (area === POSTED ? c.source === POSTED : String(c.area_no) === area))
    && (!query || c.id.toLowerCase().includes(query) || c.text.toLowerCase().includes(query)
      || c.area.toLowerCase().includes(query)));
}

export function renderList() {
  const { view, id, params } = current();
  const search = $("catalogue-search");
  if (document.activeElement !== search) search.value = params.get("q") || "";
  $("area-select").value = params.get("area") || "";
  const list = $("challenge-list");
  const chosen = listedChallenges();
  list.replaceChildren(...chosen.map((challenge) => {
    const selected = view === "c" && id === challenge.id;
    return el("li", { "data-id": challenge.id, class: selected ? "active" : null },
      el("a", { href: `#/c/${encodeURIComponent(challenge.id)}${keptParams()}` },
        el("span", { class: "cid", text: `${challenge.id} · ${areaLabel(challenge)}${challenge.source === POSTED ? " · 用户发布" : ""}` }),
        el("span", { class: "text", title: shorten(challenge.text, 300), text: challenge.text })));
  }));
  note("catalogue-note", chosen.length ? `列出 ${chosen.length} 个挑战` : "没有符合条件的挑战");
  $("print-list").hidden = !chosen.length;
  // Bring the selected challenge into the list's view, without scrolling the page itself.
  const active = list.querySelector("li.active");
  if (active) {
    const top = active.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top + active.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = top - list.clientHeight / 3;
    }
  }
}

// Catalogue filters travel with a link to a challenge, so the list stays as it was.
function keptParams() {
  const { params } = current();
  const kept = new URLSearchParams();
  for (const key of ["area", "q"]) if (params.get(key)) kept.set(key, params.get(key));
  const text = kept.toString();
  return text ? `?${text}` : "";
}

// ---- posting --------------------------------------------------------------------------------

async function readForm() {
  const limit = (await getLimits()).text_chars;
  const area = $("post-area").value.trim();
  const text = $("post-text").value.trim();
  if (!text) throw new ApiError("请填写技术难题。", 0, "blank");
  if (text.length > limit) throw new ApiError(tooLong(text, limit), 0, "too_long");
  return { area, text };
}

async function postChallenge(event) {
  event.preventDefault();
  let form;
  try {
    form = await readForm();
  } catch (error) {
    note("post-message", error.message, true);
    return;
  }
  note("post-message", "正在发布…");
  try {
    const challenge = await sendJSON("POST", "/challenges", form.area ? form : { text: form.text });
    note("post-message", challenge.area_inferred
      ? `已发布：${challenge.id}（领域推断为「${challenge.area}」）`
      : `已发布：${challenge.id}`);
    await loadCatalogue();
    // Open it at once, in a list that shows it (the search and area filters are reset).
    go("c", challenge.id, {});
  } catch (error) {
    note("post-message", error.message, true);
  }
}

async function matchOnly() {
  let form;
  try {
    form = await readForm();
  } catch (error) {
    note("post-message", error.message, true);
    return;
  }
  note("post-message", "");
  go("match", null, { text: form.text, area: form.area });
}

export async function initCatalogue() {
  const limit = (await getLimits()).text_chars;
  for (const node of document.querySelectorAll(".text-limit")) node.textContent = String(limit);
  attachCounter($("post-text"), $("post-counter"), limit);
  $("post-form").addEventListener("submit", postChallenge);
  $("match-button").addEventListener("click", matchOnly);
  $("area-select").addEventListener("change", () => {
    const { view, id } = current();
    go(view === "c" || view === "match" ? view : "", id, withParams({ area: $("area-select").value }));
  });
  $("catalogue-search").addEventListener("input", () => {
    const { view, id } = current();
    go(view === "c" || view === "match" ? view : "", id,
      withParams({ q: $("catalogue-search").value.trim() }), { replace: true });
  });
  $("print-list").addEventListener("click", () => {
    const ids = listedChallenges().slice(0, MAX_PRINT).map((c) => c.id);
    go("print", null, { ids: ids.join(",") });
  });
}

export const MAX_PRINT = 20;
