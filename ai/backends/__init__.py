"""Model backends behind one interface (``base.Backend``): LocalLlama (llama.cpp), Grok (xAI's
HTTP API) and Scripted (dialogue trees and barks from packs)."""
