"""A tiny fully connected network as a loss landscape, in plain numpy.

Used to show the *edge of stability* (EoS) of full-batch gradient descent
(Cohen et al., 2021): with step size ``eta`` the sharpness
``S(theta) = lambda_max(Hessian of the training loss)`` first rises
("progressive sharpening") until it reaches about ``2/eta``, then hovers
there while the loss keeps going down, non-monotonically.

Contents
--------
make_dataset        seeded synthetic regression data (random tanh teacher).
NetworkLandscape    MLP + squared loss with value / grad / hvp / hess on a
                    flat parameter vector ``theta`` (hand-written backprop
                    and an exact R-operator Hessian-vector product).
top_eigenvalue      largest *algebraic* Hessian eigenvalue from HVPs (Lanczos).
edge_of_stability   full-batch GD that tracks loss and sharpness.
eos_defaults        settings for which the EoS picture appears (measured
                    numbers in its docstring); run_eos_experiment runs them.

Parameter layout of ``theta``: for each layer ``l = 1..L`` the weight matrix
``W_l`` (shape ``(d_l, d_{l-1})``, row-major) followed by the bias ``b_l``
(shape ``(d_l,)``).
"""

from __future__ import annotations

import functools
import pathlib
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh

from . import checks

__all__ = [
    "make_dataset",
    "NetworkLandscape",
    "top_eigenvalue",
    "EoSResult",
    "edge_of_stability",
    "EoSDefaults",
    "eos_defaults",
    "default_landscape",
    "run_eos_experiment",
    "DENSE_MAX_DIM",
    "hessian_extremes",
    "newton_polish",
    "Minimum",
    "as_minimum",
    "find_minima",
    "minima_table",
    "random_inits",
    "typical_init_loss",
    "Descent",
    "descend",
    "descend_many",
    "descend_batch",
    "NetworkReach",
    "Sensitivity",
    "reach_minimum",
    "InitEnds",
    "where_inits_end",
    "classify_end",
    "lands_on",
    "sharp_minimum_example",
]

ACTIVATIONS = ("tanh", "softplus")


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def make_dataset(
    n_samples: int = 64,
    n_features: int = 4,
    seed: int = 0,
    *,
    n_outputs: int = 1,
    teacher_width: int = 32,
    teacher_gain: float = 3.0,
    target_scale: float = 2.5,
    noise: float = 0.0,
):
    """Synthetic regression data ``(X, Y)`` from a random one-hidden-layer tanh teacher.

    ``X ~ N(0, I)`` of shape ``(n_samples, n_features)`` and, with ``A``, ``B``
    standard normal of shapes ``(n_features, teacher_width)``,
    ``(teacher_width, n_outputs)``::

        Y = target_scale * tanh(teacher_gain * X A / sqrt(n_features)) B / sqrt(teacher_width)
            + noise * N(0, 1)

    of shape ``(n_samples, n_outputs)``. ``teacher_gain`` sets how nonlinear the
    target is and ``target_scale`` its amplitude; both make the student's weights
    grow during training and hence drive progressive sharpening (the defaults
    are the ones used by :func:`eos_defaults`). Everything is drawn from
    ``numpy.random.default_rng(seed)``: the same arguments give the same arrays.
    """
    n_samples, n_features, n_outputs, teacher_width = (
        checks.integer(name, val, low=1)
        for name, val in (("n_samples", n_samples), ("n_features", n_features),
                          ("n_outputs", n_outputs), ("teacher_width", teacher_width)))
    teacher_gain, target_scale, noise = (
        checks.real(name, val, low=0.0)
        for name, val in (("teacher_gain", teacher_gain), ("target_scale", target_scale), ("noise", noise)))
    rng = np.random.default_rng(checks.seed("seed", seed))
    X = rng.standard_normal((n_samples, n_features))
    A = rng.standard_normal((n_features, teacher_width))
    B = rng.standard_normal((teacher_width, n_outputs))
    with np.errstate(under="ignore"):  # a tiny gain or scale: values round to subnormals or 0
        H = np.tanh(teacher_gain * (X @ A) / np.sqrt(n_features))
        Y = target_scale * (H @ B) / np.sqrt(teacher_width)
        if noise > 0:
            Y = Y + noise * rng.standard_normal(Y.shape)
    return X, Y


# ---------------------------------------------------------------------------
# activations: sigma, sigma', sigma''
# ---------------------------------------------------------------------------
def _act(name, z, order=2):
    """Return (sigma(z), sigma'(z), sigma''(z)), the first ``order + 1`` of them."""
    if name == "tanh":
        t = np.tanh(z)
        if order == 0:
            return (t,)
        d1 = 1.0 - t * t
        return (t, d1) if order == 1 else (t, d1, -2.0 * t * d1)
    # softplus: log(1 + e^z), derivative = logistic sigmoid
    s = np.logaddexp(0.0, z)
    if order == 0:
        return (s,)
    sig = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free sigmoid
    return (s, sig) if order == 1 else (s, sig, sig * (1.0 - sig))


# ---------------------------------------------------------------------------
# landscape
# ---------------------------------------------------------------------------
class NetworkLandscape:
    """Squared loss of a fully connected network as a function of its parameters.

    Network (``L = len(layer_sizes) - 1`` affine layers, activation ``sigma`` on
    all hidden layers, linear output)::

        a_0 = x,   z_l = W_l a_{l-1} + b_l,   a_l = sigma(z_l)  (l < L),   f(x) = z_L

    Loss ``L(theta) = 1/(2n) sum_i ||f(x_i) - y_i||^2 + (weight_decay/2) |theta|^2``
    over the whole data set (full batch). ``grad`` is reverse-mode backprop; ``hvp``
    is Pearlmutter's exact R-operator (forward-over-reverse, derived by hand), not a
    finite difference; ``hess`` stacks HVPs with the identity columns. Weight decay
    adds ``weight_decay * theta`` to the gradient and ``weight_decay * I`` to the
    Hessian.

    Weight decay makes the loss grow at infinity, so minima exist at finite weights:
    without it the loss can keep falling as weights grow toward infinity, and flat
    directions can join minima into manifolds. tanh nets have only discrete symmetries
    (permuting hidden units, flipping a unit's signs), which the decay term keeps, so
    their minima can be isolated points (those of the shipped example are). The loss
    is definable (in the o-minimal structure with exp), not semi-algebraic, and its
    gradient is only locally Lipschitz.

    ``theta`` may be one point ``(dim,)`` or a batch ``(..., dim)``; a batch is
    evaluated in one vectorised pass.
    """

    bounds = None
    # same attributes as reachkit.landscapes.Landscape, where they make sense here
    smooth = True
    lipschitz = None

    def __init__(self, X, Y, layer_sizes=None, activation="tanh", name=None, weight_decay=0.0):
        self.weight_decay = checks.real("weight_decay", weight_decay, low=0.0)
        X = np.asarray(X, dtype=float)
        Y = np.asarray(Y, dtype=float)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(
                f"X must be a 2-D array (n_samples, n_features) with n_samples, "
                f"n_features >= 1; got shape {X.shape}"
            )
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"Y must have shape (n_samples,) or (n_samples, n_outputs) with "
                f"n_samples={X.shape[0]}; got shape {Y.shape}"
            )
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
            raise ValueError("X and Y must contain only finite values")
        if layer_sizes is None:
            layer_sizes = (X.shape[1], 16, 16, Y.shape[1])
        try:
            sizes = tuple(int(s) for s in layer_sizes)
        except (TypeError, ValueError):
            raise ValueError(
                f"layer_sizes must be a sequence of positive integers; got {layer_sizes!r}"
            ) from None
        if (
            len(sizes) < 2
            or any(s < 1 for s in sizes)
            or any(float(s) != float(o) for s, o in zip(sizes, layer_sizes, strict=True))
        ):
            raise ValueError(
                f"layer_sizes must be a sequence of >= 2 positive integers; got {layer_sizes!r}"
            )
        if sizes[0] != X.shape[1]:
            raise ValueError(f"layer_sizes[0] must equal n_features={X.shape[1]}; got {sizes[0]}")
        if sizes[-1] != Y.shape[1]:
            raise ValueError(f"layer_sizes[-1] must equal n_outputs={Y.shape[1]}; got {sizes[-1]}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")

        self.X = X
        self.Y = Y
        self.n_samples = X.shape[0]
        self.layer_sizes = sizes
        self.activation = activation
        # slices of theta holding W_l and b_l
        self._slices = []
        off = 0
        for din, dout in zip(sizes[:-1], sizes[1:], strict=True):
            w = slice(off, off + dout * din)
            off += dout * din
            b = slice(off, off + dout)
            off += dout
            self._slices.append((w, b, (dout, din)))
        self.dim = off
        decay = f", weight decay {self.weight_decay:g}" if self.weight_decay else ""
        self.name = name or (
            "MLP(" + "-".join(map(str, sizes)) + f", {activation}, n={self.n_samples}{decay})"
        )

    def __repr__(self):
        return f"NetworkLandscape({self.name}, dim={self.dim})"

    @property
    def params(self):
        """No slider parameters (``Landscape`` compatibility)."""
        return {}

    def critical_points(self):
        """None known in closed form (``Landscape`` compatibility)."""
        return []

    def minima(self):
        return []

    def _grad_fn(self, x, **_params):
        return self.grad(x)

    # -- helpers ----------------------------------------------------------
    def _check(self, arr, argname):
        a = np.asarray(arr, dtype=float)
        if a.ndim < 1 or a.shape[-1] != self.dim:
            raise ValueError(
                f"{argname} must have shape ({self.dim},) or (..., {self.dim}); "
                f"got shape {np.shape(arr)}"
            )
        return a

    def unflatten(self, theta):
        """List of ``(W_l, b_l)`` views of a single parameter vector ``theta``."""
        theta = self._check(theta, "theta")
        if theta.ndim != 1:
            raise ValueError(f"theta must have shape ({self.dim},); got shape {theta.shape}")
        return [(theta[w].reshape(shape), theta[b]) for w, b, shape in self._slices]

    def predict(self, theta, X=None):
        """Network outputs ``f(x)`` for the training inputs (or given ``X``)."""
        params = self.unflatten(theta)
        h = self.X if X is None else np.asarray(X, dtype=float)
        if h.ndim != 2 or h.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (n, {self.layer_sizes[0]}); got shape {h.shape}")
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = _act(self.activation, h, 0)[0]
        return h

    def _value_grad(self, T):
        """Loss and gradient at each row of ``T`` (shape (m, dim)), in one batched
        forward/backward pass (``delta`` carries a leading axis of size m)."""
        m = T.shape[0]
        params = [(T[:, w].reshape((m,) + shape), T[:, b]) for w, b, shape in self._slices]
        a, d1s = [self.X], []
        for i, (W, b) in enumerate(params):
            z = a[-1] @ W.transpose(0, 2, 1) + b[:, None, :]
            if i < len(params) - 1:
                s, d1 = _act(self.activation, z, 1)
                a.append(s)
                d1s.append(d1)
        r = z - self.Y
        loss = 0.5 * np.sum(r * r, axis=(1, 2)) / self.n_samples
        G = np.empty_like(T)
        delta = r / self.n_samples  # dL/dz_L, shape (m, n, d_L)
        for ell in range(len(params) - 1, -1, -1):
            w, b, _shape = self._slices[ell]
            G[:, w] = (delta.transpose(0, 2, 1) @ a[ell]).reshape(m, -1)
            G[:, b] = delta.sum(axis=1)
            if ell > 0:
                delta = (delta @ params[ell][0]) * d1s[ell - 1]
        if self.weight_decay:
            loss = loss + 0.5 * self.weight_decay * np.sum(T * T, axis=1)
            G += self.weight_decay * T
        return loss, G

    def _hvp_many(self, theta, V):
        """Exact Hessian times each row of ``V`` (shape (k, dim)) at one theta.

        Pearlmutter's R-operator R{.} = d/dr (.)(theta + r v) at r = 0, applied to
        the forward and backward passes, vectorised over the k directions::

            R z_l = R a_{l-1} W_l^T + a_{l-1} V_l^T + c_l,   R a_l = sigma'(z_l) R z_l
            delta_L = (z_L - y)/n,                            R delta_L = R z_L / n
            gW_l = delta_l^T a_{l-1}  ->  R gW_l = R delta_l^T a_{l-1} + delta_l^T R a_{l-1}
            gb_l = sum delta_l        ->  R gb_l = sum R delta_l
            delta_{l-1} = (delta_l W_l) * sigma'(z_{l-1})  ->
            R delta_{l-1} = (R delta_l W_l + delta_l V_l) * sigma'(z_{l-1})
                            + (delta_l W_l) * sigma''(z_{l-1}) * R z_{l-1}
        """
        params = self.unflatten(theta)
        k = V.shape[0]
        n = self.n_samples
        L = len(params)
        dirs = [(V[:, w].reshape((k,) + shape), V[:, b]) for w, b, shape in self._slices]
        # forward + R-forward
        a = [self.X]
        Ra = [np.zeros((k,) + self.X.shape)]
        zs, Rzs, d1s, d2s = [], [], [], []
        for ell, ((W, b), (VW, Vb)) in enumerate(zip(params, dirs, strict=True)):
            z = a[-1] @ W.T + b
            Rz = Ra[-1] @ W.T + a[-1] @ VW.transpose(0, 2, 1) + Vb[:, None, :]
            zs.append(z)
            Rzs.append(Rz)
            if ell < L - 1:
                s, d1, d2 = _act(self.activation, z)
                d1s.append(d1)
                d2s.append(d2)
                a.append(s)
                Ra.append(Rz * d1)
        # backward + R-backward
        out = np.empty((k, self.dim))
        delta = (zs[-1] - self.Y) / n  # (n, dL)
        Rdelta = Rzs[-1] / n  # (k, n, dL)
        for ell in range(L - 1, -1, -1):
            w, b, shape = self._slices[ell]
            RgW = Rdelta.transpose(0, 2, 1) @ a[ell]
            if ell > 0:  # R a_0 = 0
                RgW += delta.T @ Ra[ell]
            out[:, w] = RgW.reshape(k, -1)
            out[:, b] = Rdelta.sum(axis=1)
            if ell > 0:
                W = params[ell][0]
                VW = dirs[ell][0]
                back = delta @ W  # (n, d_{l-1})
                Rback = Rdelta @ W + delta @ VW
                d1, d2 = d1s[ell - 1], d2s[ell - 1]
                Rdelta = Rback * d1 + (back * d2) * Rzs[ell - 1]
                delta = back * d1
        if self.weight_decay:
            out += self.weight_decay * V
        return out

    # -- public API -------------------------------------------------------
    def value(self, theta):
        """Loss ``1/(2n) sum_i ||f(x_i) - y_i||^2 + (weight_decay/2)|theta|^2``;
        shape ``theta.shape[:-1]``."""
        return self.value_and_grad(theta)[0]

    def value_and_grad(self, theta):
        """``(value(theta), grad(theta))`` from one (batched) forward/backward pass."""
        t = self._check(theta, "theta")
        loss, G = self._value_grad(t.reshape(-1, self.dim))
        if t.ndim == 1:
            return float(loss[0]), G[0]
        return loss.reshape(t.shape[:-1]), G.reshape(t.shape)

    def grad(self, theta):
        """Gradient ``dL/dtheta`` by backprop: ``delta_L = (f - y)/n``,
        ``dL/dW_l = delta_l^T a_{l-1}``, ``dL/db_l = sum_i delta_l``,
        ``delta_{l-1} = (delta_l W_l) * sigma'(z_{l-1})``, plus
        ``weight_decay * theta``. Shape of ``theta``."""
        return self.value_and_grad(theta)[1]

    def hvp(self, theta, v):
        """Exact Hessian-vector product ``H(theta) v`` (R-operator, see
        ``_hvp_many``). ``theta`` and ``v`` of shape ``(dim,)`` or ``(..., dim)``,
        broadcast against each other over the leading axes."""
        t = self._check(theta, "theta")
        u = self._check(v, "v")
        if t.ndim == 1:
            return self._hvp_many(t, u.reshape(-1, self.dim)).reshape(u.shape)
        t, u = np.broadcast_arrays(t, u)
        tf, uf = t.reshape(-1, self.dim), u.reshape(-1, self.dim)
        out = np.array([self._hvp_many(a, b[None])[0] for a, b in zip(tf, uf, strict=True)])
        return out.reshape(t.shape)

    def hess(self, theta):
        """Full Hessian ``(dim, dim)`` (or ``(..., dim, dim)``): the HVP applied
        to all identity columns at once, then symmetrised ``(H + H^T)/2``
        (the raw product is symmetric up to rounding). Only for small ``dim``."""
        t = self._check(theta, "theta")
        eye = np.eye(self.dim)
        if t.ndim == 1:
            H = self._hvp_many(t, eye)
            return 0.5 * (H + H.T)
        flat = t.reshape(-1, self.dim)
        Hs = [self._hvp_many(x, eye) for x in flat]
        return np.array([0.5 * (H + H.T) for H in Hs]).reshape(t.shape + (self.dim,))

    def init(self, seed=0, scale=1.0):
        """LeCun-normal initial point: ``W_l ~ N(0, scale^2 / d_{l-1})``, ``b_l = 0``."""
        return self._init(np.random.default_rng(checks.seed("seed", seed)), checks.real("scale", scale, low=0.0))

    def _init(self, rng, scale=1.0):
        theta = np.zeros(self.dim)
        with np.errstate(under="ignore"):  # a tiny scale: weights round to subnormals or 0
            for w, _b, (dout, din) in self._slices:
                theta[w] = scale * rng.standard_normal(dout * din) / np.sqrt(din)
        return theta

    def sharpness(self, theta, **kwargs):
        """Largest Hessian eigenvalue at ``theta`` (see :func:`top_eigenvalue`)."""
        t = _point(self, theta)
        return top_eigenvalue(lambda v: self.hvp(t, v), self.dim, **kwargs)[0]


# ---------------------------------------------------------------------------
# top eigenvalue
# ---------------------------------------------------------------------------
def top_eigenvalue(hvp, dim, n_iter=200, tol=1e-6, seed=0, v0=None, ncv=None):
    """Largest *algebraic* eigenvalue of a symmetric operator given by ``hvp``.

    Method: implicitly restarted Lanczos (ARPACK, ``scipy.sparse.linalg.eigsh``
    on a ``LinearOperator``) with ``which='LA'``. Lanczos is chosen over power
    iteration because (i) it targets the algebraically largest eigenvalue
    directly, whereas power iteration finds the largest in *absolute value* and
    a network Hessian can have negative eigenvalues larger in magnitude than
    the top positive one; (ii) it converges much faster when the top of the
    spectrum is clustered. ``v0`` (e.g. the previous eigenvector along a GD run)
    warm-starts the Krylov space; without it the start vector is
    ``N(0, I)`` from ``seed``.

    Parameters: ``n_iter`` maximum number of restarts (ARPACK ``maxiter``),
    ``tol`` relative accuracy of the Ritz value, ``ncv`` Krylov dimension
    (default ``min(dim, 20)``). For ``dim <= 2`` the matrix is built and solved
    densely. Returns ``(eigenvalue, unit eigenvector)``. If ARPACK does not
    converge the best Ritz pair found is returned (the value is then a lower
    bound of the true maximum).
    """
    if not callable(hvp):
        raise ValueError("hvp must be a callable v -> H v")
    dim = checks.integer("dim", dim, low=1)
    n_iter = checks.integer("n_iter", n_iter, low=1)
    tol = checks.real("tol", tol, low=0.0)  # 0: machine precision
    ncv = min(dim, 20) if ncv is None else checks.integer("ncv", ncv, low=1)
    if v0 is None:
        v0 = np.random.default_rng(checks.seed("seed", seed)).standard_normal(dim)
    else:
        v0 = checks.array("v0", v0)
        if v0.shape != (dim,):
            raise ValueError(f"v0 must have shape ({dim},); got shape {v0.shape}")
        if not np.any(v0):
            raise ValueError("v0 must be non-zero")

    def mv(v):
        return np.asarray(hvp(np.asarray(v, dtype=float).ravel()), dtype=float).ravel()

    if dim <= 2:
        H = np.column_stack([mv(e) for e in np.eye(dim)])
        w, U = np.linalg.eigh(0.5 * (H + H.T))
        return float(w[-1]), U[:, -1]

    ncv = min(max(ncv, 3), dim)
    op = LinearOperator((dim, dim), matvec=mv, dtype=float)
    try:
        w, U = eigsh(op, k=1, which="LA", v0=v0, ncv=ncv, maxiter=int(n_iter), tol=tol)
        lam, u = float(w[0]), U[:, 0]
    except ArpackNoConvergence as err:  # pragma: no cover - rare
        if err.eigenvalues.size:
            lam, u = float(err.eigenvalues[-1]), err.eigenvectors[:, -1]
        else:
            u = v0 / np.linalg.norm(v0)
            lam = float(u @ mv(u))
    u = u / np.linalg.norm(u)
    return lam, u


# ---------------------------------------------------------------------------
# gradient descent at the edge of stability
# ---------------------------------------------------------------------------
@dataclass
class EoSResult:
    """Outcome of :func:`edge_of_stability`.

    ``iterations`` 0..n_steps, ``loss[k] = L(theta_k)``; ``sharpness[j]`` is the
    top Hessian eigenvalue at ``theta_{sharpness_iterations[j]}``;
    ``threshold = 2/step`` is the stability limit of GD on a quadratic.
    ``diverged`` is True if the loss became non-finite (later entries NaN).
    ``seconds`` is the CPU time of the run, ``info["n_hvp"]`` the number of
    Hessian-vector products spent on sharpness.
    """

    iterations: np.ndarray
    loss: np.ndarray
    sharpness_iterations: np.ndarray
    sharpness: np.ndarray
    step: float
    threshold: float
    theta: np.ndarray
    diverged: bool = False
    seconds: float = 0.0
    info: dict = field(default_factory=dict)

    def relative_sharpness(self):
        """``sharpness / threshold`` (= ``step * sharpness / 2``)."""
        return self.sharpness / self.threshold


def edge_of_stability(
    landscape,
    theta0,
    step,
    n_steps,
    sharpness_every=10,
    seed=0,
    eig_tol=1e-4,
    eig_ncv=10,
):
    """Full-batch GD ``theta_{k+1} = theta_k - step * grad L(theta_k)`` for
    ``n_steps`` steps, recording the loss at every iterate and the sharpness
    (largest Hessian eigenvalue, :func:`top_eigenvalue` warm-started from the
    previous eigenvector) every ``sharpness_every`` iterates and at the last.
    ``seed`` seeds the first eigenvector start; ``eig_tol`` and ``eig_ncv``
    go to :func:`top_eigenvalue` (a Krylov dimension of 10 suffices with the
    warm start). Returns an :class:`EoSResult`.
    """
    if not hasattr(landscape, "value_and_grad") or not hasattr(landscape, "hvp"):
        raise ValueError("landscape must provide value_and_grad(theta) and hvp(theta, v)")
    theta = _point(landscape, theta0, "theta0")
    step = checks.real("step", step, positive=True)
    n_steps = checks.integer("n_steps", n_steps, low=0)
    sharpness_every = checks.integer("sharpness_every", sharpness_every, low=1)
    seed = checks.seed("seed", seed)
    eig_tol = checks.real("eig_tol", eig_tol, low=0.0)
    eig_ncv = checks.integer("eig_ncv", eig_ncv, low=1)

    t0 = time.process_time()
    loss = np.full(n_steps + 1, np.nan)
    s_its = sorted(set(range(0, n_steps + 1, sharpness_every)) | {n_steps})
    s_its = np.array(s_its, dtype=int)
    sharp = np.full(s_its.size, np.nan)
    v = None
    j = 0
    diverged = False
    n_hvp = [0]

    def sharp_at(th, v0):
        def mv(u):
            n_hvp[0] += 1
            return landscape.hvp(th, u)

        try:
            return top_eigenvalue(mv, landscape.dim, tol=eig_tol, seed=seed, v0=v0, ncv=eig_ncv)
        except (ArpackError, ValueError, np.linalg.LinAlgError):  # e.g. inf/NaN curvature
            return np.nan, None

    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_steps + 1):
            f, g = landscape.value_and_grad(theta)
            loss[k] = f
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                diverged = True
                break
            if j < s_its.size and s_its[j] == k:
                sharp[j], v = sharp_at(theta, v)
                j += 1
            if k < n_steps:
                theta = theta - step * g
    return EoSResult(
        iterations=np.arange(n_steps + 1),
        loss=loss,
        sharpness_iterations=s_its,
        sharpness=sharp,
        step=step,
        threshold=2.0 / step,
        theta=theta,
        diverged=diverged,
        seconds=time.process_time() - t0,
        info={"n_hvp": n_hvp[0]},
    )


# ---------------------------------------------------------------------------
# defaults
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EoSDefaults:
    """Settings of the EoS experiment (see :func:`eos_defaults`)."""

    n_samples: int = 64
    n_features: int = 4
    data_seed: int = 0
    teacher_gain: float = 3.0
    target_scale: float = 2.5
    hidden: tuple = (16, 16)  # hidden widths; layer_sizes = (n_features, *hidden, 1)
    activation: str = "tanh"
    init_seed: int = 0
    step: float = 0.25
    steps: tuple = (0.25, 0.125, 0.0625)
    n_steps: int = 2000
    sharpness_every: int = 5
    warmup: int = 500  # iterations of the initial phase, excluded from the band

    @property
    def small_step(self):
        """The step 4 times smaller than :attr:`step`."""
        return self.step / 4


def eos_defaults():
    """Default settings for the edge-of-stability picture (an :class:`EoSDefaults`).

    Data: ``make_dataset(64, 4, seed=0)`` (tanh teacher, gain 3, amplitude 2.5).
    Model: MLP 4-16-16-1, tanh, LeCun init with seed 0 (``dim = 369``).
    GD for 2000 steps at ``step = 0.25`` (``2/step = 8``) and at 0.125 and
    0.0625 (= step/4); sharpness sampled every 5 steps.

    Measured (numpy 2.4 / scipy 1.17, sharpness at *every* step; ``rel`` is
    sharpness / (2/step)):

    * ``step = 0.25``: sharpness 3.17 at init (rel 0.40); progressive
      sharpening reaches rel 0.9 at step 164 and 1.0 at step 255, overshoots
      to a maximum rel 1.16 at step 487, then stays in the band
      ``[0.87, 1.07] x 2/step`` after step 500 (``[0.94, 1.07]`` after 600,
      ``[0.97, 1.02]`` after 1000; median 1.00). Overshoot happens because
      just above ``2/step`` the oscillation along the top eigenvector grows only
      by a factor ``|1 - step*S|`` (barely > 1) per step, so it takes tens of
      steps to build up; the oscillation then pushes GD to flatter regions
      (self-stabilisation), sharpness drops slightly below ``2/step`` and
      sharpens again - the swings damp out over the run.
      Loss: 1.40 -> 0.0020, decreasing overall but non-monotonically (550 of
      2000 steps increase it; spikes e.g. 0.010 at step 400 -> 0.031 at 500).
    * ``step = 0.125``: sharpness rises to 10.3 (rel 0.64; above 8, the
      ceiling of the ``step = 0.25`` run), loss monotone, 0.0033 at the end.
    * ``step = 0.0625``: sharpness ends at 9.1 = rel 0.28 of its own
      ``2/step = 32``, loss monotone, 0.0082 at the end.

    Over 12 (data seed, init seed) pairs in 0..3 x 0..2 the band after step
    800 stays within ``[0.85, 1.14] x 2/step`` (sampled every 5 steps), 11/12
    runs reach rel 0.9 before step 800 (the last one is still sharpening,
    with a monotone loss), and the step/4 run ends below rel 0.37.
    Cost: about 1 s CPU per 2000-step run with sharpness every 5 steps
    (~11 HVPs per warm-started Lanczos call; an HVP costs ~0.2 ms, a
    loss+gradient ~0.1 ms), 2.5-3.5 s for all three runs.
    """
    return EoSDefaults()


def default_landscape(d: EoSDefaults | None = None):
    """The :class:`NetworkLandscape` of the default experiment and its initial theta."""
    d = d or eos_defaults()
    X, Y = make_dataset(
        d.n_samples,
        d.n_features,
        d.data_seed,
        teacher_gain=d.teacher_gain,
        target_scale=d.target_scale,
    )
    land = NetworkLandscape(X, Y, (d.n_features, *d.hidden, Y.shape[1]), activation=d.activation)
    return land, land.init(d.init_seed)


def run_eos_experiment(d: EoSDefaults | None = None, steps=None, **kwargs):
    """GD from the default init at each step size in ``steps`` (default
    ``d.steps``). Extra keyword arguments go to :func:`edge_of_stability`.
    Returns ``{step: EoSResult}``."""
    d = d or eos_defaults()
    land, theta0 = default_landscape(d)
    kwargs.setdefault("sharpness_every", d.sharpness_every)
    return {
        float(s): edge_of_stability(land, theta0, s, d.n_steps, **kwargs)
        for s in (d.steps if steps is None else steps)
    }


# ---------------------------------------------------------------------------
# minima of a network's loss
# ---------------------------------------------------------------------------
DENSE_MAX_DIM = 100  # up to this many parameters, Hessians are formed and factorised densely
_BLAS = {"controller": None, "depth": 0}


def _one_blas_thread(fn):
    """Run ``fn`` with BLAS (OpenBLAS) held to one thread (threadpoolctl). The linear algebra
    here is on matrices of a few dozen rows, where more threads only spin: on a busy 2-core
    machine ``find_minima(land, 40)`` took 113 s wall with OpenBLAS's default threads and
    9.7 s with one. Nested calls keep the outer limit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _BLAS["depth"]:
            return fn(*args, **kwargs)
        if _BLAS["controller"] is None:
            from threadpoolctl import ThreadpoolController

            _BLAS["controller"] = ThreadpoolController()
        _BLAS["depth"] += 1
        try:
            with _BLAS["controller"].limit(limits=1, user_api="blas"):
                return fn(*args, **kwargs)
        finally:
            _BLAS["depth"] -= 1

    return wrapper


def _point(landscape, theta, name="theta"):
    """``theta`` as one finite parameter vector of ``landscape``."""
    t = checks.array(name, theta)
    if t.shape != (landscape.dim,):
        raise ValueError(f"{name} must have shape ({landscape.dim},); got shape {np.shape(theta)}")
    return t


def _check_network(landscape):
    if not isinstance(landscape, NetworkLandscape):
        raise TypeError(f"landscape must be a NetworkLandscape; got {type(landscape).__name__}")
    return landscape


def _operator(landscape, theta, shift=0.0, scale=1.0):
    """``shift I + scale H(theta)`` as a scipy LinearOperator on Hessian-vector products."""

    def mv(v):
        v = np.asarray(v, dtype=float).ravel()
        return shift * v + scale * landscape.hvp(theta, v)

    return LinearOperator((landscape.dim, landscape.dim), matvec=mv, rmatvec=mv, dtype=float)


@_one_blas_thread
def hessian_extremes(landscape, theta):
    """``(lowest, highest)`` Hessian eigenvalue at ``theta``: dense up to
    ``DENSE_MAX_DIM`` parameters, Lanczos on Hessian-vector products above."""
    t = _point(landscape, theta)
    if landscape.dim <= DENSE_MAX_DIM:
        w = np.linalg.eigvalsh(landscape.hess(t))
        return float(w[0]), float(w[-1])
    op = _operator(landscape, t)
    hi = eigsh(op, k=1, which="LA", tol=1e-8, ncv=min(landscape.dim, 24), return_eigenvectors=False)
    lo = eigsh(op, k=1, which="SA", tol=1e-8, ncv=min(landscape.dim, 24), return_eigenvectors=False)
    return float(lo[0]), float(hi[0])


@_one_blas_thread
def newton_polish(landscape, theta, max_iter=50, gtol=1e-12):
    """Newton's method on ``grad L = 0`` from ``theta``: ``theta <- theta - H^{-1} grad L``
    (a dense solve up to ``DENSE_MAX_DIM`` parameters, MINRES on Hessian-vector products
    above; MINRES because H may be indefinite near a saddle). Stops one step after
    ``|grad L| <= gtol`` (a small gradient along a flat direction can still mean a distance
    1/lambda times larger), or when the gradient stops shrinking for 3 iterations, or after
    ``max_iter`` iterations. Returns ``(point with the smallest gradient seen, its |grad L|)``;
    Newton converges to any nearby critical point, minimum or saddle, so the caller
    classifies the point.
    """
    from scipy.sparse.linalg import minres

    t = _point(landscape, theta)
    max_iter = checks.integer("max_iter", max_iter, low=0)
    gtol = checks.real("gtol", gtol, low=0.0)
    g = landscape.grad(t)
    best, best_g, stale, last = t, float(np.linalg.norm(g)), 0, False
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if stale >= 3 or last:
                break
            last = best_g <= gtol  # one more step once there: it moves the point along flat directions too
            if landscape.dim <= DENSE_MAX_DIM:
                H = landscape.hess(t)
                try:
                    d = np.linalg.solve(H, g)
                except np.linalg.LinAlgError:
                    d = np.linalg.lstsq(H, g, rcond=None)[0]
            else:
                d = minres(_operator(landscape, t), g, rtol=1e-14, maxiter=10 * landscape.dim)[0]
            t = t - d
            if not np.all(np.isfinite(t)):
                break
            g = landscape.grad(t)
            gn = float(np.linalg.norm(g))
            if not np.isfinite(gn):
                break
            stale = stale + 1 if gn >= best_g else 0
            if gn < best_g:
                best, best_g = t, gn
    return best, best_g


@dataclass(frozen=True)
class Minimum:
    """A strict local minimum of a network's loss: ``theta``, ``loss``, ``sharpness``
    (largest Hessian eigenvalue) and ``smallest_eigenvalue`` (> 0: the Hessian is
    positive definite), ``grad_norm`` = |grad L(theta)| after Newton's polish, and
    ``count``: how many searched starts ended here (up to the loss's symmetries)."""

    theta: np.ndarray = field(repr=False)
    loss: float
    sharpness: float
    smallest_eigenvalue: float
    grad_norm: float
    count: int = 1

    @property
    def threshold(self):
        """``2 / sharpness``: constant-step GD is linearly unstable here above this step."""
        return 2.0 / self.sharpness


@_one_blas_thread
def as_minimum(landscape, theta, gtol=1e-10):
    """The :class:`Minimum` at ``theta`` after Newton's polish, or a ValueError saying why
    ``theta`` is not (within rounding) a strict local minimum: Newton's method moves it by
    more than 1e-6 (1 + |theta|) or does not converge (not a critical point), or the
    Hessian there is not positive definite."""
    _check_network(landscape)
    theta = _point(landscape, theta)
    t, g = newton_polish(landscape, theta)
    moved = float(np.linalg.norm(t - theta))
    if not (g <= gtol and moved <= 1e-6 * (1.0 + np.linalg.norm(theta))):
        raise ValueError(f"theta is not a critical point: |grad L(theta)| = {np.linalg.norm(landscape.grad(theta)):.3g}"
                         f" (Newton's method moved it by {moved:.3g}, to |grad L| = {g:.3g})")
    lo, hi = hessian_extremes(landscape, t)
    if not lo > 0:
        raise ValueError(f"theta is a critical point but not a strict minimum: smallest Hessian eigenvalue {lo:.3g}")
    return Minimum(t, float(landscape.value(t)), hi, lo, g)


def _same_minimum(a: Minimum, b: Minimum, rtol=1e-7) -> bool:
    """Equal loss, extreme eigenvalues and weight norm: the loss's symmetries (permuting
    hidden units, flipping a tanh unit's signs) keep all four, so symmetric copies of one
    minimum compare equal."""
    pairs = ((a.loss, b.loss), (a.sharpness, b.sharpness),
             (a.smallest_eigenvalue, b.smallest_eigenvalue),
             (np.linalg.norm(a.theta), np.linalg.norm(b.theta)))
    return all(abs(x - y) <= rtol * max(abs(x), abs(y), 1e-12) for x, y in pairs)


@_one_blas_thread
def find_minima(landscape, n_starts=40, seed=0, *, init_scale=1.0, gtol=1e-12, max_iter=5000):
    """Strict local minima of the loss found from ``n_starts`` LeCun-normal starts.

    Each start (``landscape.init`` with scale ``init_scale``; start ``i`` drawn from
    ``numpy.random.default_rng([seed, i])``) is minimised by L-BFGS (scipy, at most
    ``max_iter`` iterations, to |grad| <= 1e-6), then polished by Newton's method
    (:func:`newton_polish`). A start counts when the polished point has
    ``|grad L| <= gtol`` and a positive-definite Hessian. One :class:`Minimum` per
    distinct minimum, up to the symmetries of the loss, with ``count`` = how many starts
    ended there; sorted by loss, lowest first. Saddles and runs that did not converge are
    dropped (``len`` of the counts is at most ``n_starts``).
    """
    from scipy.optimize import minimize

    _check_network(landscape)
    n_starts = checks.integer("n_starts", n_starts, low=1)
    seed = checks.seed("seed", seed)
    init_scale = checks.real("init_scale", init_scale, positive=True)
    gtol = checks.real("gtol", gtol, positive=True)
    max_iter = checks.integer("max_iter", max_iter, low=1)
    found: list[Minimum] = []
    for i in range(n_starts):
        theta0 = landscape._init(np.random.default_rng([seed, i]), init_scale)
        with np.errstate(all="ignore"):
            res = minimize(landscape.value_and_grad, theta0, jac=True, method="L-BFGS-B",
                           options={"maxiter": max_iter, "gtol": 1e-6, "ftol": 0.0})
        if not np.all(np.isfinite(res.x)):
            continue
        t, g = newton_polish(landscape, res.x)
        if not g <= gtol:
            continue
        lo, hi = hessian_extremes(landscape, t)
        if not lo > 0:
            continue
        new = Minimum(t, float(landscape.value(t)), hi, lo, g)
        for j, old in enumerate(found):
            if _same_minimum(old, new):
                found[j] = Minimum(old.theta, old.loss, old.sharpness, old.smallest_eigenvalue,
                                   old.grad_norm, old.count + 1)
                break
        else:
            found.append(new)
    return sorted(found, key=lambda m: m.loss)


def minima_table(minima, target=None):
    """The minima as a text table (loss, sharpness, 2/sharpness, smallest eigenvalue, how
    often found); ``target`` (one of them) is marked with an arrow."""
    rows = ["   loss      sharpness  2/sharpness  smallest eigenvalue  found"]
    for m in minima:
        mark = "<-" if target is not None and _same_minimum(m, target) else ""
        rows.append(f"   {m.loss:<9.4f} {m.sharpness:<10.2f} {m.threshold:<12.4f} "
                    f"{m.smallest_eigenvalue:<20.3g} {m.count:<5d} {mark}")
    return "\n".join(rows)


def random_inits(landscape, n, seed=0, scale=1.0):
    """``n`` LeCun-normal initial points (see :meth:`NetworkLandscape.init`), shape
    ``(n, dim)``; row ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so a
    row does not change with ``n``."""
    _check_network(landscape)
    n = checks.integer("n", n, low=1)
    seed = checks.seed("seed", seed)
    scale = checks.real("scale", scale, positive=True)
    return np.stack([landscape._init(np.random.default_rng([seed, i]), scale) for i in range(n)])


def typical_init_loss(landscape, n_inits=128, seed=0):
    """The median loss over :func:`random_inits` ``(landscape, n_inits, seed)``: the loss
    level of a randomly initialised network."""
    return float(np.median(landscape.value(random_inits(landscape, n_inits, seed))))


# ---------------------------------------------------------------------------
# gradient descent on a network, tracked
# ---------------------------------------------------------------------------
def _fixed_schedule(step):
    """A schedule whose steps depend on k only (a number is a constant step)."""
    from .schedules import Constant, as_schedule

    if isinstance(step, (int, float, np.integer, np.floating)) or not hasattr(step, "sizes"):
        step = checks.real("step", step, positive=True)
    sched = as_schedule(step)
    if sched.adaptive:
        raise ValueError(f"step must be a number or a fixed schedule (its steps depend on k only); "
                         f"got the adaptive rule {sched}")
    if isinstance(sched, Constant) and np.ndim(sched.a):
        raise ValueError("step must be one number here, not one per start")
    return sched


@dataclass
class Descent:
    """Full-batch GD ``theta_{k+1} = theta_k - a_k grad L(theta_k)`` from one start.

    ``iterations`` 0..n_steps; ``loss[k] = L(theta_k)``; ``distance[k] = |theta_k - target|``
    (NaN without a target); ``sharpness[j]`` = largest Hessian eigenvalue at
    ``theta_{sharpness_iterations[j]}`` (empty without ``sharpness_every``); ``theta`` the
    last iterate; ``diverged`` if the loss became non-finite (later entries NaN).
    """

    iterations: np.ndarray
    loss: np.ndarray
    distance: np.ndarray
    sharpness_iterations: np.ndarray
    sharpness: np.ndarray
    theta: np.ndarray = field(repr=False)
    schedule: str
    constant_step: float | None = None
    diverged: bool = False
    seconds: float = 0.0

    @property
    def threshold(self):
        """``2 / step`` for a constant step (None otherwise)."""
        return None if self.constant_step is None else 2.0 / self.constant_step

    def first_within(self, tol):
        """The first k with ``distance[k] <= tol``, or -1 if there is none."""
        hit = np.flatnonzero(self.distance <= checks.real("tol", tol, positive=True))
        return int(hit[0]) if hit.size else -1


@_one_blas_thread
def descend(landscape, theta0, step, n_steps, *, target=None, sharpness_every=None):
    """GD on a network from ``theta0`` with a number or fixed schedule ``step`` for
    ``n_steps`` steps, recording the loss and the distance to ``target`` at every iterate
    and the sharpness every ``sharpness_every`` iterates (and at the last). A
    :class:`Descent`."""
    from .schedules import Constant

    _check_network(landscape)
    theta = _point(landscape, theta0, "theta0").copy()
    sched = _fixed_schedule(step)
    n_steps = checks.integer("n_steps", n_steps, low=0)
    x_star = None if target is None else _point(landscape, getattr(target, "theta", target), "target")
    if sharpness_every is not None:
        s_its = _record_rows(n_steps, checks.integer("sharpness_every", sharpness_every, low=1))
    else:
        s_its = np.zeros(0, dtype=int)
    t0 = time.process_time()
    sizes = np.broadcast_to(sched.sizes(np.arange(n_steps)), (n_steps,))
    loss, dist = np.full(n_steps + 1, np.nan), np.full(n_steps + 1, np.nan)
    sharp = np.full(s_its.size, np.nan)
    diverged, j = False, 0
    with np.errstate(all="ignore"):
        for k in range(n_steps + 1):
            f, g = landscape.value_and_grad(theta)
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                diverged = True
                break
            loss[k] = f
            if x_star is not None:
                dist[k] = np.linalg.norm(theta - x_star)
            if j < s_its.size and s_its[j] == k:
                sharp[j] = hessian_extremes(landscape, theta)[1]
                j += 1
            if k < n_steps:
                theta = theta - sizes[k] * g
    constant = float(sched.a) if isinstance(sched, Constant) else None
    return Descent(np.arange(n_steps + 1), loss, dist, s_its, sharp, theta, str(sched), constant, diverged,
                   time.process_time() - t0)


@_one_blas_thread
def descend_many(landscape, starts, step, n_steps, record_every=None, *, record_at=None, power=0.0):
    """GD from every row of ``starts`` (shape (m, dim)) at once, for ``n_steps`` steps;
    ``step`` is a number, a fixed schedule, or one step per start (shape (m,)), which with
    ``power`` p > 0 decays as ``a_{k,i} = step_i / (k + 1)^p``. Returns the final points
    (m, dim), and the iterates recorded every ``record_every`` steps (and at the last), or at
    the increasing iterations ``record_at``, shape (n_rec, m, dim) (else None). A start
    whose gradient overflows is frozen and comes back as NaN."""
    _check_network(landscape)
    X = np.array(starts, dtype=float)
    if X.ndim != 2 or X.shape[1] != landscape.dim or not np.all(np.isfinite(X)):
        raise ValueError(f"starts must be a finite array of shape (m, {landscape.dim}); got shape {np.shape(starts)}")
    n_steps = checks.integer("n_steps", n_steps, low=0)
    power = checks.real("power", power, low=0.0)
    if np.ndim(step) == 1:
        a = np.array([checks.real("step", s, positive=True) for s in step])
        if a.shape != (X.shape[0],):
            raise ValueError(f"step must be one number or one per start ({X.shape[0]}); got {a.size}")
        sizes = lambda k: a[:, None] / (k + 1.0) ** power  # noqa: E731
    elif power:
        raise ValueError("power is for one step per start (an array); a schedule sets its own decay")
    else:
        sched = _fixed_schedule(step)
        sizes = lambda k: float(sched.sizes(k))  # noqa: E731
    if record_every is not None:  # the size first: the list of iterations itself can be huge
        every = checks.integer("record_every", record_every, low=1)
        n_rec = n_steps // every + 1 + (n_steps % every != 0)
    else:
        n_rec = 0 if record_at is None else np.size(record_at)
    checks.memory(f"recording {n_rec} iterates of {X.shape[0]} starts x {X.shape[1]} parameters", n_rec * X.size * 8,
                  "record fewer iterates (a larger record_every, a shorter record_at)")
    rows = _recorded(n_steps, record_every, record_at)
    rec, r = (None, 0) if rows is None else (np.empty((len(rows), *X.shape)), 0)
    bad = np.zeros(X.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        for k in range(n_steps + 1):
            while rec is not None and r < len(rows) and rows[r] == k:
                rec[r], r = X, r + 1
            if k == n_steps:
                break
            G = landscape.grad(X)
            bad |= ~np.all(np.isfinite(G), axis=1)
            X = X - sizes(k) * np.where(bad[:, None], 0.0, G)
    X[bad] = np.nan
    return X, rec


def _recorded(n_steps, record_every, record_at):
    """The iterations to record: every ``record_every`` (and the last), or ``record_at``."""
    if record_every is not None and record_at is not None:
        raise ValueError("give record_every or record_at, not both")
    if record_every is not None:
        return _record_rows(n_steps, checks.integer("record_every", record_every, low=1))
    if record_at is None:
        return None
    its = np.asarray([checks.integer("record_at", k, low=0, high=n_steps) for k in np.ravel(record_at)])
    if not its.size or np.any(np.diff(its) <= 0):
        raise ValueError(f"record_at must be increasing iterations in [0, {n_steps}]; got {record_at!r}")
    return its


def _record_rows(n_steps, every):
    """The iterations 0, every, 2 every, ... and n_steps."""
    its = np.arange(0, n_steps + 1, every)
    return its if its[-1] == n_steps else np.append(its, n_steps)


@_one_blas_thread
def descend_batch(landscape, starts, steps, n_steps, record_every=None, *, record_at=None, power=0.0,
                  target=None):
    """GD from each row of ``starts``, row i with the step ``steps[i]`` (decaying as
    ``steps[i] / (k + 1)^power`` if ``power`` > 0), all in one batch (:func:`descend_many`);
    one :class:`Descent` per row, recorded every ``record_every`` steps or at ``record_at``
    (its ``iterations`` are the recorded steps), with the loss, the distance to ``target`` and
    the sharpness at each recorded iterate."""
    X = np.array(starts, dtype=float)
    a = np.array([checks.real("steps", v, positive=True) for v in np.ravel(steps)])
    if X.ndim != 2 or a.shape != (X.shape[0],):
        raise ValueError(f"steps must give one step per start ({np.shape(starts)[0]} starts); got {np.size(a)}")
    if record_every is None and record_at is None:
        raise ValueError("descend_batch records: give record_every or record_at")
    x_star = None if target is None else _point(landscape, getattr(target, "theta", target), "target")
    t0 = time.process_time()
    ends, rec = descend_many(landscape, X, a, n_steps, record_every, record_at=record_at, power=power)
    its = _recorded(n_steps, record_every, record_at)
    H = landscape.hess(rec.reshape(-1, landscape.dim))
    sharp = np.linalg.eigvalsh(H)[:, -1].reshape(rec.shape[:2])
    out = []
    for i, step in enumerate(a):
        R = rec[:, i]
        dist = np.full(its.size, np.nan) if x_star is None else np.linalg.norm(R - x_star, axis=1)
        name = f"constant step {step:g}" if not power else f"a/(k+1)^{power:g} with a = {step:g}"
        out.append(Descent(its, landscape.value(R), dist, its, sharp[:, i], R[-1], name,
                           None if power else float(step), bool(np.isnan(ends[i]).any())))
    seconds = (time.process_time() - t0) / max(len(out), 1)
    for d in out:
        d.seconds = seconds
    return out


# ---------------------------------------------------------------------------
# reaching a chosen minimum: the start, built backwards
# ---------------------------------------------------------------------------
def _preimage(landscape, y, a, counts):
    """The point x with ``x - a grad L(x) = y``: the fixed point of ``x <- y + a grad L(x)``
    (a contraction where ``a |H| < 1``, with factor about ``a |H|``), and Newton's method
    (conjugate gradients on ``(I - a H) d = r``, Hessian-vector products) if the fixed point
    converges slowly. Returns x (NaN if both fail)."""
    from scipy.sparse.linalg import cg

    x = y + a * landscape.grad(y)
    prev = np.inf
    for _ in range(200):
        x_new = y + a * landscape.grad(x)
        dx = float(np.linalg.norm(x_new - x))
        x = x_new
        counts["fixed-point iterations"] += 1
        if dx <= 4e-16 * (1.0 + np.linalg.norm(x)) or not np.isfinite(dx):
            break
        if dx > 0.9 * prev:  # stalled at rounding level, or contracting too slowly
            break
        prev = dx
    r = x - a * landscape.grad(x) - y
    tol = 1e-14 * (1.0 + np.linalg.norm(y))
    if np.all(np.isfinite(r)) and np.linalg.norm(r) <= tol:
        return x
    counts["Newton fallbacks"] += 1
    if not np.all(np.isfinite(x)):
        x = y.copy()
        r = x - a * landscape.grad(x) - y
    for _ in range(30):
        d = cg(_operator(landscape, x, 1.0, -a), r, rtol=1e-14, maxiter=10 * landscape.dim)[0]
        x = x - d
        r = x - a * landscape.grad(x) - y
        if not np.all(np.isfinite(r)):
            return np.full_like(y, np.nan)
        if np.linalg.norm(r) <= tol:
            break
    return x


def _backward(landscape, y0, sizes, level, counts):
    """Backward GD from ``y0``: step j solves ``x - sizes[j] grad L(x) = y`` for x, until
    the loss reaches ``level`` (or the sizes run out, or a solve fails). The orbit, last
    point first: ``orbit[0]`` is the start."""
    orbit = [y0]
    for a in sizes:
        if landscape.value(orbit[-1]) >= level:
            break
        x = _preimage(landscape, orbit[-1], float(a), counts)
        if not np.all(np.isfinite(x)):
            break
        orbit.append(x)
    return np.array(orbit[::-1])


def _landing(landscape, theta, x_star):
    """Distance from ``x_star`` of the critical point Newton's method lands on from
    ``theta`` (inf if it does not converge)."""
    if not np.all(np.isfinite(theta)):
        return np.inf
    t, g = newton_polish(landscape, theta)
    return float(np.linalg.norm(t - x_star)) if g <= 1e-10 else np.inf


def _landing_tol(x_star):
    return 1e-8 * (1.0 + float(np.linalg.norm(x_star)))


@_one_blas_thread
def lands_on(landscape, theta, minimum) -> bool:
    """Whether Newton's method from ``theta`` lands on ``minimum`` (a :class:`Minimum` or its
    parameters), to 1e-8 (1 + |minimum|): the test behind ``NetworkReach.reached``."""
    x_star = _point(landscape, getattr(minimum, "theta", minimum), "minimum")
    return bool(_landing(landscape, np.asarray(theta, dtype=float), x_star) <= _landing_tol(x_star))


@dataclass
class Sensitivity:
    """How the constructed start tolerates errors: for each ``scales[i]``, the start is moved
    by that distance in ``n_directions`` random directions, GD runs ``n_steps`` steps, and
    ``reached[i]`` counts the runs whose end Newton's method takes to the target;
    ``distance[i]`` is the median distance to the target at the end."""

    scales: np.ndarray
    n_directions: int
    n_steps: int
    reached: np.ndarray
    distance: np.ndarray

    def table(self):
        rows = [f"start moved by   reached (Newton from the end, after {self.n_steps} steps)   "
                "median distance at the end"]
        rows += [f"   {s:<13.0e} {r:>3d} / {self.n_directions:<40d} {d:.2g}"
                 for s, r, d in zip(self.scales, self.reached, self.distance, strict=True)]
        return "\n".join(rows)


@dataclass
class NetworkReach:
    """A start from which GD converges to a chosen minimum ``target`` of a network's loss.

    Built backwards: from ``y0 = target + offset * direction`` (``direction`` the top
    Hessian eigenvector), ``n_backward`` backward steps solve ``x - a_k grad L(x) = y`` until
    the loss reaches ``level`` (a random init's loss). ``orbit[0]`` is the start and
    ``orbit[-1]`` is y0: forward GD with the schedule from k = 0 maps ``orbit[k]`` to
    ``orbit[k + 1]``. Checks: ``preimage_residual`` = max_k |orbit[k] - a_k grad L(orbit[k])
    - orbit[k + 1]|; ``contraction[k] = a_k |H(orbit[k])|`` (all < 1: the GD map is locally
    invertible along the orbit and each preimage is the unique one where ``a |H| < 1``);
    ``amplification`` = largest singular value of the forward Jacobian
    prod_k (I - a_k H(orbit[k])) (how much a start error grows on the way to y0).

    ``forward`` is the GD run from the start (a :class:`Descent`); ``reached`` is True when
    Newton's method from its last iterate lands on the target (``landing_distance`` <=
    1e-8 (1 + |target|)): the run is in the target's basin, where GD goes on converging.
    The distance after a fixed number of steps does not decide it: along the flattest
    Hessian directions GD contracts by only ``1 - a lambda_min`` per step. ``start`` is None
    and ``note`` says why when no start is built (a summable schedule, a step with
    ``a |H| >= 1`` along the orbit, or a level not reached).
    """

    target: Minimum
    schedule: str
    level: float
    offset: float
    direction: np.ndarray = field(repr=False)
    start: np.ndarray | None = field(repr=False)
    orbit: np.ndarray = field(repr=False)
    n_backward: int
    preimage_residual: float
    contraction: np.ndarray = field(repr=False)
    amplification: float
    forward: Descent | None = field(repr=False)
    reached: bool
    landing_distance: float
    note: str
    construction_seconds: float
    check_seconds: float
    solver: dict
    landscape: object = field(repr=False, default=None)
    _schedule: object = field(repr=False, default=None)

    @_one_blas_thread
    def sensitivity(self, scales=(1e-12, 1e-9, 1e-6, 1e-3, 1e-2, 1e-1, 3e-1), n_directions=16,
                    seed=0, n_steps=None):
        """A :class:`Sensitivity` table: perturbed starts ``start + s u`` (``u`` uniform on
        the unit sphere, from ``default_rng(seed)``), GD for ``n_steps`` steps (default: the
        forward run's), then Newton's landing test, for each scale s."""
        if self.start is None:
            raise ValueError(f"no start was built: {self.note}")
        s = np.array([checks.real("scales", v, positive=True) for v in np.ravel(scales)])
        if not s.size:
            raise ValueError("scales must be a non-empty list of positive numbers")
        n_directions = checks.integer("n_directions", n_directions, low=1)
        rng = np.random.default_rng(checks.seed("seed", seed))
        n_steps = len(self.forward.loss) - 1 if n_steps is None else checks.integer("n_steps", n_steps, low=0)
        U = rng.standard_normal((n_directions, self.start.size))
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        starts = (self.start + s[:, None, None] * U).reshape(-1, self.start.size)
        ends, _ = descend_many(self.landscape, starts, self._schedule, n_steps)
        x_star = self.target.theta
        ok = np.array([_landing(self.landscape, e, x_star) <= _landing_tol(x_star) for e in ends])
        dist = np.linalg.norm(ends - x_star, axis=1)
        shape = (s.size, n_directions)
        return Sensitivity(s, n_directions, n_steps, ok.reshape(shape).sum(axis=1),
                           np.median(dist.reshape(shape), axis=1))


def _spectral_radius(landscape, theta):
    """max |eigenvalue| of H(theta)."""
    lo, hi = hessian_extremes(landscape, theta)
    return max(abs(lo), abs(hi))


def _amplification(landscape, orbit, sizes):
    """Largest singular value of prod_k (I - a_k H(orbit[k])), k = 0..N-1 applied first to
    last: densely up to ``DENSE_MAX_DIM`` parameters, else by Lanczos (svds) on products of
    Hessian-vector products."""
    from scipy.sparse.linalg import svds

    n, dim = len(sizes), landscape.dim
    if n == 0:
        return 1.0
    if dim <= DENSE_MAX_DIM:
        J = np.eye(dim)
        for x, a in zip(orbit[:n], sizes, strict=True):
            J = J - a * (landscape.hess(x) @ J)
        return float(np.linalg.norm(J, 2))

    def forward(v):
        v = np.asarray(v, dtype=float).ravel()
        for x, a in zip(orbit[:n], sizes, strict=True):
            v = v - a * landscape.hvp(x, v)
        return v

    def backward(v):
        v = np.asarray(v, dtype=float).ravel()
        for x, a in zip(orbit[:n][::-1], sizes[::-1], strict=True):
            v = v - a * landscape.hvp(x, v)
        return v

    op = LinearOperator((dim, dim), matvec=forward, rmatvec=backward, dtype=float)
    return float(svds(op, k=1, tol=1e-6, return_singular_vectors=False, random_state=0)[0])


@_one_blas_thread
def reach_minimum(landscape, minimum, step=0.01, *, level=None, offset=1e-5, direction=None,
                  n_forward=2000, sharpness_every=10, max_backward=100_000):
    """A start from which GD with ``step`` (a number or a fixed nonsummable schedule) converges
    to ``minimum`` (a :class:`Minimum` or a parameter vector at a strict minimum), built by
    running GD backwards from just next to it until the loss reaches ``level`` (default: the
    median loss of 128 random inits, :func:`typical_init_loss`). Returns a
    :class:`NetworkReach` with the backward orbit, its checks, the forward run
    (``n_forward`` steps, sharpness every ``sharpness_every``) and Newton's landing test.

    With a schedule that is not constant, the start must lead into the schedule's first
    steps: the number of backward steps N is searched (doubling, then bisection) so that the
    N backward steps use a_{N-1}, ..., a_0 and the loss reaches ``level`` at the start.
    Refused (``start`` None, ``note`` says why): summable steps (the path could not reach a
    far target), a step with ``a |H| >= 1`` along the orbit (the preimage need not be unique:
    the construction's guarantee fails), the level not reached within ``max_backward`` steps.
    """
    from .schedules import Constant

    _check_network(landscape)
    target = minimum if isinstance(minimum, Minimum) else as_minimum(landscape, minimum)
    x_star = _point(landscape, target.theta, "minimum")
    sched = _fixed_schedule(step)
    level = typical_init_loss(landscape) if level is None else checks.real("level", level)
    offset = checks.real("offset", offset, positive=True)
    n_forward = checks.integer("n_forward", n_forward, low=0)
    max_backward = checks.integer("max_backward", max_backward, low=1)
    if sharpness_every is not None:
        sharpness_every = checks.integer("sharpness_every", sharpness_every, low=1)
    if direction is None:
        w, V = np.linalg.eigh(landscape.hess(x_star)) if landscape.dim <= DENSE_MAX_DIM else (None, None)
        u = V[:, -1] if V is not None else top_eigenvalue(lambda v: landscape.hvp(x_star, v), landscape.dim)[1]
    else:
        u = _point(landscape, direction, "direction")
        if not np.linalg.norm(u) > 0:
            raise ValueError("direction must be a non-zero vector")
    u = u / np.linalg.norm(u)
    u = u * np.sign(u[np.argmax(np.abs(u))])  # a fixed sign: the largest component positive
    if not level > target.loss:
        raise ValueError(f"level must exceed the minimum's loss {target.loss:.6g}; got {level!r}")

    def refused(note, orbit=None, contraction=(), seconds=0.0, counts=None):
        empty = np.zeros((0, landscape.dim)) if orbit is None else orbit
        return NetworkReach(target, str(sched), level, offset, u, None, empty, max(len(empty) - 1, 0),
                            np.nan, np.asarray(contraction, dtype=float), np.nan, None, False, np.inf,
                            note, seconds, 0.0, counts or {}, landscape, sched)

    if sched.summable:
        return refused(f"No start: the steps ({sched}) are summable, so every path has length at most "
                       "sup |grad L| * sum a_k and stalls short of a far target.")
    y0 = x_star + offset * u
    counts = {"fixed-point iterations": 0, "Newton fallbacks": 0}
    t0 = time.perf_counter()
    if isinstance(sched, Constant):
        orbit = _backward(landscape, y0, np.full(max_backward, float(sched.a)), level, counts)
    else:
        def orbit_for(n):
            return _backward(landscape, y0, np.asarray(sched.sizes(np.arange(n)), float)[::-1],
                             np.inf, counts)

        def climbs(o):
            return np.isfinite(o).all() and landscape.value(o[0]) >= level

        hi = 1
        while not climbs(orbit := orbit_for(hi)) and hi < max_backward:
            hi = min(2 * hi, max_backward)
        lo = hi // 2
        if climbs(orbit):
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if climbs(o := orbit_for(mid)):
                    hi, orbit = mid, o
                else:
                    lo = mid
    seconds = time.perf_counter() - t0
    n = len(orbit) - 1
    sizes = np.broadcast_to(np.asarray(sched.sizes(np.arange(n)), float), (n,))
    if not (np.isfinite(orbit).all() and landscape.value(orbit[0]) >= level):
        return refused(f"No start: the backward orbit did not climb to the loss level {level:.4g} "
                       f"within {max_backward} steps (it reached {landscape.value(orbit[0]):.4g}).",
                       orbit, seconds=seconds, counts=counts)
    t1 = time.perf_counter()
    contraction = np.array([a * _spectral_radius(landscape, x) for x, a in zip(orbit[:n], sizes, strict=True)])
    if contraction.size and contraction.max() >= 1:
        k = int(np.argmax(contraction >= 1))
        return refused(f"No start: at backward point {k} (loss {landscape.value(orbit[k]):.4g}) the step "
                       f"{sizes[k]:g} times the Hessian's largest |eigenvalue| is {contraction[k]:.3g} >= 1, "
                       "so the GD map need not be invertible there and the preimage need not be unique. "
                       "Use a smaller step.", orbit, contraction, seconds, counts)
    residual = max((float(np.linalg.norm(orbit[k] - sizes[k] * landscape.grad(orbit[k]) - orbit[k + 1]))
                    for k in range(n)), default=0.0)
    amplification = _amplification(landscape, orbit, sizes)
    checked = time.perf_counter() - t1
    forward = descend(landscape, orbit[0], sched, n_forward, target=x_star, sharpness_every=sharpness_every)
    landing = _landing(landscape, forward.theta, x_star)
    reached = bool(landing <= _landing_tol(x_star))
    near = forward.distance[-1]
    note = (f"GD ({sched}) from the start built by {n} backward steps "
            + (f"is {near:.2g} from the minimum after {n_forward} steps, and Newton's method from there "
               "lands on it: reached." if reached else
               f"ends {near:.2g} from the minimum after {n_forward} steps, where Newton's method does not "
               "land on it: not reached (yet)."))
    return NetworkReach(target, str(sched), level, offset, u, orbit[0], orbit, n, residual, contraction,
                        amplification, forward, reached, landing, note, seconds, checked, counts,
                        landscape, sched)


# ---------------------------------------------------------------------------
# where random inits end
# ---------------------------------------------------------------------------
@dataclass
class InitEnds:
    """Where constant-step GD from random inits is after ``n_steps`` steps.

    Per run: the last iterate ``theta``, its ``loss``, the largest and smallest Hessian
    eigenvalues there (``sharpness``, ``lowest``; ``lowest < 0`` is negative curvature, as
    near a saddle), and what Newton's method from there lands on: ``landed`` is
    "minimum" (a minimum that is linearly stable for this step: ``step * sharpness < 2``),
    "unstable minimum" (``step * sharpness >= 2``: GD cannot converge there), "saddle" or
    "no critical point", with that point's ``landed_loss`` and ``landed_sharpness`` (NaN
    for "no critical point").
    """

    step: float
    n_steps: int
    theta: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    sharpness: np.ndarray = field(repr=False)
    lowest: np.ndarray = field(repr=False)
    landed: np.ndarray = field(repr=False)
    landed_loss: np.ndarray = field(repr=False)
    landed_sharpness: np.ndarray = field(repr=False)

    @property
    def threshold(self):
        """``2 / step``: minima sharper than this are linearly unstable for this step."""
        return 2.0 / self.step

    def count(self, kind):
        """How many runs landed on ``kind`` (see the class docstring)."""
        kinds = ("minimum", "unstable minimum", "saddle", "no critical point")
        return int(np.sum(self.landed == checks.choice("kind", kind, kinds)))

    def summary(self):
        """One line: how many runs are at which kind of point, and the minima's sharpness."""
        s = self.landed_sharpness[self.landed == "minimum"]
        where = f" (sharpness {s.min():.2f} to {s.max():.2f})" if s.size else ""
        return (f"a = {self.step:g} (2/a = {self.threshold:g}), {self.n_steps} steps, {self.landed.size} runs: "
                f"{self.count('minimum')} at stable minima{where}, {self.count('unstable minimum')} next to "
                f"minima unstable for this step, {self.count('saddle')} near saddles, "
                f"{self.count('no critical point')} elsewhere")


@_one_blas_thread
def where_inits_end(landscape, steps=(0.2, 0.01), n_inits=32, n_steps=30_000, seed=0):
    """GD with each constant step of ``steps`` from the same ``n_inits`` random inits
    (:func:`random_inits` with ``seed``), all runs in one batch, for ``n_steps`` steps.
    Returns ``{step: InitEnds}``."""
    _check_network(landscape)
    a = np.array([checks.real("steps", s, positive=True) for s in np.ravel(steps)])
    if not a.size:
        raise ValueError("steps must be a non-empty list of positive numbers")
    n_inits = checks.integer("n_inits", n_inits, low=1)
    n_steps = checks.integer("n_steps", n_steps, low=0)
    T0 = random_inits(landscape, n_inits, seed)
    ends, _ = descend_many(landscape, np.tile(T0, (a.size, 1)), np.repeat(a, n_inits), n_steps)
    out = {}
    for i, step in enumerate(a):
        E = ends[i * n_inits:(i + 1) * n_inits]
        rows = [classify_end(landscape, e, step) for e in E]
        out[float(step)] = InitEnds(float(step), n_steps, E, *map(np.array, zip(*rows, strict=True)))
    return out


@_one_blas_thread
def classify_end(landscape, theta, step):
    """Where a GD run with constant ``step`` is when it is at ``theta``: (loss, sharpness, lowest
    Hessian eigenvalue) there, and (kind, loss, sharpness) of the critical point Newton's method
    lands on from there; kind is "minimum" (stable for the step), "unstable minimum", "saddle"
    or "no critical point" (as in :class:`InitEnds`)."""
    if not np.all(np.isfinite(theta)):
        return np.nan, np.nan, np.nan, "no critical point", np.nan, np.nan
    lo, hi = hessian_extremes(landscape, theta)
    t, g = newton_polish(landscape, theta)
    if not g <= 1e-10:
        return landscape.value(theta), hi, lo, "no critical point", np.nan, np.nan
    lo_c, hi_c = hessian_extremes(landscape, t)
    kind = "saddle" if lo_c <= 0 else "minimum" if step * hi_c < 2 else "unstable minimum"
    return landscape.value(theta), hi, lo, kind, landscape.value(t), hi_c


# ---------------------------------------------------------------------------
# the shipped example: a sharp minimum that a search rarely finds
# ---------------------------------------------------------------------------
EXAMPLE_FILE = pathlib.Path(__file__).parent / "data" / "sharp_minimum.json"


@_one_blas_thread
def sharp_minimum_example():
    """Notebook 07's problem: ``(landscape, target)``.

    The landscape: a 1-5-1 tanh network (16 parameters) fitted to 16 evenly spaced points of
    ``y = 2 sin 2x + sin 5x`` on [-2, 2], loss = mean squared error / 2 + (1e-3 / 2)|theta|^2.
    The target: the sharpest of its known strict minima whose loss is within 20 % of the best
    (sharpness 31.70, loss 0.109), read from ``data/sharp_minimum.json``, polished by Newton's
    method and checked on loading: |grad L| < 1e-12, a positive-definite Hessian, and the
    stored loss and sharpness (a RuntimeError if any check fails).
    """
    import json

    d = json.loads(EXAMPLE_FILE.read_text())
    x = np.linspace(d["inputs"]["low"], d["inputs"]["high"], d["inputs"]["n_samples"])
    y = sum(c * np.sin(w * x) for c, w in d["target_terms"])
    land = NetworkLandscape(x[:, None], y, d["layer_sizes"], d["activation"], weight_decay=d["weight_decay"])
    t, g = newton_polish(land, np.array(d["theta"]))
    lo, hi = hessian_extremes(land, t)
    loss = float(land.value(t))
    if not (g < 1e-12 and lo > 0 and np.isclose(loss, d["loss"], rtol=1e-9, atol=0)
            and np.isclose(hi, d["sharpness"], rtol=1e-9, atol=0)):
        raise RuntimeError(f"the shipped minimum failed its check on loading: |grad L| = {g:.3g}, "
                           f"smallest Hessian eigenvalue {lo:.3g}, loss {loss!r} (stored {d['loss']!r}), "
                           f"sharpness {hi!r} (stored {d['sharpness']!r})")
    return land, Minimum(t, loss, hi, lo, g, count=0)
