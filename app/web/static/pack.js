// The report pack takes seconds to build: while it does, its button is
// disabled and says so. Without this script the form still downloads the zip.
(function () {
  "use strict";
  function filename(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="?([^";]+)"?/.exec(header);
    return match ? match[1] : fallback;
  }
  function start(form, event) {
    var button = form.querySelector("button");
    var status = form.querySelector(".pack-status");
    if (!window.fetch || !window.URL || !URL.createObjectURL) return;  // the plain form submit
    event.preventDefault();
    if (button.disabled) return;
    var label = button.textContent;
    var url = form.action + "?" + new URLSearchParams(new FormData(form)).toString();
    var started = Date.now();
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    button.textContent = "Preparing\u2026";
    status.textContent = "Preparing the pack; this takes a few seconds.";
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.error || "The pack could not be prepared (error " + response.status + ").");
        });
      }
      return response.blob().then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = filename(response, "isu-report-pack.zip");
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
        status.textContent = "Downloaded in " + ((Date.now() - started) / 1000).toFixed(1) + " s.";
      });
    }).catch(function (error) {
      status.textContent = error.message;
    }).then(function () {
      button.disabled = false;
      form.removeAttribute("aria-busy");
      button.textContent = label;
    });
  }
  document.querySelectorAll("form[data-pack]").forEach(function (form) {
    form.addEventListener("submit", function (event) { start(form, event); });
  });
})();
