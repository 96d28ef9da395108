// Judgments: the user grades each candidate of a saved challenge (能承担 2 / 相关 1 / 不相关 0)
// with an optional note. A later grade replaces the earlier one (the server keeps the history);
// what is current shows on every later visit. jiebang measures itself on these grades.

import { apiKey, getJSON, getLimits, sendJSON } from "./api.js";
import { el, note } from "./dom.js";

export const GRADES = [
  { grade: 2, label: "能承担", title: "能承担这个挑战（或其中一个技术要点）" },
  { grade: 1, label: "相关", title: "相关，但不足以承担" },
  { grade: 0, label: "不相关", title: "与这个挑战无关" },
];
const LABEL = Object.fromEntries(GRADES.map((g) => [g.grade, g.label]));

// What the rows of one challenge judge with: its id, the current judgment of each organisation
// (org_id → judgment), the note limit, why they could not be loaded (if so), and `changed`,
// called after every save.
export async function loadJudging(challengeId) {
  const judging = { challengeId, current: new Map(), noteChars: 2000, error: null, changed: () => {} };
  try {
    judging.noteChars = (await getLimits()).note_chars;
    const page = await getJSON(`/challenges/${encodeURIComponent(challengeId)}/judgments?limit=1000`);
    for (const judgment of page.items) judging.current.set(judgment.org_id, judgment);
  } catch (error) {
    judging.error = `未能读取已有评判：${error.message}`;
  }
  return judging;
}

function when(judgment) {
  const time = new Date(judgment.created_at);
  const pad = (n) => String(n).padStart(2, "0");
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ${pad(time.getHours())}:${pad(time.getMinutes())}`;
}

// The judging cell of one candidate row: three grade buttons, a note, and a status line.
export function judgeCell(candidate, judging) {
  const buttons = GRADES.map(({ grade, label, title }) =>
    el("button", { type: "button", class: "grade", "data-grade": grade, title, text: label }));
  const noteInput = el("input", {
    class: "judge-note", maxlength: judging.noteChars, placeholder: "备注（可选）",
    "aria-label": `对 ${candidate.name} 的备注`,
  });
  const status = el("p", { class: "judge-status", role: "status" });
  const cell = el("td", { class: "judge" }, el("div", { class: "grades" }, buttons), noteInput, status);

  const show = (judgment) => {
    for (const button of buttons) {
      const active = judgment != null && Number(button.dataset.grade) === judgment.grade;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", String(active));
    }
    cell.dataset.grade = judgment ? judgment.grade : "";
    noteInput.value = judgment && judgment.note ? judgment.note : "";
    note(status, judgment ? `已评：${LABEL[judgment.grade]} · ${when(judgment)}` : "");
  };

  const save = async (grade) => {
    const text = noteInput.value.trim();
    const current = judging.current.get(candidate.org_id);
    if (current && current.grade === grade && (current.note || "") === text) return;
    if (!apiKey()) return note(status, "请先在页面右上角填写 API 密钥，才能保存评判", true);
    if (text.length > judging.noteChars) {
      return note(status, `备注最多 ${judging.noteChars} 字，当前 ${text.length} 字；请删减后再保存`, true);
    }
    for (const button of buttons) button.disabled = true;
    note(status, "正在保存…");
    try {
      const body = { org_id: candidate.org_id, grade };
      if (text) body.note = text;
      const saved = await sendJSON("POST", `/challenges/${encodeURIComponent(judging.challengeId)}/judgments`, body);
      judging.current.set(candidate.org_id, saved);
      show(saved);
      note(status, `已保存：${LABEL[saved.grade]} · ${when(saved)}`);
      judging.changed();
    } catch (error) {
      note(status, error.message, true);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  };

  for (const button of buttons) button.addEventListener("click", () => save(Number(button.dataset.grade)));
  // A changed note is saved with the current grade; before any grade, it waits for one.
  noteInput.addEventListener("change", () => {
    const current = judging.current.get(candidate.org_id);
    if (current) save(current.grade);
    else if (noteInput.value.trim()) note(status, "选择评分后，备注一并保存");
  });
  show(judging.current.get(candidate.org_id));
  return cell;
}

// The line above the table: how to judge, or why this ranking cannot be judged.
export function judgingHint(judging) {
  if (!judging) return "临时匹配（未保存）的结果不能评判：发布挑战后，即可为每个候选机构评分。";
  if (judging.error) return judging.error;
  const count = judging.current.size;
  return `评判：为候选机构选择 能承担 / 相关 / 不相关（可加备注），保存需要 API 密钥；之后可随时更改。${count ? `本挑战已评 ${count} 家。` : ""}jiebang 用这些评判衡量和改进匹配。`;
}
