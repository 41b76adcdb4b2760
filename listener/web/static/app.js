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

// Keyboard: j/k next/previous mention, c claim, r responded, e escalate, u no response needed,
// x close, n note, / text filter.
(function () {
  const buttons = { c: "button.claim", r: "button.respond", e: "button.escalate",
                    u: "button.no_response", x: "button.close" };
  function items() { return Array.from(document.querySelectorAll("li.mention")); }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    const all = items();
    const at = all.indexOf(document.activeElement);
    if (ev.key === "j" || ev.key === "k") {
      const next = all[Math.min(all.length - 1, Math.max(0, at + (ev.key === "j" ? 1 : -1)))];
      if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
    } else if (buttons[ev.key] && at >= 0) {
      const button = all[at].querySelector(buttons[ev.key]);
      if (button) button.click();
    } else if (ev.key === "n" && at >= 0) {
      all[at].querySelector("input[name=note]").focus();
    } else if (ev.key === "/") {
      const q = document.querySelector("input[name=q]");
      if (q) q.focus();
    } else {
      return;
    }
    ev.preventDefault();
  });
})();
