// Progressive enhancements only: every page works without this file.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// A long form post (a large import) shows that it is working, and cannot be sent twice.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-busy]");
  if (!form || event.defaultPrevented) return;
  const status = form.querySelector(".busy");
  if (status) {
    status.querySelector("span").textContent = form.dataset.busy;
    status.hidden = false;
  }
  form.querySelectorAll("button[type=submit]").forEach((button) => {
    button.disabled = true;
  });
});
