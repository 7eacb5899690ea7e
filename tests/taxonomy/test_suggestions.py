"""Leaf suggestions and synonym-merge clustering: the pure logic (no database)."""

import socket

import pytest

from taxonomy.suggestions import (
    BaselineScorer,
    LabelInfo,
    Placement,
    normalise,
    stem_tokens,
    suggest_merges,
    targets_from_tree,
)
from taxonomy.suggestions.merges import opposites, pair_key, wording_similarity
from taxonomy.suggestions.model import CATEGORY, LEAF
from taxonomy.suggestions.semantic import (
    CachedEmbedder,
    HybridScorer,
    MiniLMEmbedder,
    SemanticScorer,
    model_path,
    np,
    semantic_available,
)

NODES = [
    {"id": 1, "parent": None, "name": "Training"},
    {"id": 2, "parent": 1, "name": "Hyperparameters"},
    {"id": 3, "parent": None, "name": "Tensors & Inputs"},
    {"id": 4, "parent": 3, "name": "Wrong Input"},
    {"id": 5, "parent": 4, "name": "Wrong Shape of Input Data", "description": "data of the wrong dimensions"},
    {"id": 6, "parent": None, "name": "GPU Usage"},
]
LEAVES = [
    {"id": 10, "node": 2, "name": "suboptimal learning rate"},
    {"id": 11, "node": 2, "name": "suboptimal batch size"},
    {"id": 12, "node": 5, "name": "wrong shape of input data for a layer"},
    {"id": 13, "node": 6, "name": "wrong reference to gpu device"},
]
HISTORY = [
    Placement("too high learning rate value for sgd optimizer", "leaf:10", round=2),
    Placement("learning rate too high", "leaf:10", round=2),
    Placement("tensor shape mismatch", "leaf:12", round=2),
    Placement("mismatch between input size and network size", "leaf:12", round=1),
    Placement("use of wrong gpu id", "leaf:13", round=2),
]


@pytest.fixture
def targets():
    return targets_from_tree(NODES, LEAVES)


def test_normalise_stems_drops_function_words_and_keeps_the_newest_history_value():
    assert normalise("Learning rates TOO high!") == normalise("learning rate too high")
    assert stem_tokens("the shape of the inputs") == ("shape", "input")
    assert normalise("old wording -> Missing Softmax") == normalise("missing softmax")
    assert "too" in stem_tokens("too high") and "no" in stem_tokens("no dropout")
    assert normalise("  ,;  ") == ""


def test_targets_from_tree_names_the_path_from_the_top_level_category(targets):
    by_key = {t.key: t for t in targets}
    assert by_key["leaf:12"].path_text == (
        "Tensors & Inputs > Wrong Input > Wrong Shape of Input Data > wrong shape of input data for a layer"
    )
    assert by_key["node:2"].kind == CATEGORY and by_key["node:2"].path_text == "Training > Hyperparameters"
    assert by_key["leaf:10"].parent == "node:2" and by_key["node:1"].parent is None


def test_baseline_learns_from_history(targets):
    without = BaselineScorer(targets)
    with_history = BaselineScorer(targets, HISTORY)
    query = "mismatch between input size and network size"
    assert with_history.suggest(query, top=1)[0].key == "leaf:12"
    # the history's exact wording beats what the names alone give
    assert with_history.suggest(query, top=1)[0].score > max((s.score for s in without.suggest(query)), default=0)


def test_baseline_ranks_leaves_with_scores_and_paths(targets):
    scorer = BaselineScorer(targets, HISTORY)
    got = scorer.suggest("learning rate is too high", top=3)
    assert got[0].key == "leaf:10"
    assert got[0].path == "Training > Hyperparameters > suboptimal learning rate"
    assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)
    assert all(s.kind == LEAF for s in got) and len(got) <= 3
    assert got[0].as_json() == {
        "name": "suboptimal learning rate",
        "path": "Training > Hyperparameters > suboptimal learning rate",
        "score": round(got[0].score, 4),
        "kind": "leaf",
    }
    assert scorer.suggest("gpu id wrong", top=1)[0].key == "leaf:13"
    assert scorer.suggest("", top=5) == []


def test_inner_categories_are_suggested_with_their_leaves(targets):
    scorer = BaselineScorer(targets, HISTORY)
    got = scorer.suggest("input tensor shape mismatch", top=6, kinds=(LEAF, CATEGORY))
    keys = [s.key for s in got]
    assert keys[0] == "leaf:12"
    assert "node:5" in keys and "node:3" in keys
    # a category ranks below the leaf it inherits from
    assert keys.index("leaf:12") < keys.index("node:5")
    scores = {s.key: s.score for s in got}
    assert scores["node:5"] >= 0.9 * scores["leaf:12"] - 1e-9
    only = scorer.suggest("hyperparameters", top=2, kinds=(CATEGORY,))
    assert only[0].key == "node:2" and all(s.kind == CATEGORY for s in only)


def test_history_to_an_unknown_target_is_ignored(targets):
    scorer = BaselineScorer(targets, [Placement("learning rate too high", "leaf:999")])
    assert all(s.key != "leaf:999" for s in scorer.suggest("learning rate too high"))


def test_a_wording_placed_under_two_leaves_votes_for_both(targets):
    history = [Placement("bad hyperparameter", "leaf:10"), Placement("bad hyperparameter", "leaf:11")]
    got = BaselineScorer(targets, history).suggest("bad hyperparameter", top=2)
    assert {s.key for s in got} == {"leaf:10", "leaf:11"}
    assert got[0].score == pytest.approx(got[1].score)


# ------------------------------------------------------------------ semantic (a fake embedder)

needs_numpy = pytest.mark.skipif(np is None, reason="numpy comes with the optional semantic extra")


class StemEmbedder:
    """A deterministic stand-in for the model: hashed bag of stems, with a
    synonym table so that it knows something string similarity does not."""

    SYNONYMS = {"lr": "learn rate", "excess": "too high", "devic": "gpu"}

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            words = []
            for stem in stem_tokens(text):
                words += self.SYNONYMS.get(stem, stem).split()
            for w in words:
                out[row, sum(map(ord, w)) % 64] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


@needs_numpy
def test_semantic_scorer_lets_the_nearest_wordings_vote(targets):
    embedder = CachedEmbedder(StemEmbedder())
    semantic = SemanticScorer(targets, HISTORY, embedder=embedder)
    got = semantic.suggest("excessive lr", top=2)
    assert got[0].key == "leaf:10"
    assert got[0].path == "Training > Hyperparameters > suboptimal learning rate"
    hybrid = HybridScorer(BaselineScorer(targets, HISTORY), semantic, weight=0.6)
    assert hybrid.suggest("excessive lr", top=1)[0].key == "leaf:10"
    assert semantic.suggest("", top=5) == []


@needs_numpy
def test_cached_embedder_encodes_each_text_once():
    inner = StemEmbedder()
    store = {}
    embedder = CachedEmbedder(inner, store)
    first = embedder.encode(["a b", "c d", "a b"])
    again = embedder.encode(["c d", "a b"])
    assert inner.calls == 2 and set(store) == {"a b", "c d"}
    assert np.allclose(first[0], again[1]) and np.allclose(first[1], again[0])
    assert embedder.encode([]).shape[0] == 0


@pytest.mark.skipif(not semantic_available(), reason="optional extra not installed: requirements-semantic.txt")
def test_the_embedding_model_loads_from_site_packages_with_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert "site-packages" in str(model_path()) and (model_path() / "model.safetensors").exists()
    model = MiniLMEmbedder()
    vectors = model.encode(["learning rate too high", "suboptimal learning rate", "wrong reference to gpu device"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


# ------------------------------------------------------------------ merges

LABELS = [
    LabelInfo(1, "learning rate too high", count=3),
    LabelInfo(2, "too high learning rate value for sgd optimizer", count=1),
    LabelInfo(3, "tensor shape mismatch", count=2),
    LabelInfo(4, "wrong input shape", count=1),
    LabelInfo(5, "mismatch between input size and network size", count=1),
    LabelInfo(6, "missing global variables initialization", count=1),
    LabelInfo(7, "learning rate too low", count=1),
]
PLACED = {1: {"lr"}, 2: {"lr"}, 3: {"shape"}, 4: {"shape"}, 5: {"shape"}, 6: {"init"}, 7: {"lr-low"}}


def _clusters(**kwargs):
    return suggest_merges(LABELS, placements=PLACED, artefacts=[[1, 2], [3, 5]], **kwargs)


def test_merge_clusters_group_synonyms_with_evidence():
    clusters = _clusters()
    groups = [set(c.labels) for c in clusters]
    assert {1, 2} in groups and {3, 4, 5} in groups
    assert all(6 not in g for g in groups)
    lr = next(c for c in clusters if set(c.labels) == {1, 2})
    assert lr.labels[0] == 1  # the most used wording first
    ranked = suggest_merges(
        [LabelInfo(1, "learning rate too high", count=5), LabelInfo(9, "learning rate high", rank=1)]
    )
    assert ranked[0].labels == [9, 1]  # a leaf's own label is kept whatever the counts
    (evidence,) = lr.evidence
    assert evidence["shared_leaves"] == ["lr"] and evidence["co_occurrences"] == 1 and evidence["wording"] > 0.7
    assert 0 < lr.score <= 1
    names = {label.key: label.text for label in LABELS}
    shown = lr.as_json(names)
    assert shown["labels"] == ["learning rate too high", "too high learning rate value for sgd optimizer"]
    assert shown["evidence"][0]["pair"] == shown["labels"] or set(shown["evidence"][0]["pair"]) == set(shown["labels"])


def test_labels_kept_apart_under_different_leaves_are_not_merged():
    # "too high" and "too low" share most words but moderators placed them apart
    assert wording_similarity("learning rate too high", "learning rate too low") > 0.6
    assert all(not {1, 7} <= set(c.labels) for c in _clusters())
    # unplaced, the same words in another order merge on wording alone ...
    same = [LabelInfo(1, "learning rate too high"), LabelInfo(8, "too high learning rate")]
    (cluster,) = suggest_merges(same, placements={})
    assert set(cluster.labels) == {1, 8} and cluster.evidence[0]["wording"] == 1.0
    # ... but opposite qualifiers do not
    assert opposites("learning rate too high", "learning rate too low") == ["high/low"]
    assert not suggest_merges(LABELS[:1] + LABELS[6:], placements={})


def test_rejected_pairs_are_never_suggested_nor_joined_through_a_third_label():
    rejected = [(3, 5)]
    clusters = _clusters(rejected=rejected)
    for c in clusters:
        assert not {3, 5} <= set(c.labels)
        assert all(pair_key(*e["pair"]) != pair_key(3, 5) for e in c.evidence)
    assert any({3, 4} <= set(c.labels) for c in clusters)
    # rejecting every pair of a cluster removes it
    clusters = _clusters(rejected=[(1, 2)])
    assert all(not {1, 2} <= set(c.labels) for c in clusters)


@needs_numpy
def test_embedding_similarity_adds_candidates_and_evidence():
    labels = [LabelInfo("a", "use of wrong gpu id"), LabelInfo("b", "wrong reference to gpu device")]
    assert not suggest_merges(labels, placements={})
    close = {"a": np.array([1.0, 0.0]), "b": np.array([0.95, 0.312])}
    (cluster,) = suggest_merges(labels, placements={}, vectors=close)
    assert set(cluster.labels) == {"a", "b"} and cluster.evidence[0]["semantic"] == pytest.approx(0.95, abs=1e-3)
    far = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    assert not suggest_merges(labels, placements={}, vectors=far)
