"""Language-model NPCs (not built yet): llama.cpp, Grok and scripted backends, NPC brains, memory."""
