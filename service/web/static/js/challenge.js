// One challenge (or ad-hoc text) with its three tabs; editing and deleting posted challenges.

import { getJSON, getLimits, sendJSON } from "./api.js";
import { initCandidates, showCandidates, showFilters } from "./candidates.js";
import { areaLabel, findChallenge, loadCatalogue } from "./catalogue.js";
import { $, attachCounter, note, shorten, tooLong } from "./dom.js";
import { current, go, withParams } from "./router.js";
import { initTeams, showConsortium, showSolvers } from "./teams.js";

const TABS = ["candidates", "solvers", "consortium"];
const TITLE_CHARS = 28;
// What is on screen: {view, id, params, challenge: {id, text, area, source, …}}.
const here = { view: null, id: null, params: new URLSearchParams(), challenge: null };
let refreshCounter = () => {};

export function target() {
  return here;
}

export async function showChallenge(route, { force = false } = {}) {
  here.view = route.view;
  here.id = route.id;
  here.params = route.params;
  if (route.view === "match") {
    const text = route.params.get("text") || "";
    const area = route.params.get("area") || "";
    here.challenge = { id: null, text: area ? `${area}：${text}` : text, display: text, area };
  } else if (route.id) {
    const known = findChallenge(route.id);
    if (!known || force) {
      try {
        here.challenge = await getJSON(`/challenges/${encodeURIComponent(route.id)}`);
      } catch (error) {
        here.challenge = null;
        showEmpty(error.message, true);
        return;
      }
    } else {
      here.challenge = known;
    }
  } else {
    here.challenge = null;
    showEmpty("请从目录选择挑战，或发布一个新挑战");
    return;
  }
  renderHeader();
  const tab = TABS.includes(route.params.get("tab")) ? route.params.get("tab") : "candidates";
  const adHoc = !here.challenge.id;
  for (const button of document.querySelectorAll(".tabs button")) {
    const active = button.dataset.tab === tab;
    button.classList.toggle("active", active);
    button.setAttribute("aria-selected", String(active));
    button.disabled = adHoc && button.dataset.tab !== "candidates";
    button.title = button.disabled ? "发布挑战后才能组建揭榜单位和联合体" : "";
  }
  for (const node of document.querySelectorAll(".tab")) node.hidden = node.id !== `tab-${tab}`;
  $("results-body").hidden = false;
  $("print-shortlist").hidden = adHoc;
  if (tab === "candidates") {
    showFilters(route.params);
    await showCandidates(here.challenge, route.params, { force });
  } else if (tab === "solvers") {
    await showSolvers(here.challenge.id, { force });
  } else {
    await showConsortium(here.challenge.id, route.params, { force });
  }
}

function showEmpty(message, isError) {
  $("challenge-meta").textContent = "";
  $("challenge-title").textContent = "";
  note("challenge-empty", message, isError);
  $("challenge-empty").hidden = false;
  $("title-toggle").hidden = true;
  $("challenge-actions").hidden = true;
  $("edit-form").hidden = true;
  $("results-body").hidden = true;
  document.title = "揭榜 · 技术难题与攻关单位匹配";
}

function renderHeader() {
  const challenge = here.challenge;
  $("challenge-empty").hidden = true;
  const text = challenge.display || challenge.text;
  $("challenge-meta").textContent = challenge.id
    ? `${challenge.id} · ${areaLabel(challenge)}${challenge.source === "posted" ? " · 用户发布" : ""}`
    : "临时匹配（未保存）";
  const title = $("challenge-title");
  title.textContent = text;
  title.classList.add("clamped");
  $("title-toggle").hidden = text.length <= 120;
  $("title-toggle").textContent = "展开全文";
  document.title = `${shorten(text, TITLE_CHARS)} · 揭榜`;
  const editable = challenge.source === "posted";
  $("challenge-actions").hidden = !editable;
  if (!editable || $("edit-form").dataset.id !== challenge.id) $("edit-form").hidden = true;
  resetDelete();
}

// ---- edit and delete ------------------------------------------------------------------------

function openEditor() {
  const challenge = here.challenge;
  const form = $("edit-form");
  form.dataset.id = challenge.id;
  $("edit-area").value = challenge.area_inferred ? "" : challenge.area;
  $("edit-text").value = challenge.text;
  refreshCounter();
  note("edit-message", "");
  form.hidden = false;
  $("edit-text").focus();
}

async function saveEdit(event) {
  event.preventDefault();
  const limit = (await getLimits()).text_chars;
  const text = $("edit-text").value.trim();
  const area = $("edit-area").value.trim();
  if (!text) return note("edit-message", "请填写技术难题。", true);
  if (text.length > limit) return note("edit-message", tooLong(text, limit), true);
  note("edit-message", "正在保存…");
  try {
    const id = here.challenge.id;
    await sendJSON("PUT", `/challenges/${encodeURIComponent(id)}`, area ? { area, text } : { text });
    $("edit-form").hidden = true;
    await loadCatalogue();
    await showChallenge(Object.assign({}, current()), { force: true });
    note("challenge-message", "已保存修改");
  } catch (error) {
    note("edit-message", error.message, true);
  }
}

let deleteTimer = null;

function resetDelete() {
  clearTimeout(deleteTimer);
  const button = $("delete-button");
  button.textContent = "删除";
  button.classList.remove("danger");
  note("challenge-message", "");
}

async function deleteChallenge() {
  const button = $("delete-button");
  if (!button.classList.contains("danger")) {
    // Two steps instead of a native dialog: click again within 5 s to confirm.
    button.textContent = "确认删除？";
    button.classList.add("danger");
    deleteTimer = setTimeout(resetDelete, 5000);
    return;
  }
  clearTimeout(deleteTimer);
  const id = here.challenge.id;
  try {
    await sendJSON("DELETE", `/challenges/${encodeURIComponent(id)}`);
    await loadCatalogue();
    go("", null, withParams({ tab: null, kind: null, region: null, top: null, all: null }));
    note("catalogue-note", `已删除：${id}`);
  } catch (error) {
    resetDelete();
    note("challenge-message", error.message, true);
  }
}

export async function initChallenge() {
  const limit = (await getLimits()).text_chars;
  refreshCounter = attachCounter($("edit-text"), $("edit-counter"), limit);
  $("edit-button").addEventListener("click", openEditor);
  $("edit-cancel").addEventListener("click", () => { $("edit-form").hidden = true; });
  $("edit-form").addEventListener("submit", saveEdit);
  $("delete-button").addEventListener("click", deleteChallenge);
  $("title-toggle").addEventListener("click", () => {
    const clamped = $("challenge-title").classList.toggle("clamped");
    $("title-toggle").textContent = clamped ? "展开全文" : "收起";
  });
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => go(here.view, here.id, withParams({ tab: button.dataset.tab })));
  }
  initCandidates(target);
  initTeams(target);
}
