// Starts Swagger UI on /docs. A file of its own, not an inline script, so that the page's
// Content-Security-Policy (script-src 'self') holds; settings come from the page's data-*.
"use strict";
(function () {
  const element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    persistAuthorization: element.dataset.persistAuthorization === "true",
    // No call to validator.swagger.io: the page loads nothing from outside the platform.
    validatorUrl: null,
  });
})();
