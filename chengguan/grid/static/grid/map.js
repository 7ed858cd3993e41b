// The grid map: one GeoJSON layer per grid level, loaded for the visible area only, so a
// district of 50,000 unit grids stays responsive. Works without tiles (plain background).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("grid-config").textContent);
  const mapEl = document.getElementById("grid-map");
  const panel = document.getElementById("grid-panel");
  const hint = document.getElementById("grid-hint");
  // Canvas keeps 3,000 polygons fast, and it reads "interactive" at event time (see styleFor).
  const map = L.map(mapEl, { preferCanvas: true, zoomSnap: 0.5, maxZoom: 19 });
  if (config.tiles.url) {
    L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: 19 }).addTo(map);
  }
  const e = config.extent;
  if (e) map.fitBounds([[e[1], e[0]], [e[3], e[2]]]);
  else map.setView([0, 0], 2);

  const STYLES = {
    1: { color: "#b00020", weight: 3 },
    2: { color: "#0b5cad", weight: 2 },
    3: { color: "#2e7d32", weight: 1.2 },
    4: { color: "#6b7785", weight: 0.6 },
  };
  // Coarser levels are drawn on top (their borders stay visible) but without fill and not
  // interactive, so hovering or clicking inside a cell reaches the finest level shown.
  let finest = 4;
  function styleFor(level) {
    const top = level === finest;
    return Object.assign({}, STYLES[level], { fill: top, fillOpacity: top ? 0.06 : 0, interactive: top });
  }
  const LABELS = {};
  document.querySelectorAll("input[data-level]").forEach((box) => {
    LABELS[box.dataset.level] = box.parentElement.textContent.replace(/（.*$/, "").trim();
  });
  const layers = {};
  const requests = {};
  let selected = null;

  function openCell(id) {
    if (!panel) return;
    fetch(config.panel_url.replace("/0/", "/" + id + "/"), { headers: { "X-Requested-With": "fetch" } })
      .then((r) => { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then((html) => { panel.innerHTML = html; })
      .catch(() => { panel.textContent = config.messages.failed; });
  }
  if (panel) {
    panel.addEventListener("click", (event) => {
      const link = event.target.closest("[data-open-cell]");
      if (link) { event.preventDefault(); openCell(link.dataset.openCell); }
    });
  }

  [1, 2, 3, 4].forEach((level) => {
    layers[level] = L.geoJSON(null, {
      style: () => styleFor(level),
      onEachFeature: (feature, layer) => {
        const p = feature.properties;
        layer.bindTooltip(p.name + "（" + p.code + "）", { sticky: true });
        layer.on("click", () => {
          if (selected) selected.setStyle(styleFor(selected.feature.properties.level));
          selected = layer;
          layer.setStyle({ color: "#ff6f00", weight: 3 });
          openCell(p.id);
        });
      },
    });
  });

  function shown() {
    return Array.from(document.querySelectorAll("input[data-level]:checked")).map((b) => Number(b.value));
  }

  function load(level) {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    const url = config.cells_url + "?level=" + level + "&bbox=" + bbox + "&layer=" + config.layer;
    if (requests[level]) requests[level].abort();
    const controller = new AbortController();
    requests[level] = controller;
    return fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } })
      .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then((data) => {
        layers[level].clearLayers();
        if (data.too_many) return LABELS[level];
        layers[level].addData(data);
        if (!map.hasLayer(layers[level])) layers[level].addTo(map);
        return null;
      })
      .catch((err) => { if (err.name !== "AbortError") return config.messages.failed; return null; });
  }

  function refresh() {
    const levels = shown();
    finest = levels.length ? Math.max(...levels) : 4;
    levels.forEach((level) => layers[level].setStyle(() => styleFor(level)));
    [1, 2, 3, 4].forEach((level) => {
      if (!levels.includes(level) && map.hasLayer(layers[level])) map.removeLayer(layers[level]);
    });
    Promise.all(levels.map(load)).then((results) => {
      const crowded = results.filter((r) => r && r !== config.messages.failed);
      const failed = results.includes(config.messages.failed);
      if (hint) {
        hint.textContent = failed ? config.messages.failed
          : crowded.length ? config.messages.too_many.replace("%(level)s", crowded.join("、")) : "";
      }
      levels.sort((a, b) => b - a).forEach((level) => { if (map.hasLayer(layers[level])) layers[level].bringToFront(); });
      mapEl.dataset.loaded = String(Date.now());
    });
  }

  // The component inventory: points, only where few enough are in view.
  const componentsBox = document.querySelector("input[data-components]");
  const components = L.geoJSON(null, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {
      radius: 4, color: f.properties.broken ? "#d50000" : "#6a1b9a", weight: 1, fillOpacity: 0.8,
    }),
    onEachFeature: (f, layer) => layer.bindTooltip(
      f.properties.name + " " + f.properties.code + "（" + f.properties.state + "）"),
  });
  function loadComponents() {
    if (!componentsBox) return;
    if (!componentsBox.checked) { map.removeLayer(components); return; }
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    fetch(config.components_url + "?bbox=" + bbox, { headers: { Accept: "application/json" } })
      .then((r) => r.json())
      .then((data) => {
        components.clearLayers();
        if (data.too_many) { if (hint) hint.textContent = config.messages.too_many.replace("%(level)s", "部件"); return; }
        components.addData(data);
        components.addTo(map);
        components.bringToFront();
      })
      .catch(() => { if (hint) hint.textContent = config.messages.failed; });
  }
  if (componentsBox) componentsBox.addEventListener("change", loadComponents);
  map.on("moveend", loadComponents);

  let timer = null;
  map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(refresh, 150); });
  document.querySelectorAll("input[data-level]").forEach((box) => box.addEventListener("change", refresh));

  // The report page: the problems in red above the grid; a click on the list zooms there.
  if (config.issues) {
    const issues = L.geoJSON(config.issues, {
      style: (f) => ({ color: f.properties.severity === "error" ? "#d50000" : "#ff8f00", weight: 3, fillOpacity: 0.5 }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 8 }),
      onEachFeature: (f, layer) => layer.bindPopup(f.properties.message),
    }).addTo(map);
    const byNumber = {};
    issues.eachLayer((layer) => { byNumber[layer.feature.properties.n] = layer; });
    document.querySelectorAll("[data-issue]").forEach((link) => link.addEventListener("click", (event) => {
      event.preventDefault();
      const layer = byNumber[link.dataset.issue];
      if (!layer) return;
      if (layer.getBounds) map.fitBounds(layer.getBounds().pad(3), { maxZoom: 19 });
      else map.setView(layer.getLatLng(), 18);
      layer.openPopup();
    }));
  }
  refresh();
})();
