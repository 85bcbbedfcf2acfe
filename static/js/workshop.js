// Workshop pages: the segment's timer counts down from its end time (data-until, ISO) in
// whole minutes and seconds; the server's time is what counts, this only shows it.
(function () {
  "use strict";
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-until]").forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-until"));
      if (isNaN(until)) return;
      var left = Math.max(0, Math.round((until - now) / 1000));
      var text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      var shown = el.querySelector("[data-left]");
      if (!shown) {
        shown = document.createElement("span");
        shown.setAttribute("data-left", "");
        shown.className = "timer-left";
        el.appendChild(document.createTextNode(" · "));
        el.appendChild(shown);
      }
      shown.textContent = text;
      el.classList.toggle("timer-over", left === 0);
    });
  }
  // A card whose practice has had no step for a while moves up the board (CSS order) and
  // says so, by the clock here: nothing needs to arrive from the server for that.
  function stuck() {
    var now = Date.now();
    document.querySelectorAll("[data-last-step]").forEach(function (card) {
      var since = Date.parse(card.getAttribute("data-last-step"));
      var after = 1000 * Number(card.getAttribute("data-stuck-after") || 240);
      if (isNaN(since)) return;
      var late = now - since > after;
      card.classList.toggle("stuck", late);
      var note = card.querySelector("[data-stuck-note]");
      if (note) note.hidden = !late;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    stuck();
    setInterval(stuck, 5000);
    setInterval(tick, 1000);
  });
})();
