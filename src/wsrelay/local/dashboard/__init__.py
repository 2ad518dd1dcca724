"""The local stack's live dashboard (``wsrelay serve --dashboard``): a page at ``/_wsrelay/``
fed by a server-sent-events stream of what the gateway does, with actions (close a connection,
post to one, change fault rates) guarded by a per-run token. docs/dashboard.md.

- `feed`: the events, recorded in a bounded ring and streamed coalesced;
- `observed`: the gateway's connections and faults, observed (subclasses that record events);
- `guard`: the per-run token and the cross-site checks;
- `routes`: the HTTP side (page, assets, stream, state, actions).
"""
