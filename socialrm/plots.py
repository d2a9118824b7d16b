"""Plots for latent-space diagnostics, social orders and training histories (matplotlib).

Import it explicitly (``from socialrm import plots``); ``import socialrm`` does not load it, and
matplotlib itself is imported only when a plotting function runs. Every function draws on the
``ax`` it is given (or a new figure), returns the Axes (the Figure for multi-panel plots) and never
calls ``show()``. Inputs are plain NumPy arrays and duck-typed objects, so the plots work with the
package's estimators (a ``SocialOrder``, a ``GaussianMixture``, a model's ``history_``) and with
anything shaped like them.

Projections to 2-D: ``"pca"`` uses NumPy only (an SVD of the centred points, each component's sign
fixed so that its largest-magnitude loading is positive, the convention scikit-learn uses, so the
picture is deterministic); ``"isomap"``, ``"tsne"`` and ``"spectral"`` use scikit-learn, an optional
dependency. Latents with ``d <= 2`` are drawn as they are (``d = 1`` as a strip plot by label).

Colours: one colour per rater type from the colour-blind-friendly ``tab10`` palette; a type with
integer label ``t`` gets colour ``t`` in every plot, so the same type looks the same across figures.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import as_finite_array

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "cluster_plot",
    "context_invariance_plot",
    "gmm_plot",
    "latent_scatter",
    "linear_path",
    "loss_curves",
    "margin_heatmap",
    "partial_information_plot",
    "pca_basis",
    "project_2d",
    "sign_changes",
    "social_orders_plot",
    "traversal_plot",
]

METHODS = ("pca", "isomap", "tsne", "spectral")
_METHOD_NAMES = {"pca": "PCA", "isomap": "Isomap", "tsne": "t-SNE", "spectral": "spectral embedding"}
_SKLEARN_HINT = (
    "needs scikit-learn, an optional dependency of socialrm.plots: install it with "
    "`pip install 'socialrm[plots]'` (or `pip install scikit-learn`), or use method='pca'"
)
_CONTEXT_MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")


# --------------------------------------------------------------------------------------------------
# small helpers


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _axes(ax, figsize) -> Axes:
    if ax is None:
        _, ax = _plt().subplots(figsize=figsize, layout="constrained")
    return ax


def _palette(n: int) -> list:
    import matplotlib

    name = "tab10" if n <= 10 else "tab20"
    colors = list(matplotlib.colormaps[name].colors)
    return [colors[i % len(colors)] for i in range(n)]


def _latents(Z, name: str, d: int | None = None) -> np.ndarray:
    """Latents as a finite float64 [n, d] array (a 1-D array is n points in one dimension)."""
    arr = as_finite_array(Z, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array [n_points, n_dims], got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one point and one dimension, got shape {arr.shape}")
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"{name}: expected {d} dimensions (like the other latents), got {arr.shape[1]}")
    return arr


class _Labels:
    """Labels of n points: integer codes, display names and a colour index per code."""

    def __init__(self, labels, n: int, label_names=None, name: str = "labels") -> None:
        if labels is None:
            self.keys: list = [None]
            self.codes = np.zeros(n, dtype=np.int64)
        else:
            values = np.asarray(labels)
            if values.ndim != 1 or values.shape[0] != n:
                raise ValueError(f"{name}: expected {n} labels (one per point), got shape {values.shape}")
            if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
                raise ValueError(f"{name}: contains NaN or infinity")
            if values.dtype.kind == "O":
                values = values.astype(str)
            uniq, codes = np.unique(values, return_inverse=True)
            self.keys = [k.item() if isinstance(k, np.generic) else k for k in uniq]
            self.codes = codes.astype(np.int64).ravel()
        self.names = [_label_name(k, label_names) for k in self.keys]
        integral = labels is not None and all(_is_index(k) and k < 20 for k in self.keys)
        # colour index: a small integer label itself (stable across plots), else the position
        self.color_index = [int(k) if integral else i for i, k in enumerate(self.keys)]

    def colors(self) -> list:
        pal = _palette(max(self.color_index) + 1)
        return [pal[c] for c in self.color_index]


def _is_index(k) -> bool:
    return isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, (bool, np.bool_)) and k >= 0


def _label_name(key, label_names) -> str:
    if key is None:
        return "points"
    if label_names is not None:
        if isinstance(label_names, Mapping):
            if key in label_names:
                return str(label_names[key])
        elif _is_index(key) and int(key) < len(label_names):
            return str(label_names[int(key)])
    return str(key)


def _color_of(key, lab: _Labels):
    """Colour of a label value (or label name), consistent with the palette of ``lab``."""
    for k, name, color in zip(lab.keys, lab.names, lab.colors()):
        if k == key or (isinstance(key, str) and name == key):
            return color
    return _palette(int(key) + 1)[int(key)] if _is_index(key) else "0.3"


def _point_size(n: int) -> float:
    return float(np.clip(3000.0 / max(n, 1), 6.0, 40.0))


# --------------------------------------------------------------------------------------------------
# projections


def pca_basis(Z) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first two principal axes of ``Z`` (NumPy SVD, deterministic signs).

    Parameters
    ----------
    Z : array-like, shape (n, d)
        Points, ``n >= 2`` and ``d >= 2``.

    Returns
    -------
    mean : ndarray, shape (d,)
        The centre subtracted before projecting.
    components : ndarray, shape (2, d)
        Orthonormal rows; each row's largest-magnitude entry is positive.
    explained_variance_ratio : ndarray, shape (2,)
        Share of the total variance along each axis (0 when the points do not vary).

    Examples
    --------
    >>> mean, W, ratio = pca_basis([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> (W ** 2).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """
    X = _latents(Z, "Z")
    n, d = X.shape
    if n < 2 or d < 2:
        raise ValueError(f"Z: PCA needs at least 2 points in at least 2 dimensions, got shape {X.shape}")
    mean = X.mean(axis=0)
    Xc = X - mean
    if d <= n:
        _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    else:  # fewer points than dimensions: still return two orthonormal axes
        _, s, vt = np.linalg.svd(Xc, full_matrices=True)
        s = np.concatenate([s, np.zeros(vt.shape[0] - s.shape[0])])
    components = vt[:2].copy()
    top = np.argmax(np.abs(components), axis=1)
    components *= np.sign(components[np.arange(2), top])[:, None]
    total = float((s**2).sum())
    ratio = (s[:2] ** 2) / total if total > 0 else np.zeros(2)
    return mean, components, ratio


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method: expected one of {list(METHODS)}, got {method!r}")


def _sklearn_embedding(X: np.ndarray, method: str, random_state) -> np.ndarray:
    try:
        from sklearn import manifold
    except ImportError:
        raise ImportError(f"method={method!r} {_SKLEARN_HINT}") from None
    n = X.shape[0]
    if n < 4:
        raise ValueError(f"Z: method={method!r} needs at least 4 points, got {n}")
    if method == "tsne":
        est = manifold.TSNE(
            n_components=2,
            perplexity=min(30.0, (n - 1) / 3.0),
            init="pca",
            # the exact gradient is faster than Barnes-Hut's tree for small n
            method="exact" if n <= 200 else "barnes_hut",
            random_state=random_state,
        )
    elif method == "isomap":
        est = manifold.Isomap(n_components=2, n_neighbors=_connecting_neighbors(X))
    else:
        est = manifold.SpectralEmbedding(
            n_components=2, n_neighbors=_connecting_neighbors(X), random_state=random_state
        )
    return np.asarray(est.fit_transform(X), dtype=np.float64)


def _connecting_neighbors(X: np.ndarray, start: int = 10) -> int:
    """Smallest k in start, 2*start, 4*start, ... (at most n - 1) whose k-NN graph is connected.

    Isomap and spectral embedding need a connected neighbour graph; latents of well-separated
    types (the point of these plots) are not connected at the usual k = 10.
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import kneighbors_graph

    n = X.shape[0]
    k = min(start, n - 1)
    while True:
        graph = kneighbors_graph(X, n_neighbors=k, include_self=False)
        if connected_components(graph, directed=True, connection="weak")[0] == 1 or k == n - 1:
            return k
        k = min(2 * k, n - 1)


def project_2d(Z, method: str = "pca", random_state: int | None = 0) -> np.ndarray:
    """Coordinates of the points ``Z`` in two dimensions.

    Parameters
    ----------
    Z : array-like, shape (n, d)
        Latents (finite). ``d = 1`` gives ``(z, 0)``; ``d = 2`` is returned as is.
    method : {"pca", "isomap", "tsne", "spectral"}, default "pca"
        ``"pca"`` is NumPy only (see :func:`pca_basis`); the others need scikit-learn.
    random_state : int or None, default 0
        Seed of the stochastic methods (t-SNE, spectral).

    Returns
    -------
    ndarray, shape (n, 2)

    Examples
    --------
    >>> project_2d([[1.0], [2.0]]).tolist()
    [[1.0, 0.0], [2.0, 0.0]]
    """
    _check_method(method)
    X = _latents(Z, "Z")
    return _project(X, method, random_state)[0]


def _project(X: np.ndarray, method: str, random_state, extras: Sequence[np.ndarray] = ()):
    """Project ``X`` and the ``extras`` (same d) together.

    PCA: the basis comes from ``X`` alone and the extras are projected through it, so adding points
    does not move the picture. Non-linear methods embed everything jointly. Returns
    ``(coords_X, [coords_extra, ...], (xlabel, ylabel))``.
    """
    n, d = X.shape
    if d <= 2:
        pad = (lambda A: np.column_stack([A[:, 0], np.zeros(len(A))])) if d == 1 else (lambda A: A.copy())
        axis_names = ("z[0]", "latent (1-D)") if d == 1 else ("z[0]", "z[1]")
        return pad(X), [pad(E) for E in extras], axis_names
    if method == "pca":
        mean, W, ratio = pca_basis(X)
        labels = tuple(f"PC{i + 1} ({100 * ratio[i]:.0f}% of variance)" for i in range(2))
        return (X - mean) @ W.T, [(E - mean) @ W.T for E in extras], labels
    stacked = np.concatenate([X, *extras]) if extras else X
    Y = _sklearn_embedding(stacked, method, random_state)
    bounds = np.cumsum([n] + [len(E) for E in extras])
    title = _METHOD_NAMES[method]
    return Y[:n], [Y[a:b] for a, b in itertools.pairwise(bounds)], (f"{title} 1", f"{title} 2")


def _scatter_by_label(ax, P: np.ndarray, lab: _Labels, *, s=None, alpha=0.7, marker="o", legend=True, **kw):
    """One scatter collection per label, in label order; returns the collections."""
    s = _point_size(len(P)) if s is None else s
    out = []
    for code, (name, color) in enumerate(zip(lab.names, lab.colors())):
        sel = lab.codes == code
        out.append(
            ax.scatter(
                P[sel, 0],
                P[sel, 1],
                s=s,
                color=color,
                alpha=alpha,
                marker=marker,
                label=name if legend else "_nolegend_",
                linewidths=0,
                **kw,
            )
        )
    return out


def _marked_points(
    ax, P, colors, label, *, marker, s, names=None, text_offset=(8, 8), text_box="white", zorder=3
) -> None:
    """Big outlined markers (centroids, partial profiles), optionally with a name beside each."""
    ax.scatter(
        P[:, 0],
        P[:, 1],
        s=s,
        marker=marker,
        c=colors,
        edgecolors="black",
        linewidths=1.1,
        label=label,
        zorder=zorder,
    )
    for (x, y), name in zip(P, names or ()):
        ax.annotate(
            name,
            (x, y),
            xytext=text_offset,
            textcoords="offset points",
            fontsize="small",
            zorder=zorder + 1,
            bbox={"boxstyle": "round,pad=0.25", "fc": text_box, "alpha": 0.85, "lw": 0},
        )


def _finish(ax, title, axis_names, legend=True, **legend_kw) -> None:
    ax.set_title(title)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    if legend:
        _legend(ax, **legend_kw)


def _legend(ax, **kw):
    leg = ax.legend(**({"loc": "best", "fontsize": "small"} | kw))
    for handle in leg.legend_handles:  # legend markers readable whatever the plotted size/alpha
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([50.0])
            handle.set_alpha(1.0)
    return leg


# --------------------------------------------------------------------------------------------------
# latent plots


def latent_scatter(
    Z,
    labels=None,
    method: str = "pca",
    label_names=None,
    ax: Axes | None = None,
    *,
    random_state: int | None = 0,
    title: str | None = None,
    s: float | None = None,
    alpha: float = 0.7,
    legend: bool = True,
) -> Axes:
    """Latents projected to 2-D, one colour per label.

    Parameters
    ----------
    Z : array-like, shape (n, d)
        Latents, e.g. ``irm.embed_raters(data)``.
    labels : array-like, shape (n,), optional
        Each point's label (e.g. ``data.rater_labels``); one colour and legend entry per label.
    method : {"pca", "isomap", "tsne", "spectral"}, default "pca"
        See :func:`project_2d`. With ``d = 1`` the points are drawn as a strip plot, one row per
        label.
    label_names : sequence or dict, optional
        Display names of integer labels (e.g. ``data.label_names``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    random_state : int or None, default 0
        Seed of t-SNE / spectral embedding.
    title : str, optional
        Defaults to a description of the projection.
    s, alpha : float
        Marker size (default from the number of points) and opacity.
    legend : bool, default True

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from socialrm import plots
    >>> Z = np.random.default_rng(0).normal(size=(100, 8))
    >>> ax = plots.latent_scatter(Z, labels=np.arange(100) % 4)
    >>> len(ax.collections)
    4
    """
    _check_method(method)
    X = _latents(Z, "Z")
    lab = _Labels(labels, len(X), label_names)
    ax = _axes(ax, (6.4, 5.2))
    P, _, axis_names = _project(X, method, random_state)
    if X.shape[1] == 1:
        # strip plot: one row per label, a small deterministic jitter inside the row
        jitter = (np.random.default_rng(0).random(len(X)) - 0.5) * 0.3
        P = np.column_stack([X[:, 0], lab.codes + jitter])
        ax.set_yticks(range(len(lab.names)), lab.names)
        ax.invert_yaxis()  # first label on top, as in the legend
        axis_names = ("z[0]", "label")
    _scatter_by_label(ax, P, lab, s=s, alpha=alpha, legend=legend and labels is not None)
    if title is None:
        title = f"Latents ({len(X)} points, d = {X.shape[1]}" + (
            f", {_METHOD_NAMES[method]})" if X.shape[1] > 2 else ")"
        )
    _finish(ax, title, axis_names, legend=legend and labels is not None)
    return ax


def _centroids_of(X: np.ndarray, lab: _Labels) -> np.ndarray:
    return np.stack([X[lab.codes == c].mean(axis=0) for c in range(len(lab.keys))])


def cluster_plot(
    Z,
    labels,
    centroids=None,
    centroid_names: Sequence[str] | None = None,
    label_names=None,
    method: str = "pca",
    ax: Axes | None = None,
    *,
    random_state: int | None = 0,
    annotate: bool = True,
    title: str | None = None,
) -> Axes:
    """Latents coloured by label, with cluster centroids marked and named.

    Parameters
    ----------
    Z : array-like, shape (n, d)
        Latents.
    labels : array-like, shape (n,)
        Labels of the points (true types, or cluster assignments).
    centroids : array-like, shape (k, d), optional
        Centroids in latent space (e.g. k-means ``cluster_centers_``). Default: the mean of each
        label's points (type centroids), named and coloured like the labels.
    centroid_names : sequence of str, optional
        Names written beside given centroids (default ``"c0"``, ``"c1"``, ...).
    label_names, method, ax, random_state, title
        As in :func:`latent_scatter`. With PCA the basis comes from ``Z`` and the centroids are
        projected through it; the non-linear methods embed points and centroids together.
    annotate : bool, default True
        Write each centroid's name beside its marker.

    Returns
    -------
    matplotlib Axes
    """
    _check_method(method)
    X = _latents(Z, "Z")
    if labels is None:
        raise ValueError("labels: cluster_plot needs one label per point")
    lab = _Labels(labels, len(X), label_names)
    if centroids is None:
        C = _centroids_of(X, lab)
        names = lab.names
        ccolors = lab.colors()
    else:
        C = _latents(centroids, "centroids", d=X.shape[1])
        if centroid_names is None:
            names = [f"c{i}" for i in range(len(C))]
        elif len(centroid_names) != len(C):
            raise ValueError(
                f"centroid_names: expected {len(C)} names (one per centroid), got {len(centroid_names)}"
            )
        else:
            names = [str(c) for c in centroid_names]
        ccolors = ["black"] * len(C)
    ax = _axes(ax, (6.4, 5.2))
    P, (PC,), axis_names = _project(X, method, random_state, [C])
    _scatter_by_label(ax, P, lab, alpha=0.45)
    _marked_points(ax, PC, ccolors, "centroids", marker="X", s=180, names=names if annotate else None)
    _finish(ax, title or f"Clusters ({len(C)} centroids)", axis_names)
    return ax


def context_invariance_plot(
    Z_by_context: Mapping[str, Any],
    labels,
    label_names=None,
    method: str = "pca",
    ax: Axes | None = None,
    *,
    join: bool = True,
    max_lines: int = 150,
    random_state: int | None = 0,
    title: str | None = None,
) -> Axes:
    """The same raters embedded from different contexts (e.g. one prompt alone, the other, both).

    One marker per context, one colour per type; thin lines join each rater's embeddings across
    the contexts (in the dict's order), for a deterministic subsample of at most ``max_lines``
    raters. Context-invariant latents put a rater's markers on top of each other.

    Parameters
    ----------
    Z_by_context : dict of str -> array-like, shape (n, d)
        Context name -> latents of the same n raters, in the same rater order.
    labels : array-like, shape (n,)
        Each rater's type.
    label_names, method, ax, random_state, title
        As in :func:`latent_scatter`; the projection is fitted on all contexts together.
    join : bool, default True
        Draw the joining lines (needs at least two contexts).
    max_lines : int, default 150
        At most this many raters get joining lines (chosen with ``random_state``).

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    _check_method(method)
    if not isinstance(Z_by_context, Mapping) or not Z_by_context:
        raise TypeError("Z_by_context: expected a non-empty dict context name -> latents")
    if len(Z_by_context) > len(_CONTEXT_MARKERS):
        raise ValueError(f"Z_by_context: at most {len(_CONTEXT_MARKERS)} contexts, got {len(Z_by_context)}")
    names = [str(k) for k in Z_by_context]
    arrays = []
    for k, v in Z_by_context.items():
        A = _latents(v, f"Z_by_context[{k!r}]", d=arrays[0].shape[1] if arrays else None)
        if arrays and A.shape[0] != arrays[0].shape[0]:
            raise ValueError(
                f"Z_by_context[{k!r}]: expected {arrays[0].shape[0]} raters like the first context, got {A.shape[0]}"
            )
        arrays.append(A)
    if isinstance(max_lines, bool) or not isinstance(max_lines, numbers.Integral) or max_lines < 0:
        raise ValueError(f"max_lines: expected a non-negative int, got {max_lines!r}")
    n = arrays[0].shape[0]
    lab = _Labels(labels, n, label_names)
    stacked = np.concatenate(arrays)
    P_all, _, axis_names = _project(stacked, method, random_state)
    P = P_all.reshape(len(arrays), n, 2)
    colors = np.array(lab.colors())[lab.codes]
    ax = _axes(ax, (6.8, 5.4))
    s = _point_size(n * len(arrays))
    if join and len(arrays) > 1 and max_lines > 0:
        rng = np.random.default_rng(random_state)
        chosen = np.sort(rng.choice(n, size=min(n, max_lines), replace=False))
        lines = LineCollection(
            [P[:, r, :] for r in chosen],
            colors=colors[chosen],
            linewidths=0.7,
            alpha=0.35,
            zorder=1,
            label="_same rater",
        )
        ax.add_collection(lines)
    for i, name in enumerate(names):
        ax.scatter(
            P[i, :, 0],
            P[i, :, 1],
            s=s * 1.4,
            c=colors,
            marker=_CONTEXT_MARKERS[i],
            alpha=0.75,
            edgecolors="white",
            linewidths=0.3,
            label=f"_context {name}",
            zorder=2,
        )
    handles = [
        Line2D([], [], ls="", marker="s", ms=8, color=c, label=nm) for nm, c in zip(lab.names, lab.colors())
    ]
    handles += [
        Line2D([], [], ls="", marker=_CONTEXT_MARKERS[i], ms=8, color="0.35", label=f"from {nm}")
        for i, nm in enumerate(names)
    ]
    if join and len(arrays) > 1 and max_lines > 0:
        handles.append(Line2D([], [], color="0.35", lw=0.8, label="same rater"))
    ax.legend(handles=handles, fontsize="small", loc="best")
    ax.set_title(title or "Context invariance: raters embedded from " + ", ".join(names))
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.autoscale_view()
    return ax


def partial_information_plot(
    Z_full,
    labels,
    Z_partial,
    partial_labels: Sequence[str],
    partial_types=None,
    label_names=None,
    method: str = "pca",
    ax: Axes | None = None,
    *,
    link_nearest: bool = True,
    random_state: int | None = 0,
    title: str | None = None,
) -> Axes:
    """Embeddings of partial profiles (e.g. one comparison) over the full-profile clouds.

    The full-profile raters are drawn faintly by type with their type centroids; each partial
    profile is a large star with its annotation. With ``link_nearest`` a dashed line joins each
    partial embedding to the nearest type centroid *in latent space* (not in the projection).

    Parameters
    ----------
    Z_full : array-like, shape (n, d)
        Latents of raters embedded from their full data.
    labels : array-like, shape (n,)
        Their types.
    Z_partial : array-like, shape (p, d)
        Latents of the partial profiles.
    partial_labels : sequence of str, length p
        Annotation of each partial profile (e.g. ``"Me ≻ Kn (normal)"``).
    partial_types : array-like, shape (p,), optional
        The type each partial profile came from; colours the stars (black if None).
    label_names, method, ax, random_state, title
        As in :func:`latent_scatter`; PCA is fitted on ``Z_full`` alone.

    Returns
    -------
    matplotlib Axes
    """
    _check_method(method)
    X = _latents(Z_full, "Z_full")
    Q = _latents(Z_partial, "Z_partial", d=X.shape[1])
    if isinstance(partial_labels, str) or len(partial_labels) != len(Q):
        raise ValueError(
            f"partial_labels: expected {len(Q)} annotations (one per partial profile), got "
            f"{1 if isinstance(partial_labels, str) else len(partial_labels)}"
        )
    lab = _Labels(labels, len(X), label_names)
    if partial_types is not None:
        pt = np.asarray(partial_types)
        if pt.ndim != 1 or len(pt) != len(Q):
            raise ValueError(
                f"partial_types: expected {len(Q)} types (one per partial profile), got shape {pt.shape}"
            )
        star_colors = [_color_of(t, lab) for t in pt]
    else:
        star_colors = ["black"] * len(Q)
    C = _centroids_of(X, lab)
    ax = _axes(ax, (6.8, 5.4))
    P, (PQ, PC), axis_names = _project(X, method, random_state, [Q, C])
    _scatter_by_label(ax, P, lab, alpha=0.25)
    _marked_points(ax, PC, lab.colors(), "type centroids", marker="X", s=120)
    if link_nearest:
        nearest = np.argmin(((Q[:, None, :] - C[None, :, :]) ** 2).sum(axis=2), axis=1)
        for i, j in enumerate(nearest):
            ax.plot(
                [PQ[i, 0], PC[j, 0]],
                [PQ[i, 1], PC[j, 1]],
                ls="--",
                lw=1.0,
                color="0.2",
                label="nearest centroid" if i == 0 else "_nolegend_",
                zorder=2,
            )
    _marked_points(
        ax,
        PQ,
        star_colors,
        "partial profiles",
        marker="*",
        s=260,
        names=[str(t) for t in partial_labels],
        text_offset=(9, -12),
        text_box="lightyellow",
        zorder=4,
    )
    _finish(ax, title or "Partial information: partial profiles over full-profile clouds", axis_names)
    return ax


# --------------------------------------------------------------------------------------------------
# traversals


def linear_path(z0, z1, n: int = 21) -> np.ndarray:
    """``n`` evenly spaced points from ``z0`` to ``z1`` (both included).

    Returns
    -------
    ndarray, shape (n, d)

    Examples
    --------
    >>> linear_path([0.0, 0.0], [1.0, 2.0], n=3).tolist()
    [[0.0, 0.0], [0.5, 1.0], [1.0, 2.0]]
    """
    a = as_finite_array(z0, "z0", ndim=1)
    b = as_finite_array(z1, "z1", ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"z1: expected the shape of z0 {a.shape}, got {b.shape}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n: expected an int >= 2, got {n!r}")
    t = np.linspace(0.0, 1.0, int(n))[:, None]
    return (1.0 - t) * a + t * b


def sign_changes(d, t=None) -> np.ndarray:
    """Positions where the sequence ``d`` changes sign (zeros are skipped, not counted).

    A change between consecutive nonzero values ``d[i]``, ``d[j]`` is placed where the straight
    line between them crosses zero (for adjacent samples) or in the middle of the run of exact
    zeros between them.

    Parameters
    ----------
    d : array-like, shape (n,)
        Values along a path.
    t : array-like, shape (n,), optional
        Positions of the samples (default ``0, 1, ..., n-1``).

    Returns
    -------
    ndarray of float64
        Positions of the sign changes, in order; its length is the number of sign changes.

    Examples
    --------
    >>> sign_changes([-1.0, 1.0, 0.0, 0.0, -2.0], t=[0, 1, 2, 3, 4]).tolist()
    [0.5, 2.5]
    """
    d = as_finite_array(d, "d", ndim=1)
    t = np.arange(len(d), dtype=np.float64) if t is None else as_finite_array(t, "t", ndim=1)
    if t.shape != d.shape:
        raise ValueError(f"t: expected {len(d)} positions (one per value), got {len(t)}")
    nz = np.flatnonzero(d != 0)
    out = []
    for i, j in itertools.pairwise(nz):
        if np.sign(d[i]) == np.sign(d[j]):
            continue
        if j == i + 1:
            out.append(t[i] + (t[j] - t[i]) * d[i] / (d[i] - d[j]))
        else:
            out.append(0.5 * (t[i + 1] + t[j - 1]))
    return np.array(out, dtype=np.float64)


def traversal_plot(
    rewards,
    candidate_names: Sequence[str],
    t=None,
    pairs: Sequence[tuple] | None = None,
    ax: Axes | None = None,
    *,
    endpoint_names: tuple[str, str] | None = None,
    mark_changes: bool = True,
    title: str | None = None,
) -> Axes:
    """Pairwise reward differences along a path between two latents.

    One line per pair ``(a, b)`` showing ``reward[a] - reward[b]``, a zero line, and a marker
    where a difference changes sign (see :func:`sign_changes`); the legend gives each pair's
    number of sign changes. A smooth latent space changes each pair's verdict at most once on a
    straight path between two types.

    Parameters
    ----------
    rewards : array-like, shape (n_points, m)
        Rewards of the m candidates at each point of the path (e.g.
        ``irm.rewards(linear_path(z0, z1), prompt, completions)``).
    candidate_names : sequence of str, length m
    t : array-like, shape (n_points,), optional
        Position of each point (default evenly spaced on [0, 1]).
    pairs : sequence of (a, b), optional
        Pairs to draw, by index or name; default every pair ``a < b``.
    ax : matplotlib Axes, optional
    endpoint_names : (str, str), optional
        What the path's ends are (e.g. ``("Knoxville", "Chattanooga")``), shown on the x axis.
    mark_changes : bool, default True
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    R = as_finite_array(rewards, "rewards", ndim=2)
    n, m = R.shape
    if n < 2:
        raise ValueError(f"rewards: expected at least 2 points along the path, got {n}")
    names = [str(c) for c in candidate_names]
    if len(names) != m:
        raise ValueError(f"candidate_names: expected {m} names (one per rewards column), got {len(names)}")
    t = np.linspace(0.0, 1.0, n) if t is None else as_finite_array(t, "t", ndim=1)
    if len(t) != n:
        raise ValueError(f"t: expected {n} positions (one per rewards row), got {len(t)}")
    if pairs is None:
        pairs = [(a, b) for a in range(m) for b in range(a + 1, m)]
    index = []
    for p in pairs:
        if len(p) != 2:
            raise ValueError(f"pairs: expected pairs (a, b), got {p!r}")
        ab = []
        for c in p:
            if isinstance(c, str):
                if c not in names:
                    raise ValueError(f"pairs: unknown candidate {c!r}; candidates are {names}")
                ab.append(names.index(c))
            elif _is_index(c) and c < m:
                ab.append(int(c))
            else:
                raise ValueError(f"pairs: candidate {c!r} is not a name or an index below {m}")
        if ab[0] == ab[1]:
            raise ValueError(f"pairs: a pair needs two different candidates, got {p!r}")
        index.append(tuple(ab))
    ax = _axes(ax, (7.2, 4.6))
    colors = _palette(len(index))
    ax.axhline(0.0, color="black", lw=0.8, ls=":", label="_zero")
    cross_x, cross_c = [], []
    for (a, b), color in zip(index, colors):
        diff = R[:, a] - R[:, b]
        changes = sign_changes(diff, t)
        plural = "" if len(changes) == 1 else "s"
        ax.plot(
            t,
            diff,
            color=color,
            lw=1.6,
            marker=".",
            ms=4,
            label=f"{names[a]} − {names[b]} ({len(changes)} sign change{plural})",
        )
        cross_x.extend(changes)
        cross_c.extend([color] * len(changes))
    if mark_changes:
        ax.scatter(
            cross_x,
            np.zeros(len(cross_x)),
            s=70,
            facecolors="none",
            edgecolors=cross_c or "black",
            linewidths=1.8,
            zorder=4,
            label="sign change",
        )
    xlabel = "position along the path t"
    if endpoint_names is not None:
        xlabel += f"  (t = {t[0]:g}: {endpoint_names[0]},  t = {t[-1]:g}: {endpoint_names[1]})"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("reward difference")
    ax.set_title(title or "Pairwise reward differences along a latent path")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax


# --------------------------------------------------------------------------------------------------
# social orders and margins


def _dense(ranks: np.ndarray) -> np.ndarray:
    return np.unique(ranks, return_inverse=True)[1].astype(np.int64)


def _order_ranks(order, name: str, candidates: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """Dense ranks (0 = best) of an order-like, and its candidate names when it carries them."""
    own = None
    if hasattr(order, "ranks"):
        ranks = np.asarray(order.ranks)
        own = getattr(order, "candidates", None)
        own = None if own is None else [str(c) for c in own]
    else:
        items = list(order) if not isinstance(order, (str, bytes)) else None
        if not items:
            raise TypeError(f"orders[{name!r}]: expected a SocialOrder-like object, ranks, names or tiers")
        if all(isinstance(x, str) for x in items):  # names, best first
            if candidates is None:
                candidates = list(items)
            items = [[x] for x in items]
        if all(isinstance(x, (list, tuple, set, frozenset)) for x in items):  # tiers
            flat = [c for tier in items for c in tier]
            if candidates is None:
                if not all(isinstance(c, str) for c in flat):
                    raise ValueError(f"orders[{name!r}]: tiers of indices need `candidates`")
                candidates = list(flat)
            ranks = np.full(len(candidates), -1, dtype=np.int64)
            for lvl, tier in enumerate(items):
                for c in tier:
                    i = candidates.index(c) if isinstance(c, str) and c in candidates else c
                    if not _is_index(i) or i >= len(candidates):
                        raise ValueError(f"orders[{name!r}]: unknown candidate {c!r}")
                    if ranks[i] != -1:
                        raise ValueError(f"orders[{name!r}]: candidate {c!r} listed twice")
                    ranks[i] = lvl
            if np.any(ranks < 0):
                missing = [candidates[i] for i in np.flatnonzero(ranks < 0)]
                raise ValueError(f"orders[{name!r}]: candidates {missing} are not placed")
            return _dense(ranks), list(candidates)
        ranks = np.asarray(items)
    if ranks.ndim != 1 or ranks.dtype.kind not in "iuf":
        raise TypeError(
            f"orders[{name!r}]: ranks must be a 1-D numeric array, got {ranks.dtype} shape {ranks.shape}"
        )
    if ranks.dtype.kind == "f" and not np.all(np.isfinite(ranks)):
        raise ValueError(f"orders[{name!r}]: ranks contain NaN or infinity")
    return _dense(ranks), own


def social_orders_plot(
    orders: Mapping[str, Any],
    candidates: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    connect: bool = True,
    title: str | None = None,
) -> Axes:
    """Social orders of several rules side by side (x = rule, y = tier, best on top).

    Each candidate is a labelled box in its tier; tied candidates share a row and sit side by
    side. Lines join a candidate's places across the rules ("bump chart"), so a rule that moves a
    candidate stands out.

    Parameters
    ----------
    orders : dict of str -> order-like
        Rule name -> its social order: an object with ``.ranks`` (0 = best, equal = tied) and
        optionally ``.candidates`` (a ``SocialOrder``), a ranks array, a list of candidate names
        best first, or a list of tiers (lists of names or indices).
    candidates : sequence of str, optional
        Candidate names; default the first order's ``candidates`` (or ``"c0"``, ``"c1"``, ...).
        Orders carrying their own candidate names are aligned to these by name; orders whose
        names are the default ``"0"``, ``"1"``, ... (an unnamed profile) are taken by position.
    ax : matplotlib Axes, optional
    connect : bool, default True
        Draw the lines joining a candidate across rules.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(orders, Mapping) or not orders:
        raise TypeError("orders: expected a non-empty dict rule name -> order")
    cands = None if candidates is None else [str(c) for c in candidates]
    table = []
    for name, order in orders.items():
        ranks, own = _order_ranks(order, str(name), cands)
        if cands is None:
            cands = own if own is not None else [f"c{i}" for i in range(len(ranks))]
        if len(ranks) != len(cands):
            raise ValueError(f"orders[{name!r}]: expected {len(cands)} candidates, got {len(ranks)}")
        if own is not None and own != cands:
            if sorted(own) == sorted(cands):  # the same names in another order: align by name
                ranks = ranks[[own.index(c) for c in cands]]
            elif own != [str(i) for i in range(len(own))]:  # unnamed orders ("0", "1", ...) are positional
                raise ValueError(f"orders[{name!r}]: candidates {own} differ from {cands}")
        table.append(ranks)
    R = np.stack(table)  # [n_rules, m]
    n_rules, m = R.shape
    rules = [str(k) for k in orders]
    colors = _palette(m)
    small = m <= 6
    char_in = 0.072 if small else 0.062  # approximate width of one character of the labels, inches
    box_in = np.array([char_in * len(c) + 0.28 for c in cands])  # label box widths, inches
    # a rule's column must hold its widest tie side by side: size every column for the widest one
    col_in = max(1.3, max(box_in[R[r] == lvl].sum() + 0.1 for r in range(n_rules) for lvl in np.unique(R[r])))
    ax = _axes(ax, (1.8 + col_in * n_rules, 1.3 + 0.5 * (int(R.max()) + 1)))
    # x position of each box: tied candidates side by side around the rule's column, same row
    X = np.zeros_like(R, dtype=np.float64)
    for r in range(n_rules):
        for lvl in np.unique(R[r]):
            members = np.flatnonzero(R[r] == lvl)
            widths = box_in[members] / col_in
            left = np.cumsum(widths) - widths
            X[r, members] = r + (left + widths / 2 - widths.sum() / 2)  # a lone candidate: exactly r
    if connect:
        for c in range(m):
            ax.plot(X[:, c], R[:, c], color=colors[c], lw=2.2, alpha=0.55, label=cands[c], zorder=1)
    for r in range(n_rules):
        for c in range(m):
            ax.text(
                X[r, c],
                R[r, c],
                cands[c],
                ha="center",
                va="center",
                fontsize="small" if small else "x-small",
                zorder=3,
                gid=f"{rules[r]}|{cands[c]}",
                bbox={"boxstyle": "round,pad=0.3", "fc": colors[c], "alpha": 0.35, "ec": colors[c]},
            )
    n_tiers = int(R.max()) + 1
    ax.set_xticks(range(n_rules), rules)
    ax.set_yticks(range(n_tiers), [str(i + 1) for i in range(n_tiers)])
    ax.set_xlim(-0.6, n_rules - 0.4)
    ax.set_ylim(n_tiers - 0.4, -0.6)  # best tier on top
    ax.set_xlabel("rule")
    ax.set_ylabel("tier (1 = best; same row = tied)")
    ax.set_title(title or "Social orders by rule")
    ax.grid(axis="y", color="0.9", zorder=0)
    if connect:
        ax.legend(
            fontsize="small",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            title="candidate",
        )
    return ax


def margin_heatmap(
    M,
    candidates: Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    fmt: str | None = None,
    cmap: str = "RdBu",
    title: str | None = None,
) -> Axes:
    """Heatmap of a pairwise margin matrix, diverging colours centred at 0.

    Cell ``(a, b)`` is the margin of row candidate ``a`` over column candidate ``b`` (support for
    ``a ≻ b`` minus support for ``b ≻ a``): blue where ``a`` wins, red where it loses.

    Parameters
    ----------
    M : array-like, shape (m, m), or an object with ``margins()`` (a ``Profile``)
        The margins.
    candidates : sequence of str, optional
        Names (default the object's ``candidates`` or ``"c0"``, ...).
    ax : matplotlib Axes, optional
    annotate : bool, optional
        Write each value in its cell; default when ``m <= 12``.
    fmt : str, optional
        Format of the annotations; default ``"{:.0f}"`` for integer margins, else ``"{:.2f}"``.
    cmap : str, default "RdBu"
        A diverging colormap.
    title : str, optional

    Returns
    -------
    matplotlib Axes (the colorbar is attached to its figure)
    """
    if hasattr(M, "margins") and callable(M.margins):
        if candidates is None and getattr(M, "candidates", None) is not None:
            candidates = M.candidates
        M = M.margins()
    A = as_finite_array(M, "M", ndim=2)
    m = A.shape[0]
    if A.shape != (m, m) or m == 0:
        raise ValueError(f"M: expected a square margin matrix, got shape {A.shape}")
    names = [f"c{i}" for i in range(m)] if candidates is None else [str(c) for c in candidates]
    if len(names) != m:
        raise ValueError(f"candidates: expected {m} names (one per row of M), got {len(names)}")
    if fmt is None:
        fmt = "{:.0f}" if np.all(A == np.round(A)) else "{:.2f}"
    annotate = m <= 12 if annotate is None else annotate
    vmax = float(np.abs(A).max()) or 1.0
    size = 1.6 + 0.6 * m
    ax = _axes(ax, (size + 1.2, size))
    im = ax.imshow(A, cmap=cmap, vmin=-vmax, vmax=vmax)
    ax.figure.colorbar(im, ax=ax, label="margin: support a ≻ b − support b ≻ a", shrink=0.85)
    if annotate:
        for a in range(m):
            for b in range(m):
                v = A[a, b]
                ax.text(
                    b,
                    a,
                    fmt.format(v),
                    ha="center",
                    va="center",
                    fontsize="small" if m <= 8 else "x-small",
                    color="white" if abs(v) > 0.6 * vmax else "black",
                )
    ax.set_xticks(
        range(m),
        names,
        rotation=45 if max(map(len, names)) > 3 else 0,
        ha="right" if max(map(len, names)) > 3 else "center",
    )
    ax.set_yticks(range(m), names)
    ax.set_xlabel("b (column)")
    ax.set_ylabel("a (row)")
    ax.set_title(title or "Pairwise margins of a over b")
    return ax


# --------------------------------------------------------------------------------------------------
# Gaussian mixture


def _gmm_params(gmm, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """weights [k], means [k, d], full covariances [k, d, d] from a GMM-like object, dict or tuple."""
    cov_type = None
    if hasattr(gmm, "means_"):
        weights, means, covs = gmm.weights_, gmm.means_, gmm.covariances_
        cov_type = getattr(gmm, "covariance_type", None)
    elif isinstance(gmm, Mapping):
        try:
            weights, means, covs = gmm["weights"], gmm["means"], gmm["covariances"]
        except KeyError as exc:
            raise ValueError(
                f"gmm: dict is missing {exc.args[0]!r} (needs weights, means, covariances)"
            ) from None
        cov_type = gmm.get("covariance_type")
    elif isinstance(gmm, (tuple, list)) and len(gmm) in (3, 4):
        weights, means, covs = gmm[:3]
        cov_type = gmm[3] if len(gmm) == 4 else None
    else:
        raise TypeError(
            "gmm: expected a fitted mixture (weights_, means_, covariances_), a dict or a tuple "
            f"(weights, means, covariances[, covariance_type]); got {type(gmm).__name__}"
        )
    w = as_finite_array(weights, "gmm weights", ndim=1)
    mu = as_finite_array(means, "gmm means", ndim=2)
    cov = as_finite_array(covs, "gmm covariances")
    k = len(w)
    if mu.shape != (k, d):
        raise ValueError(f"gmm means: expected shape ({k}, {d}) (components x latent dims), got {mu.shape}")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("gmm weights: must be non-negative with a positive sum")
    if cov_type is None:  # infer from the shape when unambiguous
        shapes = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
        matches = [c for c, s in shapes.items() if cov.shape == s]
        if len(matches) != 1:
            raise ValueError(
                f"gmm covariances: shape {cov.shape} is ambiguous or wrong; give covariance_type"
            )
        cov_type = matches[0]
    expected = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
    if cov_type not in expected:
        raise ValueError(f"covariance_type: expected one of {list(expected)}, got {cov_type!r}")
    if cov.shape != expected[cov_type]:
        raise ValueError(
            f"gmm covariances: expected shape {expected[cov_type]} for {cov_type!r}, got {cov.shape}"
        )
    if cov_type == "full":
        full = cov
    elif cov_type == "tied":
        full = np.broadcast_to(cov, (k, d, d)).copy()
    elif cov_type == "diag":
        full = np.stack([np.diag(c) for c in cov])
    else:
        full = cov[:, None, None] * np.eye(d)[None]
    return w / w.sum(), mu, full


def gmm_plot(
    Z,
    gmm,
    labels=None,
    label_names=None,
    ax: Axes | None = None,
    *,
    sigmas: Sequence[float] = (1.0, 2.0),
    annotate: bool = True,
    title: str | None = None,
) -> Axes:
    """Gaussian-mixture components drawn over the latents, in the latents' PCA plane.

    Means and covariances are projected through the same PCA basis as the points (``W Σ Wᵀ``), and
    each component is drawn as ellipses at ``sigmas`` Mahalanobis radii, more opaque for heavier
    components. With ``d = 1`` the plot is a histogram of the latents with the mixture density.

    Parameters
    ----------
    Z : array-like, shape (n, d)
        The latents the mixture was fitted on.
    gmm : fitted mixture, dict or tuple
        An object with ``weights_``, ``means_``, ``covariances_`` and ``covariance_type`` (e.g.
        ``socialrm.GaussianMixture`` or scikit-learn's); or a dict with ``weights``, ``means``,
        ``covariances`` (and ``covariance_type``); or a tuple ``(weights, means, covariances[,
        covariance_type])``. Covariance shapes follow scikit-learn ("full" [k, d, d], "tied"
        [d, d], "diag" [k, d], "spherical" [k]); the type is inferred from the shape when omitted
        and unambiguous.
    labels, label_names : optional
        Colour the points by label (grey otherwise).
    ax : matplotlib Axes, optional
    sigmas : sequence of float, default (1, 2)
        Radii of the ellipses, in standard deviations.
    annotate : bool, default True
        Write each component's index and weight beside its mean.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.patches import Ellipse

    X = _latents(Z, "Z")
    n, d = X.shape
    w, mu, cov = _gmm_params(gmm, d)
    sig = as_finite_array(sigmas, "sigmas", ndim=1)
    if len(sig) == 0 or np.any(sig <= 0):
        raise ValueError(f"sigmas: expected positive radii, got {list(sig)}")
    lab = _Labels(labels, n, label_names)
    ax = _axes(ax, (6.6, 5.4))
    k = len(w)
    # components in their own colours over grey points; over coloured labels, in one dark colour
    comp_colors = ["0.15"] * k if k > 10 or labels is not None else _palette(k)
    alphas = 0.04 + 0.26 * w / w.max()  # fill opacity grows with the component's weight
    if d == 1:
        ax.hist(X[:, 0], bins=min(60, max(10, n // 20)), density=True, color="0.75", label="latents")
        grid = np.linspace(X.min() - 3 * np.sqrt(cov.max()), X.max() + 3 * np.sqrt(cov.max()), 400)
        dens = (
            w[:, None]
            * np.exp(-0.5 * (grid[None] - mu[:, :1]) ** 2 / cov[:, 0, :1])
            / np.sqrt(2 * np.pi * cov[:, 0, :1])
        )
        for j in range(k):
            ax.plot(
                grid, dens[j], color=comp_colors[j], lw=1.0, ls="--", label=f"component {j} (w = {w[j]:.2f})"
            )
        ax.plot(grid, dens.sum(axis=0), color="black", lw=1.8, label="mixture density")
        _finish(ax, title or f"Gaussian mixture ({k} components, 1-D latents)", ("z[0]", "density"))
        return ax
    if d == 2:
        mean0, W = np.zeros(2), np.eye(2)
        axis_names = ("z[0]", "z[1]")
    else:
        mean0, W, ratio = pca_basis(X)
        axis_names = tuple(f"PC{i + 1} ({100 * ratio[i]:.0f}% of variance)" for i in range(2))
    P = (X - mean0) @ W.T
    M2 = (mu - mean0) @ W.T
    C2 = np.einsum("id,kde,je->kij", W, cov, W)
    if labels is None:
        ax.scatter(
            P[:, 0],
            P[:, 1],
            s=_point_size(n),
            color="0.55",
            alpha=0.5,
            linewidths=0,
            label="latents",
            zorder=2,
        )
    else:
        _scatter_by_label(ax, P, lab, alpha=0.5, zorder=2)
    for j in range(k):
        vals, vecs = np.linalg.eigh(C2[j])
        vals = np.clip(vals, 0.0, None)
        angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1])))
        for si, s in enumerate(sig):
            ax.add_patch(
                Ellipse(
                    tuple(M2[j]),
                    2 * s * np.sqrt(vals[1]),
                    2 * s * np.sqrt(vals[0]),
                    angle=angle,
                    facecolor=(*_rgb(comp_colors[j]), alphas[j] / (1 + si)),
                    edgecolor=comp_colors[j],
                    lw=1.4 if si == 0 else 0.9,
                    ls="-" if si == 0 else "--",
                    gid=f"component {j} sigma {s:g}",
                    zorder=1,
                )
            )
    ax.scatter(
        M2[:, 0],
        M2[:, 1],
        marker="P",
        s=110,
        c=comp_colors,
        edgecolors="black",
        linewidths=0.8,
        label="component means",
        zorder=4,
    )
    if annotate:
        for j in range(k):
            ax.annotate(
                f"{j}: w = {w[j]:.2f}",
                tuple(M2[j]),
                xytext=(8, 6),
                textcoords="offset points",
                fontsize="x-small",
                zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0},
            )
    sig_text = ", ".join(f"{s:g}" for s in sig)
    ax.set_title(title or f"Gaussian mixture: {k} components (ellipses at {sig_text} σ)")
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    _legend(ax)
    ax.autoscale_view()
    return ax


def _rgb(color) -> tuple:
    from matplotlib.colors import to_rgb

    return to_rgb(color)


# --------------------------------------------------------------------------------------------------
# training history


def _history_dict(history) -> dict[str, np.ndarray]:
    if isinstance(history, np.ndarray) and history.dtype.names:
        return {name: np.asarray(history[name]) for name in history.dtype.names}
    if hasattr(history, "columns") and hasattr(history, "to_numpy"):  # a DataFrame
        return {str(c): np.asarray(history[c].to_numpy()) for c in history.columns}
    if isinstance(history, Mapping):
        return {str(k): np.asarray(v) for k, v in history.items()}
    raise TypeError(
        f"history: expected a dict of arrays, a structured array or a DataFrame, got {type(history).__name__}"
    )


def _moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` samples; entry ``i`` averages ``y[i - window + 1 : i + 1]``."""
    c = np.cumsum(np.concatenate([[0.0], y]))
    return (c[window:] - c[:-window]) / window


def loss_curves(
    history,
    keys: Sequence[str] | None = None,
    *,
    x: str | None = None,
    smooth: int | None = None,
    log: bool | Sequence[str] = False,
    layout: str = "panels",
    secondary: Sequence[str] = (),
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure | Axes:
    """Training curves from a history (e.g. ``model.history_``).

    Parameters
    ----------
    history : dict of arrays, structured array or DataFrame
        One array per quantity (loss, listmle, kl, scale, repeat, ...). A 2-D array (e.g. KL per
        latent dimension) gives one line per column. NaN entries (steps where a quantity was not
        recorded) are skipped.
    keys : sequence of str, optional
        Quantities to draw; default every numeric one except ``x``.
    x : str, optional
        The key holding the x values (default ``"step"`` when present); quantities of another
        length are drawn against their own index.
    smooth : int, optional
        Window of a trailing moving average drawn over the (faint) raw curve.
    log : bool or sequence of str, default False
        Log-scale y axis: True for every quantity whose values are all positive, or the keys to
        log-scale (each must be positive).
    layout : {"panels", "overlay"}, default "panels"
        ``"panels"``: one subplot per quantity, returns the Figure. ``"overlay"``: one Axes (the
        ``secondary`` keys on a twin y axis), returns the Axes.
    secondary : sequence of str, default ()
        Overlay layout: keys drawn against the right-hand y axis.
    ax : matplotlib Axes, optional
        Overlay layout only.
    title : str, optional

    Returns
    -------
    matplotlib Figure (panels) or Axes (overlay)
    """
    data = _history_dict(history)
    if not data:
        raise ValueError("history: is empty")
    if x is None and "step" in data:
        x = "step"
    if x is not None and x not in data:
        raise ValueError(f"x: {x!r} is not in the history (keys: {list(data)})")
    xs = None if x is None else as_finite_array(data[x], f"history[{x!r}]", ndim=1)
    if keys is None:
        keys = [k for k, v in data.items() if k != x and v.dtype.kind in "iufb" and v.ndim in (1, 2)]
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        for k in keys:
            if k not in data:
                raise ValueError(f"keys: {k!r} is not in the history (keys: {list(data)})")
    if not keys:
        raise ValueError("keys: nothing to plot")
    if smooth is not None and (
        isinstance(smooth, bool) or not isinstance(smooth, numbers.Integral) or smooth < 1
    ):
        raise ValueError(f"smooth: expected a positive int window, got {smooth!r}")
    if layout not in ("panels", "overlay"):
        raise ValueError(f"layout: expected 'panels' or 'overlay', got {layout!r}")
    for k in secondary:
        if k not in keys:
            raise ValueError(f"secondary: {k!r} is not among the plotted keys {keys}")
    series = {}
    for k in keys:
        try:
            y = np.asarray(data[k], dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"history[{k!r}]: not numeric") from None
        if y.ndim not in (1, 2):
            raise ValueError(f"history[{k!r}]: expected a 1-D or 2-D array, got shape {y.shape}")
        if np.any(np.isinf(y)):
            raise ValueError(f"history[{k!r}]: contains infinity")
        y2 = y[:, None] if y.ndim == 1 else y
        xk = xs if xs is not None and len(xs) == len(y2) else np.arange(len(y2), dtype=np.float64)
        series[k] = (xk, y2, xs is not None and len(xs) == len(y2))
    if log is True:
        log_keys = {k for k, (_, y, _) in series.items() if np.all(y[np.isfinite(y)] > 0)}
    elif log is False or log is None:
        log_keys = set()
    else:
        log_keys = {log} if isinstance(log, str) else set(log)
        for k in log_keys:
            if k not in series:
                raise ValueError(f"log: {k!r} is not among the plotted keys {keys}")
            y = series[k][1]
            if not np.all(y[np.isfinite(y)] > 0):
                raise ValueError(f"log: history[{k!r}] has values <= 0 and cannot be drawn on a log scale")

    def draw(a, k, cols):
        xk, y2, _ = series[k]
        for j in range(y2.shape[1]):
            ok = np.isfinite(y2[:, j])
            xj, yj = xk[ok], y2[ok, j]
            name = k if y2.shape[1] == 1 else f"{k}[{j}]"
            if smooth and smooth > 1 and len(yj) >= smooth:
                a.plot(xj, yj, color=cols[j], alpha=0.25, lw=0.8, label="_raw " + name)
                a.plot(
                    xj[smooth - 1 :],
                    _moving_average(yj, smooth),
                    color=cols[j],
                    lw=1.6,
                    label=f"{name} (mean of {smooth})",
                )
            else:
                a.plot(xj, yj, color=cols[j], lw=1.4, label=name)
        if k in log_keys:
            a.set_yscale("log")

    def xlabel(k):
        return x if series[k][2] else "index"

    if layout == "overlay":
        ax = _axes(ax, (7.2, 4.4))
        # every drawn series (a 2-D quantity has several) gets its own colour
        widths = np.cumsum([0] + [series[k][1].shape[1] for k in keys])
        colors = _palette(int(widths[-1]))
        twin = ax.twinx() if secondary else None
        for i, k in enumerate(keys):
            draw(twin if k in secondary else ax, k, colors[widths[i] : widths[i + 1]])
        ax.set_xlabel(xlabel(keys[0]))
        ax.set_ylabel(", ".join(k for k in keys if k not in secondary))
        handles, labels = ax.get_legend_handles_labels()
        if twin is not None:
            twin.set_ylabel(", ".join(secondary))
            ax.set_zorder(twin.get_zorder() + 1)  # the legend (on ax) above the twin's lines
            ax.patch.set_visible(False)
            h2, l2 = twin.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        ax.legend(handles, labels, fontsize="small", loc="best")
        ax.set_title(title or "Training history")
        return ax
    if ax is not None:
        raise ValueError("ax: the 'panels' layout makes its own figure; use layout='overlay' to draw on ax")
    ncols = min(3, len(keys))
    nrows = -(-len(keys) // ncols)
    fig, axes = _plt().subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False, layout="constrained"
    )
    flat = axes.ravel()
    for a, k, color in zip(flat, keys, _palette(len(keys))):
        n_cols = series[k][1].shape[1]
        draw(a, k, _palette(n_cols) if n_cols > 1 else [color])
        a.set_title(k)
        a.set_xlabel(xlabel(k))
        a.set_ylabel(k + (" (log)" if k in log_keys else ""))
        if series[k][1].shape[1] > 1 or smooth:
            a.legend(fontsize="x-small", loc="best")
    for a in flat[len(keys) :]:
        a.remove()
    fig.suptitle(title or "Training history")
    return fig
