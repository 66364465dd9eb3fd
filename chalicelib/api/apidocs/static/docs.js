// Swagger UI over every family's OpenAPI document, listed by docs/openapi (paths are
// relative to the page, so the page works under an API Gateway stage prefix too).
'use strict';
(async function () {
  const index = await (await fetch('docs/openapi', { headers: { Accept: 'application/json' } })).json();
  const urls = index.documents.map((d) => ({ url: d.url, name: `${d.title} (${d.operations} operations)` }));
  const wanted = new URLSearchParams(window.location.search).get('family');
  const first = index.documents.find((d) => d.family === wanted) || index.documents[0];
  window.ui = SwaggerUIBundle({
    urls,
    'urls.primaryName': first ? urls[index.documents.indexOf(first)].name : undefined,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
    withCredentials: true,
  });
  window.ui.initOAuth({ usePkceWithAuthorizationCodeGrant: true });
})();
