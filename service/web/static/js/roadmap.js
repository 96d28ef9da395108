// The technology roadmap: every challenge in one of the seed's three batches, side by side.

import { getJSON } from "./api.js";
import { $, challengeLink, el, note, percent } from "./dom.js";

const BATCHES = [
  ["应用替代一批", "应用替代"],
  ["应急攻关一批", "应急攻关"],
  ["前瞻部署一批", "前瞻部署"],
];
let shownKey = null;

export async function showRoadmap(params) {
  const job = params.get("job") || "";
  const key = job;
  const query = job ? `?job=${encodeURIComponent(job)}` : "";
  for (const format of ["xlsx", "html", "md"]) $(`roadmap-${format}`).href = `/roadmap${query}${query ? "&" : "?"}format=${format}`;
  $("roadmap-source").textContent = job
    ? `专利活跃度来自专利任务 ${job}。`
    : "未指定专利任务：专利活跃度按 0 计（在“专利导航”上传专利后可按任务生成）。";
  if (shownKey === key) return;
  shownKey = key;
  const columns = $("roadmap-columns");
  columns.replaceChildren();
  note("roadmap-note", "正在评估全部挑战（首次需要数十秒）…");
  try {
    const roadmap = await getJSON(`/roadmap${query}`);
    if (shownKey !== key) return;
    note("roadmap-note", `共 ${roadmap.challenges.length} 个挑战：`
      + BATCHES.map(([batch, short]) => `${short} ${roadmap.batches[batch] || 0} 个`).join("，"));
    columns.append(...BATCHES.map(([batch, short]) => column(batch, short, roadmap.challenges)));
  } catch (error) {
    shownKey = null;
    note("roadmap-note", error.message, true);
  }
}

function column(batch, short, statuses) {
  const mine = statuses.filter((s) => s.batch === batch).sort((a, b) => b.coverage - a.coverage);
  const why = mine.length ? mine[0].why : "";
  return el("section", { class: `batch batch-${BATCHES.findIndex(([b]) => b === batch)}`, "data-batch": batch },
    el("h3", {}, short, el("span", { class: "count", text: `${mine.length}` })),
    el("p", { class: "hint", text: why || "本批暂无挑战" }),
    el("ol", { class: "roadmap-list" }, mine.map((status) => el("li", {},
      el("div", { class: "cid" }, challengeLink(status.challenge_id), ` · ${status.area}`),
      el("div", { class: "text", title: status.text, text: status.text }),
      el("div", { class: "metrics", text:
        `覆盖 ${percent(status.coverage)} · 强匹配单位 ${status.strong_orgs} 家 · 专利 ${status.patents} 件`
        + (status.best_org ? ` · 最强：${status.best_org}` : "") })))));
}
