// The printable shortlist: one page per challenge with its top candidates and their best
// evidence. Print CSS (style.css, @media print) lays it out; the browser prints or saves a PDF.

import { getJSON } from "./api.js";
import { LOW_CONFIDENCE } from "./candidates.js";
import { $, el, KIND_ZH, note, percent, shorten } from "./dom.js";

const EVIDENCE_CHARS = 140; // one passage, clipped: ten candidates fit one A4 page
let shownKey = null;

export async function showShortlist(params) {
  const ids = (params.get("ids") || "").split(",").filter(Boolean);
  const filters = new URLSearchParams({ top: params.get("top") || "10" });
  for (const key of ["kind", "region"]) if (params.get(key)) filters.set(key, params.get(key));
  const key = `${ids.join(",")}?${filters}`;
  if (shownKey === key) return;
  shownKey = key;
  const pages = $("shortlist-pages");
  pages.replaceChildren();
  if (!ids.length) return note("shortlist-note", "没有要打印的挑战", true);
  note("shortlist-note", `正在准备 ${ids.length} 个挑战的候选名单…`);
  const date = new Date().toLocaleDateString("zh-CN");
  for (const [index, id] of ids.entries()) {
    try {
      const challenge = await getJSON(`/challenges/${encodeURIComponent(id)}`);
      const result = await getJSON(`/challenges/${encodeURIComponent(id)}/candidates?${filters}`);
      if (shownKey !== key) return;
      pages.append(page(challenge, result, date));
      note("shortlist-note", `已准备 ${index + 1} / ${ids.length} 个挑战。每个挑战单独一页；用“打印”或浏览器的“另存为 PDF”。`);
    } catch (error) {
      pages.append(el("section", { class: "shortlist-page" }, el("h2", { text: id }), el("p", { class: "note error", text: error.message })));
    }
  }
  $("print-button").disabled = false;
}

function page(challenge, result, date) {
  const shown = result.candidates.filter((c) => c.confidence >= LOW_CONFIDENCE);
  const capable = result.capable;
  return el("section", { class: "shortlist-page", "data-id": challenge.id },
    el("p", { class: "meta", text: `候选名单 · ${challenge.id} · ${challenge.area} · ${date}` }),
    el("h2", { text: challenge.text }),
    el("table", {},
      el("thead", {}, el("tr", {}, ["排名", "机构", "类型 · 地区", "置信度", "主要证据"].map((text) => el("th", { text })))),
      el("tbody", {}, shown.map((c, i) => el("tr", { class: capable != null && c.confidence >= capable ? "capable" : null },
        el("td", { class: "rank", text: i + 1 }),
        el("td", { class: "name", text: c.name }),
        el("td", { text: `${KIND_ZH[c.kind] || c.kind} · ${c.region}` }),
        el("td", { class: "num", text: percent(c.confidence) }),
        el("td", { class: "evidence", text: c.evidence.length ? shorten(c.evidence[0].text, EVIDENCE_CHARS) : "—" }))))),
    el("p", { class: "hint", text: `置信度：该机构能为此挑战作出贡献的概率；粗体为达到“有能力”水平（≥ ${percent(capable || 0)}）的机构。置信度低于 ${percent(LOW_CONFIDENCE)} 的机构未列出。` }));
}

export function initShortlist() {
  $("print-button").addEventListener("click", () => window.print());
  $("print-back").addEventListener("click", () => history.back());
}
