// Filter as you type: an input with data-filter="ID" hides the children
// of #ID (table rows, list items) whose data-search lacks a word typed.
// Without this script the Search button asks the server instead.
(function () {
  "use strict";
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var body = document.getElementById(input.getAttribute("data-filter"));
    var count = document.getElementById("registry-count");
    if (!body) return;
    var rows = Array.prototype.slice.call(body.children);
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
