// Staff pages: small progressive enhancements. No inline scripts (CSP script-src 'self').
"use strict";

// Copy-link buttons: <button data-copy-target="ID"> copies the value/text of element ID.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) return;
  var target = document.getElementById(button.getAttribute("data-copy-target"));
  if (!target) return;
  var text = target.value !== undefined ? target.value : target.textContent;
  var done = function (ok) {
    var status = document.getElementById(button.getAttribute("data-copy-status") || "");
    var message = ok ? (button.getAttribute("data-copied") || "Copied")
                     : (button.getAttribute("data-copy-failed") || "Select the link and copy it");
    if (status) { status.textContent = message; } else { button.textContent = message; }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
  } else {
    if (target.select) { target.select(); }
    try { done(document.execCommand("copy")); } catch (e) { done(false); }
  }
});

// Forms with data-confirm ask before submitting (e.g. revoke a link, delete a campaign).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// Colour swatches: CSP forbids style attributes in markup, so set them from data-colour.
document.querySelectorAll("[data-colour]").forEach(function (el) {
  el.style.backgroundColor = el.getAttribute("data-colour");
});
