"""Storm's runtime: worlds of entities (Panda3D NodePaths) with declared components, systems on a
fixed tick, world and prefab files, assets from content packs, and the App that plays them.

Depends on nothing else of Storm's.
"""
