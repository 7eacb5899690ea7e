// The vocabulary page: move through the word table with j/k, flag the selected word with
// r (relevant) or i (irrelevant), c clears my flag. A flag is an htmx POST that swaps its
// row; the selection then moves on to the next word, so a list is flagged word by word.
"use strict";

(() => {
  let selectedId = null;
  let advanceFrom = null;

  const rows = () => [...document.querySelectorAll("#vocab-terms tr.term-row")];
  const selectedRow = () => rows().find((r) => r.dataset.term === selectedId) || null;

  function select(row) {
    rows().forEach((r) => {
      const on = r === row;
      r.classList.toggle("selected", on);
      if (on) r.setAttribute("aria-current", "true");
      else r.removeAttribute("aria-current");
    });
    selectedId = row ? row.dataset.term : null;
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  function move(delta) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(selectedRow());
    const next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + delta));
    select(all[next]);
  }

  function flag(verdict) {
    if (!selectedRow()) move(0);
    const row = selectedRow();
    const button = row && row.querySelector(`button[name=verdict][value=${verdict}]`);
    if (!button) return;
    if (verdict !== "clear") advanceFrom = row.dataset.term;
    button.click();
  }

  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !["checkbox", "radio", "submit", "button"].includes(el.type);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typing(document.activeElement)) return;
    const help = document.getElementById("shortcut-help");
    if (help && help.open) return;
    const action = { j: () => move(1), k: () => move(-1), r: () => flag("relevant"), i: () => flag("irrelevant"), c: () => flag("clear") }[event.key];
    if (!action || !document.getElementById("vocab-terms")) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("click", (event) => {
    const row = event.target.closest("#vocab-terms tr.term-row");
    if (row) select(row);
  });

  // After a row (or the whole table) was swapped: keep or move the selection.
  document.addEventListener("htmx:afterSettle", () => {
    if (advanceFrom !== null) {
      const all = rows();
      const at = all.findIndex((r) => r.dataset.term === advanceFrom);
      advanceFrom = null;
      if (at >= 0) {
        select(all[Math.min(all.length - 1, at + 1)]);
        return;
      }
    }
    select(selectedRow());
  });
})();
