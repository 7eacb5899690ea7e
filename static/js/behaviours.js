// Behaviours declared in the markup, so that templates need no inline scripts (the Content-Security-Policy
// forbids them): data-confirm on a form (asked on submit) or a button (asked on click), and
// data-autosubmit on a field (its form is submitted when it changes), data-select-on-focus on a text field.
(() => {
  "use strict";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  }, true);
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field.dataset && "autosubmit" in field.dataset && field.form) field.form.submit();
  });
  document.addEventListener("focusin", (event) => {
    const field = event.target;
    if (field.dataset && "selectOnFocus" in field.dataset && field.select) field.select();
  });
})();
