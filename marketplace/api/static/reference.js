// Draws the API reference from the OpenAPI document (a file, not an inline script: the site's policy forbids those).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
