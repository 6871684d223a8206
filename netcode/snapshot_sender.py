"""The server's snapshot step: which entities each client has (spawned and despawned as they come
into and leave its area of interest) and each due client's snapshot against its baseline.

Work is shared between clients wherever the wire allows it (the bytes each client gets are
exactly what encoding it alone would give):

- the world's state is gathered and quantised once per snapshot tick (``Replicator.gather``);
- clients that see the same entities get one shared cut of it (``view_for`` once per id set);
- without a packet budget, the view a client holds after a snapshot equals what was gathered,
  so its baseline *is* the shared gathered view, and clients that acknowledged the same
  snapshots encode against the same baseline objects: the transform section is encoded once per
  (baseline, prediction view, spacing, entity set) and reused (``TransformCache``);
- only the field section (which leaves out the client's own owner-authority fields) is per client.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from netcode import messages as m
from netcode.replication import Gathered, own_view, view_for
from netcode.session import Session
from netcode.snapshot_codec import TransformCache, encode, member
from netcode.spawning import chunk_records, subtree_records

if TYPE_CHECKING:
    from netcode.server_tick import ServerTick


class SnapshotSender:
    """See the module doc; one per ServerTick."""

    def __init__(self, ticker: "ServerTick") -> None:
        self.ticker = ticker
        self.server = ticker.server
        self.world = ticker.world
        self._roots_cache: tuple[int, int, list[int]] | None = None
        self.cache = TransformCache()
        self._cuts: dict[bytes, Any] = {}
        self._cut_tick = -1
        self.per_client_ms: list[float] = []   # snapshot CPU ms per due client, each snapshot tick (newest 10000)

    def update_known(self, session: Session, gathered: Gathered | None, first: bool = False) -> None:
        """Spawn what came into the client's area, despawn what left it; ``first``: the whole map."""
        world, replicator, interest = self.world, self.server.replicator, self.server.config.interest
        replicator.refresh()
        networked = replicator.networked
        static: list[int] = []
        if first:
            session.known_all = set()
            static = [eid for eid in world.entities() if world.parent_of(eid) == 0 and eid not in networked]
        net_roots = self._net_roots()
        if interest is None:
            visible = set(net_roots)
        else:
            if gathered is None:
                gathered = replicator.gather(world.tick_count)
            center = world.node(session.entity).getPos(world.root) if world.exists(session.entity) else None
            known_roots = np.asarray(sorted(e for e in net_roots if e in session.known_all), np.int64)
            ids = interest.visible(gathered, (center.x, center.y) if center is not None else (0.0, 0.0), known_roots)
            visible = {e for e in ids.tolist() if world.exists(e) and world.parent_of(e) == 0}
            if world.exists(session.entity):
                visible.add(session.entity)
            leaving = [e for e in known_roots.tolist() if e not in visible]
            if leaving:
                drop = [e for root in leaving for e in [root, *world.descendants(root)]]
                self.ticker.send_event(session, m.DESPAWN, {"entities": drop})
                session.known_all.difference_update(drop)
        entering = static + sorted(visible - session.known_all)
        if entering:
            records = [subtree_records(world, eid) for eid in entering]
            for chunk in chunk_records(records):
                self.ticker.send_event(session, m.SPAWN, {"json": chunk})
            for group in records:
                session.known_all.update(r["id"] for r in group)
        if entering or first or session.known_version != replicator.version:
            session.known = np.asarray(sorted(e for e in session.known_all if e in networked), np.int64)
            session.known_version = replicator.version

    def _net_roots(self) -> list[int]:
        """The networked entities at the root (what interest decides on), worked out once a tick."""
        tick = self.world.tick_count
        cached = self._roots_cache
        networked = self.server.replicator.networked
        if cached is None or cached[0] != tick or cached[1] != len(networked):
            world = self.world
            roots = [eid for eid in networked if world.parent_of(eid) == 0]
            self._roots_cache = cached = (tick, len(networked), roots)
        return cached[2]

    def _cut(self, gathered: Gathered, ids: np.ndarray) -> Any:
        """The shared part of the view of clients that see ``ids`` (one per id set per tick)."""
        if self._cut_tick != gathered.tick:
            self._cuts.clear()
            self._cut_tick = gathered.tick
        key = ids.tobytes()
        cut = self._cuts.get(key)
        if cut is None:
            cut = self._cuts[key] = view_for(gathered, ids, 0, set())
        return cut

    def send(self, gathered: Gathered, sessions: list[Session]) -> None:
        start = time.thread_time()             # CPU time: other processes on the machine do not count
        self._send(gathered, sessions)
        if sessions:
            self.per_client_ms.append((time.thread_time() - start) * 1000.0 / len(sessions))
            del self.per_client_ms[:-10000]

    def _send(self, gathered: Gathered, sessions: list[Session]) -> None:
        server, world = self.server, self.world
        config = server.config
        owner_fids_of: dict[int, set[int]] = {}   # per input layout: a VR client's carries its poses too
        self.cache.start(world.tick_count)
        webrtc = getattr(server, "webrtc", None)
        for session in sessions:
            self.update_known(session, gathered)
            ids = session.known[member(session.known, gathered.view.ids)]
            layout = session.layout if session.layout is not None else server.layout
            owner_fids = owner_fids_of.get(id(layout))
            if owner_fids is None:
                schema = server.replicator.schema
                owner_fids = owner_fids_of[id(layout)] = {
                    fid for fid in (schema.id_of(f.type_name, f.name) for f in layout.fields) if fid is not None}
            view = own_view(self._cut(gathered, ids), session.entity, owner_fids)
            base_tick, previous_tick = session.baselines(world.tick_count)
            priority = None
            if config.budget_bytes:
                priority = self._priorities(session, view, gathered)
            encoded = encode(view, session.sent.get(base_tick), config.transform, server.replicator.schema,
                             priority=priority, budget_bits=config.budget_bytes * 8 if config.budget_bytes else None,
                             previous=session.sent.get(previous_tick) if previous_tick else None,
                             spacing=(world.tick_count - base_tick, base_tick - previous_tick) if previous_tick else (0, 0),
                             cache=self.cache if priority is None else None)
            if priority is not None:
                self._spend_priority(session, view, encoded)
            session.remember(world.tick_count, encoded.view)
            message = m.Snapshot(world.tick_count, base_tick, session.applied_seq, time.monotonic(), encoded.payload)
            data = m.encode_snapshot(message)
            if webrtc is None or not webrtc.send_snapshot(session, data):
                self.ticker.send(session, data, droppable=True)

    def _priorities(self, session: Session, view: Any, gathered: Gathered) -> np.ndarray:
        """Accumulated priority per row: grows each snapshot an entity waits, faster when near the
        player; what is sent starts again from zero."""
        world = self.world
        center = world.node(session.entity).getPos(world.root) if world.exists(session.entity) else None
        rows = np.searchsorted(gathered.view.ids, view.ids)
        pos = gathered.world_pos[rows]
        near = np.ones(len(view.ids))
        if center is not None and len(pos):
            dist = np.linalg.norm(pos - np.array([center.x, center.y, center.z]), axis=1)
            near = 1.0 + 10.0 / (1.0 + dist)
        own = view.ids == session.entity
        near[own] = 1e6
        acc = np.array([session.priority.get(eid, 0.0) for eid in view.ids.tolist()]) + near
        session.priority = dict(zip(view.ids.tolist(), acc.tolist()))
        return acc

    def _spend_priority(self, session: Session, view: Any, encoded: Any) -> None:
        if not len(view.ids):
            return
        got = np.isin(view.ids, encoded.view.ids)
        rows = np.searchsorted(encoded.view.ids, view.ids)
        rows = np.minimum(rows, max(len(encoded.view.ids) - 1, 0))
        same = got & np.all(encoded.view.pos[rows] == view.pos, axis=1) & np.all(encoded.view.parts[rows] == view.parts, axis=1)
        for eid in view.ids[same].tolist():
            session.priority[eid] = 0.0
