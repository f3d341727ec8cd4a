// Customer Lookup: the little JavaScript the pages need (no inline scripts).
"use strict";
(function () {
  // WAI-ARIA tabs: the selected tab follows the panel's content, arrows move and activate.
  function tabsOf(list) {
    return Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
  }

  function select(slug) {
    var list = document.querySelector("[role=tablist]");
    var panel = document.getElementById("tabpanel");
    if (!list || !slug) { return; }
    tabsOf(list).forEach(function (tab) {
      var on = tab.dataset.tab === slug;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      if (on && panel) { panel.setAttribute("aria-labelledby", tab.id); }
      if (on && typeof tab.scrollIntoView === "function") {
        tab.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    });
  }

  // The panel says which tab it holds (data-tab on .tab-body), whatever put it there.
  function syncFromPanel() {
    var body = document.querySelector("#tabpanel .tab-body");
    if (body) { select(body.dataset.tab); }
  }

  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tab]");
    if (!tab) { return; }
    var list = tab.closest("[role=tablist]");
    var tabs = tabsOf(list);
    var index = tabs.indexOf(tab);
    var next = null;
    if (event.key === "ArrowRight") { next = tabs[(index + 1) % tabs.length]; }
    else if (event.key === "ArrowLeft") { next = tabs[(index - 1 + tabs.length) % tabs.length]; }
    else if (event.key === "Home") { next = tabs[0]; }
    else if (event.key === "End") { next = tabs[tabs.length - 1]; }
    else if (event.key === " " || event.key === "Spacebar") { next = tab; }
    if (!next) { return; }
    event.preventDefault();
    next.focus();
    if (next.getAttribute("aria-selected") !== "true" || next === tab) {
      select(next.dataset.tab);
      next.click();
    }
  });

  // Mark the chosen tab at once, so a slow answer still shows where the user is going.
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tab]");
    if (tab && !event.defaultPrevented) { select(tab.dataset.tab); }
  }, true);

  // Countdowns: an element with data-countdown="24" shows the seconds left and counts them
  // down to 0 (the page says the seconds as sent without JavaScript).
  var countdownTimer = null;

  function tickCountdowns() {
    var now = Date.now();
    var running = false;
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (!el.dataset.countdownEnds) {
        var seconds = parseInt(el.dataset.countdown, 10);
        el.dataset.countdownEnds = String(now + (isNaN(seconds) ? 0 : seconds) * 1000);
      }
      var left = Math.max(0, Math.ceil((Number(el.dataset.countdownEnds) - now) / 1000));
      el.textContent = String(left);
      if (left > 0) { running = true; }
    });
    if (running && countdownTimer === null) {
      countdownTimer = window.setInterval(tickCountdowns, 1000);
    } else if (!running && countdownTimer !== null) {
      window.clearInterval(countdownTimer);
      countdownTimer = null;
    }
  }

  document.addEventListener("DOMContentLoaded", tickCountdowns);
  document.addEventListener("htmx:afterSettle", tickCountdowns);
  document.addEventListener("htmx:afterSettle", syncFromPanel);
  document.addEventListener("htmx:historyRestore", syncFromPanel);
  window.addEventListener("pageshow", syncFromPanel);
})();
