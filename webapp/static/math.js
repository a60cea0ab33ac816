// Typeset a handout's math with the vendored KaTeX. webapp/markdown.py emits the TeX source as
// text in <span class="math"> ($...$, inline) and <div class="math"> ($$...$$, display).
// katex.render builds DOM nodes and sets their styles through the CSSOM, which the page's CSP
// (no inline style) allows; renderToString + innerHTML would not be.
(function () {
  "use strict";
  if (typeof katex === "undefined") { return; }
  var nodes = document.querySelectorAll(".handout span.math, .handout div.math");
  for (var i = 0; i < nodes.length; i++) {
    var node = nodes[i];
    var tex = node.textContent.trim();
    try {
      katex.render(tex, node, {
        displayMode: node.tagName === "DIV",
        throwOnError: true, // KaTeX's own error span sets a style attribute, which the CSP blocks
        trust: false        // no \href, \url, \includegraphics, \htmlClass from authors
      });
    } catch (err) {
      node.textContent = tex; // a TeX mistake leaves its source, marked, and the rest renders
      node.classList.add("math-error");
      node.title = String(err && err.message || err);
    }
  }
  // A display equation wider than the page scrolls inside its box (style.css); a box that
  // scrolls must be reachable by keyboard, so it takes focus, named for screen readers.
  function focusableIfScrolling() {
    var boxes = document.querySelectorAll(".handout div.math");
    for (var j = 0; j < boxes.length; j++) {
      var box = boxes[j];
      if (box.scrollWidth > box.clientWidth) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", "Equation (scrolls sideways)");
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }
  focusableIfScrolling();
  window.addEventListener("resize", focusableIfScrolling);
})();
