"""Language-model NPCs: backends (llama.cpp, Grok, scripted) behind one interface, personas from
packs, NPC brains with memory, an action registry whose actions are validated before they run,
and a narrative director. ``ai.install.install_ai(runtime)`` gives a runtime's worlds NPCs that
think; see docs/npcs.md."""
