// Privacy switch (Alt+P, remembered), and copy buttons that copy what is shown.
"use strict";
(function () {
  var KEY = "lookup.privacy";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY) === "on"; } catch (e) { return false; }
  }

  function apply(on) {
    root.classList.toggle("privacy-on", on);
    document.querySelectorAll(".privacy-switch").forEach(function (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Privacy on" : "Privacy off";
    });
  }

  function toggle() {
    var on = !root.classList.contains("privacy-on");
    try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* private mode */ }
    apply(on);
  }

  // Blur before first paint where possible: this script is deferred, so apply at once.
  root.classList.toggle("privacy-on", stored());

  document.addEventListener("DOMContentLoaded", function () {
    var nav = document.querySelector(".topnav") || document.querySelector(".topbar");
    if (nav && !nav.querySelector(".privacy-switch")) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "privacy-switch link";
      button.title = "Blur personal data on screen (Alt+P)";
      button.addEventListener("click", toggle);
      nav.insertBefore(button, nav.firstChild);
    }
    apply(stored());
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.code === "KeyP" || event.key === "p" || event.key === "P")) {
      event.preventDefault();
      toggle();
    }
  });

  // Copy buttons copy the value as shown: masked unless this page view revealed it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".pii-copy");
    if (!button) { return; }
    var widget = button.closest(".pii");
    var value = widget && widget.querySelector(".pii-value");
    if (!value) { return; }
    var text = value.textContent.trim();
    button.dataset.copied = text;  // what was put on the clipboard, for people and tests
    var done = function () {
      button.classList.add("copied");
      window.setTimeout(function () { button.classList.remove("copied"); }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, done);
    } else {
      done();
    }
  });
})();
