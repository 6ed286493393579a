"""reachkit: where gradient dynamics can go. Landscapes, dynamics, analysis and live explorers."""
