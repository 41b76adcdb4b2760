// Ticks the running first-response clocks between page loads. The server's time is the
// reference (a replayed day runs on a simulated clock), so only the elapsed browser time is added.
"use strict";
(function () {
  const loaded = Date.now();
  function fmt(s) {
    s = Math.abs(Math.trunc(s));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return Math.floor(s / 86400) + "d " + Math.floor(s % 86400 / 3600) + "h";
  }
  function tick() {
    const elapsed = (Date.now() - loaded) / 1000;
    document.querySelectorAll(".sla[data-deadline]").forEach(function (el) {
      const left = Number(el.dataset.deadline) - Number(el.dataset.now) - elapsed;
      el.textContent = left >= 0 ? fmt(left) + " left" : "overdue " + fmt(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("left", left >= 0);
    });
  }
  setInterval(tick, 1000);
})();
