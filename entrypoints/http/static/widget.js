/*! ChatConnect widget: <script src="https://HOST/widget.js" data-widget-key="KEY" async></script>
 * Dependency-free, served as written. It never uses innerHTML, eval or inline styles, so it
 * runs under a strict Content-Security-Policy that allows only the service's origin; its
 * styles are constructed stylesheets inside a shadow root, which the page's CSS cannot reach.
 * Whatever the model or a document says is rendered as text: a safe Markdown subset at most
 * (bold, lists, code, http/https links, [n] citations), built node by node. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-widget-key]");
  if (!script || !script.getAttribute("data-widget-key") || window.__chatconnectLoaded) return;
  window.__chatconnectLoaded = true;
  var KEY = script.getAttribute("data-widget-key");
  var BASE = new URL(script.src, location.href).origin;
  var STORE = "chatconnect:" + KEY;
  var KEEP = 30; // messages kept in the page's storage for a reload
  var uid = 0;

  var CSS =
    ":host{all:initial}" +
    "*,*::before,*::after{box-sizing:border-box}" +
    ".root{position:fixed;bottom:20px;right:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328}" +
    ".root.left{right:auto;left:20px}" +
    "button,textarea{font:inherit;color:inherit}" +
    ".launch{display:flex;align-items:center;gap:8px;border:0;border-radius:28px;padding:12px 18px;background:var(--a);color:var(--on);cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);font-weight:600}" +
    ".launch svg{width:22px;height:22px;fill:currentColor}" +
    ":focus-visible{outline:3px solid #0550ae;outline-offset:2px}" +
    ".launch:focus-visible{outline-color:#1f2328}" +
    ".panel{position:absolute;bottom:64px;right:0;width:380px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border:1px solid #d0d7de;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.25);overflow:hidden}" +
    ".left .panel{right:auto;left:0}" +
    "[hidden]{display:none!important}" +
    ".head{display:flex;align-items:center;gap:6px;padding:10px 10px 10px 16px;background:var(--a);color:var(--on)}" +
    ".head h2{flex:1;margin:0;font-size:16px;font-weight:700;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
    ".head button{border:0;background:transparent;color:inherit;cursor:pointer;border-radius:6px;padding:6px 8px;font-size:13px}" +
    ".head button:hover{background:rgba(127,127,127,.25)}" +
    ".head button:focus-visible{outline-color:currentColor;outline-offset:-2px}" +
    ".msgs{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px}" +
    ".msg{max-width:88%;padding:9px 12px;border-radius:12px;word-wrap:break-word;overflow-wrap:anywhere}" +
    ".user{align-self:flex-end;background:var(--a);color:var(--on);white-space:pre-wrap}" +
    ".bot{align-self:flex-start;background:#f3f4f6}" +
    ".bot p{margin:0 0 6px}.bot p:last-child{margin:0}" +
    ".bot ul,.bot ol{margin:4px 0 6px;padding-left:20px}" +
    ".bot code{font:13px ui-monospace,Menlo,Consolas,monospace;background:#e6e8eb;padding:1px 4px;border-radius:4px}" +
    ".bot pre{margin:4px 0;padding:8px;background:#e6e8eb;border-radius:6px;overflow-x:auto;white-space:pre}" +
    ".bot pre code{background:none;padding:0}" +
    "a{color:#0550ae}" +
    ".cite{font-size:12px;font-weight:700;text-decoration:none;vertical-align:super;padding:0 1px}" +
    ".srcs{margin:8px 0 0;padding:8px 0 0 20px;border-top:1px solid #d0d7de;font-size:13px}" +
    ".srcs li{margin:0 0 4px}.srcs li:focus{outline:2px solid #0550ae}" +
    ".meta,.snip{color:#57606a}.snip{display:block;font-size:12px}" +
    ".note{align-self:stretch;font-size:14px;padding:8px 12px;border-radius:8px;background:#fff8c5;border:1px solid #d4a72c;color:#1f2328}" +
    ".note.bad{background:#ffebe9;border-color:#cf222e}" +
    ".note button{margin-left:8px}" +
    ".acts{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:6px;font-size:13px;color:#57606a}" +
    ".acts button,.note button,.sugg button,.fb button{border:1px solid #8c959f;background:#fff;border-radius:6px;padding:3px 9px;cursor:pointer;color:#1f2328}" +
    ".acts button[aria-pressed=true]{background:#1f2328;color:#fff;border-color:#1f2328}" +
    ".fb{display:flex;flex-direction:column;gap:6px;margin-top:6px;width:100%}" +
    ".fb textarea{width:100%;min-height:60px;border:1px solid #8c959f;border-radius:6px;padding:6px;background:#fff}" +
    ".fb div{display:flex;gap:6px}" +
    ".sugg{display:flex;flex-wrap:wrap;gap:6px}" +
    ".sugg button{border-radius:16px;padding:5px 11px;text-align:left}" +
    "form{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #d0d7de}" +
    "form textarea{flex:1;resize:none;min-height:40px;max-height:120px;border:1px solid #8c959f;border-radius:8px;padding:8px 10px;background:#fff}" +
    "form button{border:0;border-radius:8px;padding:9px 14px;background:var(--a);color:var(--on);cursor:pointer;font-weight:600}" +
    "form button:disabled,textarea:disabled{opacity:.6;cursor:not-allowed}" +
    "form button.stop{background:#1f2328;color:#fff}" +
    ".sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);border:0}" +
    "@media (max-width:479.98px){.root.open{inset:0}.root.open .launch{display:none}" +
    ".panel{position:fixed;inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0;border:0}}" +
    "@media (prefers-reduced-motion:no-preference){.launch{transition:transform .15s}.launch:hover{transform:scale(1.04)}}";

  // --- small helpers -------------------------------------------------------------------

  function h(tag, attrs) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      var value = attrs[name];
      if (value == null || value === false) continue;
      if (typeof value === "function") node.addEventListener(name, value);
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child != null) node.append(child);
    }
    return node;
  }

  function load() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function save() {
    try {
      localStorage.setItem(
        STORE,
        JSON.stringify({
          visitor: state.visitor,
          conversation: state.conversation,
          messages: state.messages.slice(-KEEP).map(function (m) {
            return { role: m.role, text: m.text, id: m.id, sources: m.sources, finish: m.finish, rated: m.rated };
          })
        })
      );
    } catch (e) {
      /* storage full or forbidden: the conversation lasts until the page is left */
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "v_" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function safeUrl(text) {
    try {
      var url = new URL(text);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // The text colour with the better contrast on the accent: white or near-black; one of
  // them always reaches WCAG AA (4.5:1) on any colour.
  function onColor(hex) {
    var rgb = [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16) / 255; });
    var lum = rgb.map(function (c) { return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#1f2328" : "#ffffff";
  }

  function fullHex(color) {
    if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(color || "")) return "#2563eb";
    return color.length === 4 ? "#" + color[1] + color[1] + color[2] + color[2] + color[3] + color[3] : color;
  }

  // --- safe Markdown: text nodes and a few elements, never parsed HTML -----------------

  var INLINE = /`([^`\n]+)`|\*\*([^*\n]+)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)|\[(\d{1,2})\]|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

  function inline(parent, text, cite) {
    var last = 0, m;
    INLINE.lastIndex = 0;
    while ((m = INLINE.exec(text))) {
      if (m.index > last) parent.append(text.slice(last, m.index));
      last = INLINE.lastIndex;
      if (m[1]) parent.append(h("code", { text: m[1] }));
      else if (m[2]) parent.append(h("strong", { text: m[2] }));
      else if (m[3]) {
        var href = safeUrl(m[4]);
        parent.append(href ? link(href, m[3]) : m[0]);
      } else if (m[5]) parent.append(cite(+m[5]) || m[0]);
      else {
        var bare = safeUrl(m[6]);
        parent.append(bare ? link(bare, m[6]) : m[6]);
      }
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function link(href, text) {
    return h("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: text });
  }

  function markdown(text, cite) {
    var out = document.createDocumentFragment();
    var lines = text.replace(/\r\n?/g, "\n").split("\n");
    var para = [], list = null, i = 0;
    function flush() {
      if (para.length) {
        var p = h("p");
        inline(p, para.join("\n"), cite);
        out.append(p);
        para = [];
      }
      list = null;
    }
    while (i < lines.length) {
      var line = lines[i];
      if (/^\s*```/.test(line)) {
        flush();
        var code = [];
        while (++i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i]);
        out.append(h("pre", null, h("code", { text: code.join("\n") })));
        i++;
        continue;
      }
      var item = /^\s*(?:([-*•])|(\d{1,3})[.)])\s+(.*)$/.exec(line);
      if (item) {
        if (para.length) flush();
        var tag = item[1] ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) {
          list = h(tag);
          out.append(list);
        }
        var li = h("li");
        inline(li, item[3], cite);
        list.append(li);
      } else if (!line.trim()) flush();
      else {
        list = null;
        para.push(line);
      }
      i++;
    }
    flush();
    return out;
  }

  // --- Server-Sent Events over a fetch body (so the request can POST with headers) -----

  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "", name = "", data = [];
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      var lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (var i = 0; i < lines.length; i++) {
        var line = lines[i];
        if (line === "") {
          if (data.length) {
            var payload;
            try {
              payload = JSON.parse(data.join("\n"));
            } catch (e) {
              payload = null;
            }
            if (payload && onEvent(name || "message", payload) === false) return;
          }
          name = "";
          data = [];
        } else if (line[0] === ":") continue; // a heartbeat
        else {
          var colon = line.indexOf(":");
          var field = colon < 0 ? line : line.slice(0, colon);
          var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        }
      }
    }
  }

  async function errorOf(response) {
    var text = await response.text().catch(function () { return ""; });
    try {
      var body = JSON.parse(text);
      if (body && body.error) return body.error;
    } catch (e) {
      var found = /data: ?(\{.*\})/.exec(text); // a 429 on the stream is one SSE `error` event
      if (found) {
        try {
          return JSON.parse(found[1]);
        } catch (e2) {
          /* fall through */
        }
      }
    }
    return { code: "http_" + response.status, message: "" };
  }

  // --- state and the DOM -----------------------------------------------------------------

  var saved = load();
  var state = {
    visitor: typeof saved.visitor === "string" ? saved.visitor : randomId(),
    conversation: typeof saved.conversation === "string" ? saved.conversation : null,
    messages: Array.isArray(saved.messages) ? saved.messages : [],
    config: { title: "Chat", greeting: "", placeholder: "Type your question…", suggested_questions: [], accent_color: "#2563eb", position: "bottom-right" },
    refused: null,
    busy: null
  };

  var host = h("div", { "data-chatconnect": "" });
  var shadow = host.attachShadow({ mode: "open" });
  var styles = new CSSStyleSheet();
  styles.replaceSync(CSS);
  var theme = new CSSStyleSheet();
  shadow.adoptedStyleSheets = [styles, theme];

  var ids = { panel: "cc-panel", title: "cc-title", input: "cc-input" };
  var titleEl = h("h2", { id: ids.title });
  var live = h("div", { class: "sr", role: "status", "aria-live": "polite" });
  var msgs = h("div", { class: "msgs", tabindex: "0", role: "region", "aria-label": "Conversation" });
  var input = h("textarea", { id: ids.input, rows: "1", maxlength: "4000", keydown: onKey });
  var send = h("button", { type: "submit", text: "Send" });
  var stop = h("button", { type: "button", class: "stop", text: "Stop", hidden: true, click: function () { if (state.busy) state.busy.stop(); } });
  var form = h("form", { submit: function (e) { e.preventDefault(); ask(input.value); } },
    h("label", { class: "sr", for: ids.input, text: "Your question" }), input, send, stop);
  var fresh = h("button", { type: "button", text: "New conversation", click: newConversation });
  var close = h("button", { type: "button", "aria-label": "Close chat", text: "✕", click: function () { toggle(false); } });
  var panel = h("div", { id: ids.panel, class: "panel", role: "dialog", "aria-labelledby": ids.title, hidden: true, keydown: function (e) { if (e.key === "Escape") toggle(false); } },
    h("div", { class: "head" }, titleEl, fresh, close), msgs, form, live);
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  icon.append(path);
  var launchText = h("span", { text: "Chat" });
  var launcher = h("button", { type: "button", class: "launch", "aria-expanded": "false", "aria-controls": ids.panel, click: function () { toggle(panel.hidden); } }, icon, launchText);
  var root = h("div", { class: "root" }, panel, launcher);
  shadow.append(root);

  function applyConfig() {
    var c = state.config;
    var accent = fullHex(c.accent_color);
    theme.replaceSync(":host{--a:" + accent + ";--on:" + onColor(accent) + "}");
    root.classList.toggle("left", c.position === "bottom-left");
    titleEl.textContent = c.title || "Chat";
    launcher.setAttribute("aria-label", "Open chat: " + (c.title || "Chat"));
    input.setAttribute("placeholder", c.placeholder || "");
    render();
  }

  function toggle(open) {
    panel.hidden = !open;
    root.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      msgs.scrollTop = msgs.scrollHeight;
      (input.disabled ? close : input).focus();
    } else launcher.focus();
  }

  function onKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ask(input.value);
    }
  }

  function announce(text) {
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  function note(text, bad, action) {
    var box = h("div", { class: bad ? "note bad" : "note", role: bad ? "alert" : null }, h("span", { text: text }));
    if (action) box.append(h("button", { type: "button", text: action.label, click: action.run }));
    msgs.append(box);
    msgs.scrollTop = msgs.scrollHeight;
    return box;
  }

  // Redraws the conversation; a keyboard user whose focused control went with it lands
  // in the question box.
  function render() {
    var inside = !!shadow.activeElement;
    msgs.textContent = "";
    if (state.config.greeting) msgs.append(h("div", { class: "msg bot" }, h("p", { text: state.config.greeting })));
    state.messages.forEach(function (m) { msgs.append(m.role === "user" ? h("div", { class: "msg user", text: m.text }) : answerNode(m)); });
    var questions = state.config.suggested_questions || [];
    if (!state.messages.length && questions.length && !state.refused) {
      msgs.append(h("div", { class: "sugg", role: "group", "aria-label": "Suggested questions" },
        ...questions.map(function (q) { return h("button", { type: "button", text: q, click: function () { ask(q); } }); })));
    }
    if (state.refused) note(state.refused, true);
    var disabled = !!state.refused;
    input.disabled = disabled;
    send.disabled = disabled;
    msgs.scrollTop = msgs.scrollHeight;
    refocus(inside);
  }

  function refocus(inside) {
    var active = shadow.activeElement;
    if (inside && !panel.hidden && (!active || active.hidden)) (input.disabled ? close : input).focus();
  }

  function answerNode(m) {
    var node = h("div", { class: "msg bot", "data-message-id": m.id || null });
    m.node = node;
    fill(m);
    return node;
  }

  // Redraws an answer from its text: the whole text each time, so a citation or a code
  // block split across tokens still comes out whole.
  function fill(m) {
    var node = m.node;
    node.textContent = "";
    var prefix = "cc-" + (m.key || (m.key = ++uid)) + "-";
    var sources = m.sources || [];
    var cited = {};
    node.append(markdown(m.text || "", function (n) {
      if (n < 1 || n > sources.length) return null;
      cited[n] = true;
      return h("a", { href: "#" + prefix + n, class: "cite", "aria-label": "source " + n, text: "[" + n + "]", click: function (e) {
        e.preventDefault();
        var target = shadow.getElementById(prefix + n);
        if (target) { target.scrollIntoView({ block: "nearest" }); target.focus(); }
      } });
    }));
    // The sources the answer cites, as it cites them; all of them only for a finished answer
    // that cites none (what was searched is then all there is to show).
    var shown = sources.filter(function (s, i) { return cited[s.index || i + 1]; });
    if (!shown.length && m.done) shown = sources;
    if (shown.length && m.finish !== "no_answer") {
      var list = h("ol", { class: "srcs", "aria-label": "Sources" });
      shown.forEach(function (s) {
        var n = s.index || sources.indexOf(s) + 1;
        var where = [s.section, s.page != null ? "page " + s.page : null].filter(Boolean).join(", ");
        var url = s.url && safeUrl(s.url);
        var title = h("strong", { text: s.title || "Untitled" });
        list.append(h("li", { id: prefix + n, value: n, tabindex: "-1" },
          url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow" }, title) : title,
          where ? h("span", { class: "meta", text: " — " + where }) : null,
          s.snippet ? h("span", { class: "snip", text: s.snippet.length > 160 ? s.snippet.slice(0, 160) + "…" : s.snippet }) : null));
      });
      node.append(list);
    }
    if (m.done && m.id) node.append(feedbackBar(m));
  }

  function feedbackBar(m) {
    var bar = h("div", { class: "acts", role: "group", "aria-label": "Rate this answer" });
    if (m.rated) {
      bar.append(h("span", { text: m.rated === "up" ? "Thanks for your feedback." : "Thanks — we'll use it to improve." }));
      return bar;
    }
    var up = h("button", { type: "button", "aria-pressed": "false", text: "Helpful", click: function () { vote(m, "up", null); } });
    var down = h("button", { type: "button", "aria-pressed": "false", text: "Not helpful", click: function () {
      down.setAttribute("aria-pressed", "true");
      var comment = h("textarea", { maxlength: "1000", "aria-label": "What was wrong? (optional)", placeholder: "What was wrong? (optional)" });
      var box = h("div", { class: "fb" }, comment, h("div", null,
        h("button", { type: "button", text: "Send feedback", click: function () { vote(m, "down", comment.value); } }),
        h("button", { type: "button", text: "Cancel", click: function () { box.remove(); down.setAttribute("aria-pressed", "false"); down.focus(); } })));
      bar.append(box);
      comment.focus();
    } });
    bar.append(up, down);
    return bar;
  }

  async function vote(m, rating, comment) {
    try {
      var response = await fetch(BASE + "/api/widget/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Widget-Key": KEY },
        body: JSON.stringify({ message_id: m.id, rating: rating, comment: comment ? comment.slice(0, 1000) : null })
      });
      if (!response.ok) throw new Error((await errorOf(response)).message || "feedback refused");
      m.rated = rating;
      save();
      var inside = !!shadow.activeElement;
      fill(m);
      refocus(inside);
      var thanks = m.node.querySelector(".acts span");
      announce(thanks ? thanks.textContent : "Thanks.");
    } catch (e) {
      note("Your feedback could not be sent. Please try again.", true);
    }
  }

  function newConversation() {
    if (state.busy) state.busy.stop();
    state.conversation = null;
    state.messages = [];
    save();
    render();
    announce("New conversation started.");
    input.focus();
  }

  function refusal(error, status) {
    if (status === 403) return "This chat is not available on this site. " + (error.message || "");
    if (status === 401) return "This chat is not set up correctly: " + (error.message || "unknown widget key") + ".";
    return null;
  }

  function retryText(seconds) {
    if (!(seconds > 0)) return "";
    return seconds < 90 ? " Try again in " + seconds + " s." : " Try again in " + Math.ceil(seconds / 60) + " min.";
  }

  async function ask(text) {
    text = (text || "").trim();
    if (!text || state.busy || state.refused) return;
    input.value = "";
    var question = { role: "user", text: text };
    var answer = { role: "assistant", text: "", sources: [] };
    state.messages.push(question);
    render();
    var controller = new AbortController();
    var stopped = false;
    state.busy = { stop: function () { stopped = true; controller.abort(); } };
    var sending = shadow.activeElement === send;
    send.hidden = true;
    stop.hidden = false;
    if (sending) stop.focus();
    announce("Waiting for the answer…");
    var ended = false, failure = null, painted = false;
    try {
      var response = await fetch(BASE + "/api/widget/chat/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Widget-Key": KEY },
        body: JSON.stringify({ message: text, conversation_id: state.conversation, visitor_id: state.visitor }),
        signal: controller.signal
      });
      if (!response.ok) {
        var error = await errorOf(response);
        var refused = refusal(error, response.status);
        if (refused) {
          state.refused = refused;
          state.messages.pop();
        } else if (response.status === 429) {
          state.messages.pop();
          input.value = text; // kept for when the limit lifts
          failure = { text: (error.message || "Too many messages.") + retryText(+response.headers.get("Retry-After")) };
        } else if (response.status === 404 && error.code === "conversation_not_found") {
          state.conversation = null; // forgotten by the service: start afresh
          failure = { text: "That conversation has ended. Please ask again.", retry: true };
        } else {
          failure = { text: error.message || "The assistant is unavailable right now.", bad: true, retry: response.status >= 500 };
        }
      } else {
        await readEvents(response, function (name, data) {
          if (name === "start") {
            state.conversation = data.conversation_id;
            answer.id = data.message_id;
          } else if (name === "sources") answer.sources = data.sources || [];
          else if (name === "token") {
            answer.text += data.text || "";
            if (!painted) {
              painted = true;
              state.messages.push(answer);
              msgs.append(answerNode(answer));
            } else fill(answer);
            msgs.scrollTop = msgs.scrollHeight;
          } else if (name === "done") {
            ended = true;
            answer.done = true;
            answer.finish = data.finish_reason;
            return false;
          } else if (name === "error") {
            ended = true;
            failure = { text: "The answer could not be completed: " + (data.message || data.code), bad: true, retry: true };
            return false;
          }
        });
        if (!ended && !stopped) failure = { text: "The connection was lost before the answer was complete.", bad: true, retry: true };
      }
    } catch (e) {
      failure = stopped ? null : { text: "The assistant could not be reached. Check your connection.", bad: true, retry: true };
    }
    state.busy = null;
    var inside = !!shadow.activeElement;
    send.hidden = false;
    stop.hidden = true;
    if (stopped) answer.done = !!answer.id;
    if (answer.text && !painted) state.messages.push(answer);
    save();
    render();
    if (state.refused) {
      announce(state.refused);
      return;
    }
    if (stopped) note("Stopped.", false);
    if (failure) {
      note(failure.text, failure.bad, failure.retry ? { label: "Retry", run: function () {
        state.messages = state.messages.filter(function (m) { return m !== question && m !== answer; });
        ask(text);
      } } : null);
      announce(failure.text);
    } else if (!stopped) announce("Answer: " + answer.text);
    refocus(inside);
  }

  async function configure() {
    try {
      var response = await fetch(BASE + "/api/widget/config", { headers: { "X-Widget-Key": KEY } });
      if (response.ok) {
        var config = await response.json();
        for (var k in config) if (config[k] != null) state.config[k] = config[k];
      } else {
        var error = await errorOf(response);
        state.refused = refusal(error, response.status);
        if (state.refused && window.console) console.warn("[ChatConnect] " + (error.message || state.refused));
      }
    } catch (e) {
      /* unreachable now: defaults, and the first question will say so */
    }
    applyConfig();
  }

  function start() {
    document.body.append(host);
    applyConfig();
    configure();
  }

  // Restored answers are complete, whatever they were when the page was left.
  state.messages.forEach(function (m) { if (m.role === "assistant") m.done = !!m.id; });
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
