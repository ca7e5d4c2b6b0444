// The signature drawing pad: draws with a pointer (finger, pen or mouse) and, on submit,
// puts the drawing into the hidden field as a PNG data: URI. Without JavaScript the pad
// stays hidden and the form offers a typed signature and a picture upload instead.
(() => {
  const pad = document.querySelector(".signature-pad");
  const output = document.querySelector("[data-signature-output]");
  if (!pad || !output) return;
  const canvas = pad.querySelector("canvas");
  const ink = canvas.getContext("2d");
  let drawing = false;
  let drawn = false;

  pad.hidden = false;
  ink.lineWidth = 2.5;
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.strokeStyle = "#1d2430";

  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  };

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    ink.beginPath();
    ink.moveTo(...point(event));
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    ink.lineTo(...point(event));
    ink.stroke();
    drawn = true;
  });
  const stop = () => {
    drawing = false;
  };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  pad.querySelector("[data-clear-signature]").addEventListener("click", () => {
    ink.clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
    output.value = "";
  });

  canvas.closest("form").addEventListener("submit", () => {
    output.value = drawn ? canvas.toDataURL("image/png") : "";
  });
})();
