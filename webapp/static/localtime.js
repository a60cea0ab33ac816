// Deadlines in the reader's own time zone: every <time class="local-time" datetime="…Z"> the
// server rendered in UTC is rewritten into local time; with data-relative it also says how far
// away it is, "(in 2 days 3 hours)" or "(closed 5 minutes ago)" (data-past gives the verb).
// The UTC text stays as the tooltip, and stays as the text when JavaScript is off.
(function () {
  "use strict";
  var UNITS = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60]
  ];

  function words(seconds) {
    var parts = [];
    for (var i = 0; i < UNITS.length && parts.length < 2; i++) {
      var n = Math.floor(seconds / UNITS[i][1]);
      if (n > 0) {
        parts.push(n + " " + UNITS[i][0] + (n === 1 ? "" : "s"));
        seconds -= n * UNITS[i][1];
      } else if (parts.length) {
        break;  // "2 days 3 hours", never "2 days 0 hours 5 minutes"
      }
    }
    return parts.length ? parts.join(" ") : "less than a minute";
  }

  function relative(moment, past) {
    var seconds = Math.round((moment.getTime() - Date.now()) / 1000);
    if (seconds >= 0) { return "(in " + words(seconds) + ")"; }
    return "(" + (past ? past + " " : "") + words(-seconds) + " ago)";
  }

  function rewrite(node) {
    var moment = new Date(node.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    var local = new Intl.DateTimeFormat(undefined, {
      weekday: "short", year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    }).format(moment);
    if (!node.title) { node.title = node.textContent; }
    node.textContent = node.hasAttribute("data-relative")
      ? local + " " + relative(moment, node.getAttribute("data-past"))
      : local;
  }

  function all() {
    var nodes = document.querySelectorAll("time.local-time[datetime]");
    for (var i = 0; i < nodes.length; i++) { rewrite(nodes[i]); }
  }

  all();
  window.setInterval(all, 60000);  // keep "in 5 minutes" true while the page stays open
})();
