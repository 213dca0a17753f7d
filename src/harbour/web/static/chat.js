/* Harbour live chat: the visitor's page (/help/chat/room) and the advocate's console (/console/chat).
 *
 * Plain JavaScript, no framework.  Every message is put on the page with textContent, never innerHTML.
 * Nothing is written to localStorage, sessionStorage, IndexedDB or the Cache API: the conversation lives
 * only in this page's memory and on the server; reloading the page fetches it again.
 * Words shown to people come from data- attributes rendered by the server in the page's language.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root || !window.WebSocket) { return; }
  var role = root.dataset.role;
  var statusEl = document.getElementById("chat-status");
  var ws = null;
  var pingTimer = null;
  var finished = false;
  var retries = 0;
  var seen = {};  // message ids already on the page, per chat

  // Public pages do not load htmx; if this tab opened a console page before, htmx noted that path in
  // sessionStorage: on the visitor's chat page even that is removed, so the tab keeps no trace of Harbour.
  if (role === "visitor") {
    try {
      window.sessionStorage.removeItem("htmx-current-path-for-history");
      window.sessionStorage.removeItem("htmx-history-cache");
    } catch (e) { /* storage blocked: nothing stored either */ }
  }

  function t(name) { return root.dataset[name] || ""; }
  function notice(code) {
    var key = "notice" + code.split("_").map(function (p) { return p.charAt(0).toUpperCase() + p.slice(1); }).join("");
    return root.dataset[key] || "";
  }
  function say(text) { if (statusEl) { statusEl.textContent = text; } }


  function who(m) {
    if (m.sender === "system") { return t("tSystem"); }
    if (role === "visitor") { return m.sender === "visitor" ? t("tVisitor") : t("tAdvocate"); }
    return m.sender === "visitor" ? t("tVisitor") : t("tMe");
  }

  function render(log, m) {
    var key = m.session + ":" + m.id;
    if (!log || seen[key]) { return; }
    seen[key] = true;
    var li = document.createElement("li");
    li.className = "msg msg-" + m.sender;
    li.setAttribute("data-id", String(m.id));
    var name = document.createElement("span");
    name.className = "who";
    name.textContent = who(m);
    var time = document.createElement("time");
    // written by the server for this reader (their zone and language), as the history on the page is:
    // one clock and one format for every line, whatever the browser's own clock says
    time.textContent = m.time || "";
    if (m.at) { time.setAttribute("datetime", m.at); }
    var body = document.createElement("p");
    body.className = "body";
    body.textContent = m.sender === "system" ? (notice(m.body) || m.body) : m.body;
    li.appendChild(name);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(time);
    li.appendChild(body);
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function connect() {
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + window.location.host + root.dataset.ws);
    ws.onopen = function () {
      send({ type: "hello", csrf: root.dataset.csrf });
      retries = 0;
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { send({ type: "ping" }); }, 25000);
      if (role === "advocate") { say(t("tConnected")); }
    };
    ws.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (role === "visitor") { onVisitorEvent(data); } else { onAdvocateEvent(data); }
    };
    ws.onclose = function (event) {
      clearInterval(pingTimer);
      if (finished) { return; }
      if (event.code === 1000 || event.code === 1009 || (event.code >= 4400 && event.code < 4500)) {
        if (role === "visitor") { endVisitor(event.code === 1000 ? null : (event.reason || t("tGone"))); }
        else { say(event.reason || t("tLost")); }
        return;
      }
      retries += 1;
      if (retries > 20) { if (role === "visitor") { endVisitor(t("tGone")); } return; }
      say(t("tLost"));
      setTimeout(connect, Math.min(10000, 500 * retries));
    };
  }

  function attachComposer(form, textarea, sendFrame) {
    var error = form.querySelector(".field-error");
    var max = parseInt(root.dataset.max, 10) || 1000;
    function submit() {
      var text = textarea.value.trim();
      if (!text) { return; }
      if (text.length > max) { if (error) { error.textContent = t("tTooLong"); } return; }
      if (sendFrame(text)) {
        textarea.value = "";
        if (error) { error.textContent = ""; }
      }
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
    });
  }

  // -- visitor --------------------------------------------------------------------
  var vLog = document.getElementById("chat-log");
  var vInput = document.getElementById("chat-input");
  var vSend = document.getElementById("chat-send");
  var vError = document.getElementById("chat-error");

  function setComposer(enabled) {
    if (vInput) { vInput.disabled = !enabled; }
    if (vSend) { vSend.disabled = !enabled; }
  }

  function showState(status, place) {
    if (status === "queued") { say(t("tPlace").replace("{place}", String(place || 1))); }
    else if (status === "active") { say(t("tActive")); }
  }

  function endVisitor(text) {
    finished = true;
    setComposer(false);
    say(text || t("tClosed"));
    var after = document.getElementById("chat-after");
    if (after) { after.hidden = false; }
    var endForm = document.getElementById("chat-end-form");
    if (endForm) { endForm.hidden = true; }
    if (ws && ws.readyState === WebSocket.OPEN) { ws.close(1000); }
  }

  function onVisitorEvent(data) {
    if (data.type === "welcome") {
      (data.messages || []).forEach(function (m) { render(vLog, m); });
      if (data.status === "closed") { endVisitor(null); return; }
      setComposer(true);
      showState(data.status, data.place);
    } else if (data.type === "place") {
      showState("queued", data.place);
    } else if (data.type === "message") {
      render(vLog, data);
    } else if (data.type === "status") {
      if (data.status === "closed") { endVisitor(notice(data.reason || "") || t("tClosed")); }
      else { showState(data.status); }
    } else if (data.type === "error") {
      if (vError) { vError.textContent = data.message || ""; }
    }
  }

  function quickExitClose() {
    if (role !== "visitor" || finished) { return; }
    finished = true;
    send({ type: "close" });
    try {
      var form = new FormData();
      form.append("csrf_token", root.dataset.csrf);
      if (navigator.sendBeacon) { navigator.sendBeacon("/help/chat/end", form); }
    } catch (e) { /* leaving anyway */ }
  }

  if (role === "visitor") {
    attachComposer(document.getElementById("chat-form"), vInput, function (text) {
      return send({ type: "message", body: text });
    });
    // Quick exit (harbour.js leaves the page): close the chat first.  Capture on window runs before harbour.js.
    window.addEventListener("click", function (event) {
      if (event.target && event.target.closest && event.target.closest("#quick-exit")) { quickExitClose(); }
    }, true);
    var lastEscape = 0;
    window.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" && event.key !== "Esc") { return; }
      var now = Date.now();
      if (now - lastEscape <= 1000) { lastEscape = 0; quickExitClose(); } else { lastEscape = now; }
    }, true);
    var endForm = document.getElementById("chat-end-form");
    if (endForm) { endForm.addEventListener("submit", function () { finished = true; send({ type: "close" }); }); }
  }

  // -- advocate -------------------------------------------------------------------
  function panelOf(id) { return document.querySelector('.chat-panel[data-session="' + id + '"]'); }

  function wirePanel(panel) {
    var id = parseInt(panel.getAttribute("data-session"), 10);
    var form = panel.querySelector("form[data-chat-send]");
    var textarea = form.querySelector("textarea");
    attachComposer(form, textarea, function (text) { return send({ type: "message", session: id, body: text }); });
    Array.prototype.forEach.call(panel.querySelectorAll(".chat-log li[data-id]"), function (li) {
      seen[id + ":" + li.getAttribute("data-id")] = true;
    });
  }

  function addPanel(id) {
    if (panelOf(id)) { return panelOf(id); }
    var template = document.getElementById("chat-panel-template");
    var panel = template.content.firstElementChild.cloneNode(true);
    panel.id = "chat-" + id;
    panel.setAttribute("data-session", String(id));
    var title = panel.querySelector(".chat-title");
    title.id = "chat-h-" + id;
    title.textContent = "#" + id;
    panel.setAttribute("aria-labelledby", title.id);
    Array.prototype.forEach.call(panel.querySelectorAll("form[data-action]"), function (form) {
      form.action = "/console/chat/" + id + "/" + form.getAttribute("data-action");
    });
    var textarea = panel.querySelector("textarea");
    textarea.id = "chat-input-" + id;
    panel.querySelector("form[data-chat-send] label").setAttribute("for", textarea.id);
    var select = panel.querySelector('form[data-action="transfer"] select');
    select.id = "transfer-" + id;
    panel.querySelector('form[data-action="transfer"] label').setAttribute("for", select.id);
    document.getElementById("chat-panels").appendChild(panel);
    var none = document.getElementById("no-chats");
    if (none) { none.hidden = true; }
    wirePanel(panel);
    return panel;
  }

  function onAdvocateEvent(data) {
    var panel;
    if (data.type === "welcome") {
      (data.sessions || []).forEach(function (id) { send({ type: "history", session: id }); });
    } else if (data.type === "message") {
      panel = panelOf(data.session);
      if (panel) { render(panel.querySelector(".chat-log"), data); }
    } else if (data.type === "history") {
      panel = panelOf(data.session) || addPanel(data.session);
      if (data.reference && panel.querySelector(".chat-title").textContent.charAt(0) === "#") {
        panel.querySelector(".chat-title").textContent = data.reference;
      }
      if (data.status === "closed") { panel.classList.add("closed"); }
      data.messages.forEach(function (m) { render(panel.querySelector(".chat-log"), m); });
    } else if (data.type === "assigned") {
      if (!panelOf(data.session)) { addPanel(data.session); say(t("tAssigned")); }
      send({ type: "history", session: data.session });
      document.body.dispatchEvent(new CustomEvent("chat-queue"));
    } else if (data.type === "unassigned") {
      panel = panelOf(data.session);
      if (panel) { panel.parentNode.removeChild(panel); }
      say(t("tUnassigned"));
    } else if (data.type === "status") {
      panel = panelOf(data.session);
      if (panel && data.status === "closed") { panel.classList.add("closed"); }
    } else if (data.type === "queue") {
      document.body.dispatchEvent(new CustomEvent("chat-queue"));
    } else if (data.type === "error") {
      say(data.message || "");
    }
  }

  if (role === "advocate") {
    Array.prototype.forEach.call(document.querySelectorAll(".chat-panel[data-session]"), wirePanel);
  }

  say(t("tConnecting") || (statusEl ? statusEl.textContent : ""));
  connect();
}());
