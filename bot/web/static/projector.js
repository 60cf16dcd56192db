// The projector page's only script: poll the screen's state each second, swap in the screen the server rendered
// when it changed, and run the countdown between polls. All text comes from the server (escaped there).
"use strict";
(() => {
  const POLL_MS = 1000;
  const body = document.body;
  const screen = document.getElementById("screen");
  const status = document.getElementById("status");
  let key = body.dataset.key || "";
  let deadline = null; // performance.now() when the open question's time runs out

  function armTimer(remaining) {
    const timer = document.getElementById("timer");
    if (!timer) {
      deadline = null;
      return;
    }
    const seconds = remaining === undefined || remaining === null ? parseFloat(timer.dataset.remaining) : remaining;
    deadline = performance.now() + seconds * 1000;
    tick();
  }

  function tick() {
    const timer = document.getElementById("timer");
    if (!timer || deadline === null) return;
    const left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    timer.textContent = String(left);
    timer.classList.toggle("low", left <= 5);
  }

  function ended() {
    const line = document.createElement("p");
    line.className = "ended";
    line.textContent = body.dataset.ended;
    screen.replaceChildren(line);
    status.hidden = true;
    deadline = null;
  }

  async function poll() {
    try {
      const reply = await fetch("state?key=" + encodeURIComponent(key), { cache: "no-store" });
      if (reply.status === 404) {
        ended();
        return; // the link has stopped working: stop asking
      }
      if (reply.ok) {
        const state = await reply.json();
        status.hidden = true;
        if (state.html !== undefined) {
          key = state.key;
          screen.innerHTML = state.html;
        }
        armTimer(state.remaining);
      } else {
        status.textContent = body.dataset.reconnecting;
        status.hidden = false;
      }
    } catch (error) {
      status.textContent = body.dataset.reconnecting;
      status.hidden = false;
    }
    setTimeout(poll, POLL_MS);
  }

  armTimer();
  setInterval(tick, 250);
  setTimeout(poll, POLL_MS);
})();
