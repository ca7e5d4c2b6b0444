// The export page follows its job: it polls the progress URL and updates the bar, then
// reloads once the ZIP is ready or has failed. Without JavaScript the page refreshes itself.
(() => {
  const card = document.querySelector("[data-export-progress]");
  if (!card) return;
  const bar = card.querySelector("progress");
  const count = card.querySelector(".export-count");
  const step = card.querySelector(".export-step");
  card.querySelectorAll(".js-hidden").forEach((el) => { el.hidden = true; });

  async function poll() {
    try {
      const response = await fetch(card.dataset.exportProgress, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const run = await response.json();
        if (run.status === "ready" || run.status === "failed") {
          window.location.reload();
          return;
        }
        bar.max = run.total;
        bar.value = run.done;
        count.textContent = `${run.done} of ${run.total}`;
        step.textContent = run.step;
      }
    } catch (error) {
      // A dropped connection is retried on the next tick.
    }
    window.setTimeout(poll, 1000);
  }
  window.setTimeout(poll, 1000);
})();
