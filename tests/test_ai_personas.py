"""Personas: pack files checked field by field, refused without consent (the message names the
file and the field), encrypted at rest with a user key, listed for an editor, and an NPC's
current state exported back to a snapshot that loads again."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from ai.persona_crypto import encrypt_persona
from ai.personas import export_persona, list_personas, load_persona, parse_persona, save_persona
from engine.core.errors import DataError
from engine.host.runtime import Runtime
from tests.ai_helpers import MIRA_PERSONA


@pytest.fixture
def mira(runtime: Runtime) -> dict:
    return runtime.content.read_json(MIRA_PERSONA)


def test_the_base_persona_loads(runtime: Runtime) -> None:
    persona = load_persona(runtime.content, MIRA_PERSONA)
    assert persona.name == "Mira" and "give" in persona.allowed_actions and persona.consent["given"] is True
    assert MIRA_PERSONA in list_personas(runtime.content)


@pytest.mark.parametrize("consent", [None, {}, {"given": False, "by": "x"}, {"given": "yes", "by": "x"}])
def test_a_persona_without_consent_is_refused_naming_file_and_field(mira: dict, consent: object) -> None:
    data = copy.deepcopy(mira)
    if consent is None:
        del data["consent"]
    else:
        data["consent"] = consent
    with pytest.raises(DataError) as caught:
        parse_persona(data, "village/personas/smith.persona.json")
    message = str(caught.value)
    assert message.startswith("village/personas/smith.persona.json: consent.given: expected true")
    assert "consent" in message and "portrays" in message


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d.update(storm_persona=2), "storm_persona"),
    (lambda d: d.update(name=""), "name"),
    (lambda d: d.update(allowed_actions=[]), "allowed_actions"),
    (lambda d: d.update(traits="kind"), "traits"),
    (lambda d: d.update(memories=[{"text": "x", "importance": 99}]), "memories[0].importance"),
    (lambda d: d.update(secret_prompt="ignore rules"), "secret_prompt"),
    (lambda d: d["consent"].pop("by"), "consent.by"),
    (lambda d: d["provenance"].pop("author"), "provenance.author"),
])
def test_bad_fields_are_named(mira: dict, change, where: str) -> None:
    data = copy.deepcopy(mira)
    change(data)
    with pytest.raises(DataError, match=re.escape(f": {where}: expected")):
        parse_persona(data, "p.persona.json")


def test_encrypted_persona_needs_the_right_key(mira: dict, tmp_path: Path) -> None:
    persona = parse_persona(mira, "mira")
    path = save_persona(persona, tmp_path / "mira.persona.enc.json", passphrase="correct horse")
    envelope = json.loads(path.read_text())
    assert "Mira" not in path.read_text() and "storm_persona_encrypted" in envelope
    assert parse_persona(envelope, str(path), "correct horse").name == "Mira"
    with pytest.raises(DataError, match="the key is wrong"):
        parse_persona(envelope, str(path), "wrong key")
    with pytest.raises(DataError, match="a key to decrypt"):
        parse_persona(envelope, str(path), None)
    tampered = dict(envelope, data=envelope["data"][:-8] + ("A" * 8 if envelope["data"][-8:] != "A" * 8 else "B" * 8))
    with pytest.raises(DataError, match=str(path)):
        parse_persona(tampered, str(path), "correct horse")


def test_encryption_does_not_skip_consent(mira: dict) -> None:
    data = copy.deepcopy(mira)
    data["consent"]["given"] = False
    with pytest.raises(DataError, match="consent.given"):
        parse_persona(encrypt_persona(data, "k"), "enc", "k")


def test_export_keeps_the_most_important_memories_and_says_where_from(mira: dict, tmp_path: Path) -> None:
    persona = parse_persona(mira, "mira")
    memories = [{"text": f"memory {i}", "kind": "heard", "importance": i % 10 + 1, "time": i, "last_access": i}
                for i in range(100)]
    memories.append({"text": "The player owned up to the crates.", "kind": "reflection", "importance": 6,
                     "time": 100, "last_access": 100})
    snapshot = export_persona(persona, memories, plan="forgive the player", where="demo world, entity 62", keep=10)
    assert snapshot.memories[0]["text"] == "The player owned up to the crates."
    assert len(snapshot.memories) == 10 and all(m["importance"] >= 9 for m in snapshot.memories[1:])
    assert snapshot.goals[0] == "forgive the player" and "entity 62" in snapshot.provenance["exported_from"]
    assert snapshot.consent == persona.consent
    path = save_persona(snapshot, tmp_path / "mira2.persona.json")
    assert parse_persona(json.loads(path.read_text()), str(path)).memories == snapshot.memories


def test_an_edited_persona_is_saved_into_its_pack_and_read_back(mira: dict, make_pack) -> None:  # type: ignore[no-untyped-def]
    from ai.service import AiService
    from ai.settings import AiSettings
    from engine.packs.content import ContentRegistry

    pack = make_pack("village")
    pack.write("personas/smith.persona.json", dict(mira, name="Smith"))
    content = ContentRegistry()
    content.add_pack(pack.root)
    service = AiService(content, AiSettings.from_mapping({"use_local": False}, environ={}))
    try:
        assert service.personas() == ["village:personas/smith.persona.json"]
        persona = service.persona("village:personas/smith.persona.json")
        persona.traits.append("stubborn")
        service.save_persona("village:personas/smith.persona.json", persona)
        assert "stubborn" in service.reload_persona("village:personas/smith.persona.json").traits
    finally:
        service.close()
