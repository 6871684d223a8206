"""In-game 2D widgets drawn with Panda3D's DirectGUI on ``aspect2d`` (the same in a window and
offscreen, so screenshots show them). See docs/ui.md."""
