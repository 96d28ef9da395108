// 揭榜 web page: importing a challenge list (preview, confirm) and its shortlist workbook.
// Self-contained beside app.js: it reads the page's API key field and, after an import,
// reloads the catalogue through app.js's loadCatalogue when there is one.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);

  function say(text, isError) {
    const node = byId("import-message");
    node.textContent = text || "";
    node.classList.toggle("error", Boolean(isError));
  }

  // "sheet '榜单' row 5" → "工作表「榜单」第 5 行" (the API names places in English).
  function place(where) {
    return where
      .replace(/sheet '(.*?)' ?/, "工作表「$1」")
      .replace(/page (\d+)/, "第 $1 页").replace(/table (\d+)/, "表 $1")
      .replace(/row (\d+)/, "第 $1 行").replace(/item (\d+)/, "第 $1 项");
  }

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  async function send(path, fields) {
    const file = byId("import-file").files[0];
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
    form.append("skip_invalid", String(byId("import-skip").checked));
    const headers = {};
    const key = (byId("api-key") || {}).value;
    if (key && key.trim()) headers["X-API-Key"] = key.trim();
    const response = await fetch(path, { method: "POST", body: form, headers });
    if (!response.ok) {
      let message = `请求失败（${response.status}）`;
      try {
        const body = await response.json();
        if (body && body.error) message = `${message}：${body.error}`;
      } catch (_) { /* not JSON */ }
      if (response.status === 401 || response.status === 403) message += "（请填写正确的 API 密钥）";
      throw new Error(message);
    }
    return response;
  }

  function showPreview(result) {
    const rows = byId("import-table").querySelector("tbody");
    rows.replaceChildren();
    result.challenges.forEach((c, i) => {
      const text = cell(null, "text");
      if (c.title) {
        const title = document.createElement("strong");
        title.textContent = c.title;
        text.append(title, document.createTextNode(c.text.slice(c.title.length).replace(/^\n/, "")));
      } else {
        text.textContent = c.text;
      }
      const area = cell(c.area, "area");
      if (c.area_inferred) {
        const mark = document.createElement("span");
        mark.className = "inferred";
        mark.textContent = "（推断）";
        area.append(mark);
      }
      const tr = document.createElement("tr");
      tr.className = "import-row";
      tr.append(cell(i + 1), text, area, cell(c.issuer), cell(c.deadline, "deadline"),
        cell(place((c.origin || "").split(" · ").slice(1).join(" · ")), "where"));
      rows.append(tr);
    });
    const skipped = byId("import-skipped");
    skipped.replaceChildren(...result.skipped.map((reason) => {
      const li = document.createElement("li");
      li.textContent = `已跳过：${reason}`;
      return li;
    }));
    byId("import-summary").textContent =
      `${result.file}：${result.challenges.length} 个挑战` +
      (result.skipped.length ? `，跳过 ${result.skipped.length} 项` : "") +
      "。确认后保存，重复导入同一文件不会产生重复挑战。";
    byId("import-confirm").disabled = result.challenges.length === 0;
    byId("import-dialog").showModal();
  }

  async function preview() {
    say("正在读取文件…");
    try {
      const result = await (await send("/challenges/import", { dry_run: true })).json();
      say("");
      showPreview(result);
    } catch (error) {
      say(error.message, true);
    }
  }

  async function confirmImport() {
    byId("import-confirm").disabled = true;
    try {
      const result = await (await send("/challenges/import", { dry_run: false })).json();
      byId("import-dialog").close();
      say(`已导入 ${result.challenges.length} 个挑战（新增 ${result.new}，更新 ${result.replaced}）`);
      if (typeof loadCatalogue === "function") {
        await loadCatalogue();
        const areas = byId("area-select");
        if (areas && [...areas.options].some((o) => o.value === "posted")) {
          areas.value = "posted";
          areas.dispatchEvent(new Event("change"));
        }
      }
    } catch (error) {
      byId("import-dialog").close();
      say(error.message, true);
    }
  }

  async function downloadShortlist() {
    say("正在为文件中的每个挑战匹配候选机构…");
    try {
      const response = await send("/match/file", { top: 10 });
      const file = byId("import-file").files[0];
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = `${file.name.replace(/\.[^.]+$/, "")}-shortlist.xlsx`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      say("候选名单已下载（汇总表 + 每个挑战一张表）。");
    } catch (error) {
      say(error.message, true);
    }
  }

  function init() {
    const chosen = () => {
      const has = byId("import-file").files.length > 0;
      byId("import-preview").disabled = byId("import-shortlist").disabled = !has;
      say("");
    };
    byId("import-file").addEventListener("change", chosen);
    byId("import-preview").addEventListener("click", preview);
    byId("import-shortlist").addEventListener("click", downloadShortlist);
    byId("import-confirm").addEventListener("click", confirmImport);
    byId("import-cancel").addEventListener("click", () => byId("import-dialog").close());
  }

  document.addEventListener("DOMContentLoaded", init);
})();
