"""Tests for socialrm.plots: each plot is rendered to a PNG (Agg) and its content is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Ellipse

from socialrm import examples, plots

REPO_ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def save_png(fig_or_ax, tmp_path: Path, name: str) -> bytes:
    """Render to a PNG file and check it is a real, non-trivial PNG."""
    fig = fig_or_ax if isinstance(fig_or_ax, matplotlib.figure.Figure) else fig_or_ax.figure
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 2000
    return data


@pytest.fixture(scope="module")
def four():
    """Planted 4-cluster latents (d = 8) for the raters of a sampled four_types dataset."""
    data = examples.four_types(n_raters=300, seed=0)
    labels = np.asarray(data.rater_labels)
    rng = np.random.default_rng(0)
    centres = 2.0 * rng.normal(size=(4, 8))
    Z = centres[labels] + 0.4 * rng.normal(size=(len(labels), 8))
    return SimpleNamespace(Z=Z, labels=labels, names=list(data.label_names), centres=centres, rng=rng)


def sklearn_pca(Z):
    from sklearn.decomposition import PCA

    return PCA(n_components=2, svd_solver="full").fit(Z)


def same_up_to_sign(A, B, atol=1e-9):
    """Columns of A equal those of B up to one sign per column."""
    signs = np.sign(np.sum(A * B, axis=0))
    np.testing.assert_allclose(A, B * signs, atol=atol)


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def four_types_margins(prompt="normal"):
    """Margins of the true four_types population, counted ballot by ballot (independent of plots)."""
    rankings, weights = examples.true_ballots("four_types", prompt)
    m = rankings.shape[1]
    M = np.zeros((m, m))
    for ballot, w in zip(rankings, weights):
        for i, a in enumerate(ballot):
            for b in ballot[i + 1 :]:
                M[a, b] += w
                M[b, a] -= w
    return M


# --------------------------------------------------------------------------------------------------
# module


def test_import_is_light_and_names_are_public() -> None:
    code = (
        "import sys, socialrm; assert 'matplotlib' not in sys.modules, 'socialrm imports matplotlib'; "
        "import socialrm.plots; assert 'matplotlib' not in sys.modules, 'plots imports matplotlib eagerly'; "
        "assert 'plots' not in socialrm.__all__"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)
    for name in plots.__all__:
        assert callable(getattr(plots, name)), name


# --------------------------------------------------------------------------------------------------
# projections


def test_pca_matches_sklearn(four) -> None:
    mean, W, ratio = plots.pca_basis(four.Z)
    ref = sklearn_pca(four.Z)
    np.testing.assert_allclose(mean, ref.mean_)
    same_up_to_sign(W.T, ref.components_.T)
    np.testing.assert_allclose(ratio, ref.explained_variance_ratio_, rtol=1e-9)
    P = plots.project_2d(four.Z)
    same_up_to_sign(P, ref.transform(four.Z))
    # the sign convention: each axis's largest-magnitude loading is positive
    assert np.all(W[np.arange(2), np.argmax(np.abs(W), axis=1)] > 0)
    # deterministic: the same input gives bitwise the same coordinates
    assert np.array_equal(P, plots.project_2d(four.Z.copy()))


def test_projection_low_dimensions_and_few_points() -> None:
    z1 = np.array([0.5, -1.0, 2.0])
    assert plots.project_2d(z1[:, None]).tolist() == [[0.5, 0.0], [-1.0, 0.0], [2.0, 0.0]]
    z2 = np.array([[1.0, 2.0], [3.0, -4.0]])
    assert np.array_equal(plots.project_2d(z2), z2)
    # fewer points than dimensions: two orthonormal axes all the same
    Z = np.random.default_rng(1).normal(size=(3, 6))
    _, W, ratio = plots.pca_basis(Z)
    np.testing.assert_allclose(W @ W.T, np.eye(2), atol=1e-12)
    assert ratio.sum() <= 1.0 + 1e-12
    with pytest.raises(ValueError, match="Z: PCA needs at least 2 points"):
        plots.pca_basis(np.ones((1, 4)))


def test_isomap_is_sklearns(four) -> None:
    from sklearn.manifold import Isomap

    Z = four.Z[:80]
    P = plots.project_2d(Z, method="isomap")
    # the separated types need more than 10 neighbours for a connected graph: k goes 10 -> 20
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import kneighbors_graph

    assert connected_components(kneighbors_graph(Z, 10), directed=True, connection="weak")[0] > 1
    assert connected_components(kneighbors_graph(Z, 20), directed=True, connection="weak")[0] == 1
    ref = Isomap(n_components=2, n_neighbors=20).fit_transform(Z)
    np.testing.assert_allclose(P, ref, atol=1e-8)
    # spectral embedding gets the same connected graph (a disconnected one would warn, an error here)
    from sklearn.manifold import SpectralEmbedding

    ref = SpectralEmbedding(n_components=2, n_neighbors=20, random_state=4).fit_transform(Z)
    np.testing.assert_allclose(plots.project_2d(Z, method="spectral", random_state=4), ref, atol=1e-10)
    ax = plots.latent_scatter(Z, four.labels[:80], method="isomap", label_names=four.names)
    assert ax.get_xlabel() == "Isomap 1"
    got = np.concatenate([c.get_offsets() for c in ax.collections])
    assert got.shape == (80, 2)


def test_tsne_is_seeded(four) -> None:
    Z = four.Z[:40]
    a = plots.project_2d(Z, method="tsne", random_state=3)
    b = plots.project_2d(Z, method="tsne", random_state=3)
    assert a.shape == (40, 2) and np.array_equal(a, b)


def test_missing_scikit_learn_is_a_clear_import_error(four, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(ImportError, match=r"method='tsne' needs scikit-learn.*socialrm\[plots\]"):
        plots.project_2d(four.Z, method="tsne")
    # PCA needs NumPy only
    assert plots.project_2d(four.Z).shape == (len(four.Z), 2)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda f: plots.latent_scatter(f.Z, f.labels, method="umap"), ValueError, "method: expected one of"),
        (lambda f: plots.project_2d(np.where(f.Z > 3, np.nan, f.Z)), ValueError, "Z: contains NaN"),
        (lambda f: plots.latent_scatter(f.Z, f.labels[:-1]), ValueError, "labels: expected 300 labels"),
        (lambda f: plots.latent_scatter([["a", "b"]]), TypeError, "Z: cannot convert"),
        (lambda f: plots.latent_scatter(np.ones((2, 2, 2))), ValueError, "Z: expected a 2-D array"),
        (lambda f: plots.latent_scatter(np.ones((0, 3))), ValueError, "Z: expected at least one point"),
        (lambda f: plots.latent_scatter(f.Z[:3], method="isomap"), ValueError, "needs at least 4 points"),
        (lambda f: plots.latent_scatter(f.Z[:2], [0.0, np.nan]), ValueError, "labels: contains NaN"),
    ],
)
def test_latent_input_errors(four, call, exc, match) -> None:
    with pytest.raises(exc, match=match):
        call(four)


# --------------------------------------------------------------------------------------------------
# latent plots


def test_latent_scatter_content(four, tmp_path) -> None:
    before = four.Z.copy()
    ax = plots.latent_scatter(four.Z, four.labels, label_names=four.names)
    assert np.array_equal(four.Z, before)  # input untouched
    first = save_png(ax, tmp_path, "scatter")
    assert len(ax.collections) == 4
    P = plots.project_2d(four.Z)
    for t, coll in enumerate(ax.collections):
        np.testing.assert_array_equal(coll.get_offsets(), P[four.labels == t])
    assert legend_texts(ax) == ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
    assert ax.get_xlabel().startswith("PC1 (") and ax.get_ylabel().startswith("PC2 (")
    assert ax.get_title().startswith("Latents (300 points, d = 8")
    # the same type has the same colour in every plot: tab10 colour t for label t
    tab10 = matplotlib.colormaps["tab10"].colors
    for t, coll in enumerate(ax.collections):
        np.testing.assert_allclose(coll.get_facecolor()[0][:3], tab10[t])
    plt.close("all")
    again = plots.latent_scatter(four.Z, four.labels, label_names=four.names)
    assert save_png(again, tmp_path, "scatter_again") == first  # deterministic output


def test_latent_scatter_string_labels_one_dim_and_no_labels(four, tmp_path) -> None:
    names = np.array(four.names)[four.labels]
    ax = plots.latent_scatter(four.Z, names)
    assert legend_texts(ax) == sorted(four.names)
    plt.close("all")
    ax = plots.latent_scatter(four.Z[:, 0], four.labels, label_names=four.names)
    save_png(ax, tmp_path, "strip")
    assert [t.get_text() for t in ax.get_yticklabels()] == four.names
    for t, coll in enumerate(ax.collections):  # one row per label, x = the 1-D latent
        xy = coll.get_offsets()
        np.testing.assert_array_equal(xy[:, 0], four.Z[four.labels == t, 0])
        assert np.all(np.abs(xy[:, 1] - t) <= 0.15)
    plt.close("all")
    ax = plots.latent_scatter(four.Z)
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == 300
    assert ax.get_legend() is None


def test_cluster_plot_type_centroids_and_kmeans(four, tmp_path) -> None:
    ax = plots.cluster_plot(four.Z, four.labels, label_names=four.names)
    save_png(ax, tmp_path, "clusters")
    assert len(ax.collections) == 5  # four clouds + the centroids
    mean, W, _ = plots.pca_basis(four.Z)
    type_means = np.stack([four.Z[four.labels == t].mean(axis=0) for t in range(4)])
    np.testing.assert_allclose(ax.collections[4].get_offsets(), (type_means - mean) @ W.T)
    assert [t.get_text() for t in ax.texts] == four.names
    assert legend_texts(ax) == [*four.names, "centroids"]
    plt.close("all")

    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=4, n_init=2, random_state=0).fit(four.Z)
    ax = plots.cluster_plot(four.Z, km.labels_, centroids=km.cluster_centers_)
    np.testing.assert_allclose(ax.collections[4].get_offsets(), (km.cluster_centers_ - mean) @ W.T)
    assert [t.get_text() for t in ax.texts] == ["c0", "c1", "c2", "c3"]
    with pytest.raises(ValueError, match="centroid_names: expected 4 names"):
        plots.cluster_plot(four.Z, four.labels, centroids=km.cluster_centers_, centroid_names=["a"])
    with pytest.raises(ValueError, match="centroids: expected 8 dimensions"):
        plots.cluster_plot(four.Z, four.labels, centroids=np.zeros((4, 3)))


def test_context_invariance_plot(four, tmp_path) -> None:
    rng = np.random.default_rng(5)
    contexts = {
        "normal": four.Z + 0.2 * rng.normal(size=four.Z.shape),
        "inverted": four.Z + 0.2 * rng.normal(size=four.Z.shape),
        "both": four.Z,
    }
    ax = plots.context_invariance_plot(contexts, four.labels, label_names=four.names, max_lines=50)
    save_png(ax, tmp_path, "context")
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(scatters) == 3 and all(len(c.get_offsets()) == 300 for c in scatters)
    # the projection is fitted on all contexts together
    stacked = np.concatenate(list(contexts.values()))
    P = plots.project_2d(stacked).reshape(3, 300, 2)
    for i, c in enumerate(scatters):
        np.testing.assert_allclose(c.get_offsets(), P[i])
    assert len({c.get_paths()[0].vertices.tobytes() for c in scatters}) == 3  # one marker per context
    (lc,) = lines
    segments = lc.get_segments()
    assert len(segments) == 50
    joined = {tuple(np.round(seg[0], 9)) for seg in segments}
    for seg in segments:  # each line visits one rater's three embeddings
        r = int(np.argmin(np.abs(P[0] - seg[0]).sum(axis=1)))
        np.testing.assert_allclose(seg, P[:, r, :])
    assert len(joined) == 50
    assert legend_texts(ax) == [*four.names, "from normal", "from inverted", "from both", "same rater"]
    plt.close("all")
    ax = plots.context_invariance_plot({"normal": four.Z}, four.labels)  # one context: no lines
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]
    with pytest.raises(ValueError, match=r"Z_by_context\['inverted'\]: expected 300 raters"):
        plots.context_invariance_plot({"normal": four.Z, "inverted": four.Z[:10]}, four.labels)
    with pytest.raises(ValueError, match=r"Z_by_context\['inverted'\]: contains NaN"):
        plots.context_invariance_plot({"normal": four.Z, "inverted": four.Z * np.nan}, four.labels)
    with pytest.raises(TypeError, match="Z_by_context: expected a non-empty dict"):
        plots.context_invariance_plot([four.Z], four.labels)


def test_partial_information_plot(four, tmp_path) -> None:
    c = four.centres
    Zp = np.stack([c[0] + 0.3, 0.6 * c[2] + 0.4 * c[3], c[1] - 0.2])
    notes = ["Memphis ≻ Knoxville (normal)", "Ch ≻ Kn", "ballot without Knoxville"]
    ax = plots.partial_information_plot(
        four.Z, four.labels, Zp, notes, partial_types=[0, 2, 1], label_names=four.names
    )
    save_png(ax, tmp_path, "partial")
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 6  # four clouds, the type centroids, the partial profiles
    ref = sklearn_pca(four.Z)  # the basis comes from the full profiles alone
    same_up_to_sign(scatters[5].get_offsets(), ref.transform(Zp))
    assert [t.get_text() for t in ax.texts] == notes
    # the stars take their type's colour
    tab10 = matplotlib.colormaps["tab10"].colors
    np.testing.assert_allclose(scatters[5].get_facecolors()[:, :3], [tab10[0], tab10[2], tab10[1]])
    # dashed lines go to the nearest type centroid in latent space
    type_means = np.stack([four.Z[four.labels == t].mean(axis=0) for t in range(4)])
    nearest = np.argmin(((Zp[:, None] - type_means[None]) ** 2).sum(axis=2), axis=1)
    assert nearest.tolist() == [0, 2, 1]
    links = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(links) == 3
    for ln, j in zip(links, nearest):
        np.testing.assert_allclose(ln.get_xydata()[1], scatters[4].get_offsets()[j])
    assert legend_texts(ax) == [*four.names, "type centroids", "nearest centroid", "partial profiles"]
    with pytest.raises(ValueError, match="partial_labels: expected 3 annotations"):
        plots.partial_information_plot(four.Z, four.labels, Zp, notes[:2])
    with pytest.raises(ValueError, match="Z_partial: expected 8 dimensions"):
        plots.partial_information_plot(four.Z, four.labels, Zp[:, :3], notes)


# --------------------------------------------------------------------------------------------------
# traversals


def test_sign_changes_and_linear_path() -> None:
    t = np.linspace(0.0, 1.0, 5)
    assert plots.sign_changes([-1.0, 1.0, 3.0, 2.0, 1.0], t).tolist() == [0.125]
    assert plots.sign_changes([1.0, 0.0, 0.0, -1.0, -2.0], t).tolist() == [0.375]  # middle of the zeros
    assert plots.sign_changes([1.0, 0.0, 2.0, 0.0, 1.0], t).size == 0  # touching zero is no change
    assert plots.sign_changes(np.zeros(5), t).size == 0
    x = np.linspace(0.0, 2.0, 41)
    np.testing.assert_allclose(plots.sign_changes(np.sin(np.pi * (x + 0.013)), x), [0.987, 1.987], atol=2e-3)
    with pytest.raises(ValueError, match="t: expected 2 positions"):
        plots.sign_changes([1.0, -1.0], [0.0])

    path = plots.linear_path([0.0, 1.0, 2.0], [2.0, 1.0, 0.0], n=21)
    assert path.shape == (21, 3)
    np.testing.assert_allclose(path[[0, 10, 20]], [[0, 1, 2], [1, 1, 1], [2, 1, 0]])
    with pytest.raises(ValueError, match="z1: expected the shape of z0"):
        plots.linear_path([0.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="n: expected an int >= 2"):
        plots.linear_path([0.0], [1.0], n=1)
    with pytest.raises(ValueError, match="z0: contains NaN"):
        plots.linear_path([np.nan], [1.0])


def test_traversal_plot_knoxville_to_chattanooga(tmp_path) -> None:
    pop = examples.population("four_types")
    cities = list(pop.candidates)

    def borda(order):
        return np.array([len(order) - 1 - order.index(c) for c in cities], dtype=float)

    kn, ch = borda(pop.orders["normal"][3]), borda(pop.orders["normal"][2])
    # rewards along a straight latent path from the Knoxville type to the Chattanooga type
    t = np.linspace(0.0, 1.0, 21)[:, None]
    R = (1 - t) * kn + t * ch + 0.25 * np.sin(np.pi * t) * np.array([0.0, 1.0, 0.0, 0.0])
    ax = plots.traversal_plot(R, cities, endpoint_names=("Knoxville", "Chattanooga"))
    save_png(ax, tmp_path, "traversal")
    pair_lines = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert len(pair_lines) == 6
    labels = [ln.get_label() for ln in pair_lines]
    assert "Chattanooga − Knoxville (1 sign change)" in labels
    assert sum("(0 sign changes)" in lb for lb in labels) == 5
    (marks,) = ax.collections
    np.testing.assert_allclose(marks.get_offsets(), [[0.5, 0.0]])  # Ch and Kn tie exactly half way
    # each line is the pairwise difference
    np.testing.assert_allclose(pair_lines[5].get_ydata(), R[:, 2] - R[:, 3])
    assert "Knoxville" in ax.get_xlabel() and ax.get_ylabel() == "reward difference"
    assert legend_texts(ax) == [*labels, "sign change"]


def test_traversal_plot_pairs_and_crossings(tmp_path) -> None:
    x = np.linspace(0.0, 2.0, 41)
    R = np.column_stack([np.sin(np.pi * (x + 0.013)), np.zeros_like(x), 0.5 - x])
    ax = plots.traversal_plot(R, ["a", "b", "c"], t=x, pairs=[("a", "b"), (2, 1)])
    save_png(ax, tmp_path, "traversal_pairs")
    labels = [ln.get_label() for ln in ax.lines if not ln.get_label().startswith("_")]
    assert labels == ["a − b (2 sign changes)", "c − b (1 sign change)"]
    got = np.sort(ax.collections[0].get_offsets()[:, 0])
    np.testing.assert_allclose(got, [0.5, 0.987, 1.987], atol=2e-3)
    np.testing.assert_array_equal(ax.collections[0].get_offsets()[:, 1], 0.0)
    with pytest.raises(ValueError, match="candidate_names: expected 3 names"):
        plots.traversal_plot(R, ["a", "b"])
    with pytest.raises(ValueError, match="pairs: unknown candidate 'z'"):
        plots.traversal_plot(R, ["a", "b", "c"], pairs=[("a", "z")])
    with pytest.raises(ValueError, match="pairs: a pair needs two different candidates"):
        plots.traversal_plot(R, ["a", "b", "c"], pairs=[(1, 1)])
    with pytest.raises(ValueError, match="t: expected 41 positions"):
        plots.traversal_plot(R, ["a", "b", "c"], t=x[:-1])
    with pytest.raises(ValueError, match="rewards: contains NaN"):
        plots.traversal_plot(R * np.nan, ["a", "b", "c"])


# --------------------------------------------------------------------------------------------------
# social orders and margins

CITIES = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
# exact orders of the true four_types population on `normal` (DESIGN.md §6)
FOUR_TYPES_ORDERS = {
    "borda": ["Nashville", "Chattanooga", "Memphis", "Knoxville"],
    "copeland": ["Nashville", "Chattanooga", "Knoxville", "Memphis"],
    "kemeny": ["Nashville", "Chattanooga", "Knoxville", "Memphis"],
    "minimax": ["Nashville", "Memphis", "Chattanooga", "Knoxville"],
}


def text_positions(ax):
    """rule|candidate -> (x, y) of each candidate box."""
    return {t.get_gid(): t.get_position() for t in ax.texts}


def test_social_orders_plot_rules_side_by_side(tmp_path) -> None:
    orders = dict(FOUR_TYPES_ORDERS)
    # a SocialOrder-like object whose candidates are listed in another order, with a tie
    orders["tied"] = SimpleNamespace(
        ranks=np.array([0, 1, 1, 2]), candidates=["Nashville", "Chattanooga", "Knoxville", "Memphis"]
    )
    orders["tiers"] = [["Memphis"], ["Nashville", "Knoxville"], ["Chattanooga"]]
    ax = plots.social_orders_plot(orders, candidates=CITIES)
    save_png(ax, tmp_path, "orders")
    rules = list(orders)
    assert [t.get_text() for t in ax.get_xticklabels()] == rules
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "3", "4"]
    pos = text_positions(ax)
    assert len(pos) == len(rules) * 4
    for r, rule in enumerate(FOUR_TYPES_ORDERS):
        for tier, city in enumerate(FOUR_TYPES_ORDERS[rule]):
            assert pos[f"{rule}|{city}"] == (r, tier)
    # ties: same row, side by side inside the rule's column
    tied = {c: pos[f"tied|{c}"] for c in CITIES}
    assert tied["Nashville"][1] == 0 and tied["Memphis"][1] == 2
    assert tied["Chattanooga"][1] == tied["Knoxville"][1] == 1
    assert tied["Chattanooga"][0] < 4 < tied["Knoxville"][0] and abs(tied["Knoxville"][0] - 4) < 0.5
    assert pos["tiers|Nashville"][1] == pos["tiers|Knoxville"][1] == 1 and pos["tiers|Chattanooga"][1] == 2
    # one line per candidate through its places
    assert len(ax.lines) == 4 and legend_texts(ax) == CITIES
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [2, 3, 3, 1, 2, 0])  # Memphis
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # best tier on top


def test_social_orders_plot_candidates_from_orders_and_errors(tmp_path) -> None:
    m = 10
    names = [f"cand{i}" for i in range(m)]
    rng = np.random.default_rng(2)
    orders = {f"rule{r}": SimpleNamespace(ranks=rng.permutation(m), candidates=names) for r in range(6)}
    orders["ranks"] = np.arange(m)[::-1] // 2  # plain ranks array with ties
    ax = plots.social_orders_plot(orders)
    save_png(ax, tmp_path, "orders10")
    assert len(ax.texts) == 7 * m and len(ax.lines) == m
    assert {t.get_text() for t in ax.texts} == set(names)
    assert max(int(t.get_text()) for t in ax.get_yticklabels()) == m
    # an order from an unnamed profile (candidates "0", "1", ...) is taken by position
    unnamed = SimpleNamespace(ranks=np.array([2, 0, 1, 3]), candidates=["0", "1", "2", "3"])
    ax = plots.social_orders_plot({"borda": unnamed}, candidates=CITIES)
    assert {c: text_positions(ax)[f"borda|{c}"][1] for c in CITIES} == dict(zip(CITIES, [2, 0, 1, 3]))
    other = SimpleNamespace(ranks=np.arange(4), candidates=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match=r"orders\['x'\]: candidates \['a', 'b', 'c', 'd'\] differ"):
        plots.social_orders_plot({"x": other}, candidates=CITIES)
    with pytest.raises(ValueError, match=r"orders\['b'\]: expected 4 candidates, got 3"):
        plots.social_orders_plot({"a": np.arange(4), "b": np.arange(3)})
    with pytest.raises(ValueError, match=r"orders\['a'\]: candidates \['Knoxville'\] are not placed"):
        plots.social_orders_plot({"a": [["Memphis"], ["Nashville", "Chattanooga"]]}, candidates=CITIES)
    with pytest.raises(ValueError, match=r"orders\['a'\]: candidate 'Memphis' listed twice"):
        plots.social_orders_plot({"a": ["Memphis", "Memphis", "Chattanooga", "Knoxville"]}, candidates=CITIES)
    with pytest.raises(ValueError, match=r"orders\['a'\]: ranks contain NaN"):
        plots.social_orders_plot({"a": [0.0, np.nan]})
    with pytest.raises(TypeError, match="orders: expected a non-empty dict"):
        plots.social_orders_plot({})


def test_margin_heatmap_shows_the_margins(tmp_path) -> None:
    M = four_types_margins()
    ax = plots.margin_heatmap(M, CITIES)
    save_png(ax, tmp_path, "margins")
    (im,) = ax.images
    np.testing.assert_array_equal(im.get_array(), M)
    lo, hi = im.get_clim()
    assert lo == -hi == -np.abs(M).max()  # centred at 0
    assert len(ax.figure.axes) == 2  # the heatmap and its colorbar
    assert [t.get_text() for t in ax.get_xticklabels()] == CITIES
    assert [t.get_text() for t in ax.get_yticklabels()] == CITIES
    texts = np.array([t.get_text() for t in ax.texts]).reshape(4, 4)
    assert texts.tolist() == [[f"{v:.2f}" for v in row] for row in M]
    assert texts[1, 0] == "0.16" and texts[2, 3] == "0.66"  # Nashville beats Memphis by 0.58 - 0.42
    # text positions: column b on x, row a on y
    assert ax.texts[1 * 4 + 0].get_position() == (0, 1)


def test_margin_heatmap_profile_like_and_errors(tmp_path) -> None:
    counts = np.round(four_types_margins() * 100).astype(int)
    profile = SimpleNamespace(margins=lambda: counts, candidates=CITIES)
    ax = plots.margin_heatmap(profile)
    save_png(ax, tmp_path, "margins_int")
    assert [t.get_text() for t in ax.texts][:4] == ["0", "-16", "-16", "-16"]
    assert [t.get_text() for t in ax.get_xticklabels()] == CITIES
    plt.close("all")
    big = np.zeros((20, 20))
    assert not plots.margin_heatmap(big).texts  # not annotated by default for large m
    with pytest.raises(ValueError, match="M: expected a square margin matrix"):
        plots.margin_heatmap(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="candidates: expected 4 names"):
        plots.margin_heatmap(np.zeros((4, 4)), CITIES[:3])
    with pytest.raises(ValueError, match="M: contains NaN"):
        plots.margin_heatmap(np.full((2, 2), np.nan))


# --------------------------------------------------------------------------------------------------
# Gaussian mixture


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied", "spherical"])
def test_gmm_plot_projects_components(four, tmp_path, covariance_type) -> None:
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(4, covariance_type=covariance_type, random_state=0).fit(four.Z)
    ax = plots.gmm_plot(four.Z, gm, four.labels, four.names)
    save_png(ax, tmp_path, f"gmm_{covariance_type}")
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 4 * 2  # 1 and 2 sigma per component
    # independent projection: sklearn's PCA of the points, means and covariances through it
    ref = sklearn_pca(four.Z)
    cov = gm.covariances_
    if covariance_type == "full":
        full = cov
    elif covariance_type == "diag":
        full = np.stack([np.diag(c) for c in cov])
    elif covariance_type == "tied":
        full = np.broadcast_to(cov, (4, 8, 8))
    else:
        full = cov[:, None, None] * np.eye(8)
    means2 = ref.transform(gm.means_)
    centres = np.array([e.get_center() for e in ellipses[::2]])
    same_up_to_sign(centres, means2)
    for j in range(4):
        C2 = ref.components_ @ full[j] @ ref.components_.T
        axes_len = 2 * np.sqrt(np.linalg.eigvalsh(C2))  # 1-sigma diameters, ascending
        for si, s in enumerate((1.0, 2.0)):
            e = ellipses[2 * j + si]
            np.testing.assert_allclose(sorted([e.width, e.height]), s * axes_len, rtol=1e-7)
    # heavier components are more opaque
    alpha = np.array([e.get_facecolor()[3] for e in ellipses[::2]])
    assert np.array_equal(np.argsort(alpha, kind="stable"), np.argsort(gm.weights_, kind="stable"))
    mean_marks = ax.collections[-1]
    same_up_to_sign(mean_marks.get_offsets(), means2)
    assert legend_texts(ax) == [*four.names, "component means"]
    assert len(ax.texts) == 4 and ax.texts[0].get_text() == f"0: w = {gm.weights_[0]:.2f}"


def test_gmm_plot_params_one_dimension_and_errors(four, tmp_path) -> None:
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(four.Z)
    as_dict = {
        "weights": gm.weights_,
        "means": gm.means_,
        "covariances": gm.covariances_,
        "covariance_type": "diag",
    }
    a = plots.gmm_plot(four.Z, gm)
    b = plots.gmm_plot(four.Z, as_dict)
    c = plots.gmm_plot(four.Z, (gm.weights_, gm.means_, gm.covariances_))  # type inferred: [k, d] = diag
    for ax in (b, c):
        for e1, e2 in zip(a.patches, ax.patches):
            assert e1.get_center() == e2.get_center() and e1.width == e2.width and e1.angle == e2.angle
    assert len(a.collections[0].get_offsets()) == 300 and legend_texts(a) == ["latents", "component means"]
    plt.close("all")

    g1 = GaussianMixture(2, random_state=0).fit(four.Z[:, :1])
    ax = plots.gmm_plot(four.Z[:, 0], g1)
    save_png(ax, tmp_path, "gmm_1d")
    assert len(ax.lines) == 3  # two components and the mixture
    x, y = ax.lines[-1].get_data()
    np.testing.assert_allclose(y, np.exp(g1.score_samples(x[:, None])), rtol=1e-9)

    with pytest.raises(ValueError, match=r"gmm means: expected shape \(3, 8\)"):
        plots.gmm_plot(four.Z, (gm.weights_, gm.means_[:, :2], gm.covariances_))
    with pytest.raises(ValueError, match="covariance_type: expected one of"):
        plots.gmm_plot(four.Z, {**as_dict, "covariance_type": "banded"})
    square = np.ones((8, 8))
    with pytest.raises(ValueError, match="ambiguous or wrong; give covariance_type"):
        plots.gmm_plot(four.Z, (np.ones(8) / 8, np.zeros((8, 8)), square))
    with pytest.raises(TypeError, match="gmm: expected a fitted mixture"):
        plots.gmm_plot(four.Z, "gmm")
    with pytest.raises(ValueError, match="sigmas: expected positive radii"):
        plots.gmm_plot(four.Z, gm, sigmas=[0.0])


# --------------------------------------------------------------------------------------------------
# training history


@pytest.fixture(scope="module")
def history():
    rng = np.random.default_rng(0)
    steps = np.arange(600)
    return {
        "step": steps,
        "loss": 3.0 * np.exp(-steps / 200) + 0.5 + 0.2 * rng.random(600),
        "listmle": 2.5 * np.exp(-steps / 200) + 0.4 + 0.2 * rng.random(600),
        "kl": np.minimum(steps / 300, 1.0) + 0.05 * rng.random(600),
        "scale": 0.1 + 0.001 * steps,
        "repeat": np.floor(steps / 100) * 0.1,
        "kl_per_dim": np.abs(rng.normal(size=(600, 4))),
    }


def test_loss_curves_panels(history, tmp_path) -> None:
    fig = plots.loss_curves(history, smooth=25, log=["loss"])
    save_png(fig, tmp_path, "loss")
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["loss", "listmle", "kl", "scale", "repeat", "kl_per_dim"]
    assert fig.get_suptitle() == "Training history"
    assert axes[0].get_yscale() == "log" and axes[1].get_yscale() == "linear"
    assert all(a.get_xlabel() == "step" for a in axes)
    raw, smooth = axes[0].lines
    np.testing.assert_array_equal(raw.get_ydata(), history["loss"])
    expected = np.convolve(history["loss"], np.ones(25) / 25, mode="valid")
    np.testing.assert_allclose(smooth.get_ydata(), expected, rtol=1e-12)
    np.testing.assert_array_equal(smooth.get_xdata(), history["step"][24:])
    assert len(axes[5].lines) == 2 * 4  # raw + smoothed per latent dimension
    assert legend_texts(axes[5]) == [f"kl_per_dim[{j}] (mean of 25)" for j in range(4)]


def test_loss_curves_inputs_and_overlay(history, tmp_path) -> None:
    keys = ["loss", "kl", "repeat"]
    rec = np.zeros(600, dtype=[("step", "i8"), ("loss", "f8"), ("kl", "f8"), ("repeat", "f8")])
    for k in rec.dtype.names:
        rec[k] = history[k]
    fig = plots.loss_curves(rec, log=True)
    assert [a.get_title() for a in fig.axes] == keys
    # log=True: only all-positive quantities (repeat starts at 0)
    assert [a.get_yscale() for a in fig.axes] == ["log", "log", "linear"]
    plt.close("all")

    import pandas as pd

    fig = plots.loss_curves(pd.DataFrame(rec), keys=["kl"])
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), history["kl"])
    plt.close("all")

    # NaN entries (not recorded at that step) are skipped; a shorter array uses its own index
    checks = {"loss": np.where(np.arange(600) % 100 == 0, history["loss"], np.nan), "active": np.arange(6.0)}
    fig = plots.loss_curves({"step": history["step"], **checks})
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), np.arange(0, 600, 100))
    assert fig.axes[1].get_xlabel() == "index"
    plt.close("all")

    ax = plots.loss_curves(history, keys=keys, layout="overlay", secondary=["repeat"])
    save_png(ax, tmp_path, "loss_overlay")
    assert len(ax.figure.axes) == 2  # the Axes and its twin
    assert [ln.get_label() for ln in ax.lines] == ["loss", "kl"]
    assert [ln.get_label() for ln in ax.figure.axes[1].lines] == ["repeat"]
    assert legend_texts(ax) == keys and ax.figure.axes[1].get_ylabel() == "repeat"
    plt.close("all")
    ax = plots.loss_curves(history, keys=["loss", "kl_per_dim"], layout="overlay")
    assert len(ax.lines) == 1 + 4
    assert len({ln.get_color() for ln in ax.lines}) == 5  # each series its own colour


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"keys": ["loss", "nope"]}, ValueError, "keys: 'nope' is not in the history"),
        ({"x": "time"}, ValueError, "x: 'time' is not in the history"),
        ({"smooth": 0}, ValueError, "smooth: expected a positive int"),
        ({"log": ["repeat"]}, ValueError, r"log: history\['repeat'\] has values <= 0"),
        ({"layout": "grid"}, ValueError, "layout: expected 'panels' or 'overlay'"),
        ({"secondary": ["nope"]}, ValueError, "secondary: 'nope' is not among"),
    ],
)
def test_loss_curves_errors(history, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        plots.loss_curves(history, **kwargs)


def test_loss_curves_bad_history() -> None:
    with pytest.raises(TypeError, match="history: expected a dict of arrays"):
        plots.loss_curves([1.0, 2.0])
    with pytest.raises(ValueError, match=r"history\['loss'\]: contains infinity"):
        plots.loss_curves({"loss": [1.0, np.inf]})
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax: the 'panels' layout makes its own figure"):
        plots.loss_curves({"loss": [1.0, 2.0]}, ax=ax)


def test_docstring_examples() -> None:
    import doctest

    result = doctest.testmod(plots, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0
