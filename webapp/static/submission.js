// Live status for a submission page: poll the JSON API every second while the latest run is
// queued or running; once it ends, reload so the server renders the result (escaped).
(function () {
  "use strict";
  var box = document.getElementById("live-status");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var shown = box.getAttribute("data-status");
  var FINAL = { graded: true, failed: true };

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

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        showQueue(data.queue);
        if (data.status !== shown) {
          show(data.status);
          shown = data.status;
        }
        if (FINAL[data.status]) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });  // server busy: slow down
  }

  window.setTimeout(poll, 1000);
})();
