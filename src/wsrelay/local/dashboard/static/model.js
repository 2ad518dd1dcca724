// The dashboard's model: what the page knows, built from the event stream's batches (the
// connections, each guid as the gateway saw it, latency samples, the log). No DOM here; the
// page (dashboard.js) renders it. The event schema: docs/dashboard.md.
"use strict";

const WINDOW_S = 300; // charts: the last 5 minutes
const MAX_LOG = 400; // rows kept in the event log (after filters, newest first)
const MAX_EVENTS = 5000; // events kept for the log
const MAX_GUIDS = 200;
const RANK = { subscribed: 0, published: 1, delivered: 2, acked: 3 };

const view = {
  connections: new Map(), // id -> row data (state document, updated by events)
  guids: new Map(), // guid -> what the gateway saw of it
  events: [],
  latency: new Map(), // second -> {deliver: [ms], ack: [ms]}
  throughput: [], // [second, invocations/s, delivered/s]
  lastTotals: null,
  stats: null,
  state: null,
  dirty: true,
  paused: false,
};

// -- the events --------------------------------------------------------------------------------

function guidOf(name) {
  let g = view.guids.get(name);
  if (!g) {
    g = { guid: name, state: null, subscribers: new Set(), publishers: new Set(), posts: {}, t: 0 };
    view.guids.set(name, g);
    if (view.guids.size > MAX_GUIDS) view.guids.delete(view.guids.keys().next().value);
  }
  return g;
}

function advance(g, state) {
  if (g.state === null || RANK[state] > RANK[g.state]) g.state = state;
}

function sample(kind, g, at) {
  // Once per guid, whatever order the events came in (a worker process's posts may arrive
  // in an earlier batch than its invocation).
  if (g.published === undefined || at === undefined || g["sampled_" + kind]) return;
  g["sampled_" + kind] = true;
  const ms = Math.max(0, (at - g.published) * 1000);
  g[kind + "Ms"] = ms;
  const second = Math.floor(g.published);
  let bucket = view.latency.get(second);
  if (!bucket) view.latency.set(second, (bucket = { deliver: [], ack: [] }));
  if (bucket[kind].length < 500) bucket[kind].push(ms);
}

function track(e) {
  if (e.kind === "connect") {
    const row = view.connections.get(e.connectionId) || {};
    view.connections.set(e.connectionId, {
      connectionId: e.connectionId, role: e.role || null, connectedAt: e.t, lastActiveAt: e.t,
      messagesIn: 0, messagesOut: 0, ...row,
    });
  } else if (e.kind === "disconnect") {
    view.connections.delete(e.connectionId);
  } else if (e.kind === "invocation" && e.guid) {
    const g = guidOf(e.guid);
    g.t = Math.max(g.t, e.t);
    if (e.frame === "subscribe") {
      g.subscribers.add(e.connectionId);
      advance(g, "subscribed");
    } else if (e.frame === "unsubscribe") {
      g.subscribers.delete(e.connectionId);
    } else if (e.frame === "publish") {
      g.publishers.add(e.connectionId);
      if (g.published === undefined) g.published = e.t;
      advance(g, "published");
      sample("deliver", g, g.delivered);
      sample("ack", g, g.ackedAt);
    } else if (e.frame === "ack") {
      advance(g, "acked");
    }
  } else if (e.kind === "post" && e.guid) {
    const g = guidOf(e.guid);
    g.t = Math.max(g.t, e.t);
    g.posts[e.status] = (g.posts[e.status] || 0) + 1;
    if (e.status === 200 && e.what === "result") {
      if (g.delivered === undefined) g.delivered = e.t;
      advance(g, "delivered");
      sample("deliver", g, g.delivered);
    } else if (e.status === 200 && e.what === "ack") {
      if (g.ackedAt === undefined) g.ackedAt = e.t;
      g.ackedBy = e.acknowledgedBy;
      advance(g, "acked");
      sample("ack", g, g.ackedAt);
    }
  }
}

function onBatch(message) {
  const events = JSON.parse(message.data);
  events.sort((a, b) => a.t - b.t);
  for (const e of events) track(e);
  if (!view.paused) {
    view.events.push(...events);
    if (view.events.length > MAX_EVENTS) view.events.splice(0, view.events.length - MAX_EVENTS);
  }
  view.dirty = true;
}

function detail(e) {
  if (e.kind === "invocation") {
    const frame = e.frame ? ` ${e.frame}${e.guid ? " " + e.guid : ""}` : "";
    return `${e.route} ${e.outcome}${e.status ? " " + e.status : ""} ${e.durationMs} ms` +
      `${e.coldStart ? " cold start" : ""}${frame}`;
  }
  if (e.kind === "post") {
    return `${e.status} ${e.what}${e.guid ? " " + e.guid : ""} (${e.bytes} bytes)` +
      `${e.acknowledgedBy ? " by " + e.acknowledgedBy : ""}`;
  }
  if (e.kind === "connect") return `#${e.ordinal}${e.role ? " role " + e.role : ""} from ${e.sourceIp}`;
  if (e.kind === "disconnect") return `${e.code} ${e.reason}`;
  return e.name;
}

