// Live self-check status on the instructor's suite page: poll each queued or running check's
// status every two seconds; once one ends, reload so the server renders its report (escaped).
(function () {
  "use strict";
  var FINAL = { passed: true, failed: true, unchecked: true };

  function watch(box) {
    var url = box.getAttribute("data-url");
    var shown = box.getAttribute("data-status");

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (data.status !== shown) {
            var badge = box.querySelector(".badge");
            if (badge) {
              badge.textContent = data.status;
              badge.className = "badge badge-" + data.status;
            }
            shown = data.status;
          }
          if (FINAL[data.status] || !data.in_flight) {
            window.location.reload();
          } else {
            window.setTimeout(poll, 2000);
          }
        })
        .catch(function () { window.setTimeout(poll, 5000); });  // server busy: slow down
    }

    window.setTimeout(poll, 2000);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".selfcheck-status[data-url]"), watch);
})();
