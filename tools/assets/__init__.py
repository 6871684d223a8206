"""Asset tools: writers that generate the base pack's shipped assets from code."""
