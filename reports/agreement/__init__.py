"""Inter-rater agreement (issue 10): pure computation, no Django.

- measures.py  percent agreement, Cohen's kappa per pair, Fleiss' kappa, Krippendorff's
               alpha (nominal, missing data) with a bootstrap interval, top disagreements
- levels.py    a rating's value at a taxonomy level (leaf, 1, 2, …)
- report.py    the report (rows per round × level, pairs, disagreements) and its renderers
- charts.py    geometry of the page's figures (alpha per round with its interval, pair heat maps)

The database reads behind it are reports.selectors (round_ratings, interview_ratings,
taxonomy_paths, project_agreement).
"""

from .levels import LEAF, Category, level_table, level_value, levels_of, parse_level
from .measures import (
    Ratings,
    alpha_interval,
    cohen_kappa,
    disagreements,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen,
    percent_agreement,
    summarise,
)
from .report import FORMATS, agreement_report, render, report_tables

__all__ = [
    "FORMATS",
    "LEAF",
    "Category",
    "Ratings",
    "agreement_report",
    "alpha_interval",
    "cohen_kappa",
    "disagreements",
    "fleiss_kappa",
    "krippendorff_alpha",
    "level_table",
    "level_value",
    "levels_of",
    "pairwise_cohen",
    "parse_level",
    "percent_agreement",
    "render",
    "report_tables",
    "summarise",
]
