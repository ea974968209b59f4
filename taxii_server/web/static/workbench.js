/* atlas-taxii workbench: the page behaviour that needs JavaScript.
 * Graphs: a <div class="graph" data-graph="ID"> is drawn with cytoscape.js from the
 * JSON in <script type="application/json" id="ID"> (data, never code).  Clicking a
 * node shows its detail in the element named by data-detail; rows with
 * data-node select that node.  Everything shown is set with textContent, never HTML.
 */
(function () {
  "use strict";

  var KIND_COLOURS = {
    "actor": "#c2410c",
    "service": "#1d4ed8",
    "data-point": "#64748b",
    "victim": "#0f766e",
    "course-of-action": "#15803d",
    "object": "#475569"
  };

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    el.textContent = content;
    return el;
  }

  function showDetail(target, data) {
    if (!target) { return; }
    target.replaceChildren();
    target.appendChild(text("h3", data.label || data.id));
    var list = document.createElement("dl");
    list.className = "nested";
    (data.facts || []).forEach(function (fact) {
      list.appendChild(text("dt", fact[0]));
      list.appendChild(text("dd", fact[1]));
    });
    target.appendChild(list);
    if (data.href) {
      var link = text("a", "Open the object", "btn");
      link.setAttribute("href", data.href);
      var p = document.createElement("p");
      p.appendChild(link);
      target.appendChild(p);
    }
  }

  // A force-directed layout up to a few hundred nodes; beyond, rings by kind
  // (actors inside, then services, then data points), which stays fast.
  var RING = { "actor": 3, "service": 2, "data-point": 1 };
  function layoutFor(nodes) {
    if (nodes <= 250) {
      return {
        name: "cose", animate: false, randomize: true, padding: 30,
        nodeRepulsion: function () { return 400000; }, nodeOverlap: 40,
        idealEdgeLength: function () { return 110; }, componentSpacing: 120,
        gravity: 0.6, numIter: 2500
      };
    }
    return {
      name: "concentric", animate: false, minNodeSpacing: 6,
      concentric: function (n) { return RING[n.data("kind")] || 0; },
      levelWidth: function () { return 1; }
    };
  }

  function drawGraph(container) {
    var source = document.getElementById(container.getAttribute("data-graph"));
    if (!source || typeof cytoscape === "undefined") { return; }
    var graph = JSON.parse(source.textContent);
    var detail = document.getElementById(container.getAttribute("data-detail"));
    var cy = cytoscape({
      container: container,
      elements: graph.elements,
      wheelSensitivity: 0.3,
      minZoom: 0.05,
      maxZoom: 4,
      style: [
        { selector: "node", style: {
          "label": "data(short)", "font-size": 12, "color": "#1c2430",
          "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 2,
          "text-valign": "bottom", "text-margin-y": 4, "text-wrap": "ellipsis", "text-max-width": 120,
          "width": "mapData(size, 0, 10, 14, 46)", "height": "mapData(size, 0, 10, 14, 46)",
          "background-color": function (n) { return KIND_COLOURS[n.data("kind")] || "#475569"; },
          "border-width": 1, "border-color": "#ffffff"
        } },
        { selector: "node.choke", style: { "border-width": 4, "border-color": "#dc2626" } },
        { selector: ".hidden", style: { "display": "none" } },
        { selector: "node:selected", style: { "border-width": 4, "border-color": "#facc15" } },
        { selector: "edge", style: {
          "width": 1.2, "line-color": "#b6c2d1", "curve-style": "bezier",
          "target-arrow-shape": "triangle", "target-arrow-color": "#b6c2d1", "arrow-scale": 0.8
        } }
      ],
      layout: { name: "preset" }
    });
    // A large map starts with its actors, services and choke-point candidates; the
    // other data points are one click away.
    var quiet = cy.nodes("[kind = 'data-point'][!choke]");
    var toggle = document.querySelector("[data-toggle-points='" + container.id + "']");
    function layout() {
      var shown = cy.elements().not(".hidden");
      shown.layout(layoutFor(shown.nodes().length)).run();
      cy.fit(shown, 30);
    }
    if (cy.nodes().length > 150 && quiet.nonempty()) {
      quiet.addClass("hidden");
      if (toggle) {
        toggle.hidden = false;
        toggle.querySelector("span").textContent = String(quiet.length);
        toggle.querySelector("input").addEventListener("change", function (event) {
          quiet.toggleClass("hidden", !event.target.checked);
          layout();
        });
      }
    }
    layout();
    container.setAttribute("data-nodes", String(cy.nodes().length));
    cy.on("tap", "node", function (event) {
      cy.nodes().unselect();
      event.target.select();
      showDetail(detail, event.target.data());
      document.querySelectorAll("tr[data-node]").forEach(function (row) {
        row.classList.toggle("is-selected", row.getAttribute("data-node") === event.target.id());
      });
    });
    document.querySelectorAll("tr[data-node]").forEach(function (row) {
      row.addEventListener("click", function () {
        var node = cy.getElementById(row.getAttribute("data-node"));
        if (node.nonempty()) {
          cy.nodes().unselect();
          node.select();
          cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1.2) }, { duration: 250 });
          showDetail(detail, node.data());
        }
      });
    });
    var fit = document.querySelector("[data-fit='" + container.id + "']");
    if (fit) { fit.addEventListener("click", function () { cy.fit(undefined, 30); }); }
    window.atlasGraphs = window.atlasGraphs || {};
    window.atlasGraphs[container.id] = cy;
  }

  function init() {
    document.querySelectorAll("div.graph[data-graph]").forEach(drawGraph);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
