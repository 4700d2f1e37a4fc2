"""Figures: phase portraits, landscape slices, basin-graph drawings (matplotlib, no pyplot state)."""
