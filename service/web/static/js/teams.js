// The 揭榜挂帅 and 赛马制 tabs: solvers and teams for a catalogue or posted challenge, with their
// own controls and downloads.

import { download, getJSON } from "./api.js";
import { $, el, kindBadge, note, orgLink, percent, VERDICT_ZH } from "./dom.js";
import { go, withParams } from "./router.js";

const shown = { solvers: null, consortium: null };

export function teamParams(params) {
  return { size: params.get("size") || "4", teams: params.get("teams") || "2" };
}

export async function showSolvers(challengeId, { force = false } = {}) {
  const key = challengeId;
  if (!force && shown.solvers === key) return;
  shown.solvers = key;
  const box = $("solvers");
  box.replaceChildren();
  $("solvers-xlsx").disabled = $("solvers-csv").disabled = true;
  note("solvers-note", "正在评估…");
  try {
    const result = await getJSON(`/challenges/${encodeURIComponent(challengeId)}/solvers?top=10`);
    if (shown.solvers !== key) return;
    const most = Math.max(0, ...result.solvers.map((s) => s.covered_facets));
    note("solvers-note", [`技术要点 ${result.facets.length} 个`, ...result.notes].join("；"));
    $("solvers-to-teams").hidden = !(result.facets.length && most < result.facets.length);
    box.append(...result.solvers.map(solverCard));
    $("solvers-xlsx").disabled = $("solvers-csv").disabled = !result.solvers.length;
  } catch (error) {
    shown.solvers = null;
    note("solvers-note", error.message, true);
  }
}

function facetChips(items, covered) {
  return el("div", { class: "chips" }, items.map((facet) => el("span", {
    class: `chip ${covered(facet) ? "covered" : "gap"}`,
    title: facet.evidence || "无证据",
    text: `${facet.facet} ${percent(facet.coverage)}`,
  })));
}

function solverCard(solver) {
  return el("div", { class: "card solver" },
    el("h3", {}, `${solver.rank}. `, orgLink(solver.org_id, solver.name), " ", kindBadge(solver.kind), ` ${solver.region}`),
    el("p", { class: "note", title: "预期承担份额：各要点置信度的加权平均，即该单位预计能承担的挑战份额", text: `覆盖要点 ${solver.covered_facets}/${solver.facets.length} · 预期承担份额 ${percent(solver.expected_share)}` }),
    facetChips(solver.facets, (facet) => facet.covered));
}

function teamQuery(params) {
  return new URLSearchParams(teamParams(params));
}

export async function showConsortium(challengeId, params, { force = false } = {}) {
  const key = `${challengeId}?${teamQuery(params)}`;
  $("team-size").value = teamParams(params).size;
  $("team-count").value = teamParams(params).teams;
  if (!force && shown.consortium === key) return;
  shown.consortium = key;
  const box = $("consortium");
  box.replaceChildren();
  $("teams-xlsx").disabled = $("teams-csv").disabled = true;
  note("consortium-note", "正在组建团队…");
  try {
    const result = await getJSON(`/challenges/${encodeURIComponent(challengeId)}/consortium?${teamQuery(params)}`);
    if (shown.consortium !== key) return;
    note("consortium-note", [`技术要点 ${result.facets.length} 个`, ...result.notes].join("；"));
    box.append(...result.teams.map(teamCard));
    $("teams-xlsx").disabled = $("teams-csv").disabled = !result.teams.length;
  } catch (error) {
    shown.consortium = null;
    note("consortium-note", error.message, true);
  }
}

function teamCard(team) {
  const names = Object.fromEntries(team.facets.map((facet) => [facet.facet_id, facet.facet]));
  const rows = team.members.map((member) => el("tr", { class: member.filler ? "filler" : "" },
    el("td", { class: "name" }, orgLink(member.org_id, member.name), el("small", { text: member.role === "lead" ? "牵头单位" : "成员" })),
    el("td", {}, kindBadge(member.kind)),
    el("td", { text: member.region }),
    el("td", { text: member.filler ? "未达任何要点的可承担水平（为满足规模或产学研要求加入）" : member.covers.map((id) => names[id]).join("、") })));
  const lead = team.lead
    ? el("p", { class: "lead" }, "牵头单位：", orgLink(team.lead.org_id, team.lead.name),
      `（${VERDICT_ZH[team.lead.verdict] || team.lead.verdict}）${team.lead.why}`)
    : el("p", { class: "lead", text: "未能确定牵头单位" });
  return el("div", { class: "card team" },
    el("h3", { text: `第 ${team.rank} 队 · 覆盖要点 ${team.covered_facets}/${team.facets.length} · 加权覆盖 ${percent(team.coverage)}` }),
    el("table", {}, el("thead", {}, el("tr", {},
      el("th", { text: "成员" }), el("th", { text: "类型" }), el("th", { text: "地区" }), el("th", { text: "可承担的要点" }))),
    el("tbody", {}, rows)),
    facetChips(team.facets, (facet) => !facet.gap),
    team.gaps.length ? el("p", { class: "note error", text: `短板：${team.gaps.map((id) => names[id]).join("、")}` }) : null,
    lead,
    team.notes.map((text) => el("p", { class: "note", text })));
}

export function initTeams(target) {
  $("team-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const { view, id } = target();
    go(view, id, withParams({ size: $("team-size").value, teams: $("team-count").value }));
  });
  $("solvers-to-teams").addEventListener("click", () => {
    const { view, id } = target();
    go(view, id, withParams({ tab: "consortium" }));
  });
  const save = (path, name) => async () => {
    try {
      await download(path(), name());
    } catch (error) {
      note(path().includes("solvers") ? "solvers-note" : "consortium-note", error.message, true);
    }
  };
  const id = () => encodeURIComponent(target().challenge.id);
  for (const format of ["xlsx", "csv"]) {
    $(`solvers-${format}`).addEventListener("click", save(
      () => `/challenges/${id()}/solvers/export?top=10&format=${format}`,
      () => `jiebang-${target().challenge.id}-solvers.${format}`));
    $(`teams-${format}`).addEventListener("click", save(
      () => `/challenges/${id()}/consortium/export?${teamQuery(target().params)}&format=${format}`,
      () => `jiebang-${target().challenge.id}-teams.${format}`));
  }
}
