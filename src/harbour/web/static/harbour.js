/* Harbour: small progressive enhancements.  Loaded with defer; no inline handlers (CSP script-src 'self').
 * Nothing here reads or writes localStorage, sessionStorage or cookies.
 *
 * 1. Quick exit: click #quick-exit, or press Esc twice within 1 s on a public page.
 * 2. a[data-back]: go back in history when there is one (the href is the fallback).
 * 3. After load, focus the first error summary or invalid field so screen readers announce it; with no
 *    error, focus the confirmation of what was just done (#flash), if there is one.
 * 4. After an htmx swap, focus [data-autofocus] (or an error summary) inside the new content -- unless the
 *    request came from changing a control the focus is still on (a live filter): moving the focus away
 *    while someone is still choosing would lose their place (WCAG 3.2.2); the new content sits in a live
 *    region, which announces it, and the focus moves only when they submit.
 * 5. Public pages: a table with no scrolling box of its own is put in one (a labelled region), and each
 *    box (.table-wrap[role=region]) is a keyboard stop only while its table is wider than it.
 */
(function () {
  "use strict";

  var body = document.body;
  var NEUTRAL = "https://weather.gc.ca/";

  // -- 1. quick exit -----------------------------------------------------------
  function exitUrl() {
    var link = document.getElementById("quick-exit");
    return (body && body.dataset.quickExit) || (link && link.href) || NEUTRAL;
  }

  var exiting = false;
  function quickExit(event) {
    if (event) { event.preventDefault(); }
    if (exiting) { return; }
    exiting = true;
    var url = exitUrl();
    try { document.title = ""; } catch (e) { /* ignore */ }
    try { body.innerHTML = ""; } catch (e) { /* ignore */ }
    try { window.history.replaceState(null, "", "/"); } catch (e) { /* ignore */ }
    window.location.replace(url);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("#quick-exit")) {
      quickExit(event);
    }
  });

  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") { return; }
    if (!body || !body.classList.contains("public")) { return; }
    var now = Date.now();
    if (now - lastEscape <= 1000) {
      lastEscape = 0;
      quickExit(event);
    } else {
      lastEscape = now;
    }
  }, true);

  // -- 2. back links -------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("a[data-back]") : null;
    if (!link || event.defaultPrevented) { return; }
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    if (window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  // -- 3 and 4. focus management -------------------------------------------------
  function focusElement(el) {
    if (!el) { return false; }
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
    return document.activeElement === el;
  }

  // Link each field-level error to its control, for fields whose markup does not already do it.
  function describeErrors(root) {
    var fields = root.querySelectorAll(".field.has-error, fieldset.has-error");
    Array.prototype.forEach.call(fields, function (field) {
      var message = field.querySelector(".field-error[id]");
      var controls = field.querySelectorAll("input, select, textarea");
      Array.prototype.forEach.call(controls, function (control) {
        if (control.type === "hidden") { return; }
        control.setAttribute("aria-invalid", "true");
        if (message) {
          var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
          if (ids.indexOf(message.id) < 0) {
            ids.push(message.id);
            control.setAttribute("aria-describedby", ids.join(" "));
          }
        }
      });
    });
  }

  function focusFirstError(root) {
    return focusElement(root.querySelector('.form-error, [aria-invalid="true"]'));
  }

  describeErrors(document);
  if (!focusFirstError(document)) {
    // The confirmation of what was just done (core.flash): read first, and in view.  A URL with a #fragment
    // moves the focus to its target once the page has loaded, so the confirmation takes it back then.
    var confirmation = document.querySelector("#flash [data-flash]");
    if (focusElement(confirmation) && window.location.hash) {
      window.addEventListener("load", function () {
        if (document.activeElement !== confirmation &&
            (!document.activeElement || document.activeElement === body)) {
          focusElement(confirmation);
        }
      });
    }
  }

  function changedInPlace(event) {
    var config = event.detail && event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    var active = document.activeElement;
    return !!trigger && ["change", "input", "keyup"].indexOf(trigger.type) >= 0 &&
      !!active && active !== body && active.isConnected;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    // htmx fires afterSettle on each settled element: the target for innerHTML swaps,
    // the new element(s) for outerHTML swaps.
    var target = event.target instanceof Element ? event.target : (event.detail && event.detail.target);
    if (changedInPlace(event)) {
      describeErrors(target && target.isConnected ? target : document);
      return;
    }
    if (!target || !target.isConnected || target === body) {
      // outerHTML swaps replace the target; look in the whole page, but only for an explicit request
      describeErrors(document);
      focusElement(document.querySelector("[data-autofocus]"));
      return;
    }
    describeErrors(target);
    var wanted = target.matches("[data-autofocus]") ? target : target.querySelector("[data-autofocus]");
    if (!focusElement(wanted)) {
      focusFirstError(target);
    }
  });

  // -- 5. tables scroll in their own box -------------------------------------------
  // A table wider than the screen must not widen the page: on a phone the fixed quick exit would leave the
  // screen.  The templates put tables in a box (partials/table.html); this covers any table that is not.
  function nameOf(table) {
    var caption = table.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    if (table.getAttribute("aria-label")) { return table.getAttribute("aria-label"); }
    var name = "";
    Array.prototype.forEach.call(document.querySelectorAll("main h1, main h2, main h3, main h4"), function (h) {
      if (h.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING) { name = h.textContent.trim(); }
    });
    return name || document.title;
  }

  function boxTables() {
    Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
      if (table.closest(".table-wrap")) { return; }
      var box = document.createElement("div");
      box.className = "table-wrap";
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", nameOf(table));
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    });
  }

  function keyboardStops() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap[role=region]"), function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
      } else if (box !== document.activeElement) {
        box.removeAttribute("tabindex");
      }
    });
  }

  var pending = false;
  function later() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; keyboardStops(); });
  }

  if (body && body.classList.contains("public")) {
    boxTables();
  }
  keyboardStops();
  window.addEventListener("resize", later);
  document.addEventListener("toggle", later, true);  // a table inside <details> is measured once it is open
  document.addEventListener("htmx:afterSettle", later);
  // A confirmation swapped in place (hx-select-oob="#flash:innerHTML") after the control that was used went
  // away with the swap: the focus fell back to the page, so it goes to the confirmation, read first.
  document.addEventListener("htmx:afterSettle", function () {
    if (!document.activeElement || document.activeElement === body) {
      focusElement(document.querySelector("#flash [data-flash]"));
    }
  });
}());
