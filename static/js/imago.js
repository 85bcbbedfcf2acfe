// Small progressive enhancements. No inline scripts anywhere (CSP): everything is here.
(function () {
  "use strict";

  // --- copy buttons -------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    // The page says "Copied" in its own language (data-copied on the button).
    var done = function () { button.textContent = button.getAttribute("data-copied") || "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // --- sentence stems: put the stem into the text box of its own form --------------------
  // A stem's "…" marks where the person writes ("When …, I feel …"): the gaps go in empty,
  // never as a character they would have to delete, and the cursor waits in the first one.
  var GAP = /\s*(?:\u2026|\.\.\.)\s*/;
  function stemWithGaps(stem) {
    var parts = stem.split(GAP);
    var text = "";
    var caret = -1;
    parts.forEach(function (part, i) {
      if (i > 0) {
        // A gap: a space before it (after the words that lead to it), none before punctuation.
        if (text && !/\s$/.test(text)) text += " ";
        if (caret === -1) caret = text.length;
        if (part && !/^[,.;:!?)\u00bb\u201d]/.test(part)) part = " " + part;
      }
      text += part;
    });
    if (caret === -1) caret = text.length; // no gap: carry on after the stem
    return { text: text, caret: caret };
  }
  document.addEventListener("click", function (event) {
    var stem = event.target.closest("[data-stem]");
    if (!stem) return;
    var form = stem.closest("form");
    var box = form && form.querySelector("textarea");
    if (!box) return;
    var inserted = stemWithGaps(stem.getAttribute("data-stem"));
    var before = box.value ? box.value.replace(/\s*$/, " ") : "";
    box.value = before + inserted.text;
    box.focus();
    box.setSelectionRange(before.length + inserted.caret, before.length + inserted.caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // --- live dialogue: sequence numbers, connection state, "writing…" lines ---------------
  var socket = null;
  var seen = 0;
  var typingSentAt = 0;
  var typingClear = null;

  function syncMarker(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content.querySelector("#sync");
  }
  // Every text this script shows comes from the page, in the page's language (a data-*
  // attribute the template renders translated); the English is only a last resort.
  function textOf(el, name, fallback) {
    var text = el && el.getAttribute(name);
    return text || fallback;
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }
  function pageLanguage() {
    return document.documentElement.lang || undefined;
  }
  function setConnection(state, name, fallback) {
    var el = document.getElementById("connection");
    if (!el) return;
    el.setAttribute("data-state", state);
    el.textContent = textOf(el, name, fallback);
  }
  function requestSnapshot() {
    if (socket) socket.send(JSON.stringify({ type: "snapshot" }));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var marker = document.getElementById("sync");
    if (marker) seen = parseInt(marker.getAttribute("data-seq"), 10) || 0;
    localizeTimes(document);
  });

  var socketOpen = false;
  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    socketOpen = true;
    setConnection("open", "data-connected", "Connected");
    if (event.detail.elt && event.detail.elt.setAttribute) event.detail.elt.setAttribute("data-socket", "open");
  });

  // --- moves over the open socket; the form's own HTTP post when the socket is down -------
  // The same form token goes either way, so a move resent after a drop is never saved twice.
  function formValues(form) {
    var values = { type: "move" };
    new FormData(form).forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      if (name === "feelings" || name === "items") {
        (values[name] = values[name] || []).push(value);
      } else {
        values[name] = value;
      }
    });
    return values;
  }
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-ws-move]") || !socketOpen || !socket) return;
    event.preventDefault();
    form.setAttribute("data-pending", "");
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    pendingDrafts = Array.prototype.map.call(form.querySelectorAll("[data-draft]"), draftKey);
    socket.send(JSON.stringify(formValues(form)), form);
  });
  var pendingDrafts = [];
  function settlePendingDrafts() {
    // The move went through once its form is gone and no refusal took its place.
    if (!pendingDrafts.length || document.querySelector("form[data-pending]")) return;
    if (document.querySelector("#move-panel [role=alert]")) { pendingDrafts = []; return; }
    pendingDrafts.forEach(forgetDraft);
    pendingDrafts = [];
  }
  function releasePendingForms() {
    document.querySelectorAll("form[data-pending]").forEach(function (form) {
      form.removeAttribute("data-pending");
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  }

  document.addEventListener("htmx:wsClose", function (event) {
    socketOpen = false;
    if (event.detail.elt && event.detail.elt.setAttribute) event.detail.elt.setAttribute("data-socket", "closed");
    releasePendingForms(); // sending again goes over HTTP, with the same token
    var code = event.detail.event && event.detail.event.code;
    if (code === 4401 || code === 4403) {
      setConnection("closed", "data-disconnected", "Disconnected. Please reload the page or log in again.");
    } else if (code === 4429) {
      setConnection("closed", "data-too-many", "This page is open in too many windows. Close some, then reload this one.");
    } else {
      setConnection("closed", "data-reconnecting", "Reconnecting…");
    }
  });

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var marker = syncMarker(event.detail.message);
    if (!marker) return; // presence and typing hints carry no steps
    var kind = marker.getAttribute("data-kind");
    var first = parseInt(marker.getAttribute("data-from"), 10);
    var last = parseInt(marker.getAttribute("data-seq"), 10);
    if (kind === "snapshot") return;
    if (last <= seen) { event.preventDefault(); return; } // already shown
    if (first !== seen + 1) { event.preventDefault(); requestSnapshot(); } // a gap
  });
  document.addEventListener("htmx:wsAfterMessage", function (event) {
    settlePendingDrafts();
    var marker = document.getElementById("sync");
    if (marker) seen = parseInt(marker.getAttribute("data-seq"), 10) || seen;
    var typing = document.getElementById("typing");
    if (typing && typing.textContent.trim()) {
      clearTimeout(typingClear);
      typingClear = setTimeout(function () { typing.textContent = ""; }, 5000);
    }
    localizeTimes(document);
    restoreDrafts();
  });

  document.addEventListener("input", function (event) {
    var box = event.target.closest("textarea[data-typing]");
    if (!box) return;
    var now = Date.now();
    if (socket && now - typingSentAt > 2500) {
      typingSentAt = now;
      socket.send(JSON.stringify({ type: "typing" })); // never the text
    }
  });

  // --- drafts: what a person is writing survives pushes, reconnects, reloads and a closed tab --
  // Kept on this device only (localStorage), under the signed-in person's id, the page's
  // dialogue and the field (whose id includes the step's turn number, so a draft never leaks
  // into a later step). Gone once sent, at log-out, after a week, and whenever someone else
  // signs in on this device: a shared computer never shows one person's words to the next.
  var DRAFT = "imago-draft:";
  var DRAFT_DAYS = 7;
  function draftOwner() {
    var meta = document.querySelector("meta[name=imago-drafts]");
    return meta ? meta.getAttribute("content") : "";
  }
  function draftKey(el) {
    var scope = el.closest("[data-draft-scope]");
    return DRAFT + draftOwner() + ":" + (scope ? scope.getAttribute("data-draft-scope") + ":" : "") + el.id;
  }
  function storeDraft(el, value) {
    if (!draftOwner()) return;
    try { localStorage.setItem(draftKey(el), JSON.stringify({ at: Date.now(), value: value })); } catch (e) { /* storage off */ }
  }
  function readDraft(el) {
    if (!draftOwner()) return null;
    try {
      var kept = JSON.parse(localStorage.getItem(draftKey(el)) || "null");
      return kept && Object.prototype.hasOwnProperty.call(kept, "value") ? kept.value : null;
    } catch (e) { return null; }
  }
  function forgetDraft(key) {
    try { localStorage.removeItem(key); } catch (e) { /* storage off */ }
  }
  function draftKeys() {
    var keys = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var key = localStorage.key(i);
        if (key && key.indexOf(DRAFT) === 0) keys.push(key);
      }
    } catch (e) { /* storage off */ }
    return keys;
  }
  function forgetAllDrafts() { draftKeys().forEach(forgetDraft); }
  (function tidyDrafts() {
    var owner = draftOwner();
    if (!owner) return; // signed out: theirs wait for them (keyed by their id), unread
    var oldest = Date.now() - DRAFT_DAYS * 24 * 3600 * 1000;
    draftKeys().forEach(function (key) {
      var kept = null;
      try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
      if (key.indexOf(DRAFT + owner + ":") !== 0 || !kept || !(kept.at > oldest)) forgetDraft(key);
    });
  })();
  document.addEventListener("submit", function (event) {
    var meta = document.querySelector("meta[name=imago-drafts]");
    var logout = meta && meta.getAttribute("data-logout");
    var form = event.target;
    if (!logout || !form.getAttribute) return;
    var action = new URL(form.getAttribute("action") || window.location.href, window.location.href);
    if (action.pathname === logout) { forgetAllDrafts(); forgetHome(); forgetPush(); }
  }, true);
  function saveDraft(el) {
    storeDraft(el, el.value);
  }
  // Ticked feelings are a draft too: a push or a snapshot that redraws the panel between two
  // ticks must not forget the first one (nor which words the sentence holds).
  function saveFeelings(set) {
    var ticked = Array.prototype.map.call(set.querySelectorAll("input[name=feelings]:checked"), function (b) { return b.value; });
    storeDraft(set, { ticked: ticked, words: set.imagoWords || [], text: set.getAttribute("data-feelings-text") || "" });
  }
  function restoreFeelings(set) {
    if (set.imagoWords) return; // ticked here already, not redrawn since
    var state = readDraft(set);
    if (!state || !Array.isArray(state.ticked)) return;
    set.querySelectorAll("input[name=feelings]").forEach(function (b) { b.checked = state.ticked.indexOf(b.value) !== -1; });
    set.imagoWords = Array.isArray(state.words) ? state.words.filter(function (w) { return typeof w === "string"; }) : [];
    if (typeof state.text === "string" && state.text) set.setAttribute("data-feelings-text", state.text);
  }
  function restoreDrafts() {
    document.querySelectorAll("[data-draft]").forEach(function (el) {
      if (el.matches("fieldset")) { restoreFeelings(el); return; }
      if (el.value) return;
      var v = readDraft(el);
      if (typeof v === "string" && v) {
        el.value = v;
        // its writing aids (dialogues/_writing_aids.html) are asked for again
        if (el.matches("textarea[data-typing]") && window.htmx) htmx.trigger(el, "imago:restored");
      }
    });
  }
  function clearDrafts(form) {
    form.querySelectorAll("[data-draft]").forEach(function (el) { forgetDraft(draftKey(el)); });
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-draft]")) saveDraft(event.target);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.closest && elt.closest(".writing-aids")) return; // asked about the draft: not sent
    var form = elt && elt.closest && elt.closest("form");
    if (form && event.detail.successful) clearDrafts(form);
  });
  document.addEventListener("htmx:afterSettle", restoreDrafts);
  document.addEventListener("DOMContentLoaded", restoreDrafts);

  // --- times in the reader's own time zone ------------------------------------------------
  function localizeTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) el.textContent = d.toLocaleString(pageLanguage(), { weekday: "short", hour: "2-digit", minute: "2-digit" });
    });
  }

  // --- quick exit: leave for a neutral page at once, leaving no "back" entry to this page ---
  function quickExit() {
    var link = document.querySelector("[data-quick-exit]");
    window.location.replace(link ? link.href : "/notes/");
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-quick-exit]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    quickExit();
  });
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !document.querySelector("[data-quick-exit]")) return;
    var now = Date.now();
    if (now - lastEscape < 800) quickExit();
    lastEscape = now;
  });

  // --- time-out timer: counts up from when the pause began (the server says how long ago) --
  function tickTimers() {
    document.querySelectorAll("[data-elapsed]").forEach(function (el) {
      if (!el.hasAttribute("data-start")) {
        var elapsed = parseInt(el.getAttribute("data-elapsed"), 10) || 0;
        el.setAttribute("data-start", String(Date.now() - elapsed * 1000));
      }
      var s = Math.max(0, Math.floor((Date.now() - parseInt(el.getAttribute("data-start"), 10)) / 1000));
      el.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    });
  }
  setInterval(tickTimers, 1000);

  // --- the console's coach box: say who will read the message before it is sent -----------
  document.addEventListener("change", function (event) {
    var radio = event.target;
    var form = radio.closest && radio.closest("form[data-coach-form]");
    if (!form || radio.name !== "to") return;
    var readers = form.querySelector("[data-coach-readers]");
    var send = form.querySelector("[data-coach-send]");
    if (readers) readers.textContent = radio.getAttribute("data-readers");
    if (send) send.textContent = radio.getAttribute("data-button");
    form.classList.toggle("private", radio.value !== "");
  });

  // --- the console's transcript scrolls on its own: the newest step stays in view, unless
  // the therapist has scrolled up to reread (then it stays where they are) -----------------
  var stickToEnd = true;
  function consoleTranscript() { return document.querySelector(".console #transcript"); }
  function keepEndInView() {
    var el = consoleTranscript();
    if (el && stickToEnd) el.scrollTop = el.scrollHeight;
  }
  document.addEventListener("scroll", function (event) {
    var el = consoleTranscript();
    if (el && event.target === el) stickToEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  }, true);
  document.addEventListener("DOMContentLoaded", keepEndInView);
  document.addEventListener("htmx:wsAfterMessage", keepEndInView);

  // --- forms pushed over a socket are rendered without a request, so without a CSRF token:
  // give them the page's own (the one htmx sends as a header) just before they are posted.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[method=post]")) return;
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field && field.value) return;
    var token = null;
    try { token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"]; } catch (e) { /* none */ }
    if (!token) return;
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "csrfmiddlewaretoken";
      form.appendChild(field);
    }
    field.value = token;
  }, true);
  // --- the person's time zone, from the browser on a first visit (never over a choice) ----
  (function sendZone() {
    var url = document.body && document.body.getAttribute("data-zone-url");
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!url || !zone || !window.fetch) return;
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) {}
    var body = new URLSearchParams({ time_zone: zone });
    // Saved for the next page: this one isn't reloaded under the person's hands.
    fetch(url, { method: "POST", headers: headers, body: body, credentials: "same-origin" })
      .catch(function () {});
  })();

  // --- countdown to a scheduled dialogue (the server says how many seconds are left) ------
  // At zero the dialogue opens (a background job). A dialogue page or console with its socket
  // open says so over it ("due": the server opens it if the time has come, and the change
  // reaches every page of it as any change does); any other page reloads once to show it.
  // The formats come from the countdown's paragraph (data-h, data-m, data-s: "{h} h {m} min").
  function countdownText(el, s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var formats = el.closest("[data-h]");
    if (h > 0) return fill(textOf(formats, "data-h", "{h} h {m} min"), { h: h, m: String(m).padStart(2, "0") });
    if (m > 0) return fill(textOf(formats, "data-m", "{m} min {s} s"), { m: m, s: String(sec).padStart(2, "0") });
    return fill(textOf(formats, "data-s", "{s} s"), { s: sec });
  }
  function tickCountdowns() {
    document.querySelectorAll("[data-remaining]").forEach(function (el) {
      if (!el.hasAttribute("data-ends")) {
        var left = parseInt(el.getAttribute("data-remaining"), 10) || 0;
        el.setAttribute("data-ends", String(Date.now() + left * 1000));
      }
      var s = Math.max(0, Math.ceil((parseInt(el.getAttribute("data-ends"), 10) - Date.now()) / 1000));
      el.textContent = countdownText(el, s);
      if (s === 0 && !el.hasAttribute("data-reloading")) {
        el.setAttribute("data-reloading", "");
        if (socket && socketOpen && el.closest("[data-due-frame]")) {
          socket.send(JSON.stringify({ type: "due" }));
          return;
        }
        setTimeout(function () { if (document.body.contains(el)) window.location.reload(); }, 4000);
      }
    });
  }
  setInterval(tickCountdowns, 1000);
  tickCountdowns();
  // --- the partner's move panel: corrections, feelings, focus, "your move" -------------------

  // A correction opens behind its button (a <details>): once opened, its box has the focus.
  document.addEventListener("click", function (event) {
    var summary = event.target.closest("details.opens-first > summary");
    if (!summary) return;
    var details = summary.parentElement;
    setTimeout(function () {
      if (!details.open) return;
      var box = firstField(details);
      if (box) box.focus();
    }, 0);
  });
  function openRestoredCorrections() {
    document.querySelectorAll("details.opens-first:not([open])").forEach(function (details) {
      var box = details.querySelector("textarea");
      if (box && box.value.trim()) details.open = true; // a half-written correction, restored
    });
  }

  // Ticking a feeling word writes it into the sentence; unticking takes it out again.
  // "sad, lonely and tired" in the page's own language ("tristeza, soledad y cansancio").
  var pageLang = document.documentElement.lang || "en";
  var listFormat = window.Intl && Intl.ListFormat
    ? new Intl.ListFormat(pageLang, { style: "long", type: "conjunction" }) : null;
  var conjunction = listFormat ? listFormat.format(["\u0001", "\u0002"]).split("\u0001")[1].split("\u0002")[0] : " and ";
  function joinWords(words) {
    if (words.length < 2) return words.join("");
    if (listFormat) return listFormat.format(words);
    return words.slice(0, -1).join(", ") + conjunction + words[words.length - 1];
  }
  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  function replaceLast(text, part, by) {
    var at = text.lastIndexOf(part);
    return at === -1 ? text : text.slice(0, at) + by + text.slice(at + part.length);
  }
  document.addEventListener("change", function (event) {
    var tick = event.target;
    if (!tick.matches || !tick.matches("input[type=checkbox][name=feelings]")) return;
    var set = tick.closest("[data-feelings-into]");
    var area = set && document.getElementById(set.getAttribute("data-feelings-into"));
    if (!area) return;
    var words = set.imagoWords || [];
    var i = words.indexOf(tick.value);
    var text = area.value;
    if (!tick.checked && i === -1) return; // a word they wrote themselves stays
    if (tick.checked && new RegExp("\\b" + tick.value + "\\b", "i").test(text)) return; // written already
    if (tick.checked && i === -1) words.push(tick.value);
    if (!tick.checked) words.splice(i, 1);
    set.imagoWords = words;
    var before = set.getAttribute("data-feelings-text") || "";
    var start = (set.getAttribute("data-feelings-stem") || "").replace(/\s*…\s*$/, " ").replace(/^\s+$/, "");
    if (before && text.indexOf(before) === -1) {
      // They rewrote the sentence: their words stand, and a new tick is added to them.
      if (!tick.checked) return;
      words = set.imagoWords = [tick.value];
      before = "";
    }
    var now = joinWords(words);
    if (before) {
      var whole = start + before + ".";
      if (now) {
        text = replaceLast(text, before, now);
      } else if (start && text.lastIndexOf(whole) !== -1) {
        text = replaceLast(text, whole, "");
      } else {
        var at = text.lastIndexOf(before);
        var head = text.slice(0, at).replace(
          new RegExp("(,\\s*|" + escapeRegExp(conjunction.trim()).replace(/^|$/g, "\\s+") + "|\\s+)$"), "");
        text = head + text.slice(at + before.length);
      }
    } else if (now) {
      if (!text.trim()) text = start + now + ".";
      else if (/[.!?]\s*$/.test(text)) text = text.replace(/\s*$/, " ") + start + now + ".";
      else if (/\s$/.test(text)) text = text + now;
      else text = text + ", " + now;
    }
    text = text.replace(/[ \t]{2,}/g, " ").replace(/^\s+/, "");
    set.setAttribute("data-feelings-text", now);
    area.value = text;
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });

  document.addEventListener("change", function (event) {
    var tick = event.target;
    if (!tick.matches || !tick.matches("input[type=checkbox][name=feelings]")) return;
    var set = tick.closest("fieldset[data-draft]");
    if (set && set.id) saveFeelings(set); // after the sentence above was written
  });

  // The first field of a form (its text box first), or null when it has only buttons.
  function firstField(root) {
    var fields = root.querySelectorAll("textarea, input:not([type=hidden]), select");
    var visible = Array.prototype.filter.call(fields, function (el) {
      var closed = el.closest("details:not([open])"); // a correction not opened yet
      if (el.disabled || (closed && closed !== root)) return false;
      return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
    });
    var text = visible.filter(function (el) { return el.matches("textarea"); });
    return text[0] || visible[0] || null;
  }
  function yourMovePanel() {
    var panel = document.getElementById("move-panel");
    return panel && panel.hasAttribute("data-your-move") ? panel : null;
  }

  // After a move (or a time-out, a resume, an end) the panel is replaced: focus goes on to
  // the next meaningful place, never back to the page's top.
  var submitted = null;
  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest("#move-panel")) submitted = event.target;
  }, true);
  function focusNext() {
    var panel = document.getElementById("move-panel");
    if (!panel) return;
    var alert = panel.querySelector("[role=alert]");
    var target = null;
    if (yourMovePanel() || alert) target = firstField(panel);
    if (!target && alert) { alert.setAttribute("tabindex", "-1"); target = alert; }
    if (!target && yourMovePanel()) target = panel.querySelector("#move-title");
    if (!target) target = document.getElementById("status-line") || panel.querySelector("#move-title");
    if (target) target.focus();
  }
  function afterPanelChange() {
    if (submitted && !submitted.isConnected) {
      submitted = null;
      focusNext();
    }
    openRestoredCorrections();
    updateYourMove(true);
    updateNotifyOffer();
    updateFold();
  }
  // A push that replaces the focused part (the status line, the panel's heading) keeps the
  // focus where it was, on the new copy.
  var focusedId = "";
  document.addEventListener("htmx:wsBeforeMessage", function () {
    var el = document.activeElement;
    focusedId = el && el !== document.body && el.id ? el.id : "";
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    var el = document.activeElement;
    if (focusedId && (!el || el === document.body)) {
      var again = document.getElementById(focusedId);
      if (again) again.focus({ preventScroll: true });
    }
    focusedId = "";
  });
  document.addEventListener("htmx:wsAfterMessage", afterPanelChange);
  document.addEventListener("htmx:afterSettle", afterPanelChange);

  // One tap to the form: the status line's "Your move" link (and a notification's click).
  function jumpToMove() {
    var panel = document.getElementById("move-panel");
    if (!panel) return;
    panel.scrollIntoView({ block: "start" });
    var target = (yourMovePanel() && firstField(panel)) || panel.querySelector("#move-title");
    if (target) target.focus({ preventScroll: true });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-jump]");
    if (!link) return;
    event.preventDefault();
    jumpToMove();
  });

  // "Your move" outside the page: the tab's title and icon, and a notification if asked for.
  var baseTitle = document.title;
  var wasYourMove = null;
  var YOUR_MOVE_TITLE = "\u25cf Your move \u2014 Imago"; // the panel's data-your-move-title first
  function yourMoveTitle(panel) {
    return textOf(panel, "data-your-move-title", YOUR_MOVE_TITLE);
  }
  function updateYourMove(fromPush) {
    if (!document.getElementById("move-panel")) return; // not a partner's dialogue page
    var panel = yourMovePanel();
    document.title = panel ? yourMoveTitle(panel) : baseTitle;
    var icon = document.querySelector("link[rel=icon][data-your-move]");
    if (icon) {
      if (!icon.hasAttribute("data-plain")) icon.setAttribute("data-plain", icon.getAttribute("href"));
      icon.setAttribute("href", icon.getAttribute(panel ? "data-your-move" : "data-plain"));
    }
    if (panel && wasYourMove === false && fromPush) notifyYourMove(panel);
    wasYourMove = !!panel;
  }

  var NOTIFY = "imago-notify";
  function notifyWanted() {
    try { return localStorage.getItem(NOTIFY) === "on"; } catch (e) { return false; }
  }
  function notifyRemember(on) {
    try { localStorage.setItem(NOTIFY, on ? "on" : "off"); } catch (e) { /* storage off */ }
  }
  function notifyState() {
    if (!("Notification" in window)) return "";
    if (!notifyWanted()) return "off";
    if (Notification.permission === "granted") return "on";
    if (Notification.permission === "denied") return "blocked";
    return "off";
  }
  function updateNotifyOffer(focusIt) {
    var state = notifyState();
    document.querySelectorAll("[data-notify]").forEach(function (box) {
      box.hidden = !state;
      box.querySelectorAll("[data-notify-when]").forEach(function (line) {
        line.hidden = line.getAttribute("data-notify-when") !== state;
        if (focusIt && !line.hidden) {
          var target = line.querySelector("button");
          if (!target) { line.setAttribute("tabindex", "-1"); target = line; }
          target.focus();
        }
      });
    });
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-notify-stop]")) {
      notifyRemember(false);
      updateNotifyOffer(true);
      return;
    }
    if (!event.target.closest("[data-notify-ask]") || !("Notification" in window)) return;
    var settle = function (permission) {
      if (permission !== "default") notifyRemember(true); // granted, or blocked: say which
      updateNotifyOffer(true);
    };
    if (Notification.permission !== "default") { settle(Notification.permission); return; }
    var asked = Notification.requestPermission(); // only ever here, on this click
    if (asked && asked.then) asked.then(settle);
  });
  function notifyYourMove(panel) {
    if (notifyState() !== "on" || !document.hidden) return;
    var step = panel.getAttribute("data-your-move");
    var body = step ? fill(textOf(panel, "data-your-move-body", "It's your move: {step}."), { step: step }) : "";
    try {
      // Never what anyone wrote: a notification can show on a locked screen.
      var note = new Notification(yourMoveTitle(panel), { body: body, tag: "imago-your-move", lang: pageLanguage() || "" });
      note.onclick = function () { window.focus(); jumpToMove(); note.close(); };
    } catch (e) { /* some browsers only notify from a service worker */ }
  }

  // On a phone the conversation so far folds to its latest steps, so the form is near.
  var LATEST = 4;
  var unfolded = false;
  function updateFold() {
    var list = document.getElementById("transcript");
    var toggle = document.querySelector("[data-fold]");
    if (!list || !toggle) return;
    var earlier = list.children.length - LATEST;
    if (earlier <= 0) { toggle.hidden = true; list.removeAttribute("data-folded"); return; }
    toggle.hidden = false;
    toggle.setAttribute("aria-expanded", String(unfolded));
    if (unfolded) {
      list.removeAttribute("data-folded");
      toggle.textContent = textOf(toggle, "data-latest", "Show only the latest steps");
    } else {
      list.setAttribute("data-folded", "");
      // Both forms come from the page (data-one, data-many with {n}); Spanish has the same two.
      toggle.textContent = earlier === 1
        ? fill(textOf(toggle, "data-one", "Show 1 earlier step"), { n: earlier })
        : fill(textOf(toggle, "data-many", "Show the {n} earlier steps"), { n: earlier });
    }
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-fold]")) return;
    unfolded = !unfolded;
    updateFold();
  });

  document.addEventListener("DOMContentLoaded", function () {
    openRestoredCorrections();
    updateYourMove(false);
    updateNotifyOffer();
    updateFold();
  });

  // htmx: keep 422 responses (a clear message about bad input) and swap them in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // --- the installable app: its service worker, and the last-known home for offline ---------
  // The worker keeps only public files (templates/sw.js). What the offline page shows of the
  // home page is a few plain lines marked data-offline-keep (never a topic or a word anyone
  // wrote), kept on this device under the person's id and forgotten at log-out.
  var HOME = "imago-home";
  function forgetPush() {
    // The server drops this device's subscription at log-out; the browser forgets it too.
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration && registration.pushManager.getSubscription();
    }).then(function (subscription) { return subscription && subscription.unsubscribe(); })
      .catch(function () { /* nothing to forget */ });
  }
  function forgetHome() {
    try { localStorage.removeItem(HOME); } catch (e) { /* storage off */ }
  }
  (function registerWorker() {
    var link = document.querySelector("link[data-service-worker]");
    if (!link || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(link.getAttribute("data-service-worker"), { scope: "/" })
      .catch(function () { /* no worker: the site works as before */ });
  })();
  document.addEventListener("DOMContentLoaded", function () {
    var owner = draftOwner();
    var kept = document.querySelectorAll("[data-offline-keep]");
    if (owner && kept.length) {
      var lines = Array.prototype.map.call(kept, function (el) { return el.textContent.replace(/\s+/g, " ").trim(); })
        .filter(function (line) { return line; }).slice(0, 6);
      try { localStorage.setItem(HOME, JSON.stringify({ owner: owner, at: Date.now(), lines: lines })); } catch (e) { /* storage off */ }
    } else if (owner) {
      try {
        var stored = JSON.parse(localStorage.getItem(HOME) || "null");
        if (stored && stored.owner !== owner) forgetHome(); // someone else signed in here
      } catch (e) { forgetHome(); }
    }
    var box = document.getElementById("last-home");
    if (!box) return;
    var home = null;
    try { home = JSON.parse(localStorage.getItem(HOME) || "null"); } catch (e) { home = null; }
    if (!home || !Array.isArray(home.lines) || !home.lines.length) return;
    var list = document.getElementById("last-home-lines");
    home.lines.forEach(function (line) {
      if (typeof line !== "string") return;
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    var when = document.getElementById("last-home-when");
    var stamp = new Date(home.at);
    if (!isNaN(stamp)) {
      when.textContent = fill(textOf(when, "data-template", "As of {when}"), {
        when: stamp.toLocaleString(pageLanguage() || undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" }),
      });
    }
    box.hidden = false;
  });
  // --- Web Push: turning notifications on for this device (settings), and off -------------
  // The browser's permission is asked only on the "Turn on" click, never before.
  function pushBox() { return document.querySelector("[data-push][data-vapid-key]"); }
  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }
  function keyBytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function pushShow(box, state, message) {
    box.querySelectorAll("[data-push-when]").forEach(function (line) {
      line.hidden = line.getAttribute("data-push-when") !== state;
    });
    var status = box.querySelector("[data-push-status]");
    if (status && message !== undefined) status.textContent = message;
  }
  function pushPost(box, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var problem = new Error(data.error || ""); problem.fromServer = true; throw problem; }
        return data;
      });
    });
  }
  function pushRefresh() {
    var box = pushBox();
    if (!box) return;
    if (!pushSupported()) { pushShow(box, "unsupported"); return; }
    if (Notification.permission === "denied") { pushShow(box, "blocked"); return; }
    navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      // "On" only if this login turned it on: a subscription left from someone who logged
      // out here no longer receives anything (the server dropped it at their log-out).
      var here = box.hasAttribute("data-push-here");
      pushShow(box, subscription && here && Notification.permission === "granted" ? "on" : "off");
    }).catch(function () { pushShow(box, "off"); });
  }
  document.addEventListener("DOMContentLoaded", pushRefresh);
  // After the server's key was rotated, a device that already had notifications (permission
  // given, a subscription) makes a new subscription with the new key: no prompt, no new wish.
  document.addEventListener("DOMContentLoaded", function () {
    var link = document.querySelector("link[data-push-key]");
    if (!link || !pushSupported() || Notification.permission !== "granted") return;
    var key = link.getAttribute("data-push-key");
    navigator.serviceWorker.getRegistration("/").then(function (registration) {
      if (!registration) return null;
      return registration.pushManager.getSubscription().then(function (subscription) {
        var had = subscription && subscription.options && subscription.options.applicationServerKey;
        if (!had) return null;
        var old = new Uint8Array(had), now = keyBytes(key);
        if (old.length === now.length && old.every(function (b, i) { return b === now[i]; })) return null;
        return subscription.unsubscribe().then(function () {
          return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: now });
        }).then(function (fresh) {
          return pushPost(link, link.getAttribute("data-push-url"), fresh.toJSON());
        });
      });
    }).catch(function () { /* they can turn it on again in Settings */ });
  });
  document.addEventListener("click", function (event) {
    var box = pushBox();
    if (!box) return;
    var status = box.querySelector("[data-push-status]");
    var failed = function (error) {
      // Our server's message is in the page's language; the browser's own is not.
      pushShow(box, Notification.permission === "denied" ? "blocked" : "off",
        (error && error.fromServer && error.message) || textOf(status, "data-failed", "That didn't work. Please try again."));
    };
    if (event.target.closest("[data-push-on]")) {
      var button = event.target.closest("[data-push-on]");
      button.disabled = true;
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") throw new Error("");
        return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
          return navigator.serviceWorker.ready;
        });
      }).then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(box.getAttribute("data-vapid-key")),
        });
      }).then(function (subscription) {
        return pushPost(box, box.getAttribute("data-on-url"), subscription.toJSON());
      }).then(function () {
        pushShow(box, "on", textOf(status, "data-done-on", "Notifications are on for this device."));
      }).catch(failed).then(function () { button.disabled = false; });
    } else if (event.target.closest("[data-push-off]")) {
      navigator.serviceWorker.getRegistration("/").then(function (registration) {
        return registration ? registration.pushManager.getSubscription() : null;
      }).then(function (subscription) {
        if (!subscription) return null;
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(function () {
          return pushPost(box, box.getAttribute("data-off-url"), { endpoint: endpoint });
        });
      }).then(function () {
        pushShow(box, "off", textOf(status, "data-done-off", "Notifications are off for this device."));
      }).catch(failed);
    }
  });
})();
