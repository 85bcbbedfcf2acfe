// A call beside the dialogue (templates/dialogues/_call.html): peer to peer, a full mesh of at
// most three, signalled over the page's own socket (dialogues/calls.py). The camera and the
// microphone are asked for only when the person clicks to join; leaving keeps the dialogue.
(function () {
  "use strict";
  var box = null;
  var socket = null;
  var state = {
    you: null, // this page's peer id while it is in the call
    media: "video",
    config: null, // RTCPeerConnection configuration (ICE servers) given when joining
    stream: null, // this person's camera and microphone
    peers: {}, // peer id -> { name, role, media }
    links: {}, // peer id -> { pc, tile, pending: [candidates] }
    joining: false,
    waiting: false, // in a booked session's waiting room, until the therapist lets us in
    open: true,
  };

  function text(name, fallback) {
    return (box && box.getAttribute(name)) || fallback;
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }
  function q(selector) {
    return box ? box.querySelector(selector) : null;
  }
  function send(frame) {
    if (!socket) return false;
    frame.type = "call";
    socket.send(JSON.stringify(frame));
    return true;
  }
  function showError(message) {
    var el = q("[data-call-error]");
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }

  // --- what the page shows -------------------------------------------------------------
  function label(peer) {
    var name = peer.role === "facilitator" ? fill(text("data-therapist", "{name} (therapist)"), { name: peer.name }) : peer.name;
    return peer.media === "audio" ? fill(text("data-audio-only", "{name}, audio only"), { name: name }) : name;
  }
  function renderWho() {
    var names = Object.keys(state.peers).map(function (id) { return label(state.peers[id]); });
    if (state.you) names.unshift(text("data-you", "you"));
    var who = q("[data-call-who]");
    if (who) {
      who.textContent = names.length ? fill(text("data-who", "In the call: {names}"), { names: names.join(", ") }) : text("data-nobody", "No one is in the call.");
    }
    var inCall = !!state.you || state.waiting;
    box.setAttribute("data-joined", state.you ? "yes" : state.waiting ? "waiting" : "no");
    box.querySelectorAll("[data-call-join]").forEach(function (b) { b.hidden = inCall; b.disabled = state.joining || !state.open; });
    q("[data-call-leave]").hidden = !inCall;
    q("[data-call-mute]").hidden = !inCall;
    q("[data-call-camera]").hidden = !inCall || state.media !== "video";
    q("[data-call-devices]").hidden = !inCall;
  }
  function tile(id, name, muted) {
    var videos = q("[data-call-videos]");
    var figure = document.createElement("figure");
    figure.className = "call-tile" + (muted ? " mine" : "");
    figure.setAttribute("data-peer", id);
    var video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = !!muted; // never hear yourself
    var caption = document.createElement("figcaption");
    caption.textContent = name;
    figure.appendChild(video);
    figure.appendChild(caption);
    videos.appendChild(figure);
    return figure;
  }

  // --- the peer connections ------------------------------------------------------------
  function link(id) {
    var existing = state.links[id];
    if (existing) return existing;
    var pc = new RTCPeerConnection(state.config || {});
    var entry = { pc: pc, tile: tile(id, label(state.peers[id] || { name: "", role: "", media: "video" }), false), pending: [] };
    state.links[id] = entry;
    state.stream.getTracks().forEach(function (track) { pc.addTrack(track, state.stream); });
    pc.onicecandidate = function (event) {
      send({ call: "ice", to: id, candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    pc.ontrack = function (event) {
      var video = entry.tile.querySelector("video");
      if (video.srcObject !== event.streams[0]) video.srcObject = event.streams[0];
    };
    pc.onconnectionstatechange = function () {
      entry.tile.setAttribute("data-state", pc.connectionState);
    };
    return entry;
  }
  function unlink(id) {
    var entry = state.links[id];
    if (!entry) return;
    delete state.links[id];
    entry.pc.close();
    entry.tile.remove();
  }
  function flush(entry) {
    var pending = entry.pending;
    entry.pending = [];
    pending.forEach(function (c) { entry.pc.addIceCandidate(c).catch(function () {}); });
  }
  function offer(id) {
    var entry = link(id);
    // Audio only (or no camera) still receives the others' video: without a video line in
    // the offer, the answer could carry none.
    ["audio", "video"].forEach(function (kind) {
      var has = entry.pc.getTransceivers().some(function (t) {
        return t.receiver.track && t.receiver.track.kind === kind;
      });
      if (!has) entry.pc.addTransceiver(kind, { direction: "recvonly" });
    });
    entry.pc.createOffer().then(function (description) {
      return entry.pc.setLocalDescription(description);
    }).then(function () {
      send({ call: "offer", to: id, sdp: entry.pc.localDescription.sdp });
    }).catch(function () {});
  }
  function answer(id, sdp) {
    if (!state.you || !state.stream) return; // not (or no longer) in the call
    var entry = link(id);
    entry.pc.setRemoteDescription({ type: "offer", sdp: sdp }).then(function () {
      flush(entry);
      return entry.pc.createAnswer();
    }).then(function (description) {
      return entry.pc.setLocalDescription(description);
    }).then(function () {
      send({ call: "answer", to: id, sdp: entry.pc.localDescription.sdp });
    }).catch(function () {});
  }

  function showWaiting(message) {
    var el = q("[data-call-waiting]");
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }
  function markWaiting(slot, name, fallback, admitted) {
    var room = document.getElementById("waiting-room");
    var row = room && room.querySelector('[data-waiting-slot="' + slot + '"]');
    if (!row) return;
    row.setAttribute("data-waiting", admitted ? "admitted" : "yes");
    var label = row.querySelector("[data-waiting-state]");
    if (label) label.textContent = room.getAttribute(name) || fallback;
    if (admitted) row.querySelectorAll("form").forEach(function (f) { f.remove(); });
  }

  function hangUp() {
    state.waiting = false;
    showWaiting("");
    Object.keys(state.links).forEach(unlink);
    if (state.stream) state.stream.getTracks().forEach(function (track) { track.stop(); });
    state.stream = null;
    state.you = null;
    var mine = q(".call-tile.mine");
    if (mine) mine.remove();
  }

  // --- frames from the socket ----------------------------------------------------------
  function onRoster(frame) {
    state.open = frame.open !== false;
    var wasIn = !!state.you;
    state.you = frame.you || null;
    if (wasIn && !state.you) hangUp();
    state.peers = {};
    (frame.peers || []).forEach(function (p) { state.peers[p.peer] = p; });
    if (state.you && state.stream) {
      Object.keys(state.links).forEach(function (id) { if (!state.peers[id]) unlink(id); });
      Object.keys(state.peers).forEach(function (id) {
        if (state.links[id]) return;
        if (state.you < id) offer(id); // the smaller id offers: never both at once
      });
    }
    state.joining = false;
    renderWho();
  }
  function onFrame(frame) {
    var kind = frame.call;
    if (kind === "roster") onRoster(frame);
    else if (kind === "ice-config") state.config = frame.config;
    else if (kind === "offer") answer(frame.from, frame.sdp);
    else if (kind === "answer") {
      var entry = state.links[frame.from];
      if (entry) entry.pc.setRemoteDescription({ type: "answer", sdp: frame.sdp }).then(function () { flush(entry); }).catch(function () {});
    } else if (kind === "ice") {
      var e = state.links[frame.from];
      if (!e || !frame.candidate) return;
      if (e.pc.remoteDescription) e.pc.addIceCandidate(frame.candidate).catch(function () {});
      else e.pending.push(frame.candidate);
    } else if (kind === "refused" && frame.reason === "waiting") {
      state.joining = false; // the camera stays on for the person to see themselves, as on
      state.waiting = true; // the clinical platforms' waiting rooms
      showWaiting(frame.message);
      renderWho();
    } else if (kind === "refused") {
      showError(frame.message);
      if (!state.you) { state.joining = false; hangUp(); renderWho(); }
    } else if (kind === "admitted" && frame.slot) { // a console: that partner was let in
      markWaiting(frame.slot, "data-admitted-text", "let into the call", true);
    } else if (kind === "admitted") { // this page was let in: join as it asked to
      state.waiting = false;
      showWaiting("");
      if (state.stream) send({ call: "join", media: frame.media || state.media });
    } else if (kind === "waiting" && frame.arrived) { // a console: on the page, not let in
      markWaiting(frame.slot, "data-arrived-text", "waiting to be let in", false);
    } else if (kind === "waiting") {
      markWaiting(frame.slot, "data-waiting-text", "waiting to join the call", false);
    } else if (kind === "ended") {
      hangUp();
      showError(frame.message);
      renderWho();
    }
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    if (box) box.setAttribute("data-socket", "open");
  });
  document.addEventListener("htmx:wsClose", function () {
    socket = null;
    if (!box) return;
    box.setAttribute("data-socket", "closed");
    if (state.you || state.stream) {
      hangUp();
      showError(text("data-lost", "The call ended: this page lost its connection. Join again once it is back."));
    }
    state.peers = {};
    state.joining = false;
    renderWho();
  });
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var message = event.detail.message;
    if (typeof message !== "string" || message.charAt(0) !== "{") return; // the page's HTML
    event.preventDefault(); // a call frame, never swapped into the page
    var frame;
    try { frame = JSON.parse(message); } catch (err) { return; }
    if (box && frame && typeof frame.call === "string") onFrame(frame);
  });

  // --- the person's clicks -------------------------------------------------------------
  function constraints(media) {
    var mic = q("#call-mic");
    var cam = q("#call-camera");
    return {
      audio: mic && mic.value ? { deviceId: { exact: mic.value } } : true,
      video: media === "video" ? (cam && cam.value ? { deviceId: { exact: cam.value } } : { width: { ideal: 640 }, height: { ideal: 360 } }) : false,
    };
  }
  function listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      [["#call-mic", "audioinput"], ["#call-camera", "videoinput"]].forEach(function (pair) {
        var select = q(pair[0]);
        if (!select) return;
        var current = currentDevice(pair[1]);
        select.textContent = "";
        devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
          var option = document.createElement("option");
          option.value = d.deviceId;
          option.textContent = d.label || fill(text(pair[1] === "audioinput" ? "data-mic-n" : "data-camera-n", "Device {n}"), { n: i + 1 });
          if (d.deviceId === current) option.selected = true;
          select.appendChild(option);
        });
        select.closest("[data-device-row]").hidden = !select.options.length || (pair[1] === "videoinput" && state.media !== "video");
      });
    }).catch(function () {});
  }
  function currentDevice(kind) {
    if (!state.stream) return "";
    var track = (kind === "audioinput" ? state.stream.getAudioTracks() : state.stream.getVideoTracks())[0];
    var settings = track && track.getSettings ? track.getSettings() : {};
    return settings.deviceId || "";
  }
  function join(media) {
    showError("");
    if (!socket) { showError(text("data-no-socket", "The page is not connected yet. Please wait a moment.")); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.RTCPeerConnection) {
      showError(text("data-unsupported", "This browser can't make calls. You can still take part in the dialogue."));
      return;
    }
    state.joining = true;
    state.media = media;
    renderWho();
    navigator.mediaDevices.getUserMedia(constraints(media)).then(function (stream) {
      state.stream = stream;
      var mine = tile("me", text("data-you-tile", "You"), true);
      mine.querySelector("video").srcObject = stream;
      if (!send({ call: "join", media: media })) { hangUp(); state.joining = false; renderWho(); }
      setPressed(q("[data-call-mute]"), false);
      setPressed(q("[data-call-camera]"), false);
      listDevices();
    }).catch(function (err) {
      state.joining = false;
      renderWho();
      var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
      showError(denied ? text("data-denied", "Your browser did not allow the camera or microphone. You can still take part in the dialogue.") : text("data-no-device", "No camera or microphone could be used. Try audio only, or take part in the dialogue without the call."));
    });
  }
  function leave() {
    send({ call: "leave" });
    hangUp();
    renderWho();
  }
  function setPressed(button, pressed) {
    if (button) button.setAttribute("aria-pressed", pressed ? "true" : "false"); // its name stays
  }
  function toggle(button, tracks) {
    var off = button.getAttribute("aria-pressed") !== "true";
    tracks.forEach(function (t) { t.enabled = !off; });
    setPressed(button, off);
  }
  function switchDevice(kind, deviceId) {
    if (!state.stream || !deviceId) return;
    var wanted = kind === "audioinput" ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } };
    navigator.mediaDevices.getUserMedia(wanted).then(function (fresh) {
      var track = fresh.getTracks()[0];
      var old = kind === "audioinput" ? state.stream.getAudioTracks()[0] : state.stream.getVideoTracks()[0];
      if (old) { track.enabled = old.enabled; state.stream.removeTrack(old); old.stop(); }
      state.stream.addTrack(track);
      Object.keys(state.links).forEach(function (id) {
        state.links[id].pc.getSenders().forEach(function (sender) {
          if (sender.track && sender.track.kind === track.kind) sender.replaceTrack(track);
        });
      });
      var mine = q(".call-tile.mine video");
      if (mine) mine.srcObject = state.stream;
    }).catch(function () {
      showError(text("data-no-device", "That device could not be used."));
    });
  }

  function init() {
    box = document.querySelector("[data-call]");
    if (!box) return;
    box.hidden = false;
    box.addEventListener("click", function (event) {
      var target = event.target.closest("button");
      if (!target || !box.contains(target)) return;
      if (target.hasAttribute("data-call-join")) join(target.getAttribute("data-call-join"));
      else if (target.hasAttribute("data-call-leave")) leave();
      else if (target.hasAttribute("data-call-mute") && state.stream) toggle(target, state.stream.getAudioTracks());
      else if (target.hasAttribute("data-call-camera") && state.stream) toggle(target, state.stream.getVideoTracks());
    });
    box.addEventListener("change", function (event) {
      var kind = event.target.getAttribute("data-call-device");
      if (kind) switchDevice(kind, event.target.value);
    });
    window.addEventListener("pagehide", function () { if (state.you) leave(); });
    renderWho();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  // For the browser tests and the curious: the connections this page holds (never the media).
  window.imagoCall = {
    connections: function () { return Object.keys(state.links).map(function (id) { return state.links[id].pc; }); },
    you: function () { return state.you; },
  };
})();
