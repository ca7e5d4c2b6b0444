// Letter studio: Markdown toolbar, merge-field palette and live preview.
// Progressive enhancement: without this file the page is a plain form that saves and
// previews on submit. No inline scripts or styles (the CSP forbids them).
(() => {
  "use strict";

  const form = document.getElementById("letter-form");
  const frame = document.getElementById("letter-preview");
  const status = document.getElementById("preview-status");
  const targetSelect = document.getElementById("preview-target");
  const body = form ? form.querySelector("#body") : null;
  const DEBOUNCE_MS = 400;

  document.querySelectorAll("[data-js-only]").forEach((el) => { el.hidden = false; });
  document.querySelectorAll("[data-no-js-only]").forEach((el) => { el.hidden = true; });

  // ---- Editing the textarea -------------------------------------------------------

  // Replace the selection with `text` through the browser's editing command, so
  // Ctrl+Z undoes it; fall back to setRangeText where that command is missing.
  function replaceSelection(text) {
    body.focus();
    const done = document.queryCommandSupported && document.queryCommandSupported("insertText")
      && document.execCommand("insertText", false, text);
    if (!done) {
      body.setRangeText(text, body.selectionStart, body.selectionEnd, "end");
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function insertAt(text, selectFrom, selectTo) {
    const start = body.selectionStart;
    replaceSelection(text);
    if (selectFrom !== undefined) {
      body.setSelectionRange(start + selectFrom, start + selectTo);
    }
  }

  function wrap(marker, placeholder) {
    const { selectionStart: s, selectionEnd: e, value } = body;
    const inner = value.slice(s, e) || placeholder;
    insertAt(marker + inner + marker, marker.length, marker.length + inner.length);
  }

  // Put `prefix` (or a running number) before every line the selection touches.
  function prefixLines(prefixFor) {
    const { selectionStart: s, selectionEnd: e, value } = body;
    const start = s === 0 ? 0 : value.lastIndexOf("\n", s - 1) + 1;
    // A selection ending just after a newline does not take in the next line.
    let end = value.indexOf("\n", e > s && value[e - 1] === "\n" ? e - 1 : e);
    if (end === -1) end = value.length;
    const lines = value.slice(start, end).split("\n");
    const text = lines.map((line, i) => prefixFor(i) + line.replace(/^(#{1,6} |[-*+] |\d+\. )/, "")).join("\n");
    body.setSelectionRange(start, end);
    replaceSelection(text);
  }

  function link() {
    const { selectionStart: s, selectionEnd: e, value } = body;
    const label = value.slice(s, e) || "link text";
    const text = `[${label}](https://)`;
    insertAt(text, label.length + 3, text.length - 1);
  }

  function footnote() {
    const numbers = [...body.value.matchAll(/\[\^(\d+)\]/g)].map((m) => Number(m[1]));
    const n = numbers.length ? Math.max(...numbers) + 1 : 1;
    const ref = `[^${n}]`;
    const placeholder = "The footnote text.";
    insertAt(ref);
    const tail = body.value.endsWith("\n") ? "" : "\n";
    const note = `${tail}\n${ref}: ${placeholder}\n`;
    body.setSelectionRange(body.value.length, body.value.length);
    replaceSelection(note);
    const at = body.value.lastIndexOf(placeholder);
    body.setSelectionRange(at, at + placeholder.length);
  }

  const TOOLS = {
    h2: () => prefixLines(() => "## "),
    h3: () => prefixLines(() => "### "),
    bold: () => wrap("**", "bold text"),
    italic: () => wrap("*", "italic text"),
    ul: () => prefixLines(() => "- "),
    ol: () => prefixLines((i) => `${i + 1}. `),
    link,
    footnote,
  };

  if (body) {
    document.querySelectorAll("[data-tool]").forEach((button) => {
      button.addEventListener("click", () => TOOLS[button.dataset.tool]());
    });
    body.addEventListener("keydown", (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      const key = event.key.toLowerCase();
      if (key === "b" || key === "i") {
        event.preventDefault();
        TOOLS[key === "b" ? "bold" : "italic"]();
      }
    });
    document.querySelectorAll("[data-insert]").forEach((chip) => {
      // mousedown would move focus away from the textarea and lose the cursor position.
      chip.addEventListener("mousedown", (event) => event.preventDefault());
      chip.addEventListener("click", () => insertAt(chip.dataset.insert));
    });
  }

  // ---- Live preview -----------------------------------------------------------------

  let timer = null;
  let inFlight = null;

  function say(text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function show(html) {
    // Keep the reader's place in the letter across updates.
    let y = 0;
    try { y = frame.contentWindow.scrollY; } catch (_) { y = 0; }
    frame.addEventListener("load", () => {
      try { frame.contentWindow.scrollTo(0, y); } catch (_) { /* not same-origin yet */ }
    }, { once: true });
    frame.srcdoc = html;
  }

  async function refresh() {
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    const data = new FormData(form);
    // The PDF's own pages, drawn: footnotes at the foot, page breaks, header and footer.
    data.append("view", "pages");
    say("Updating the preview…");
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": data.get("csrf_token") || "" },
        credentials: "same-origin",
        signal: inFlight.signal,
      });
      if (response.redirected) {
        say("Your session has ended: reload the page and log in again.", true);
        return;
      }
      const html = await response.text();
      show(html);
      if (response.ok) {
        const timing = /dur=([\d.]+)/.exec(response.headers.get("Server-Timing") || "");
        say(`Preview updated${timing ? ` (rendered in ${Math.round(Number(timing[1]))} ms)` : ""}: the pages exactly as the PDF prints them, with the current signatories.`);
      } else {
        say("The letter cannot be rendered: the preview says why and on which line.", true);
      }
    } catch (error) {
      if (error.name !== "AbortError") say("The preview could not be reached; your text is not lost.", true);
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  if (form && frame) {
    form.addEventListener("input", schedule);
    if (targetSelect) targetSelect.addEventListener("change", refresh);
    // The page loads the letter's HTML (for browsers without scripts); show its pages.
    refresh();
  } else if (frame && targetSelect) {
    // Read-only accounts: switch the saved letter's preview between targets.
    const base = frame.getAttribute("src");
    if (base) {
      targetSelect.addEventListener("change", () => {
        frame.src = targetSelect.value ? `${base}?target=${encodeURIComponent(targetSelect.value)}` : base;
      });
    }
  }
})();
