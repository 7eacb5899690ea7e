// Concord's small helpers. Page-specific behaviour lives beside its template.
document.addEventListener("htmx:responseError", (event) => {
  const target = document.getElementById("errors") || document.getElementById("main");
  if (!target) return;
  const box = document.createElement("p");
  box.className = "error";
  box.setAttribute("role", "alert");
  let text = event.detail.xhr.responseText || "Something went wrong.";
  try {
    const data = JSON.parse(text);
    text = Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
  } catch (e) { /* not JSON: show as is (already escaped by the server) */ }
  box.textContent = text.length > 500 ? text.slice(0, 500) + "…" : text;
  target.prepend(box);
});
