// Starts the vendored Swagger UI on the OpenAPI document named by data-openapi-url.
(function () {
  "use strict";
  const element = document.getElementById("swagger-ui");
  SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    domNode: element,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis],
    validatorUrl: null,
  });
})();
