// 揭榜 web page: vanilla ES modules over the service's own JSON API; no build step.
// The URL's hash says what is shown (js/router.js); every control changes the hash, and
// `route()` draws the page from it, so reload, back/forward and links all work.

import { rememberKey } from "./js/api.js";
import { initChallenge, showChallenge } from "./js/challenge.js";
import { catalogue, initCatalogue, loadCatalogue, onCatalogueChange, renderList } from "./js/catalogue.js";
import { $, note } from "./js/dom.js";
import { showOrganisation } from "./js/organisation.js";
import { initPatents, showPatents } from "./js/patents.js";
import { showRoadmap } from "./js/roadmap.js";
import { current } from "./js/router.js";
import { initShortlist, showShortlist } from "./js/shortlist.js";
import { initUpload } from "./js/upload.js";

const VIEWS = { "": "match", c: "match", match: "match", roadmap: "roadmap", patents: "patents", org: "org", print: "print" };

async function route() {
  const place = current();
  const view = VIEWS[place.view] || "match";
  for (const node of document.querySelectorAll("main.view")) node.hidden = node.id !== `view-${view}`;
  for (const link of document.querySelectorAll("header nav a")) link.classList.toggle("active", link.dataset.view === view);
  document.body.dataset.view = view;
  const names = { roadmap: "技术路线图", patents: "专利导航", org: "机构", print: "候选名单" };
  if (view !== "match") document.title = `${names[view]} · 揭榜`;
  if (view === "match") {
    if (catalogue.loaded) renderList();
    await showChallenge(place);
  } else if (view === "roadmap") {
    await showRoadmap(place.params);
  } else if (view === "patents") {
    await showPatents(place.id);
  } else if (view === "org") {
    await showOrganisation(place.id);
  } else {
    await showShortlist(place.params);
  }
}

// The header's counts, asked again after every change to the catalogue.
async function refreshStatus() {
  try {
    const response = await fetch("/readyz");
    const body = await response.json();
    if (response.ok) {
      $("status").textContent = `服务就绪 · ${body.organisations} 家机构 · ${body.challenges} 个挑战`;
      return true;
    }
    const loading = !body.detail || body.detail.startsWith("loading");
    $("status").textContent = loading ? "正在加载模型和索引…" : "模型或索引加载失败，请查看服务日志";
  } catch (_) {
    $("status").textContent = "无法连接服务";
  }
  return false;
}

async function watchReadiness() {
  while (!(await refreshStatus())) await new Promise((resolve) => setTimeout(resolve, 2000));
}

async function init() {
  rememberKey();
  onCatalogueChange(refreshStatus);
  await Promise.all([initCatalogue(), initChallenge(), initPatents()]);
  initShortlist();
  initUpload();
  window.addEventListener("hashchange", () => route());
  watchReadiness();
  try {
    await loadCatalogue();
  } catch (error) {
    note("catalogue-note", error.message, true);
  }
  await route();
}

init().catch((error) => note("status", `页面初始化失败：${error.message}`, true));
