/* Starts Swagger UI on the page /api/v1/docs (a static file: the pages allow no inline script). */
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({ url: container.getAttribute("data-spec-url"), dom_id: "#swagger-ui-container" });
})();
