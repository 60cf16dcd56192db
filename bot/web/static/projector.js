// The projector page's only script: poll the screen's state each second, swap in the screen the server rendered
// when it changed, and run the countdown between polls. All text comes from the server (escaped there).
"use strict";
(() => {
  const POLL_MS = 1000;
  const TIMEOUT_MS = 5000;
  const MIN_SCALE = 0.5;
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

  // Make the screen fit the window: a long question with four long options, its explanation and source can be
  // taller than a 720-pixel projector, and nobody scrolls a projector. Shrink the type in small steps (every size
  // on the page is in rem) until the page fits, but no smaller than MIN_SCALE of the design size.
  function fit() {
    const root = document.documentElement;
    root.style.fontSize = "";
    const design = parseFloat(getComputedStyle(root).fontSize);
    let scale = 1;
    while (root.scrollHeight > window.innerHeight && scale > MIN_SCALE) {
      scale -= 0.04;
      root.style.fontSize = design * scale + "px";
    }
  }

  function ended() {
    const line = document.createElement("p");
    line.className = "ended";
    line.textContent = body.dataset.ended;
    screen.replaceChildren(line);
    fit();
    status.hidden = true;
    deadline = null;
  }

  function trouble() {
    status.textContent = body.dataset.reconnecting;
    status.hidden = false;
  }

  async function poll() {
    let wait = POLL_MS;
    try {
      // A stalled network (Wi-Fi up, packets lost) would hang a fetch for minutes: give up after a few seconds.
      const reply = await fetch("state?key=" + encodeURIComponent(key), {
        cache: "no-store",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
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
          fit();
        }
        armTimer(state.remaining);
      } else {
        // 429 (too many requests) or 503 (the database is down): wait as long as the server asks.
        const asked = parseFloat(reply.headers.get("Retry-After") || "");
        wait = Number.isFinite(asked) ? Math.max(POLL_MS, asked * 1000) : POLL_MS * 2;
        trouble();
      }
    } catch (error) {
      wait = POLL_MS * 2;
      trouble();
    }
    setTimeout(poll, wait);
  }

  fit();
  window.addEventListener("resize", fit);
  armTimer();
  setInterval(tick, 250);
  setTimeout(poll, POLL_MS);
})();
