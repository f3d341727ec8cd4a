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
      if (on) { showInStrip(tab); }
    });
  }

  // Bring the tab into view within its strip only: scrollIntoView would also scroll the
  // page, moving the header off a phone's screen.
  function showInStrip(tab) {
    var strip = tab.closest(".tabs-wrap");
    if (!strip) { return; }
    var left = tab.offsetLeft - strip.offsetLeft, right = left + tab.offsetWidth;
    if (left < strip.scrollLeft) { strip.scrollLeft = left; }
    else if (right > strip.scrollLeft + strip.clientWidth) { strip.scrollLeft = right - strip.clientWidth; }
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
    if (next === tab) {
      next.click();
    } else if (next.getAttribute("aria-selected") !== "true") {
      // Arrows pass over tabs: the panel loads once the keys rest, replacing the history
      // entry rather than adding one per key, and the server sees only the tab landed on.
      select(next.dataset.tab);
      window.clearTimeout(arrowTimer);
      arrowTimer = window.setTimeout(function () { loadInPlace(next); }, ARROW_REST_MS);
    }
  });

  var ARROW_REST_MS = 350;
  var arrowTimer = null;

  function loadInPlace(tab) {
    if (!window.htmx) { tab.click(); return; }
    window.htmx.ajax("GET", tab.getAttribute("hx-get"), { target: "#tabpanel" }).then(function () {
      window.history.replaceState({ htmx: true }, "", tab.getAttribute("href"));
    });
  }

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

  // A scrolling strip (the tabs on a phone) says so: app.css fades the end that has more.
  function markScroll(box) {
    var more = box.scrollWidth - box.clientWidth;
    box.classList.toggle("more-left", more > 1 && box.scrollLeft > 1);
    box.classList.toggle("more-right", more > 1 && box.scrollLeft < more - 1);
    var hint = box.previousElementSibling;
    if (hint && hint.classList.contains("tabs-hint")) { hint.classList.toggle("shown", more > 1); }
  }

  // Sortable tables: each th[data-sort-key] becomes a button sorting the table's tbodies
  // (one per record) by their data-<key> attribute.
  function sortable(table) {
    if (table.dataset.sortReady) { return; }
    table.dataset.sortReady = "1";
    table.querySelectorAll("th[data-sort-key]").forEach(function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var key = th.dataset.sortKey;
        var up = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var bodies = Array.prototype.slice.call(table.tBodies);
        bodies.sort(function (a, b) {
          var x = a.dataset[key] || "", y = b.dataset[key] || "";
          if (x === y) { return 0; }
          if (!x) { return 1; }  // blanks last either way
          if (!y) { return -1; }
          return (x < y ? -1 : 1) * (up ? 1 : -1);
        });
        bodies.forEach(function (body) { table.appendChild(body); });
      });
    });
  }

  // Details rows: shown without JavaScript; with it, behind a Details button.
  function detailsRows(root) {
    root.querySelectorAll("button.rec-more[aria-controls]").forEach(function (button) {
      var row = document.getElementById(button.getAttribute("aria-controls"));
      if (!row || button.dataset.ready) { return; }
      button.dataset.ready = "1";
      row.hidden = true;
      button.hidden = false;
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", open ? "true" : "false");
        row.hidden = !open;
      });
    });
  }

  // Long values clamp to a few lines with Show more.
  var LONG_VALUE = 280;
  function clampLong(root) {
    root.querySelectorAll("#tabpanel dd, #tabpanel td").forEach(function (cell) {
      if (cell.dataset.clampReady || cell.querySelector("dl, table, form, details")) { return; }
      cell.dataset.clampReady = "1";
      if (cell.textContent.length < LONG_VALUE) { return; }
      var inner = document.createElement("div");
      while (cell.firstChild) { inner.appendChild(cell.firstChild); }
      inner.className = "clamped";
      inner.id = "clamp-" + Math.random().toString(36).slice(2);
      cell.appendChild(inner);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link show-more";
      button.textContent = "Show more";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", inner.id);
      button.addEventListener("click", function () {
        var open = inner.classList.toggle("clamped") === false;
        button.textContent = open ? "Show less" : "Show more";
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
      cell.appendChild(button);
    });
  }

  // One reason covers every reveal of this page view: asked once, sent with each reveal.
  var revealReason = "";
  function reasonForms(root) {
    if (!revealReason) { return; }
    root.querySelectorAll("form.pii-reveal").forEach(function (form) {
      form.classList.add("reason-known");
      var input = form.querySelector("input[name=reason]");
      if (input) { input.required = false; input.value = revealReason; }
    });
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.classList || !form.classList.contains("pii-reveal")) { return; }
    var given = (event.detail.parameters.reason || "").trim();
    if (given) { revealReason = given; } else if (revealReason) { event.detail.parameters.reason = revealReason; }
  });

  // Focus stays where the person was: on the control that asked for new content (a
  // projection link or field), else on a revealed value.
  var focusedId = "";
  document.addEventListener("htmx:beforeRequest", function () {
    var active = document.activeElement;
    focusedId = active && active.id && active !== document.body ? active.id : "";
  });
  function restoreFocus() {
    var revealed = document.querySelector("[data-autofocus]");
    if (revealed) {
      revealed.removeAttribute("data-autofocus");
      revealed.focus();
      return;
    }
    var active = document.activeElement;
    if (focusedId && (!active || active === document.body)) {
      var again = document.getElementById(focusedId);
      if (again) { again.focus(); }
    }
    focusedId = "";
  }

  // The projection field's limits, said beside it rather than only in a tooltip.
  document.addEventListener("invalid", function (event) {
    var input = event.target;
    var message = input.form && input.form.querySelector("[data-invalid-message]");
    if (!message) { return; }
    message.textContent = "Enter a whole number of days from " + input.min + " to " + input.max + ".";
    message.hidden = false;
    input.setAttribute("aria-invalid", "true");
  }, true);
  document.addEventListener("input", function (event) {
    var input = event.target;
    var message = input.form && input.form.querySelector("[data-invalid-message]");
    if (message && input.validity && input.validity.valid) {
      message.hidden = true;
      input.removeAttribute("aria-invalid");
    }
  });

  // A table that scrolls sideways says so above it, shows an edge on the side with more,
  // and takes keyboard focus so the arrow keys scroll it.
  var PHONE = window.matchMedia("(max-width: 600px)");

  // On a phone a table with column headings stacks into labelled rows (app.css): each cell
  // is labelled with its column's heading. The cards table stays a table of fewer columns.
  function stackTables(root) {
    root.querySelectorAll("table").forEach(function (table) {
      if (table.classList.contains("rec-card-table") || !table.tHead) { return; }
      var headings = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) { return th.textContent.trim(); });
      if (headings.length < 3) { return; }
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.dataset.label && headings[column]) { cell.dataset.label = headings[column]; }
            column += cell.colSpan || 1;
          });
        });
      });
      table.classList.toggle("stacked", PHONE.matches);
    });
  }

  function scrollingTables(root) {
    stackTables(root);
    root.querySelectorAll("table").forEach(function (table) {
      var box = table.closest(".table-wrap, .table-scroll") || table;
      var wide = box.scrollWidth - box.clientWidth > 1;
      var hint = box.previousElementSibling;
      var hinted = hint && hint.classList.contains("scroll-hint");
      if (wide && !hinted) {
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        hint.textContent = "Wider than the screen: scroll sideways for more columns →";
        box.parentNode.insertBefore(hint, box);
      } else if (!wide && hinted) {
        hint.remove();
      }
      box.classList.toggle("scrolls", wide);
      if (wide) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        var caption = table.caption || table.closest("section, li, details");
        var heading = caption && caption.querySelector && caption.querySelector("h2, h3, h4, summary");
        box.setAttribute("aria-label", (table.caption ? table.caption.textContent : heading ? heading.textContent : "Table").trim() + " (scrolls sideways)");
        markEdges(box);
        if (!box.dataset.scrollReady) {
          box.dataset.scrollReady = "1";
          box.addEventListener("scroll", function () { markEdges(box); }, { passive: true });
        }
      }
    });
  }

  // A list that scrolls in its own box (the Activity timeline) takes keyboard focus when it
  // does scroll, so the arrow keys scroll it; it stays a list.
  function scrollingLists(root) {
    root.querySelectorAll("ol.timeline").forEach(function (list) {
      if (list.scrollHeight - list.clientHeight > 1) {
        list.tabIndex = 0;
        list.setAttribute("aria-label", "Timeline events (scrolls)");
      } else {
        list.removeAttribute("tabindex");
        list.removeAttribute("aria-label");
      }
    });
  }

  function markEdges(box) {
    var more = box.scrollWidth - box.clientWidth;
    box.classList.toggle("more-left", more > 1 && box.scrollLeft > 1);
    box.classList.toggle("more-right", more > 1 && box.scrollLeft < more - 1);
  }

  function enhance() {
    document.querySelectorAll(".tabs-wrap").forEach(function (box) {
      markScroll(box);
      if (!box.dataset.scrollReady) {
        box.dataset.scrollReady = "1";
        box.addEventListener("scroll", function () { markScroll(box); }, { passive: true });
      }
    });
    document.querySelectorAll("table[data-sortable]").forEach(sortable);
    detailsRows(document);
    clampLong(document);
    scrollingTables(document);
    scrollingLists(document);
    reasonForms(document);
  }

  // A served ?refresh=1 leaves the address bar, so a reload does not refresh again.
  function dropRefresh() {
    var url = new URL(window.location.href);
    if (!url.searchParams.has("refresh")) { return; }
    url.searchParams.delete("refresh");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }

  document.addEventListener("DOMContentLoaded", dropRefresh);
  document.addEventListener("htmx:pushedIntoHistory", dropRefresh);
  document.addEventListener("DOMContentLoaded", enhance);
  document.addEventListener("htmx:afterSettle", enhance);
  document.addEventListener("htmx:afterSettle", restoreFocus);
  // A reveal swaps its own widget out (outerHTML), so its settle event fires on a detached
  // element; the new widget's load event reaches the document.
  document.addEventListener("htmx:load", function (event) {
    if (event.target.querySelector && (event.target.matches("[data-autofocus]") || event.target.querySelector("[data-autofocus]"))) {
      enhance();
      window.setTimeout(restoreFocus, 0);
    }
  });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".tabs-wrap").forEach(markScroll);
    scrollingTables(document);
    scrollingLists(document);
  });
  document.addEventListener("DOMContentLoaded", tickCountdowns);
  document.addEventListener("htmx:afterSettle", tickCountdowns);
  document.addEventListener("htmx:afterSettle", syncFromPanel);
  document.addEventListener("htmx:historyRestore", syncFromPanel);
  window.addEventListener("pageshow", syncFromPanel);
})();
