// Customer Lookup: the search box's keyboard shortcuts, the chooser and copy buttons.
"use strict";
(function () {
  function typing(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  function searchBox() {
    return document.querySelector("main [data-search-box]") || document.querySelector("[data-search-box]");
  }

  function choices(list) {
    return Array.prototype.slice.call(list.querySelectorAll("[data-choice]"));
  }

  function shortcutsDialog() {
    return document.getElementById("shortcuts");
  }

  function toggleShortcuts() {
    var dialog = shortcutsDialog();
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) { return; }
    // Arrows and Enter move through a chooser (also from the search box into the suggestions).
    var list = event.target.closest && event.target.closest("[data-chooser]");
    if (list && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      var items = choices(list);
      var index = items.indexOf(event.target);
      var next = items[(index + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length];
      if (next) { event.preventDefault(); next.focus(); }
      return;
    }
    if (event.key === "ArrowDown" && event.target.matches && event.target.matches("[data-search-box]")) {
      var first = document.querySelector("#name-suggestions [data-choice]");
      if (first) { event.preventDefault(); first.focus(); }
      return;
    }
    // Alt+1 ... Alt+7 switch tabs, even from a field (Alt+digit types nothing).
    if (event.altKey && /^Digit[1-9]$/.test(event.code || "")) {
      var tabs = document.querySelectorAll("[role=tab]");
      var tab = tabs[Number(event.code.slice(5)) - 1];
      if (tab) { event.preventDefault(); tab.focus(); tab.click(); }
      return;
    }
    if (event.altKey || typing(event.target)) { return; }
    if (event.key === "/") {
      var box = searchBox();
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else if (event.key === "?") {
      event.preventDefault();
      toggleShortcuts();
    } else if (event.key === "r") {
      var refresh = document.querySelector("[data-refresh], a[href*='refresh=1']");
      if (refresh) { event.preventDefault(); refresh.click(); }
    } else if (/^[1-9]$/.test(event.key)) {
      var chooser = document.querySelector("ol[data-chooser]");
      var pick = chooser && choices(chooser)[Number(event.key) - 1];
      if (pick) { event.preventDefault(); pick.click(); }
    }
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-show-shortcuts]");
    if (opener) { event.preventDefault(); toggleShortcuts(); return; }
    var closer = event.target.closest && event.target.closest("[data-close-dialog]");
    if (closer) { closer.closest("dialog").close(); return; }
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (!copy) { return; }
    var source = copy.dataset.copyFrom ? document.getElementById(copy.dataset.copyFrom) : null;
    var text = source ? source.textContent.trim() : copy.dataset.copy;
    if (!text || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(text).then(function () {
      var label = copy.textContent;
      copy.textContent = "Copied";
      copy.setAttribute("aria-live", "polite");
      window.setTimeout(function () { copy.textContent = label; }, 1500);
    });
  });

  // A chooser on the page: its first customer has the focus, so Enter opens it.
  document.addEventListener("DOMContentLoaded", function () {
    var chooser = document.querySelector("ol[data-chooser]");
    var first = chooser && chooser.querySelector("[data-choice]");
    if (first) { first.focus(); }
  });
})();
