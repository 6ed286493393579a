"""The README's "bring your own function" example runs as printed and says what it claims."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_the_from_functions_example_runs_and_finds_the_critical_points():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(b for b in blocks if "rk.from_functions(" in b and "critical_points=" in b)
    env = {}
    exec("import reachkit as rk\n" + example, env)
    mine, named, rk = env["mine"], env["named"], env["rk"]
    # closed form: f = (x^2 - 1)^2 + 2 y^2 has minima (+-1, 0) with Hessian diag(12x^2 - 4, 4) = diag(8, 4)
    # and a saddle at 0 with Hessian diag(-4, 4)
    found = {c.kind: [] for c in mine.critical_points()}
    for c in mine.critical_points():
        found[c.kind].append(c.x)
    assert np.allclose(sorted(x[0] for x in found["minimum"]), [-1, 1], atol=1e-8)
    assert np.allclose(found["saddle"], [[0, 0]], atol=1e-8)
    labels = [c.label for c in mine.critical_points()]
    assert labels == ["minimum 1 (sharpness 8)", "saddle 1", "minimum 2 (sharpness 8)"]
    assert labels == eval(re.search(r"# (\[.*\])", example).group(1))  # the comment shows the labels
    # the named landscape: reach's start, continued with a plain GD loop, stays at the left well
    res = rk.reach(named, "left well", 0.05)
    x = np.array(res.start, dtype=float)
    for _ in range(3000):
        x = x - 0.05 * np.array([4 * x[0] * (x[0] ** 2 - 1), 4 * x[1]])
    assert np.linalg.norm(x - [-1, 0]) < 1e-12
    assert res.path.describe(0).startswith("converged to the left well")
