"""Visiting OpenSimulator grids: a Second Life-protocol client that maps a region into a Storm World.

Layers, bottom up: ``template`` (the message template, data), ``messages`` (bodies),
``packet`` (headers, zero-coding, appended acks), ``circuit`` (LLUDP over asyncio), ``login``
(XML-RPC), ``caps`` (LLSD capabilities and the event queue), then the region's content
(``terrain_patch``, ``region_terrain``, ``objects``, ``region_world``, ``texture_entry``, ``j2k``,
``textures``), what the avatar does (``agent``, ``messaging``, ``travel``) and ``region``/``visit``, which build the World.
See docs/opensim.md.
"""
