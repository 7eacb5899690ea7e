// Interview pages: selecting transcript text to tag it, jumping between fragments and
// their highlights, confirmations, downloads, and review/moderation keyboard shortcuts.
// Offsets are characters of the transcript text: each paragraph (<p class="ptext">)
// carries data-start, and the text inside it is exactly the transcript's text there.
"use strict";

(function () {
  function paragraphOf(node) {
    const el = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
    return el ? el.closest(".ptext") : null;
  }

  function offsetIn(ptext, node, offset) {
    const range = document.createRange();
    range.setStart(ptext, 0);
    range.setEnd(node, offset);
    return parseInt(ptext.dataset.start, 10) + range.toString().length;
  }

  // [start, end) of the current selection in transcript characters, or null.
  function selectionSpan() {
    const transcript = document.getElementById("transcript");
    const selection = window.getSelection();
    if (!transcript || !selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!transcript.contains(range.commonAncestorContainer)) return null;
    const inside = [...transcript.querySelectorAll(".ptext")].filter((p) => range.intersectsNode(p));
    if (!inside.length) return null;
    const first = paragraphOf(range.startContainer);
    const last = paragraphOf(range.endContainer);
    const start = first ? offsetIn(first, range.startContainer, range.startOffset) : parseInt(inside[0].dataset.start, 10);
    const end = last ? offsetIn(last, range.endContainer, range.endOffset) : parseInt(inside[inside.length - 1].dataset.end, 10);
    if (end <= start) return null;
    return { start, end, text: range.toString() };
  }

  // Fill the tag form from the selection; returns true when there was one.
  function captureSelection() {
    const form = document.getElementById("tag-form");
    if (!form) return false;
    const span = selectionSpan();
    if (!span) return false;
    form.querySelector("#tag-start").value = span.start;
    form.querySelector("#tag-end").value = span.end;
    const quote = form.querySelector("#tag-quote");
    quote.textContent = span.text.length > 400 ? span.text.slice(0, 400) + "…" : span.text;
    quote.classList.remove("empty-quote");
    form.classList.add("has-selection");
    form.querySelector("#tag-submit").disabled = false;
    return true;
  }

  function clearSelection() {
    const form = document.getElementById("tag-form");
    if (!form) return;
    form.querySelector("#tag-start").value = "";
    form.querySelector("#tag-end").value = "";
    const quote = form.querySelector("#tag-quote");
    quote.textContent = "Select text in the transcript, then type a tag.";
    quote.classList.add("empty-quote");
    form.classList.remove("has-selection");
    form.querySelector("#tag-submit").disabled = true;
  }

  document.addEventListener("mouseup", (event) => {
    if (!event.target.closest || !event.target.closest("#transcript.taggable")) return;
    if (event.target.closest("mark.frag") && window.getSelection().isCollapsed) return;
    if (captureSelection()) document.getElementById("tag-input").focus({ preventScroll: true });
  });
  document.addEventListener("keyup", (event) => {
    // Selections made with Shift+arrows inside the transcript.
    if (event.shiftKey && document.querySelector("#transcript.taggable")) captureSelection();
  });

  // The tag form needs a selection; Esc clears it.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id === "tag-form" && !form.querySelector("#tag-start").value) {
      event.preventDefault();
      const quote = form.querySelector("#tag-quote");
      quote.textContent = "First select the words to tag in the transcript.";
    }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.getElementById("tag-form")) {
      window.getSelection().removeAllRanges();
      clearSelection();
    }
  });

  // Jump from a fragment in the list to its highlight, and back.
  function flash(el) {
    el.classList.add("flash");
    setTimeout(() => el.classList.remove("flash"), 1200);
  }
  document.addEventListener("click", (event) => {
    const jump = event.target.closest("[data-jump]");
    if (jump) {
      const id = jump.dataset.jump;
      const mark = [...document.querySelectorAll("mark.frag")].find((m) => m.dataset.fragments.split(" ").includes(id));
      if (mark) { mark.scrollIntoView({ block: "center", behavior: "smooth" }); flash(mark); }
      return;
    }
    const mark = event.target.closest("mark.frag");
    if (mark && window.getSelection().isCollapsed) {
      const item = document.getElementById("fragment-" + mark.dataset.fragments.split(" ")[0]);
      if (item) { item.scrollIntoView({ block: "nearest", behavior: "smooth" }); flash(item); }
    }
  });

  // Transcript downloads: the pseudonymise box adds ?pseudonymise=1 to the links.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-download-form] a[data-fmt]");
    if (!link) return;
    const box = link.closest("form").querySelector("[data-pseudonymise]");
    if (box && box.checked) {
      event.preventDefault();
      window.location.href = link.href + "?pseudonymise=1";
    }
  });

  // j/k between pieces (moderation) and review rows; a/r accept or remove the current review row:
  // the row holding the focus, else the row last moved to or clicked (marked as the vocabulary
  // page marks its selected word), never a row the user is not on.
  function typing(el) {
    return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  }
  let currentReviewRow = null; // the id of the current review row ("final-12")
  function markReviewRow(row) {
    document.querySelectorAll("[data-review-row]").forEach((r) => {
      const on = r === row;
      r.classList.toggle("selected", on);
      if (on) r.setAttribute("aria-current", "true");
      else r.removeAttribute("aria-current");
    });
    currentReviewRow = row ? row.id : null;
  }
  function reviewRow() {
    const focused = document.activeElement && document.activeElement.closest("[data-review-row]");
    return focused || (currentReviewRow && document.getElementById(currentReviewRow)) || null;
  }
  function move(selector, step) {
    const items = [...document.querySelectorAll(selector)];
    if (!items.length) return;
    let current = items.findIndex((el) => el.contains(document.activeElement));
    if (current === -1 && selector === "[data-review-row]") current = items.indexOf(reviewRow());
    const next = items[Math.max(0, Math.min(items.length - 1, current + step))];
    if (current === -1 && step < 0) return;
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("focusin", (event) => {
    const row = event.target.closest && event.target.closest("[data-review-row]");
    if (row) markReviewRow(row);
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    const help = document.getElementById("shortcut-help");
    if (help && help.open) return;
    const rowSelector = document.querySelector("[data-review-row]") ? "[data-review-row]" : "[data-piece]";
    if (event.key === "j") { event.preventDefault(); move(rowSelector, 1); }
    if (event.key === "k") { event.preventDefault(); move(rowSelector, -1); }
    if (event.key === "a" || event.key === "r") {
      const row = reviewRow();
      const button = row && row.querySelector(`[data-review="${event.key}"]`);
      if (button) { event.preventDefault(); button.click(); }
    }
  });
  // Keep the focus (and the mark) on the review row after htmx replaced it.
  document.addEventListener("htmx:afterSwap", (event) => {
    const row = event.detail.target;
    if (row && row.id && row.id.startsWith("final-")) {
      const fresh = document.getElementById(row.id);
      if (fresh) fresh.focus();
    }
    const current = currentReviewRow && document.getElementById(currentReviewRow);
    if (current) markReviewRow(current);
    else if (currentReviewRow) markReviewRow(null); // filtered away: nothing is current
  });

  window.concordInterviews = { captureSelection, selectionSpan, clearSelection };
})();
