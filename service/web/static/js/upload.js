// Importing a challenge list (the aside's 导入榜单文件): preview in a dialog, confirm to store;
// or download the shortlist workbook for every challenge of the file.

import { ApiError, api, download } from "./api.js";
import { loadCatalogue } from "./catalogue.js";
import { $, el, note } from "./dom.js";

// "sheet '榜单' row 5" → "工作表「榜单」第 5 行" (the API names places as the CLI does).
function place(where) {
  return where
    .replace(/sheet '(.*?)' ?/, "工作表「$1」")
    .replace(/page (\d+)/, "第 $1 页").replace(/table (\d+)/, "表 $1")
    .replace(/row (\d+)/, "第 $1 行").replace(/item (\d+)/, "第 $1 项");
}

function form(fields) {
  const file = $("import-file").files[0];
  const body = new FormData();
  body.append("file", file, file.name);
  for (const [name, value] of Object.entries(fields)) body.append(name, String(value));
  body.append("skip_invalid", String($("import-skip").checked));
  return { method: "POST", body };
}

function explain(error) {
  const keyed = error instanceof ApiError && (error.status === 401 || error.status === 403);
  return keyed ? `${error.message}（请在页首填写正确的 API 密钥）` : error.message;
}

function showPreview(result) {
  const rows = $("import-table").querySelector("tbody");
  rows.replaceChildren();
  result.challenges.forEach((c, i) => {
    const body = c.title ? c.text.slice(c.title.length).replace(/^\n/, "") : c.text;
    const text = el("td", { class: "text" }, c.title ? el("strong", { text: c.title }) : null, body);
    const area = el("td", { class: "area" }, c.area, c.area_inferred ? el("span", { class: "inferred", text: "（推断）" }) : null);
    const where = place((c.origin || "").split(" · ").slice(1).join(" · "));
    rows.append(el("tr", { class: "import-row" },
      el("td", { text: i + 1 }), text, area, el("td", { text: c.issuer || "" }),
      el("td", { class: "deadline", text: c.deadline || "" }), el("td", { class: "where", text: where })));
  });
  $("import-skipped").replaceChildren(...result.skipped.map((reason) => el("li", { text: `已跳过：${reason}` })));
  $("import-summary").textContent = `${result.file}：${result.challenges.length} 个挑战`
    + (result.skipped.length ? `，跳过 ${result.skipped.length} 项` : "")
    + "。确认后保存，重复导入同一文件不会产生重复挑战。";
  $("import-confirm").disabled = result.challenges.length === 0;
  $("import-dialog").showModal();
}

async function preview() {
  note("import-message", "正在读取文件…");
  try {
    const result = await (await api("/challenges/import", form({ dry_run: true }))).json();
    note("import-message", "");
    showPreview(result);
  } catch (error) {
    note("import-message", explain(error), true);
  }
}

async function confirmImport() {
  $("import-confirm").disabled = true;
  try {
    const result = await (await api("/challenges/import", form({ dry_run: false }))).json();
    $("import-dialog").close();
    note("import-message", `已导入 ${result.challenges.length} 个挑战（新增 ${result.new}，更新 ${result.replaced}）`);
    await loadCatalogue();
  } catch (error) {
    $("import-dialog").close();
    note("import-message", explain(error), true);
  }
}

async function downloadShortlist() {
  note("import-message", "正在为文件中的每个挑战匹配候选机构…");
  const stem = $("import-file").files[0].name.replace(/\.[^.]+$/, "");
  try {
    await download("/match/file", `${stem}-shortlist.xlsx`, form({ top: 10 }));
    note("import-message", "候选名单已下载（汇总表 + 每个挑战一张表）。");
  } catch (error) {
    note("import-message", explain(error), true);
  }
}

export function initUpload() {
  $("import-file").addEventListener("change", () => {
    const chosen = $("import-file").files.length > 0;
    $("import-preview").disabled = $("import-shortlist").disabled = !chosen;
    note("import-message", "");
  });
  $("import-preview").addEventListener("click", preview);
  $("import-shortlist").addEventListener("click", downloadShortlist);
  $("import-confirm").addEventListener("click", confirmImport);
  $("import-cancel").addEventListener("click", () => $("import-dialog").close());
}
