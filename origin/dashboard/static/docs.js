// The /docs page: Swagger UI over the origin's generated /openapi.json (no inline script: strict CSP).
'use strict';
(function () {
  const root = document.getElementById('swagger-ui');
  window.ui = window.SwaggerUIBundle({ url: root.dataset.url, domNode: root, deepLinking: true });
}());
