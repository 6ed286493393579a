// reachkit explorer scene (concatenated before view.js into the view's ES module by view.py).
// The landscape drawn in the browser from the kernel's `scene` data: grey bands and contour lines of f
// (marching squares), the graph of f in 1-D, basins as an image, critical points and labels, the
// bifurcation diagram, legends, and a "provisional" look for overlays still being computed.
// Plain function declarations only (no import/export): tests/test_scene_js.py runs them under node.
