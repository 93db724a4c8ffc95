// Staff upload: send the form with XMLHttpRequest so a progress bar can show the bytes sent.
// Without JavaScript the form posts normally. No inline script (CSP script-src 'self').
"use strict";
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById(form.getAttribute("data-upload-progress"));
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      bar.hidden = false;
      bar.value = Math.round((e.loaded / e.total) * 100);
      status.textContent = bar.value + "%";
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        window.location.reload();
        return;
      }
      var message = "Upload failed (" + xhr.status + ")";
      try { message = JSON.parse(xhr.responseText).detail || message; } catch (e) { /* HTML */ }
      status.textContent = message;
    });
    xhr.addEventListener("error", function () { status.textContent = "Upload failed: network error"; });
    form.querySelector("button[type=submit]").disabled = true;
    xhr.send(new FormData(form));
  });
})();
