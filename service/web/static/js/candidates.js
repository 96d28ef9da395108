// The candidate tab: ranked organisations with evidence, the filters and downloads that act on
// them. `candidateRow` renders one candidate: the one place to add per-row marks or actions
// (its judging cell: js/judgments.js).

import { download, getJSON, sendJSON } from "./api.js";
import { $, el, highlighted, kindBadge, note, orgLink, percent, KIND_ZH } from "./dom.js";
import { judgeCell, judgingHint, loadJudging } from "./judgments.js";
import { go, withParams } from "./router.js";

// Candidates below this confidence are hidden behind "显示全部": a top-50 or a region filter
// would otherwise pad the list with organisations at 0–1 %.
export const LOW_CONFIDENCE = 0.05;

// The ranking on screen, and its challenge's judgments (null for unsaved text).
const shown = { key: null, result: null, judging: null };

// What the filters ask, from the URL (the single source of truth).
export function filterParams(params) {
  return {
    top: params.get("top") || "10",
    kind: params.get("kind") || "",
    region: params.get("region") || "",
  };
}

function query(filters) {
  const query = new URLSearchParams({ top: filters.top });
  if (filters.kind) query.set("kind", filters.kind);
  if (filters.region) query.set("region", filters.region);
  return query;
}

function matchBody(target, filters) {
  const body = { text: target.text, top: Number(filters.top) };
  if (filters.kind) body.kind = filters.kind;
  if (filters.region) body.region = filters.region;
  return body;
}

// Fill the filter controls from the URL.
export function showFilters(params) {
  const filters = filterParams(params);
  $("kind-filter").value = filters.kind;
  $("top-filter").value = filters.top;
  if (document.activeElement !== $("region-filter")) $("region-filter").value = filters.region;
}

// Rank (or reuse the ranking already on screen when only the display changed).
export async function showCandidates(target, params, { force = false } = {}) {
  const filters = filterParams(params);
  const key = JSON.stringify([target.id, target.text, filters]);
  if (force || shown.key !== key) {
    shown.key = key;
    shown.result = null;
    shown.judging = null;
    note("candidates-note", "正在匹配…");
    note("judging-hint", "");
    $("candidates-table").querySelector("tbody").replaceChildren();
    $("floor-note").hidden = true;
    setDownloads(false);
    $("candidates-table").dataset.shows = "";
    try {
      const [result, judging] = target.id
        ? await Promise.all([
          getJSON(`/challenges/${encodeURIComponent(target.id)}/candidates?${query(filters)}`),
          loadJudging(target.id),
        ])
        : [await sendJSON("POST", "/match", matchBody(target, filters)), null];
      if (shown.key !== key) return; // the user moved on meanwhile
      shown.result = result;
      shown.judging = judging;
    } catch (error) {
      if (shown.key !== key) return;
      shown.key = null;
      note("candidates-note", error.message, true);
      if (!target.id) note("post-message", error.message, true); // where the user is looking
      return;
    }
  }
  if (shown.result) renderCandidates(shown.result, shown.judging, filters, params.get("all") === "1");
  // What the table now shows, for scripts and tests: "<id>|<top>|<kind>|<region>|<all>".
  $("candidates-table").dataset.shows = shown.result
    ? [target.id || "", filters.top, filters.kind, filters.region, params.get("all") || ""].join("|")
    : "";
}

function renderCandidates(result, judging, filters, showAll) {
  const tbody = $("candidates-table").querySelector("tbody");
  const visible = showAll ? result.candidates : result.candidates.filter((c) => c.confidence >= LOW_CONFIDENCE);
  const hidden = result.candidates.length - visible.length;
  tbody.replaceChildren(...visible.map((c, i) => candidateRow(c, i + 1, result, judging)));
  $("judge-head").hidden = !judging;
  const hint = () => note("judging-hint", result.candidates.length ? judgingHint(judging) : "", judging && judging.error);
  if (judging) judging.changed = hint;
  hint();
  $("candidates-legend").replaceWith(legend(result));
  note("candidates-note", summary(result, visible, filters));
  const floor = $("floor-note");
  const lowCount = result.candidates.filter((c) => c.confidence < LOW_CONFIDENCE).length;
  floor.hidden = !lowCount;
  $("floor-text").textContent = hidden
    ? `另有 ${hidden} 个机构置信度低于 ${percent(LOW_CONFIDENCE)}，未列出。`
    : `已列出全部 ${result.candidates.length} 个机构，含置信度低于 ${percent(LOW_CONFIDENCE)} 的 ${lowCount} 个。`;
  $("show-all").textContent = hidden ? "显示全部" : `只看 ≥ ${percent(LOW_CONFIDENCE)}`;
  $("show-all").dataset.all = hidden ? "1" : "";
  setDownloads(result.candidates.length > 0);
}

// The note above the table, in Chinese, from the result's data.
function summary(result, visible, filters) {
  if (!result.candidates.length) {
    const parts = [];
    if (filters.kind) parts.push(`类型：${KIND_ZH[filters.kind] || filters.kind}`);
    if (filters.region) parts.push(`地区：${filters.region}`);
    return parts.length
      ? `没有符合筛选条件（${parts.join("；")}）的机构`
      : "没有与这段文字相关的证据，找不到候选机构";
  }
  const lines = [visible.length
    ? `共 ${visible.length} 个候选机构（按置信度排序）`
    : `没有置信度达到 ${percent(LOW_CONFIDENCE)} 的机构`];
  const best = Math.max(...result.candidates.map((c) => c.confidence));
  if (result.capable != null && best < result.capable) {
    lines.push(`注意：没有机构达到“有能力”水平（置信度 ≥ ${percent(result.capable)}，最高 ${percent(best)}），以下只是线索，不是揭榜单位`);
  }
  return lines.join("；");
}

// What a confidence means, in Chinese, with the capable level of this result.
export function legend(result) {
  const level = result.capable == null ? null : percent(result.capable);
  return el("p", { id: "candidates-legend", class: "legend" },
    "置信度：该机构能为此挑战作出贡献（已有相关专利或能力）的概率，在95个真实榜单上校准——显示 30% 的机构，大约每10家中有3家确有相关能力。",
    level ? el("span", {}, " 达到“有能力”水平（≥ ", level, "）的机构标有", el("span", { class: "capable-mark", text: "✓ 有能力" }), "。") : "",
    result.facets && result.facets.length
      ? ` 本挑战列举了${result.facets.length}个技术要点，机构只要能承担其中一个，即可视为能作出贡献。`
      : "");
}

// One candidate; `judging` (js/judgments.js) adds its grade buttons and note, for a saved
// challenge only.
export function candidateRow(candidate, rank, result, judging) {
  const evidence = el("td", { class: "evidence" });
  if (candidate.facets && candidate.facets.length) {
    evidence.append(el("div", { class: "chips" }, candidate.facets.map((facet) => el("span", {
      class: facet.covered ? "chip covered" : "chip",
      title: facet.evidence || "无证据",
      text: `${facet.facet} ${percent(facet.confidence)}${facet.covered ? " ✓" : ""}`,
    }))));
  }
  for (const hit of candidate.evidence) {
    evidence.append(el("p", {},
      el("span", { class: "source", text: hit.source === "patent" ? `专利${hit.date ? " " + hit.date.slice(0, 4) : ""}` : "能力" }),
      highlighted(hit, result.query, candidate.shared_terms)));
  }
  const bar = el("div", { class: "bar", title: `置信度 ${percent(candidate.confidence)}` }, el("span"));
  bar.firstChild.style.width = percent(candidate.confidence);
  const capable = result.capable != null && candidate.confidence >= result.capable;
  return el("tr", { class: capable ? "candidate capable" : "candidate", "data-org": candidate.org_id },
    el("td", { class: "rank", text: rank }),
    el("td", { class: "name" }, orgLink(candidate.org_id, candidate.name), el("small", { text: candidate.org_id })),
    el("td", {}, kindBadge(candidate.kind)),
    el("td", { class: "region", text: candidate.region }),
    el("td", { class: "confidence" }, percent(candidate.confidence),
      capable ? el("span", { class: "capable-mark", title: "达到有能力水平", text: "✓" }) : "", bar),
    evidence,
    judging ? judgeCell(candidate, judging) : null);
}

function setDownloads(enabled) {
  for (const id of ["download-xlsx", "download-csv", "print-shortlist"]) $(id).disabled = !enabled;
}

export function initCandidates(target) {
  const apply = (changes) => go(target().view, target().id, withParams(changes));
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    apply({ region: $("region-filter").value.trim(), all: null });
  });
  $("kind-filter").addEventListener("change", () => apply({ kind: $("kind-filter").value, all: null }));
  $("top-filter").addEventListener("change", () => apply({ top: $("top-filter").value, all: null }));
  $("show-all").addEventListener("click", () => apply({ all: $("show-all").dataset.all || null }));
  for (const format of ["xlsx", "csv"]) {
    $(`download-${format}`).addEventListener("click", async () => {
      const { challenge, params } = target();
      const filters = filterParams(params);
      try {
        if (challenge.id) {
          await download(`/challenges/${encodeURIComponent(challenge.id)}/candidates/export?${query(filters)}&format=${format}`,
            `jiebang-${challenge.id}.${format}`);
        } else {
          await download("/match/export", `jiebang-match.${format}`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(Object.assign(matchBody(challenge, filters), { format })),
          });
        }
      } catch (error) {
        note("candidates-note", error.message, true);
      }
    });
  }
  $("print-shortlist").addEventListener("click", () => {
    const { challenge, params } = target();
    go("print", null, Object.assign({ ids: challenge.id }, filterParams(params)));
  });
}
