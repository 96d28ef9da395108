// 揭榜 web page: vanilla JS over the service's own JSON API; no build step.
"use strict";

const KIND_ZH = {
  enterprise: "企业", university: "高校", institute: "科研院所",
  new_rd_institution: "新型研发机构", other: "其他",
};
const VERDICT_ZH = { eligible: "符合", likely: "基本符合", unknown: "待核实", ineligible: "不符合" };

const $ = (id) => document.getElementById(id);
const state = { areas: [], challenges: [], current: null, lastResult: null };

// ---- HTTP ----------------------------------------------------------------------------------

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $("api-key").value.trim();
  if (key) h["X-API-Key"] = key;
  return h;
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const response = await fetch(path, opts);
  if (!response.ok) {
    let message = `请求失败（${response.status}）`;
    try {
      const body = await response.json();
      if (body && body.error) message = `${message}：${body.error}`;
    } catch (_) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response;
}

const getJSON = async (path) => (await api(path)).json();
const postJSON = async (path, body) =>
  (await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })).json();

// ---- DOM helpers ---------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function note(id, text, isError) {
  const node = $(id);
  node.textContent = text || "";
  node.classList.toggle("error", Boolean(isError));
}

function kindBadge(kind) {
  return el("span", { class: `kind ${kind}`, text: KIND_ZH[kind] || kind });
}

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

// Evidence with the matched terms in <mark>: from the server's escaped `highlighted` markup,
// parsed as text (never injected as HTML), else from the query's shared substrings.
function highlighted(hit, query, terms) {
  const span = el("span");
  if (hit.highlighted) {
    const parts = hit.highlighted.split(/<mark>|<\/mark>/);
    parts.forEach((part, i) => {
      const text = new DOMParser().parseFromString(part, "text/html").body.textContent;
      span.append(i % 2 ? el("mark", { text }) : document.createTextNode(text));
    });
    return span;
  }
  const marks = markRanges(hit.text, query, terms);
  let at = 0;
  for (const [start, end] of marks) {
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

// ---- catalogue -----------------------------------------------------------------------------

async function loadCatalogue() {
  const data = await getJSON("/challenges");
  state.areas = data.areas;
  state.challenges = data.challenges;
  const select = $("area-select");
  const names = $("area-names");
  select.replaceChildren(el("option", { value: "", text: "全部领域" }));
  names.replaceChildren();
  for (const area of data.areas) {
    const label = `${area.no}. ${area.name}${area.name_inferred ? "（推断）" : ""}`;
    select.append(el("option", { value: String(area.no), text: `${label}（${area.challenges}）` }));
    names.append(el("option", { value: area.name }));
  }
  if (data.challenges.some((c) => c.source === "posted")) {
    select.append(el("option", { value: "posted", text: "用户发布的挑战" }));
  }
  renderChallengeList();
}

function renderChallengeList() {
  const area = $("area-select").value;
  const list = $("challenge-list");
  list.replaceChildren();
  const chosen = state.challenges.filter((c) =>
    !area ? true : area === "posted" ? c.source === "posted" : String(c.area_no) === area);
  for (const challenge of chosen) {
    const item = el("li", { "data-id": challenge.id },
      el("span", { class: "cid", text: `${challenge.id} · ${areaLabel(challenge)}` }), challenge.text);
    item.addEventListener("click", () => selectChallenge(challenge));
    if (state.current && state.current.id === challenge.id) item.classList.add("active");
    list.append(item);
  }
}

function areaLabel(challenge) {
  return challenge.area_inferred ? `${challenge.area}（推断）` : challenge.area;
}

function selectChallenge(challenge) {
  state.current = { id: challenge.id, text: challenge.text, area: challenge.area };
  $("challenge-meta").textContent = `${challenge.id} · ${areaLabel(challenge)}${challenge.source === "posted" ? " · 用户发布" : ""}`;
  $("challenge-title").textContent = challenge.text;
  renderChallengeList();
  refresh();
}

// ---- ranking -------------------------------------------------------------------------------

function filters() {
  const params = new URLSearchParams({ top: $("top-filter").value });
  if ($("kind-filter").value) params.set("kind", $("kind-filter").value);
  const region = $("region-filter").value.trim();
  if (region) params.set("region", region);
  return params;
}

function matchBody() {
  const params = filters();
  const body = { text: state.current.text, top: Number(params.get("top")) };
  if (params.get("kind")) body.kind = params.get("kind");
  if (params.get("region")) body.region = params.get("region");
  return body;
}

async function rankCandidates() {
  if (!state.current) return;
  note("candidates-note", "正在匹配…");
  const tbody = $("candidates-table").querySelector("tbody");
  try {
    const result = state.current.id
      ? await getJSON(`/challenges/${encodeURIComponent(state.current.id)}/candidates?${filters()}`)
      : await postJSON("/match", matchBody());
    state.lastResult = result;
    tbody.replaceChildren();
    result.candidates.forEach((c, i) => tbody.append(candidateRow(c, i + 1, result.query, result.capable)));
    note("candidates-note", result.candidates.length
      ? [`共 ${result.candidates.length} 个候选机构（按证据得分排序）`, result.reason && `注意：${result.reason}`]
          .filter(Boolean).join("；")
      : `没有候选机构：${result.reason || "无匹配"}`);
    $("download-xlsx").disabled = $("download-csv").disabled = !result.candidates.length;
  } catch (error) {
    tbody.replaceChildren();
    note("candidates-note", error.message, true);
  }
}

function candidateRow(candidate, rank, query, capable) {
  const evidence = el("td", { class: "evidence" });
  for (const hit of candidate.evidence) {
    evidence.append(el("p", {},
      el("span", { class: "source", text: hit.source === "patent" ? `专利${hit.date ? " " + hit.date.slice(0, 4) : ""}` : "能力" }),
      highlighted(hit, query, candidate.shared_terms)));
  }
  const bar = el("div", { class: "bar", title: `置信度 ${percent(candidate.confidence)}` }, el("span"));
  bar.firstChild.style.width = percent(candidate.confidence);
  return el("tr", { class: candidate.confidence >= capable ? "candidate capable" : "candidate" },
    el("td", { class: "rank", text: rank }),
    el("td", { class: "name" }, candidate.name, el("small", { text: candidate.org_id })),
    el("td", {}, kindBadge(candidate.kind)),
    el("td", { class: "region", text: candidate.region }),
    el("td", {}, percent(candidate.confidence), bar),
    evidence);
}

// ---- teams ---------------------------------------------------------------------------------

async function loadSolvers() {
  const box = $("solvers");
  box.replaceChildren();
  if (!state.current || !state.current.id) {
    note("solvers-note", "发布挑战后即可查看揭榜挂帅单位。");
    return;
  }
  note("solvers-note", "正在评估…");
  try {
    const result = await getJSON(`/challenges/${encodeURIComponent(state.current.id)}/solvers?top=10`);
    note("solvers-note", [`技术要点 ${result.facets.length} 个`, ...result.notes].join("；"));
    for (const solver of result.solvers) {
      const chips = el("div", { class: "chips" });
      for (const facet of solver.facets) {
        chips.append(el("span", {
          class: `chip ${facet.covered ? "covered" : "gap"}`,
          title: facet.evidence || "无证据",
          text: `${facet.facet} ${percent(facet.coverage)}`,
        }));
      }
      box.append(el("div", { class: "card solver" },
        el("h3", {}, `${solver.rank}. ${solver.name} `, kindBadge(solver.kind), ` ${solver.region}`),
        el("p", { class: "note", text: `覆盖广度 ${percent(solver.breadth)} · 覆盖要点 ${solver.covered_facets}/${solver.facets.length}` }),
        chips));
    }
  } catch (error) {
    note("solvers-note", error.message, true);
  }
}

async function loadConsortium() {
  const box = $("consortium");
  box.replaceChildren();
  if (!state.current || !state.current.id) {
    note("consortium-note", "发布挑战后即可组建联合体。");
    return;
  }
  note("consortium-note", "正在组建团队…");
  const params = new URLSearchParams({ size: $("team-size").value, teams: $("team-count").value });
  try {
    const result = await getJSON(`/challenges/${encodeURIComponent(state.current.id)}/consortium?${params}`);
    note("consortium-note", [`技术要点 ${result.facets.length} 个`, ...result.notes].join("；"));
    for (const team of result.teams) box.append(teamCard(team));
  } catch (error) {
    note("consortium-note", error.message, true);
  }
}

function teamCard(team) {
  const rows = el("tbody");
  for (const member of team.members) {
    rows.append(el("tr", {},
      el("td", { class: "name" }, member.name, el("small", { text: member.role === "lead" ? "牵头单位" : "成员" })),
      el("td", {}, kindBadge(member.kind)),
      el("td", { text: member.region }),
      el("td", { text: member.covers.join("、") || "—" })));
  }
  const chips = el("div", { class: "chips" });
  for (const facet of team.facets) {
    chips.append(el("span", {
      class: `chip ${facet.gap ? "gap" : "covered"}`,
      title: facet.evidence || "无证据",
      text: `${facet.facet} ${percent(facet.coverage)}`,
    }));
  }
  const lead = team.lead
    ? el("p", { class: "lead" }, `牵头单位：${team.lead.name}（${VERDICT_ZH[team.lead.verdict] || team.lead.verdict}）${team.lead.why}`)
    : el("p", { class: "lead", text: "未能确定牵头单位" });
  return el("div", { class: "card team" },
    el("h3", { text: `第 ${team.rank} 队 · 加权覆盖 ${percent(team.coverage)} · 覆盖要点 ${percent(team.covered_share)}` }),
    lead,
    el("table", {}, el("thead", {}, el("tr", {},
      el("th", { text: "成员" }), el("th", { text: "类型" }), el("th", { text: "地区" }), el("th", { text: "负责要点" }))), rows),
    chips,
    team.gaps.length ? el("p", { class: "note error", text: `短板：${team.gaps.join("、")}` }) : null,
    ...team.notes.map((text) => el("p", { class: "note", text })));
}

// ---- actions -------------------------------------------------------------------------------

function activeTab() {
  return document.querySelector(".tabs button.active").dataset.tab;
}

function refresh() {
  const tab = activeTab();
  if (tab === "candidates") rankCandidates();
  else if (tab === "solvers") loadSolvers();
  else loadConsortium();
}

async function download(format) {
  if (!state.current) return;
  try {
    const response = state.current.id
      ? await api(`/challenges/${encodeURIComponent(state.current.id)}/candidates/export?${filters()}&format=${format}`)
      : await api("/match/export", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign(matchBody(), { format })),
      });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `jiebang-${state.current.id || "match"}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    note("candidates-note", error.message, true);
  }
}

async function postChallenge(event) {
  event.preventDefault();
  const area = $("post-area").value.trim();
  const text = $("post-text").value.trim();
  if (!text) {
    note("post-message", "请填写技术难题。", true);
    return;
  }
  note("post-message", "正在发布…");
  try {
    const challenge = await postJSON("/challenges", area ? { area, text } : { text });
    note("post-message", challenge.area_inferred
      ? `已发布：${challenge.id}（领域推断为「${challenge.area}」）`
      : `已发布：${challenge.id}`);
    await loadCatalogue();
    selectChallenge(challenge);
  } catch (error) {
    note("post-message", error.status === 401 || error.status === 403 ? `${error.message}（请填写正确的 API 密钥）` : error.message, true);
  }
}

function matchOnly() {
  const text = $("post-text").value.trim();
  if (!text) {
    note("post-message", "请填写技术难题。", true);
    return;
  }
  note("post-message", "");
  const area = $("post-area").value.trim();
  state.current = { id: null, text: area ? `${area}：${text}` : text, area };
  $("challenge-meta").textContent = "临时匹配（未保存）";
  $("challenge-title").textContent = text;
  renderChallengeList();
  refresh();
}

async function watchReadiness() {
  for (;;) {
    try {
      const response = await fetch("/readyz");
      const body = await response.json();
      if (response.ok) {
        $("status").textContent = `服务就绪 · ${body.organisations} 家机构 · ${body.challenges} 个挑战`;
        return;
      }
      $("status").textContent = `正在加载模型和索引…`;
    } catch (_) {
      $("status").textContent = "无法连接服务";
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function init() {
  $("api-key").value = sessionStorage.getItem("jiebang-api-key") || "";
  $("api-key").addEventListener("change", () => sessionStorage.setItem("jiebang-api-key", $("api-key").value.trim()));
  $("area-select").addEventListener("change", renderChallengeList);
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); rankCandidates(); });
  $("kind-filter").addEventListener("change", rankCandidates);
  $("top-filter").addEventListener("change", rankCandidates);
  $("team-form").addEventListener("submit", (event) => { event.preventDefault(); loadConsortium(); });
  $("post-form").addEventListener("submit", postChallenge);
  $("match-button").addEventListener("click", matchOnly);
  $("download-xlsx").addEventListener("click", () => download("xlsx"));
  $("download-csv").addEventListener("click", () => download("csv"));
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".tabs button")) other.classList.toggle("active", other === button);
      for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== `tab-${button.dataset.tab}`;
      refresh();
    });
  }
  watchReadiness();
  loadCatalogue().catch((error) => note("candidates-note", error.message, true));
}

document.addEventListener("DOMContentLoaded", init);
