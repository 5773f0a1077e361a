/* The print button of a printable notice (a static file: the pages allow no inline script). */
(function () {
  "use strict";
  var button = document.getElementById("print-notice");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
