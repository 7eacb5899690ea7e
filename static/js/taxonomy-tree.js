// The taxonomy page: collapsed categories remembered, the selected entry highlighted, drag and drop.
(() => {
  "use strict";
  const workspace = document.getElementById("tx-workspace");
  const storeKey = "concord-taxonomy-collapsed:" + workspace.dataset.project;
  const collapsed = () => new Set(JSON.parse(localStorage.getItem(storeKey) || "[]"));
  const save = (set) => localStorage.setItem(storeKey, JSON.stringify([...set]));

  // A category's contents are shown or hidden by its toggle button (a disclosure beside the link that
  // opens the category: no control inside another); the state is remembered per browser.
  const toggles = () => workspace.querySelectorAll("#tx-tree button.tx-toggle[data-tx-key]");
  function show(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    const group = document.getElementById(button.getAttribute("aria-controls"));
    if (group) group.hidden = !open;
  }
  function restore() {
    const closed = collapsed();
    const searching = document.getElementById("tx-q").value.trim() !== "";
    toggles().forEach((b) => show(b, searching || !closed.has(b.dataset.txKey)));
  }
  workspace.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button.tx-toggle[data-tx-key]");
    if (!button) return;
    const open = button.getAttribute("aria-expanded") !== "true";
    show(button, open);
    if (document.getElementById("tx-q").value.trim() !== "") return;
    const set = collapsed();
    if (open) set.delete(button.dataset.txKey); else set.add(button.dataset.txKey);
    save(set);
  });
  function setAll(open) {
    const set = collapsed();
    toggles().forEach((b) => {
      show(b, open);
      if (open) set.delete(b.dataset.txKey); else set.add(b.dataset.txKey);
    });
    save(set);
  }
  document.getElementById("tx-expand").addEventListener("click", () => setAll(true));
  document.getElementById("tx-collapse").addEventListener("click", () => setAll(false));

  // The selected entry is highlighted; the panel's fields take shortcuts (see "?").
  function markSelected() {
    const panel = document.querySelector("#tx-panel [data-entry]");
    workspace.querySelectorAll(".tx-selected").forEach((el) => el.classList.remove("tx-selected"));
    if (!panel) return;
    const el = workspace.querySelector(`[data-entry="${panel.dataset.entry}"]:not(#tx-panel *)`);
    if (el) el.classList.add("tx-selected");
  }
  document.body.addEventListener("htmx:afterSettle", () => { restore(); markSelected(); });
  restore();
  markSelected();

  // Errors (shown by concord.js in #errors): one at a time, scrolled into view.
  document.body.addEventListener("htmx:responseError", () => {
    const box = document.getElementById("errors");
    if (!box) return;
    box.replaceChildren();
    setTimeout(() => box.scrollIntoView({ block: "nearest", behavior: "smooth" }), 0);
  });

  // Drag and drop (optional; "Move to…" in the editor is the keyboard way): drop a category or a
  // leaf on a category to move it there; drop a category on the hint above the tree for the top level.
  let dragged = null;
  workspace.addEventListener("dragstart", (event) => {
    const el = event.target.closest && event.target.closest("[draggable=true][data-move]");
    if (!el) return;
    dragged = el;
    el.classList.add("tx-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", el.dataset.entry);
  });
  workspace.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("tx-dragging");
    workspace.querySelectorAll(".tx-drop-target").forEach((el) => el.classList.remove("tx-drop-target"));
    dragged = null;
  });
  function dropTarget(event) {
    if (!dragged) return null;
    const target = event.target.closest && event.target.closest(".tx-row[data-node-id], .tx-drop-top");
    if (!target || target === dragged) return null;
    const isLeaf = dragged.dataset.entry.startsWith("leaf-");
    if (isLeaf && !target.dataset.nodeId) return null; // leaves need a category
    if (!isLeaf && dragged.closest("li").contains(target) && target.dataset.nodeId) return null; // own subtree
    return target;
  }
  workspace.addEventListener("dragover", (event) => {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    workspace.querySelectorAll(".tx-drop-target").forEach((el) => el !== target && el.classList.remove("tx-drop-target"));
    target.classList.add("tx-drop-target");
  });
  workspace.addEventListener("drop", (event) => {
    const target = dropTarget(event);
    if (!target) return;
    event.preventDefault();
    const values = Object.fromEntries(new FormData(document.getElementById("tx-filters")));
    values.selected = dragged.dataset.entry;
    values[dragged.dataset.entry.startsWith("leaf-") ? "node" : "parent"] = target.dataset.nodeId;
    const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    htmx.ajax("POST", dragged.dataset.move, { target: "#tx-workspace", values, headers, source: dragged });
  });

  // "Select all" for the unmapped labels.
  workspace.addEventListener("change", (event) => {
    if (event.target.id !== "tx-unmapped-all") return;
    workspace.querySelectorAll("input[name=labels]").forEach((box) => {
      if (box.closest("label").offsetParent !== null) box.checked = event.target.checked;
    });
  });
  // Filter the unmapped list as you type.
  workspace.addEventListener("input", (event) => {
    if (event.target.id !== "tx-unmapped-filter") return;
    const needle = event.target.value.trim().toLowerCase();
    workspace.querySelectorAll(".tx-unmapped label[data-name]").forEach((row) => {
      row.hidden = needle !== "" && !row.dataset.name.includes(needle);
    });
  });
})();
