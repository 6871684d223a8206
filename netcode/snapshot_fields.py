"""The field section of a snapshot payload (see netcode/snapshot_codec.py for the whole layout):
replicated field values that differ from what the client holds, per entity in id order as
(varint id gap, varint field id, value), values written by the field schema."""
from __future__ import annotations

from typing import Any, Protocol

from engine.core.fields import MAX_ENTITY_ID
from netcode.wire import ByteReader, ByteWriter, ProtocolError

MAX_FIELD_UPDATES = 1 << 20
_MISSING = object()


class FieldCodec(Protocol):
    """Writes and reads one replicated field's quantised value by field id (see replication.py)."""

    def encode_value(self, out: ByteWriter, fid: int, value: Any) -> None: ...

    def decode_value(self, reader: ByteReader, fid: int) -> Any: ...

    def has(self, fid: int) -> bool: ...


def _varint(value: int) -> bytes:
    return ByteWriter().varint(value).bytes()


def write_fields(current: dict[int, dict[int, Any]], held: dict[int, dict[int, Any]], present: set[int],
                 schema: FieldCodec, shared: dict | None = None) -> tuple[bytes, int, dict[int, dict[int, Any]]]:
    """Field values of entities the client will hold (``present``) that differ from what it has
    (``held``): the section's bytes, the number of updates, and per updated entity the dict it then
    holds (the current one itself whenever the two are equal, so that clients share baselines). Per
    entity the bytes after its id gap depend only on (what it has, what it gets): with ``shared``
    (a per-tick dict) they are worked out once for every client holding the same dicts."""
    chunks: list[bytes] = []
    results: dict[int, dict[int, Any]] = {}
    count = previous = 0
    for eid in sorted(current):
        if eid not in present:
            continue
        values = current[eid]
        have = held.get(eid)
        if have is values:
            continue
        if have == values:
            results[eid] = values
            continue
        key = (id(have), id(values))
        entry = shared.get(key) if shared is not None else None
        if entry is None:
            changed = [(fid, value) for fid, value in sorted(values.items())
                       if have is None or have.get(fid, _MISSING) != value]
            body = ByteWriter()
            for i, (fid, value) in enumerate(changed):
                if i:
                    body.varint(0)                 # the same entity again: id gap 0
                body.varint(fid)
                schema.encode_value(body, fid, value)
            result = values if have is None or have.keys() <= values.keys() else {**have, **dict(changed)}
            entry = (len(changed), body.bytes(), result, have, values)   # holds the dicts: their ids stay theirs
            if shared is not None:
                shared[key] = entry
        if not entry[0]:
            continue
        chunks.append(_varint(eid - previous))
        chunks.append(entry[1])
        results[eid] = entry[2]
        count += entry[0]
        previous = eid
    return _varint(count) + b"".join(chunks), count, results


def merge_fields(present: set[int], held: dict[int, dict[int, Any]],
                 updates: list[tuple[int, int, Any]]) -> dict[int, dict[int, Any]]:
    """The field values a client holds after decoding: the baseline's (dicts shared, never changed
    in place) of entities still in the view, with the updated entities' dicts copied."""
    merged = {eid: values for eid, values in held.items() if eid in present}
    copied: set[int] = set()
    for eid, fid, value in updates:
        if eid not in copied:
            merged[eid] = dict(merged.get(eid, ()))
            copied.add(eid)
        merged[eid][fid] = value
    return merged


def read_fields(reader: ByteReader, present: set[int], schema: FieldCodec) -> list[tuple[int, int, Any]]:
    """The updates of a field section (the rest of ``reader``), each checked against the view."""
    reader.where = "snapshot.fields"
    count = reader.varint("count", MAX_FIELD_UPDATES)
    updates = []
    eid = 0
    for _ in range(count):
        eid += reader.varint("entity_gap", MAX_ENTITY_ID)
        fid = reader.varint("field", 1 << 20)
        if eid not in present:
            raise ProtocolError("snapshot.fields.entity_gap", f"an entity of this view (entity {eid} is not in it)")
        if not schema.has(fid):
            raise ProtocolError("snapshot.fields.field", f"a field id of the schema (got {fid})")
        updates.append((eid, fid, schema.decode_value(reader, fid)))
    reader.end()
    return updates
