// Concord's small helpers: htmx error display, keyboard shortcuts with a help overlay,
// and the label box's autocomplete (suggestions are server-rendered by htmx).
"use strict";

// An htmx request that failed shows its reason as a sentence (never a raw field name) above the
// page; the next request that succeeds clears it, so a fixed problem does not linger.
document.addEventListener("htmx:responseError", (event) => {
  const target = document.getElementById("errors") || document.getElementById("main");
  if (!target) return;
  target.querySelectorAll("[data-htmx-error]").forEach((old) => old.remove());
  const box = document.createElement("p");
  box.className = "error";
  box.setAttribute("role", "alert");
  box.dataset.htmxError = "";
  let text = event.detail.xhr.responseText || "Something went wrong.";
  try {
    const data = JSON.parse(text);
    text = Object.values(data).flat().join(" ");
  } catch (e) {
    // An HTML fragment (partials/error.html): show its text only.
    const tmp = document.createElement("div");
    tmp.innerHTML = text;
    text = (tmp.textContent || "").trim() || "Something went wrong.";
  }
  box.textContent = text.length > 500 ? text.slice(0, 500) + "…" : text;
  target.prepend(box);
});

document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful) return;
  document.querySelectorAll("[data-htmx-error]").forEach((old) => old.remove());
});

// --- keyboard shortcuts ------------------------------------------------------------
// <a data-key="j n" data-key-help="Next artefact"> is clicked when j or n is pressed
// outside a text field; <input data-key-focus="/"> is focused by "/". Ctrl+Enter
// submits the focused form (or the page's form[data-ctrl-enter]); "?" opens the help.

const TEXT_TYPES = new Set(["text", "search", "email", "url", "number", "password", "tel", "date", ""]);

function isTyping(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && TEXT_TYPES.has((el.getAttribute("type") || "").toLowerCase());
}

function isVisible(el) {
  return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
}

const GENERAL_SHORTCUTS = [
  ["Ctrl+Enter", "Submit the form (the label, or the resolution)"],
  ["Esc", "Leave the text field / close suggestions or this help"],
  ["↓ ↑ Enter", "Move through label suggestions and pick one"],
  ["l", "Jump to the label box"],
  ["?", "Show this help"],
];

function helpDialog() {
  let dialog = document.getElementById("shortcut-help");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "shortcut-help";
  dialog.setAttribute("aria-labelledby", "shortcut-help-title");
  const title = document.createElement("h2");
  title.id = "shortcut-help-title";
  title.textContent = "Keyboard shortcuts";
  const table = document.createElement("table");
  const rows = [...GENERAL_SHORTCUTS];
  const seen = new Set(rows.map(([k]) => k));
  document.querySelectorAll("[data-key][data-key-help], [data-key-focus]").forEach((el) => {
    const keys = el.dataset.key ? el.dataset.key.split(/\s+/).join(" or ") : el.dataset.keyFocus;
    const what = el.dataset.keyHelp || "Jump to " + (el.getAttribute("placeholder") || "the search field");
    if (!seen.has(keys)) {
      seen.add(keys);
      rows.push([keys, what]);
    }
  });
  for (const [keys, what] of rows) {
    const tr = table.insertRow();
    const k = tr.insertCell();
    keys.split(" ").forEach((part) => {
      if (part === "or") { k.append(" or "); return; }
      const kbd = document.createElement("kbd");
      kbd.textContent = part;
      k.append(kbd, " ");
    });
    tr.insertCell().textContent = what;
  }
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Close";
  close.addEventListener("click", () => dialog.close());
  const note = document.createElement("p");
  note.className = "muted small";
  note.textContent = "Single-letter keys work when no text field has the focus (press Esc first).";
  dialog.append(title, table, note, close);
  document.body.append(dialog);
  return dialog;
}

function openHelp() {
  const dialog = helpDialog();
  if (!dialog.open) dialog.showModal();
}

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-key-help-open]")) {
    event.preventDefault();
    openHelp();
  }
});

function submitForm(form) {
  // The form's main submit button (not a verdict button), so a typed label is sent as a label.
  const main = form.querySelector("button[type=submit].primary") || form.querySelector("button[type=submit]:not([name])");
  if (main) form.requestSubmit(main);
  else form.requestSubmit();
}

document.addEventListener("keydown", (event) => {
  const active = document.activeElement;
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
    const form = (active && active.form) || document.querySelector("form[data-ctrl-enter]");
    if (form) {
      event.preventDefault();
      submitForm(form);
    }
    return;
  }
  if (event.key === "Escape") {
    const dialog = document.getElementById("shortcut-help");
    if (dialog && dialog.open) return; // the dialog closes itself
    if (isTyping(active)) active.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  if (isTyping(active)) return;
  const dialog = document.getElementById("shortcut-help");
  if (dialog && dialog.open) return;
  if (event.key === "?") {
    event.preventDefault();
    openHelp();
    return;
  }
  const focusable = [...document.querySelectorAll("[data-key-focus]")].find(
    (el) => el.dataset.keyFocus === event.key && isVisible(el)
  );
  if (focusable) {
    event.preventDefault();
    focusable.focus();
    if (focusable.select) focusable.select();
    return;
  }
  if (event.key === "l") {
    const box = document.querySelector("input[role=combobox]");
    if (box && isVisible(box)) {
      event.preventDefault();
      box.focus();
      return;
    }
  }
  const target = [...document.querySelectorAll("[data-key]")].find(
    (el) => el.dataset.key.split(/\s+/).includes(event.key) && isVisible(el) && !el.disabled
  );
  if (target) {
    event.preventDefault();
    if (target.type === "radio" || target.type === "checkbox") target.focus();
    target.click();
  }
});

// --- label autocomplete ---------------------------------------------------------------
// Nothing is focused on load (single-key shortcuts then act, not type); `l` or `/` focuses the box.
// The input (role=combobox) fetches <li><button class="suggestion" data-fill=…> items
// into its listbox with htmx; here: arrow keys, Enter and clicks pick a suggestion.

function listFor(input) {
  return document.getElementById(input.getAttribute("aria-controls"));
}

function options(list) {
  return list ? [...list.querySelectorAll("button.suggestion")] : [];
}

function setOpen(input, open) {
  const list = listFor(input);
  input.setAttribute("aria-expanded", open ? "true" : "false");
  if (list) list.hidden = !open;
  if (!open) highlight(input, -1);
}

function highlight(input, index) {
  const opts = options(listFor(input));
  opts.forEach((o, i) => {
    o.parentElement.setAttribute("aria-selected", i === index ? "true" : "false");
    o.classList.toggle("active", i === index);
    if (i === index) {
      o.id = o.id || `${input.id}-opt-${i}`;
      input.setAttribute("aria-activedescendant", o.id);
      o.scrollIntoView({ block: "nearest" });
    }
  });
  if (index < 0) input.removeAttribute("aria-activedescendant");
  input.dataset.active = String(index);
}

function pick(input, option) {
  input.value = option.dataset.fill;
  setOpen(input, false);
  input.focus();
}

document.addEventListener("htmx:afterSwap", (event) => {
  const list = event.detail.target;
  if (!list || !list.classList || !list.classList.contains("suggestions")) return;
  const input = document.querySelector(`[aria-controls="${list.id}"]`);
  if (!input) return;
  const hasItems = list.children.length > 0 && document.activeElement === input;
  setOpen(input, hasItems);
});

// A box with autofocus and hx-trigger "…, focus once" (the label box offers the catalogue on focus)
// may get the focus before htmx listens for it: the browser applies autofocus at its first rendering
// opportunity, which on a busy machine comes before the deferred htmx.min.js has run. Then nobody
// asks for the suggestions; here they are asked for once htmx is ready (a no-op if the real focus
// event already did, "once" holds for both).
document.addEventListener("htmx:load", (event) => {
  const input = document.activeElement;
  if (!(input instanceof HTMLInputElement) || !(event.target instanceof Node) || !event.target.contains(input)) return;
  if (/(^|,)\s*focus once\s*($|,)/.test(input.getAttribute("hx-trigger") || "")) htmx.trigger(input, "focus");
});

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.getAttribute("role") !== "combobox") return;
  const list = listFor(input);
  const opts = options(list);
  const open = input.getAttribute("aria-expanded") === "true" && opts.length > 0;
  const index = Number(input.dataset.active || -1);
  if (event.key === "ArrowDown" && !opts.length && window.htmx) {
    // The list opens only when typing or on ↓: ask the server for suggestions now.
    event.preventDefault();
    window.htmx.trigger(input, "suggest");
  } else if (event.key === "ArrowDown" && opts.length) {
    event.preventDefault();
    setOpen(input, true);
    highlight(input, (index + 1) % opts.length);
  } else if (event.key === "ArrowUp" && open) {
    event.preventDefault();
    highlight(input, index <= 0 ? opts.length - 1 : index - 1);
  } else if (event.key === "Enter" && open && index >= 0 && !(event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    pick(input, opts[index]);
  } else if (event.key === "Escape" && open) {
    event.preventDefault();
    event.stopImmediatePropagation();
    setOpen(input, false);
  }
}, true);

document.addEventListener("mousedown", (event) => {
  const option = event.target.closest("button.suggestion");
  if (!option) return;
  event.preventDefault(); // keep the focus in the input
  const list = option.closest(".suggestions");
  const input = list && document.querySelector(`[aria-controls="${list.id}"]`);
  if (input) pick(input, option);
});

document.addEventListener("focusout", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.getAttribute("role") === "combobox") {
    setTimeout(() => { if (document.activeElement !== input) setOpen(input, false); }, 150);
  }
});

// A header checkbox data-check-all="name" ticks every checkbox of that name in its form.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-check-all]");
  if (!all) return;
  const scope = all.form || document;
  scope.querySelectorAll(`input[type=checkbox][name="${all.dataset.checkAll}"]`).forEach((box) => {
    box.checked = all.checked;
  });
});
