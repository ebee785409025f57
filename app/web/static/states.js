// Pick a State by name as you type (the review queue): every input with
// data-state-search asks /api/states for the States whose names - in any
// language the registry knows - start with what was typed, and offers them
// in the shared <datalist id="state-options"> as "France (FRA)". Without
// this script the server reads a typed name or code all the same.
(function () {
  "use strict";
  var list = document.getElementById("state-options");
  if (!list) return;
  var timer = null;
  var asked = "";

  function show(states, typed) {
    if (typed !== asked) return; // a later keystroke has asked again
    while (list.firstChild) list.removeChild(list.firstChild);
    states.forEach(function (state) {
      var option = document.createElement("option");
      option.value = state.label;
      // Say which name matched when it is not the English one: "Alemania".
      option.textContent = state.matched && state.matched !== state.name ? state.matched + " - " + state.label : state.label;
      list.appendChild(option);
    });
  }

  function ask(typed) {
    asked = typed;
    if (typed.trim().length < 2) { show([], typed); return; }
    fetch("/api/states?q=" + encodeURIComponent(typed), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (states) { show(states, typed); })
      .catch(function () { show([], typed); });
  }

  document.querySelectorAll("input[data-state-search]").forEach(function (input) {
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var typed = input.value;
      timer = window.setTimeout(function () { ask(typed); }, 150);
    });
  });
})();
