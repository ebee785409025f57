// Filter-as-you-type over a table: an input with data-filter="ID" hides the
// rows of tbody#ID whose data-search does not contain what is typed.
// Without this script the Search button asks the server instead.
(function () {
  "use strict";
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var body = document.getElementById(input.getAttribute("data-filter"));
    var count = document.getElementById("registry-count");
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.getAttribute("data-search") || "";
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        row.hidden = !match;
        if (match) shown += 1;
      });
      if (count) count.textContent = words.length ? shown + " of " + rows.length + " shown" : "";
    }
    input.addEventListener("input", apply);
    apply();
  });
})();
