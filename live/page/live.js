// smartcity live view: draws the network from /api/network and follows /events (Server-Sent Events).
// No third-party code. Text from the wire is only ever set with textContent or setAttribute.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const W = 1000;
const PAD = 24;
// GTFS-Realtime OccupancyStatus, in order; colours from a diverging palette, each drawn with a dark outline.
const OCCUPANCY = [
  ["EMPTY", "Empty", "#1a9850"],
  ["MANY_SEATS_AVAILABLE", "Many seats", "#66bd63"],
  ["FEW_SEATS_AVAILABLE", "Few seats", "#d9ef8b"],
  ["STANDING_ROOM_ONLY", "Standing room only", "#fdae61"],
  ["CRUSHED_STANDING_ROOM_ONLY", "Crushed standing", "#f46d43"],
  ["FULL", "Full", "#d73027"],
  ["NOT_ACCEPTING_PASSENGERS", "Not accepting", "#a50026"],
  ["NO_DATA_AVAILABLE", "No data", "#cbd2d9"],
];
const CROWDED = new Set(["STANDING_ROOM_ONLY", "CRUSHED_STANDING_ROOM_ONLY", "FULL", "NOT_ACCEPTING_PASSENGERS"]);
// US AQI categories and their standard colours (EPA Technical Assistance Document, Tables 1 and 2).
const AQI = [
  ["Good", "#00E400", 50], ["Moderate", "#FFFF00", 100], ["Unhealthy for Sensitive Groups", "#FF7E00", 150],
  ["Unhealthy", "#FF0000", 200], ["Very Unhealthy", "#8F3F97", 300], ["Hazardous", "#7E0023", 500],
];
const SEVERITY_ORDER = { CRITICAL: 0, WARNING: 1, INFO: 2 };
const RECENT_MS = 10 * 60 * 1000;  // a bus counts as on the map with a position this recent
const STALE_MS = 3 * 3600 * 1000;  // a sensor silent this long is drawn faded: its AQI is that old

const state = { vehicles: new Map(), sensors: new Map(), alerts: new Map(), fleet: null, route: "", dataTime: 0,
  timezone: undefined };
let project = null;
const markers = { vehicle: new Map(), sensor: new Map() };
const $ = (id) => document.getElementById(id);

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function projection(bounds) {
  const [minLat, minLon, maxLat, maxLon] = bounds;
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const spanX = Math.max((maxLon - minLon) * k, 1e-6), spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = (W - 2 * PAD) / spanX;
  const height = Math.round(spanY * scale + 2 * PAD);
  return { height, xy: (lat, lon) => [PAD + (lon - minLon) * k * scale, PAD + (maxLat - lat) * scale] };
}

function occupancyColour(name) {
  const found = OCCUPANCY.find((o) => o[0] === name);
  return found ? found[2] : "#cbd2d9";
}

function aqiColour(category) {
  const found = AQI.find((a) => a[0] === category);
  return found ? found[1] : "#cbd2d9";
}

function drawNetwork(net) {
  $("city-name").textContent = net.name || "network";
  state.timezone = net.timezone || undefined;
  project = projection(net.bounds);
  $("map").setAttribute("viewBox", `0 0 ${W} ${project.height}`);
  const routes = $("layer-routes"), stops = $("layer-stops"), sensors = $("layer-sensors");
  const select = $("route-filter");
  for (const route of net.routes) {
    for (const path of route.paths) {
      const points = path.map(([lat, lon]) => project.xy(lat, lon).map((v) => v.toFixed(1)).join(",")).join(" ");
      el("polyline", { points, class: "route", "data-route": route.id }, routes);
    }
    const option = document.createElement("option");
    option.value = route.id;
    option.textContent = `${route.short_name || route.id} · ${route.long_name || ""}`;
    select.appendChild(option);
  }
  for (const stop of net.stops) {
    const [x, y] = project.xy(stop.lat, stop.lon);
    const dot = el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: stop.station ? 4.5 : 2.5,
      class: stop.station ? "stop station" : "stop" }, stops);
    el("title", {}, dot).textContent = stop.name;
  }
  for (const sensor of net.sensors) {
    const [x, y] = project.xy(sensor.lat, sensor.lon);
    const square = el("rect", { x: (x - 7).toFixed(1), y: (y - 7).toFixed(1), width: 14, height: 14,
      class: "sensor", fill: "#cbd2d9", "data-sensor": sensor.id }, sensors);
    el("title", {}, square).textContent = `${sensor.name}: no reading yet`;
    markers.sensor.set(sensor.id, square);
  }
}

function drawLegends() {
  const occ = $("legend-occupancy"), aqi = $("legend-aqi");
  for (const [, label, colour] of OCCUPANCY) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch round";
    sw.style.background = colour;
    li.append(sw, label);
    occ.appendChild(li);
  }
  for (const [name, colour, hi] of AQI) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = colour;
    li.append(sw, `${name} (≤${hi})`);
    aqi.appendChild(li);
  }
}

function drawVehicle(v) {
  if (!project || v.lat == null || v.lon == null) return;
  let marker = markers.vehicle.get(v.id);
  if (!marker) {
    marker = el("circle", { r: 7, cx: 0, cy: 0, class: "vehicle", "data-vehicle": v.id }, $("layer-vehicles"));
    el("title", {}, marker);
    markers.vehicle.set(v.id, marker);
  }
  const [x, y] = project.xy(v.lat, v.lon);
  marker.style.transform = `translate(${x.toFixed(1)}px, ${y.toFixed(1)}px)`;
  marker.setAttribute("data-x", x.toFixed(1));
  marker.setAttribute("data-y", y.toFixed(1));
  marker.setAttribute("fill", occupancyColour(v.occupancy));
  marker.setAttribute("data-occupancy", v.occupancy || "");
  marker.setAttribute("data-route", v.route_id || "");
  marker.classList.toggle("dim", Boolean(state.route) && v.route_id !== state.route);
  marker.firstChild.textContent =
    `Bus ${v.id} · route ${v.route_id} · ${v.passengers}/${v.capacity} passengers · ${v.occupancy}`;
}

function drawSensor(s) {
  let marker = markers.sensor.get(s.id);
  if (!marker) {
    if (!project || s.lat == null) return;
    const [x, y] = project.xy(s.lat, s.lon);
    marker = el("rect", { x: (x - 7).toFixed(1), y: (y - 7).toFixed(1), width: 14, height: 14, class: "sensor",
      "data-sensor": s.id }, $("layer-sensors"));
    el("title", {}, marker);
    markers.sensor.set(s.id, marker);
  }
  marker.setAttribute("fill", aqiColour(s.category));
  marker.setAttribute("data-category", s.category || "");
  const stale = state.dataTime - s.t > STALE_MS;
  marker.classList.toggle("stale", stale);
  marker.firstChild.textContent = s.aqi == null ? `Sensor ${s.id}: no NowCast yet`
    : `Sensor ${s.id}: AQI ${s.aqi} (${s.category}, ${s.aqi_pollutant === "pm10" ? "PM10" : "PM2.5"} NowCast)`;
}

function timeText(ms) {
  return ms ? new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit",
    timeZone: state.timezone }) : "–";
}

function drawAlerts() {
  const list = $("alerts");
  const open = [...state.alerts.values()].sort((a, b) =>
    (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || b.t - a.t);
  const keep = new Set(open.map((a) => a.id));
  for (const li of [...list.children]) if (!keep.has(li.dataset.alert)) li.remove();
  const existing = new Map([...list.children].map((li) => [li.dataset.alert, li]));
  open.forEach((alert, index) => {
    let li = existing.get(alert.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.alert = alert.id;
      const button = document.createElement("button");
      button.type = "button";
      for (const cls of ["sev", "what", "when"]) {
        const span = document.createElement("span");
        span.className = cls;
        button.appendChild(span);
      }
      button.addEventListener("click", () => pick(li.dataset.subjectType, li.dataset.subject));
      li.appendChild(button);
    }
    li.className = alert.severity;
    li.dataset.subject = alert.subject_id;
    li.dataset.subjectType = alert.subject_type;
    const [sev, what, when] = li.firstChild.children;
    sev.textContent = `${alert.severity} · ${String(alert.kind).replaceAll("_", " ").toLowerCase()}`;
    what.textContent = alert.message || `${alert.subject_type} ${alert.subject_id}`;
    when.textContent = `since ${timeText(alert.start_ms)} · ${alert.subject_type} ${alert.subject_id}`;
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
  $("alerts-empty").hidden = open.length > 0;
}

function pick(type, id) {
  for (const m of document.querySelectorAll("#map .picked")) m.classList.remove("picked");
  const marker = (type === "sensor" ? markers.sensor : markers.vehicle).get(id);
  if (marker) marker.classList.add("picked");
}

function drawFigures() {
  const vehicles = [...state.vehicles.values()];
  const recent = vehicles.filter((v) => v.lat != null && state.dataTime - v.t < RECENT_MS);
  $("fig-buses").textContent = recent.length;
  $("fig-crowded").textContent = recent.filter((v) => CROWDED.has(v.occupancy)).length;
  const fleet = state.fleet;
  $("fig-mean").textContent = fleet ? fleet.passengers_mean.toFixed(1) : "–";
  $("fig-window").textContent = fleet ? `window to ${timeText(fleet.window_end_ms)}, ${fleet.buses} buses`
    : "latest fleet window";
  const worst = [...state.sensors.values()].filter((s) => s.aqi != null).sort((a, b) => b.aqi - a.aqi)[0];
  $("fig-aqi").textContent = worst ? worst.aqi : "–";
  $("fig-aqi-note").textContent = worst ? `${worst.category} at ${worst.id}` : "NowCast AQI";
  const alerts = [...state.alerts.values()];
  $("fig-alerts").textContent = alerts.length;
  $("fig-alerts-note").textContent = `${alerts.filter((a) => a.severity === "CRITICAL").length} critical`;
  $("data-time").textContent = timeText(state.dataTime);
}

function apply(update, replace) {
  if (replace) {
    state.vehicles.clear(); state.sensors.clear(); state.alerts.clear();
  }
  for (const v of update.vehicles || []) { state.vehicles.set(v.id, v); state.dataTime = Math.max(state.dataTime, v.t); }
  for (const s of update.sensors || []) { state.sensors.set(s.id, s); state.dataTime = Math.max(state.dataTime, s.t); }
  for (const a of update.alerts || []) state.alerts.set(a.id, a);
  for (const id of update.closed || []) state.alerts.delete(id);
  for (const f of update.fleet || []) state.fleet = f;
  if (replace) {
    for (const [id, marker] of markers.vehicle) if (!state.vehicles.has(id)) { marker.remove(); markers.vehicle.delete(id); }
    for (const v of state.vehicles.values()) drawVehicle(v);
    for (const s of state.sensors.values()) drawSensor(s);
  } else {
    for (const v of update.vehicles || []) drawVehicle(v);
    for (const s of update.sensors || []) drawSensor(s);
  }
  if (replace || (update.alerts || []).length || (update.closed || []).length) drawAlerts();
  drawFigures();
}

function filterRoute(route) {
  state.route = route;
  for (const line of document.querySelectorAll("#map .route")) {
    line.classList.toggle("dim", Boolean(route) && line.dataset.route !== route);
    line.classList.toggle("picked", Boolean(route) && line.dataset.route === route);
  }
  for (const v of state.vehicles.values()) drawVehicle(v);
}

function connect() {
  const source = new EventSource("/events");
  const status = $("connection");
  source.onopen = () => { status.textContent = "live"; status.className = "live"; };
  source.onerror = () => { status.textContent = "reconnecting…"; status.className = "down"; };
  source.addEventListener("snapshot", (e) => apply(JSON.parse(e.data), true));
  source.addEventListener("update", (e) => apply(JSON.parse(e.data), false));
  source.addEventListener("dropped", (e) => {
    const n = JSON.parse(e.data).dropped;
    $("notice").textContent = `this page fell behind: ${n} updates skipped, picture refreshed at ${timeText(Date.now())}`;
  });
}

async function start() {
  drawLegends();
  $("route-filter").addEventListener("change", (e) => filterRoute(e.target.value));
  const response = await fetch("/api/network");
  drawNetwork(await response.json());
  connect();
}

start();
