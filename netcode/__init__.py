"""Multiplayer (not built yet): authoritative server, client prediction, snapshot codec, WebRTC transport."""
