// Live status for a submission page: poll the JSON API every second while the latest run is
// queued or running; once it ends, reload so the server renders the result (escaped).
// While running it counts the seconds since the run started ("running for 42 s"): the count
// is aria-hidden, and a polite live region says it only every ANNOUNCE_EVERY seconds. It also
// shows the case the run is in now, as the worker last reported it.
(function () {
  "use strict";
  var box = document.getElementById("live-status");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var shown = box.getAttribute("data-status");
  var FINAL = { graded: true, failed: true };
  var ANNOUNCE_EVERY = 30;
  var elapsed = document.getElementById("elapsed");
  var announce = document.getElementById("elapsed-announce");
  var startedAt = null;  // this browser's clock when the run had run 0 s
  var timer = null;

  function startClock(secondsSoFar) {
    if (!elapsed || startedAt !== null) { return; }
    startedAt = Date.now() - secondsSoFar * 1000;
    elapsed.hidden = false;
    tick();
  }

  function tick() {
    if (startedAt === null) { return; }
    var seconds = Math.floor((Date.now() - startedAt) / 1000);
    elapsed.textContent = "for " + seconds + " s";
    if (announce && seconds > 0 && seconds % ANNOUNCE_EVERY === 0) {
      announce.textContent = "Still running after " + seconds + " seconds.";
    }
    timer = window.setTimeout(tick, 1000 - ((Date.now() - startedAt) % 1000));
  }

  function stopClock() {
    window.clearTimeout(timer);
    startedAt = null;
    if (elapsed) { elapsed.hidden = true; }
  }

  function show(status) {
    var badge = box.querySelector(".badge");
    if (badge) {
      badge.textContent = status;
      badge.className = "badge badge-" + status;
    }
  }

  function showQueue(queue) {
    var line = document.getElementById("queue-status");
    if (line && queue) {
      line.textContent = queue.text;
      line.className = queue.note ? "queue-waiting" : "";
    } else if (line) {
      line.textContent = "taken by a grading worker";
      line.className = "";
    }
  }

  // "now in case 3 of 22: conv_forward" while running (text only: never HTML from the API)
  function showCase(running) {
    var line = document.getElementById("running-case");
    if (!line) { return; }
    line.textContent = "";
    line.hidden = !running;
    if (!running) { return; }
    line.appendChild(document.createTextNode(
      "now in case " + running.number + " of " + running.of + ": "));
    var code = document.createElement("code");
    code.textContent = running.name;
    line.appendChild(code);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        showQueue(data.queue);
        showCase(data.status === "running" ? data.running_case : null);
        if (data.status !== shown) {
          show(data.status);
          shown = data.status;
        }
        if (data.status === "running") { startClock(0); } else { stopClock(); }
        if (FINAL[data.status]) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });  // server busy: slow down
  }

  if (elapsed && elapsed.hasAttribute("data-seconds")) {
    startClock(parseInt(elapsed.getAttribute("data-seconds"), 10) || 0);
  }
  window.setTimeout(poll, 1000);
})();
