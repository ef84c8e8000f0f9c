// Optional autocomplete for search boxes: fills their <datalist> from /search JSON. Pages work without it.
(function () {
  "use strict";
  var list = document.getElementById("search-suggestions");
  if (!list || !window.fetch) { return; }
  var timer = null;
  function suggest(input) {
    var q = input.value.trim();
    if (q.length < 2) { return; }
    fetch("/search?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        list.textContent = "";
        data.results.slice(0, 8).forEach(function (hit) {
          var option = document.createElement("option");
          option.value = hit.label;  // textContent/value only: labels are data, never HTML
          list.appendChild(option);
        });
      })
      .catch(function () { /* suggestions are a nicety; the form still submits */ });
  }
  document.querySelectorAll("input[list=search-suggestions]").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { suggest(input); }, 200);
    });
  });
}());
