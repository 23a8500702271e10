// Renders /api/v1/openapi.json with the vendored Redoc (no inline script, so /docs can
// be served with a strict Content-Security-Policy).
(function () {
  "use strict";
  var element = document.getElementById("reference");
  Redoc.init(
    element.getAttribute("data-spec-url"),
    { hideDownloadButton: false, expandResponses: "200,201,202", jsonSampleExpandLevel: 3 },
    element
  );
})();
