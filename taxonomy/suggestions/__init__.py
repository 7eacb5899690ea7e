"""Leaf suggestions for new labels and synonym-merge suggestions.

Pure logic, no Django: the callers (services, commands, the bench) hand in the
taxonomy as `Target`s, the decided history as `Placement`s, and get ranked
`Suggestion`s or merge `Cluster`s back.

- text.py      normalisation and stemming (snowballstemmer)
- model.py     the data the scorers work on (targets, placements, suggestions)
- baseline.py  string similarity (rapidfuzz) over the history; always available
- semantic.py  sentence embeddings (optional extra, requirements-semantic.txt)
               combined with the history: nearest labelled wordings vote
- merges.py    synonym-merge clusters with their evidence, rejected pairs respected
"""

from taxonomy.suggestions.baseline import BaselineScorer
from taxonomy.suggestions.merges import Cluster, LabelInfo, suggest_merges
from taxonomy.suggestions.model import Placement, Suggestion, Target, targets_from_tree
from taxonomy.suggestions.text import normalise, stem_tokens

__all__ = [
    "BaselineScorer",
    "Cluster",
    "LabelInfo",
    "Placement",
    "Suggestion",
    "Target",
    "normalise",
    "stem_tokens",
    "suggest_merges",
    "targets_from_tree",
]
