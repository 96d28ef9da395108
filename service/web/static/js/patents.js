// 专利导航: upload a patent file as a bulk job, watch its progress, then its landscape.

import { api, getJSON, getLimits } from "./api.js";
import { $, challengeLink, el, note, percent } from "./dom.js";
import { go } from "./router.js";

const STATUS_ZH = { queued: "排队中", running: "运行中", done: "已完成", failed: "失败", cancelled: "已取消" };
const POLL_MS = 1000;
let watching = null; // the job id being polled

export async function showPatents(jobId) {
  if (!jobId) {
    watching = null;
    $("job-panel").hidden = true;
    return;
  }
  $("job-panel").hidden = false;
  if (watching === jobId) return;
  watching = jobId;
  $("landscape").hidden = true;
  $("job-files").replaceChildren();
  await poll(jobId);
}

async function poll(jobId) {
  while (watching === jobId) {
    let job;
    try {
      job = await getJSON(`/jobs/${encodeURIComponent(jobId)}`);
    } catch (error) {
      note("job-status", error.message, true);
      watching = null;
      return;
    }
    if (watching !== jobId) return;
    showProgress(job);
    if (job.status === "done") {
      await showLandscape(job);
      return;
    }
    if (job.status === "failed" || job.status === "cancelled") {
      note("job-status", `任务${STATUS_ZH[job.status]}：${job.error || "没有输出"}`, true);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function showProgress(job) {
  const total = job.total || 0;
  const share = total ? job.progress / total : 0;
  $("job-progress").max = Math.max(total, 1);
  $("job-progress").value = job.progress;
  note("job-status", `任务 ${job.id} · ${STATUS_ZH[job.status] || job.status} · 已处理 ${job.progress} / ${total} 行（${percent(share)}）`);
}

async function showLandscape(job) {
  const totals = job.totals || {};
  const files = $("job-files");
  files.replaceChildren(...[
    el("a", { href: job.result_url, text: "下载匹配结果" }),
    totals.rejected ? el("a", { href: `${job.result_url}?part=rejects`, text: `下载被拒绝的 ${totals.rejected} 行` }) : null,
    el("a", { href: `#/roadmap?job=${encodeURIComponent(job.id)}`, text: "按此任务的专利活跃度查看技术路线图" }),
  ].filter(Boolean));
  note("landscape-note", "正在生成专利导航…");
  $("landscape").hidden = false;
  try {
    const landscape = await getJSON(`/jobs/${encodeURIComponent(job.id)}/landscape`);
    if (watching !== job.id) return;
    note("landscape-note", `共 ${landscape.patents} 件专利，${landscape.patents - landscape.unmatched} 件匹配到挑战，${landscape.unmatched} 件未匹配。`);
    files.append(el("a", { href: landscape.files["landscape.xlsx"], text: "下载专利导航 XLSX" }));
    $("chart-areas").src = landscape.files["areas.png"];
    $("chart-challenges").src = landscape.files["challenges.png"];
    $("landscape-areas").querySelector("tbody").replaceChildren(...landscape.areas.map((row) => el("tr", {},
      el("td", { text: `${row.area_no || ""} ${row.name}`.trim() }),
      el("td", { class: "num", text: row.patents }),
      el("td", { class: "num", text: row.zhejiang_share === "" ? "—" : percent(row.zhejiang_share) }),
      el("td", { class: "num", text: row.enterprise }),
      el("td", { class: "num", text: row.university }),
      el("td", { class: "num", text: row.institute }),
      el("td", { class: "applicants", text: row.top_applicants || "—" }))));
    $("landscape-challenges").querySelector("tbody").replaceChildren(...landscape.challenges.map((row) => el("tr", {},
      el("td", {}, challengeLink(row.key)),
      el("td", { class: "text", text: row.name }),
      el("td", { class: "num", text: row.patents }))));
  } catch (error) {
    note("landscape-note", error.message, true);
  }
}

async function upload(event) {
  event.preventDefault();
  const file = $("patent-file").files[0];
  const limit = (await getLimits()).upload_bytes;
  if (!file) return note("upload-message", "请选择 .jsonl、.csv 或 .xlsx 专利文件。", true);
  if (file.size > limit) {
    return note("upload-message", `文件 ${(file.size / 1e6).toFixed(1)} MB，超过 ${limit / 1e6} MB 上限`, true);
  }
  const form = new FormData();
  form.append("file", file);
  form.append("top", $("patent-top").value);
  form.append("format", $("patent-format").value);
  note("upload-message", "正在上传…");
  try {
    const job = await (await api("/patents/match", { method: "POST", body: form })).json();
    note("upload-message", `已创建任务 ${job.id}`);
    go("patents", job.id, {});
  } catch (error) {
    note("upload-message", error.message, true);
  }
}

export async function initPatents() {
  const limits = await getLimits();
  $("upload-limit").textContent = `${limits.upload_bytes / 1e6} MB`;
  $("upload-form").addEventListener("submit", upload);
}
