// An organisation: its evidence, the challenges it is capable for, its 牵头单位 eligibility.

import { getJSON } from "./api.js";
import { $, challengeLink, el, kindBadge, note, percent, REGIME_ZH, shorten, STATUS_ZH, VERDICT_ZH } from "./dom.js";

const FIGURES = [
  ["revenue_yi", "营业收入", "亿元"],
  ["rd_spend_wan", "研发投入", "万元"],
  ["rd_staff", "研发人员", "人"],
  ["equipment_wan", "研发设备原值", "万元"],
];
let shownId = null;

export async function showOrganisation(orgId) {
  if (shownId === orgId) return;
  shownId = orgId;
  for (const id of ["org-facts", "org-evidence", "org-capable", "org-eligibility"]) $(id).replaceChildren();
  $("org-name").textContent = orgId;
  $("org-meta").replaceChildren();
  note("org-note", "正在读取机构信息，并评估它能承担哪些挑战（首次需要数十秒）…");
  let profile;
  try {
    profile = await getJSON(`/organisations/${encodeURIComponent(orgId)}/profile`);
  } catch (error) {
    shownId = null;
    note("org-note", error.message, true);
    return;
  }
  if (shownId !== orgId) return;
  note("org-note", "");
  const org = profile.organisation;
  document.title = `${shorten(org.name, 28)} · 揭榜`;
  $("org-name").textContent = org.name;
  $("org-meta").append(kindBadge(org.kind), ` ${regionLabel(org.region)} · ${org.id}`);
  $("org-facts").append(...facts(org));
  $("org-evidence").append(...profile.evidence.map((hit) => el("li", {},
    el("span", { class: "source", text: hit.source === "patent" ? `专利 ${hit.ref || ""}` : "能力" }), hit.text)));
  if (!profile.evidence.length) $("org-evidence").append(el("li", { class: "note", text: "索引中没有这家机构的证据" }));
  renderCapable(profile);
  renderEligibility(profile.eligibility);
}

function regionLabel(region) {
  const parts = [...new Set([region.province, region.city].filter(Boolean))];
  return parts.join("") || "地区未知";
}

function facts(org) {
  const items = FIGURES.filter(([key]) => org[key] != null)
    .map(([key, label, unit]) => el("li", {}, `${label}：${org[key]} ${unit}`));
  if (org.national_bases && org.national_bases.length) items.push(el("li", {}, `国家级平台：${org.national_bases.join("、")}`));
  if (org.strategic_emerging != null) items.push(el("li", {}, `战略性新兴产业：${org.strategic_emerging ? "是" : "否"}`));
  if (org.illustrative) items.push(el("li", { class: "note" }, "演示数据，虚构机构"));
  return items;
}

function renderCapable(profile) {
  const rows = profile.capable_for;
  const capable = rows.filter((row) => row.capable);
  $("org-capable-note").textContent = capable.length
    ? `在目录和已发布的挑战中，这家机构在 ${capable.length} 个挑战上达到“有能力”水平（置信度 ≥ ${percent(profile.capable_level)}）。`
    : `没有挑战达到“有能力”水平（置信度 ≥ ${percent(profile.capable_level)}）；下面是它置信度最高的挑战，仅作线索。`;
  const table = $("org-capable");
  table.append(el("thead", {}, el("tr", {}, ["挑战", "领域", "内容", "置信度", "在所有机构中排名"].map((text) => el("th", { text })))),
    el("tbody", {}, rows.map((row) => el("tr", { class: row.capable ? "capable" : null },
      el("td", {}, challengeLink(row.challenge_id)),
      el("td", { text: row.area }),
      el("td", { class: "text", title: row.text, text: row.text }),
      el("td", { class: "num", text: percent(row.confidence) }),
      el("td", { class: "num", text: `第 ${row.rank} 名` })))));
}

function renderEligibility(report) {
  const box = $("org-eligibility");
  box.append(el("p", { class: `verdict ${report.verdict}` }, `牵头单位资格：${VERDICT_ZH[report.verdict] || report.verdict}`, el("span", { class: "note", text: ` — ${report.reason}` })));
  for (const regime of report.regimes) {
    box.append(el("h4", { text: `按${REGIME_ZH[regime.regime] || regime.regime}：${VERDICT_ZH[regime.verdict] || regime.verdict}` }),
      el("table", { class: "criteria" },
        el("thead", {}, el("tr", {}, ["条件", "结果", "硬性", "说明"].map((text) => el("th", { text })))),
        el("tbody", {}, regime.checks.map((check) => el("tr", { class: check.status },
          el("td", { text: check.label }),
          el("td", { class: `status ${check.status}`, text: STATUS_ZH[check.status] || check.status }),
          el("td", { text: check.binding ? "是" : "参考" }),
          el("td", { text: check.reason }))))));
  }
  if (report.source) box.append(el("p", { class: "hint", text: `依据：${report.source}` }));
}
