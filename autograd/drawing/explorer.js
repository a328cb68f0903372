/* chainrule's explorer: steps through a pass of a computational graph drawn as inline SVG.
   Written for chainrule; no library, no network. The page's data (captions, text changes per
   frame, gradient breakdowns) is computed by chainrule in Python; this script only shows it.
   Every explorer root on the page ([data-chainrule-explorer]) is set up once. */
(function () {
  "use strict";

  var CONTROLS =
    '<button type="button" data-action="first" aria-label="first step">|&#9664;</button>' +
    '<button type="button" data-action="previous" aria-label="previous step">&#9664;</button>' +
    '<button type="button" data-action="play" aria-label="play">&#9654; play</button>' +
    '<button type="button" data-action="next" aria-label="next step">&#9654;</button>' +
    '<button type="button" data-action="last" aria-label="last step">&#9654;|</button>' +
    '<input type="range" min="0" value="0" aria-label="step">';

  function setUp(root) {
    if (root.getAttribute("data-ready")) { return; }
    root.setAttribute("data-ready", "1");
    var data = JSON.parse(root.querySelector("script.cr-data").textContent);
    var stage = root.querySelector(".cr-stage");
    var template = stage.querySelector("script.cr-svg");
    if (template) { stage.innerHTML = template.textContent; }
    var svg = stage.querySelector("svg");
    var elements = {};
    Array.prototype.forEach.call(svg.querySelectorAll("[data-node]"), function (g) {
      elements[g.getAttribute("data-node")] = g;
    });
    var edges = svg.querySelectorAll("[data-to]");
    var caption = root.querySelector(".cr-caption");
    var info = root.querySelector(".cr-info");
    var last = data.captions.length - 1;
    var controls = document.createElement("div");  // only where this script runs
    controls.className = "cr-controls";
    controls.innerHTML = CONTROLS;
    root.insertBefore(controls, caption);
    var slider = controls.querySelector("input[type=range]");
    slider.max = String(last);
    info.textContent = data.hint;
    var playButton = root.querySelector("[data-action=play]");
    var shown = -1;
    var selected = null;
    var timer = null;

    function setText(name, which, text) {
      var g = elements[name];
      var element = g && g.querySelector(".cr-" + which);
      if (element) { element.textContent = which + " " + text; }
    }

    function reset() {
      Object.keys(data.texts).forEach(function (name) {
        setText(name, "data", data.texts[name][0]);
        setText(name, "grad", data.texts[name][1]);
      });
    }

    function highlight(names) {
      Array.prototype.forEach.call(svg.querySelectorAll(".cr-current"), function (element) {
        element.classList.remove("cr-current");
      });
      names.forEach(function (name) {
        if (elements[name]) { elements[name].classList.add("cr-current"); }
      });
      var gate = names[0];
      if (gate && (gate.charAt(0) === "o" || gate.charAt(0) === "s")) {
        Array.prototype.forEach.call(edges, function (edge) {
          if (edge.getAttribute("data-to") === gate || edge.getAttribute("data-from") === gate) {
            edge.classList.add("cr-current");
          }
        });
      }
    }

    function explainValue(name) {
      var uses = data.uses[name] || [];
      var label = elements[name].getAttribute("data-label") || "this value";
      if (!uses.length) {
        info.textContent = "grad of " + label + " = " + data.grads[name] +
          (data.mode === "backward" ? ": the output's own gradient, the seed of the backward pass" :
            ": it is the output");
        return;
      }
      var parts = uses.map(function (use) {
        var waiting = data.mode === "backward" && use[0] > shown;
        return "(" + use[1] + (waiting ? ", still to come at step " + use[0] : "") + ")";
      });
      info.textContent = "grad of " + label + " = sum over its " + uses.length +
        (uses.length === 1 ? " use" : " uses") + " of upstream × local: " + parts.join(" + ") +
        " = " + data.grads[name];
    }

    function show(step) {
      step = Math.max(0, Math.min(last, step));
      if (step < shown || shown < 0) { reset(); shown = 0; }
      for (var k = shown + 1; k <= step; k++) {
        data.changes[k].forEach(function (change) { setText(change[0], change[1], change[2]); });
      }
      shown = step;
      highlight(data.current[step]);
      caption.textContent = data.captions[step];
      slider.value = String(step);
      root.setAttribute("data-step", String(step));
      if (selected) { explainValue(selected); }
      if (step === last) { pause(); }
    }

    function pause() {
      if (timer !== null) { clearInterval(timer); timer = null; }
      playButton.setAttribute("aria-label", "play");
      playButton.textContent = "\u25B6 play";
    }

    function play() {
      if (timer !== null) { pause(); return; }
      if (shown === last) { show(0); }
      playButton.setAttribute("aria-label", "pause");
      playButton.textContent = "\u275A\u275A pause";
      timer = setInterval(function () { show(shown + 1); }, 1200);
    }

    var actions = {
      first: function () { show(0); }, last: function () { show(last); },
      previous: function () { show(shown - 1); }, next: function () { show(shown + 1); },
      play: play
    };
    Array.prototype.forEach.call(root.querySelectorAll("button[data-action]"), function (button) {
      button.addEventListener("click", function () { actions[button.getAttribute("data-action")](); });
    });
    slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
    var keys = { ArrowLeft: "previous", ArrowRight: "next", Home: "first", End: "last", " ": "play" };
    root.addEventListener("keydown", function (event) {
      var action = keys[event.key];
      if (!action || (event.target === slider && action !== "play")) { return; }
      if (event.target.tagName === "BUTTON" && event.key === " ") { return; }
      event.preventDefault();
      actions[action]();
    });
    Object.keys(elements).forEach(function (name) {
      var g = elements[name];
      if (data.texts[name]) {
        g.classList.add("cr-clickable");
        g.addEventListener("click", function () { selected = name; explainValue(name); });
      } else if (data.hovers[name]) {
        g.addEventListener("mouseenter", function () { info.textContent = data.hovers[name]; });
        g.addEventListener("mouseleave", function () {
          if (selected) { explainValue(selected); }
        });
      }
    });
    show(0);
    return root;
  }

  var roots = document.querySelectorAll("[data-chainrule-explorer]");
  Array.prototype.forEach.call(roots, setUp);
  if (document.body && document.body.hasAttribute("data-chainrule-page") && roots.length) {
    roots[0].focus();
  }
})();
