/* Case pages: map pick and geolocation, small case maps, bulk-dispatch select-all.
   Runs on page load and again on every piece htmx swaps in. */
(function () {
  "use strict";

  function addTiles(map, el) {
    var url = el.dataset.tiles;
    if (url) {
      L.tileLayer(url, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
  }

  function num(value) {
    var n = parseFloat(value);
    return isNaN(n) ? null : n;
  }

  function baseMap(el, zoom) {
    var map = L.map(el, { scrollWheelZoom: false }).setView(
      [num(el.dataset.lat) || 0, num(el.dataset.lon) || 0], zoom
    );
    addTiles(map, el);
    el._chengguanMap = map;
    return map;
  }

  var LIGHT_COLOURS = { green: "#2e9e44", yellow: "#e0a800", red: "#d63031", none: "#6b7785", "": "#0b5cad" };

  function pickMap(el) {
    var latInput = document.getElementById(el.dataset.latInput);
    var lonInput = document.getElementById(el.dataset.lonInput);
    var map = baseMap(el, 13);
    var marker = null;
    function place(lat, lon, pan) {
      if (marker) { marker.setLatLng([lat, lon]); } else {
        marker = L.circleMarker([lat, lon], { radius: 9, color: "#d63031", weight: 3 }).addTo(map);
      }
      if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 16)); }
    }
    map.on("click", function (e) {
      latInput.value = e.latlng.lat.toFixed(6);
      lonInput.value = e.latlng.lng.toFixed(6);
      place(e.latlng.lat, e.latlng.lng, false);
    });
    function fromInputs() {
      var lat = num(latInput.value), lon = num(lonInput.value);
      if (lat !== null && lon !== null) { place(lat, lon, true); }
    }
    latInput.addEventListener("change", fromInputs);
    lonInput.addEventListener("change", fromInputs);
    el._chengguanPlace = place;
    fromInputs();
  }

  function pointsMap(el) {
    var holder = document.getElementById(el.dataset.points);
    var points = holder ? JSON.parse(holder.textContent) : [];
    var map = baseMap(el, num(el.dataset.zoom) || 12);
    var bounds = [];
    points.forEach(function (p) {
      var colour = LIGHT_COLOURS[p.light] || LIGHT_COLOURS[""];
      var marker = L.circleMarker([p.lat, p.lon], { radius: 7, color: colour, fillColor: colour, fillOpacity: 0.8 });
      marker.bindTooltip(p.title);
      marker.on("click", function () { window.location.href = "/cases/" + encodeURIComponent(p.code) + "/"; });
      marker.addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 }); }
    else if (bounds.length === 1) { map.setView(bounds[0], num(el.dataset.zoom) || 15); }
  }

  function locateButton(button) {
    button.addEventListener("click", function () {
      var status = button.parentElement.querySelector("[data-locate-status]");
      var latInput = document.getElementById(button.dataset.latInput);
      var lonInput = document.getElementById(button.dataset.lonInput);
      if (!navigator.geolocation) {
        if (status) { status.textContent = "此浏览器不支持定位，请在地图上点选。"; }
        return;
      }
      if (status) { status.textContent = "正在定位…"; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        latInput.value = pos.coords.latitude.toFixed(6);
        lonInput.value = pos.coords.longitude.toFixed(6);
        latInput.dispatchEvent(new Event("change"));
        if (status) { status.textContent = "已定位（精度约 " + Math.round(pos.coords.accuracy) + " 米）"; }
      }, function () {
        if (status) { status.textContent = "无法定位，请在地图上点选位置。"; }
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function checkAll(box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name=pick]").forEach(function (b) { b.checked = box.checked; });
    });
  }

  function init(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (window.L) {
      root.querySelectorAll("[data-map=pick]").forEach(function (el) { if (!el._chengguanMap) { pickMap(el); } });
      root.querySelectorAll("[data-map=points]").forEach(function (el) { if (!el._chengguanMap) { pointsMap(el); } });
    }
    root.querySelectorAll("[data-locate]").forEach(function (b) {
      if (!b._chengguanBound) { b._chengguanBound = true; locateButton(b); }
    });
    root.querySelectorAll("[data-check-all]").forEach(function (b) {
      if (!b._chengguanBound) { b._chengguanBound = true; checkAll(b); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
