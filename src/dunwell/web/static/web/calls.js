// The call form: Enter on the outcome (or contact) list logs the call, as in a text field.
document.addEventListener("keydown", function (event) {
  var field = event.target;
  if (event.key !== "Enter" || field.tagName !== "SELECT" || field.multiple) return;
  if (!field.form || !field.form.classList.contains("call-form")) return;
  event.preventDefault();
  field.form.requestSubmit();
});
