/* Harbour: small progressive enhancements.  Loaded with defer; no inline handlers (CSP script-src 'self').
 * Nothing here reads or writes localStorage, sessionStorage or cookies.
 *
 * 1. Quick exit: click #quick-exit, or press Esc twice within 1 s on a public page.
 * 2. a[data-back]: go back in history when there is one (the href is the fallback).
 * 3. After load, focus the first error summary or invalid field so screen readers announce it.
 * 4. After an htmx swap, focus [data-autofocus] (or an error summary) inside the new content -- unless the
 *    request came from changing a control the focus is still on (a live filter): moving the focus away
 *    while someone is still choosing would lose their place (WCAG 3.2.2); the new content sits in a live
 *    region, which announces it, and the focus moves only when they submit.
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
  focusFirstError(document);

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
}());
