// The wsrelay local stack's dashboard: renders the model (model.js, loaded first) from the
// event stream (/_wsrelay/events), the state and the stats polled every second; plain SVG
// charts. No library, no build step (docs/dashboard.md).
"use strict";

const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const $ = (selector) => document.querySelector(selector);

function api(method, path, body) {
  const headers = { "X-Wsrelay-Token": token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, { method, headers, body });
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function button(label, action, id) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = action;
  b.dataset.id = id;
  return b;
}

function clock(t) {
  const d = new Date(t * 1000);
  return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function seconds(s) {
  if (s < 60) return s.toFixed(0) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}

// -- rendering ---------------------------------------------------------------------------------

function renderConnections(now) {
  const body = $("#connections tbody");
  body.replaceChildren();
  for (const c of view.connections.values()) {
    const tr = document.createElement("tr");
    tr.dataset.connection = c.connectionId;
    const actions = document.createElement("td");
    actions.append(button("close", "close", c.connectionId), " ", button("post…", "post-to", c.connectionId));
    tr.append(
      cell(c.connectionId, "id"), cell(c.role || "-", "role"), cell(seconds(now - c.connectedAt), "num"),
      cell(seconds(now - c.lastActiveAt), "num"), cell(c.messagesIn, "num"), cell(c.messagesOut, "num"), actions,
    );
    body.append(tr);
  }
  $("#connection-count").textContent = `${view.connections.size} open`;
}

function renderGuids() {
  const body = $("#guids tbody");
  body.replaceChildren();
  const rows = [...view.guids.values()].sort((a, b) => b.t - a.t);
  for (const g of rows) {
    const tr = document.createElement("tr");
    tr.dataset.guid = g.guid;
    tr.dataset.state = g.state || "";
    let state = g.state || "";
    if (g.state === "published" && !g.subscribers.size) state += " (held: no subscriber)";
    if (g.state === "acked" && g.ackedBy === "wsrelay:stored") state += " (on store)";
    const posts = Object.entries(g.posts).map(([s, n]) => `${s}×${n}`).join(" ");
    const ms = (v) => (v === undefined ? "" : v.toFixed(1));
    tr.append(
      cell(g.guid, "id"), cell(state, "state"), cell([...g.subscribers].join(" "), "id"),
      cell([...g.publishers].join(" "), "id"), cell(posts), cell(ms(g.deliverMs), "num"), cell(ms(g.ackMs), "num"),
    );
    body.append(tr);
  }
}

function renderLog() {
  const byConnection = $("#filter-connection").value.trim();
  const byGuid = $("#filter-guid").value.trim();
  const body = $("#log tbody");
  body.replaceChildren();
  let shown = 0;
  for (let i = view.events.length - 1; i >= 0 && shown < MAX_LOG; i--) {
    const e = view.events[i];
    if (byConnection && !(e.connectionId || "").includes(byConnection)) continue;
    if (byGuid && !(e.guid || "").includes(byGuid)) continue;
    const tr = document.createElement("tr");
    tr.dataset.kind = e.kind;
    if (e.kind === "fault" || (e.kind === "invocation" && e.outcome !== "ok")) tr.className = "fault";
    tr.append(cell(clock(e.t)), cell(e.kind), cell(e.connectionId || "", "id"), cell(detail(e)));
    body.append(tr);
    shown++;
  }
  $("#log-count").textContent = `${shown} shown of ${view.events.length} kept`;
}

function quantile(values, q) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function chart(svg, series, now) {
  // series: [[second, value|null], ...] per line; x spans the last WINDOW_S seconds.
  const W = 620, H = 150, left = 40, bottom = 16;
  const top = Math.max(1, ...series.flat().map((p) => p[1] || 0));
  const x = (s) => left + ((s - (now - WINDOW_S)) / WINDOW_S) * (W - left - 4);
  const y = (v) => H - bottom - (v / top) * (H - bottom - 8);
  const parts = [
    `<line class="axis" x1="${left}" y1="${H - bottom}" x2="${W}" y2="${H - bottom}"/>`,
    `<line class="axis" x1="${left}" y1="4" x2="${left}" y2="${H - bottom}"/>`,
    `<text x="2" y="12">${top.toPrecision(3)}</text><text x="2" y="${H - bottom}">0</text>`,
    `<text x="${left}" y="${H - 2}">-5 min</text><text x="${W - 24}" y="${H - 2}">now</text>`,
  ];
  series.forEach((points, i) => {
    const xy = points.filter((p) => p[1] !== null && p[0] >= now - WINDOW_S)
      .map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
    if (xy.length > 1) parts.push(`<polyline class="s${i}" points="${xy.join(" ")}"/>`);
    if (xy.length < 60) { // sparse data: dots, so a lone second shows
      for (const p of xy) {
        const [cx, cy] = p.split(",");
        parts.push(`<circle class="s${i}" cx="${cx}" cy="${cy}" r="2"/>`);
      }
    }
  });
  svg.innerHTML = parts.join("");
}

function renderCharts(now) {
  const t = view.throughput.filter((p) => p[0] >= now - WINDOW_S);
  chart($("#chart-throughput"), [t.map((p) => [p[0], p[1]]), t.map((p) => [p[0], p[2]])], now);
  const lines = [[], [], [], []];
  for (const [second, bucket] of [...view.latency.entries()].sort((a, b) => a[0] - b[0])) {
    if (second < now - WINDOW_S) {
      view.latency.delete(second);
      continue;
    }
    lines[0].push([second, quantile(bucket.deliver, 0.5)]);
    lines[1].push([second, quantile(bucket.deliver, 1)]);
    lines[2].push([second, quantile(bucket.ack, 0.5)]);
    lines[3].push([second, quantile(bucket.ack, 1)]);
  }
  chart($("#chart-latency"), lines, now);
}

function renderRoutes() {
  const stats = view.stats;
  if (!stats) return;
  const cold = (view.state && view.state.coldStarts) || {};
  const body = $("#routes tbody");
  body.replaceChildren();
  for (const [route, r] of Object.entries(stats.routes || {})) {
    const tr = document.createElement("tr");
    tr.dataset.route = route;
    tr.append(
      cell(route, "id"), cell(r.invocations, "num"), cell(r.errors, "num"), cell(r.throttles, "num"),
      cell(r.timeouts, "num"), cell(cold[route] || 0, "num"), cell(r.latency_ms.p50, "num"),
      cell(r.latency_ms.p99, "num"),
    );
    body.append(tr);
  }
  $("#runtime").textContent = `runtime ${stats.runtime}, ${stats.cold_starts} cold starts`;
  $("#functions").textContent = stats.functions ? "environments: " + JSON.stringify(stats.functions) : "";
}

function renderSummary() {
  const stats = view.stats, state = view.state;
  if (!stats || !state) return;
  const parts = [
    `runtime ${state.runtime}`, `authorization ${state.authorization}`, `publisher ack ${state.publisherAck}`,
    `${stats.connections.open} open`,
  ];
  if (stats.started_at) parts.push(`up ${seconds(state.now - stats.started_at)}`);
  $("#summary").textContent = parts.join(" · ");
  $("#connections").classList.toggle("no-roles", state.authorization === "none");
  const f = state.faults;
  const rates = Object.entries(f.fault_rates).map(([k, v]) => `${k} ${v}`).join(", ");
  let text = `seed ${f.seed}; rates ${rates}; injected ${JSON.stringify(f.injected)}`;
  if ("fault_window_s" in stats) {
    const w = stats.fault_window_s;
    text += w ? `; fault window ${Array.isArray(w) ? w.join("-") : w} s` : "; no fault window";
  }
  if (stats.faults_injected !== undefined) text += `; faults_injected ${JSON.stringify(stats.faults_injected)}`;
  text += f.fault_seed_reproducible ? "; reproducible from its seed" :
    `; NOT reproducible from its seed (${f.fault_live_changes.length} live changes)`;
  $("#fault-status").textContent = text;
  const form = $("#fault-form");
  if (!form.contains(document.activeElement)) {
    for (const [name, value] of Object.entries(f.fault_rates)) form.elements[name].value = value;
  }
}

function render() {
  if (view.dirty) {
    const now = Date.now() / 1000;
    view.dirty = false;
    renderConnections(now);
    renderGuids();
    renderLog();
    renderCharts(now);
    renderRoutes();
    renderSummary();
  }
  requestAnimationFrame(render);
}

// -- polling: the state (connections' counters) and the stats (throughput, routes) ------------

async function poll() {
  try {
    const [state, stats] = await Promise.all([
      api("GET", "/_wsrelay/state").then((r) => r.json()),
      fetch("/_wsrelay/stats").then((r) => r.json()),
    ]);
    view.state = state;
    view.stats = stats;
    view.connections = new Map(state.connections.map((c) => [c.connectionId, c]));
    const totals = [state.now, stats.invocations, (stats.posts || {})["200"] || 0];
    if (view.lastTotals) {
      const dt = totals[0] - view.lastTotals[0];
      if (dt > 0) {
        view.throughput.push([Math.floor(totals[0]), (totals[1] - view.lastTotals[1]) / dt,
          (totals[2] - view.lastTotals[2]) / dt]);
      }
      if (view.throughput.length > WINDOW_S + 10) view.throughput.shift();
    }
    view.lastTotals = totals;
    view.dirty = true;
  } catch (error) {
    $("#status").dataset.state = "down";
    $("#status").textContent = "server unreachable";
  }
}

// -- actions -------------------------------------------------------------------------------------

async function closeConnection(id) {
  const r = await api("DELETE", "/_wsrelay/connections/" + encodeURIComponent(id));
  $("#post-result").textContent = r.status === 204 ? `closed ${id}` : `close ${id}: ${r.status}`;
}

$("#connections").addEventListener("click", (event) => {
  const b = event.target.closest("button");
  if (!b) return;
  if (b.dataset.action === "close") closeConnection(b.dataset.id);
  if (b.dataset.action === "post-to") {
    $("#post-connection").value = b.dataset.id;
    $("#post-text").focus();
  }
});

$("#post-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("#post-connection").value.trim();
  const r = await fetch("/_wsrelay/connections/" + encodeURIComponent(id), {
    method: "POST", headers: { "X-Wsrelay-Token": token }, body: $("#post-text").value,
  });
  $("#post-result").textContent = `post to ${id}: ${r.status}`;
});

$("#fault-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const rates = {};
  for (const input of event.target.querySelectorAll("input")) rates[input.name] = Number(input.value);
  const r = await api("PUT", "/_wsrelay/faults", JSON.stringify(rates));
  const answer = await r.json();
  $("#fault-result").textContent = r.ok ? "replaced: the run is no longer reproducible from its seed"
    : `refused: ${answer.message}`;
  document.activeElement.blur();
  poll();
});

for (const input of ["#filter-connection", "#filter-guid", "#pause"]) {
  $(input).addEventListener("input", () => {
    view.paused = $("#pause").checked;
    view.dirty = true;
  });
}

// -- start ------------------------------------------------------------------------------------------

const source = new EventSource("/_wsrelay/events?token=" + encodeURIComponent(token));
source.onmessage = onBatch;
source.onopen = () => {
  $("#status").dataset.state = "live";
  $("#status").textContent = "live";
};
source.onerror = () => {
  $("#status").dataset.state = "down";
  $("#status").textContent = token ? "stream lost, reconnecting" : "no token: open the URL serve printed";
};
poll();
setInterval(poll, 1000);
setInterval(() => { view.dirty = true; }, 1000); // ages and idle times move on their own
requestAnimationFrame(render);
