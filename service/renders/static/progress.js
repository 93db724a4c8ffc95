// Compile page: poll the compile's JSON once a second and update progress, clips and
// downloads until it is done or failed. No inline script (CSP script-src 'self').
"use strict";
(function () {
  var root = document.getElementById("compile");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-compile-url");
  var $ = function (id) { return document.getElementById(id); };

  function render(c) {
    var pct = Math.round(c.progress * 100);
    $("compile-status").textContent = c.status;
    $("compile-progress").value = pct;
    $("compile-percent").textContent = pct + "%";
    var err = $("compile-error");
    if (c.error) { err.hidden = false; err.textContent = (c.error_code || "") + " " + c.error; }
    c.clips.forEach(function (clip) {
      var row = root.querySelector('tr[data-clip-id="' + clip.clip_id + '"]');
      if (!row) return;
      row.querySelector("progress").value = Math.round(clip.progress * 100);
      row.querySelector(".clip-status").textContent = clip.status;
    });
    var list = $("compile-outputs");
    if (c.outputs.length && !list.children.length) {
      c.outputs.forEach(function (o) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = o.url; a.textContent = o.name; a.setAttribute("download", "");
        li.appendChild(a);
        list.appendChild(li);
      });
      $("compile-no-outputs").hidden = true;
    }
    return c.status === "done" || c.status === "failed";
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (c) { if (!render(c)) window.setTimeout(poll, 1000); })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
