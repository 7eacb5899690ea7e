// The survey pages' small helpers (the server checks everything again on submit).
(() => {
  "use strict";
  // Creating a survey: keep "N ticked" in step with hand-ticked boxes.
  const create = document.getElementById("survey-form");
  if (create) {
    create.addEventListener("change", (event) => {
      if (event.target.name !== "categories") return;
      const n = document.querySelectorAll('#category-picker input[name="categories"]:checked').length;
      document.getElementById("picker-count").textContent = n + " ticked";
    });
  }
  // Answering: "No" clears the ratings it hides; the counter follows the yes/no answers.
  const form = document.getElementById("survey-response");
  if (form) {
    const count = document.getElementById("answered-count");
    form.addEventListener("change", (event) => {
      const input = event.target;
      if (!input.name || !input.name.endsWith("-encountered")) return;
      if (input.value === "no") {
        input.closest(".question").querySelectorAll(".ratings input").forEach((r) => { r.checked = false; });
      }
      const answered = form.querySelectorAll('input[name$="-encountered"]:checked').length;
      const total = form.querySelectorAll("fieldset.question[id^='q-']").length;
      count.textContent = answered;
      document.getElementById("answered-bar").style.width = (total ? Math.round(100 * answered / total) : 0) + "%";
    });
  }
})();
