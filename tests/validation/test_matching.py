"""Column groups to categories: tolerant names, ambiguity, one group per category, explicit mapping."""

from dataclasses import dataclass

import pytest

from validation.matching import MappingError, key, match_groups, parse_mapping, shortened, words


@dataclass(frozen=True)
class Cat:
    code: str
    name: str


STUDY = [
    Cat("1", "Model"),
    Cat("1.1", "Model Type & Properties"),
    Cat("1.2", "Layers"),
    Cat("1.2.1", "Missing/Redundant/Wrong Layer"),
    Cat("2", "GPU Usage"),
    Cat("4.2", "Wrong Input"),
    Cat("4.2.3", "Wrong Input Format"),
    Cat("5.1", "Hyperparameters"),
    Cat("5.3", "Validation & Testing"),
    Cat("5.5", "Optimiser"),
    Cat("5.6", "Training Data Quality"),
]


@pytest.mark.parametrize(
    "group, name, how",
    [
        ("Hyperparameters", "Hyperparameters", "exact"),
        ("hyperparameters", "Hyperparameters", "normalised"),
        ("OptimiserProblems", "Optimiser", "normalised"),
        ("Optimizer problems", "Optimiser", "normalised"),
        ("Validation/Testing", "Validation & Testing", "normalised"),
        ("Validation and testing", "Validation & Testing", "normalised"),
        ("Model Type", "Model Type & Properties", "shortened"),
        ("GPUUsage", "GPU Usage", "normalised"),
        ("Training Data", "Training Data Quality", "shortened"),
        ("Missing, Redundant or Wrong Layer", None, None),
        ("Wrong Input", "Wrong Input", "exact"),  # the exact category wins over 'Wrong Input Format'
        ("Layers (e.g. wrong size)", "Layers", "normalised"),
    ],
)
def test_tolerant_names(group, name, how):
    result = match_groups([group], STUDY)
    if name is None:
        assert result.unmatched == [group]
        assert result.rows([group])[0]["note"] == "no category of that name"
    else:
        assert result.matched[group].name == name
        assert result.how[group] == how
        assert result.unmatched == []


def test_a_missing_trailing_word_means_one_word_only():
    assert shortened(words("Model Type"), words("Model Type & Properties"))
    assert not shortened(words("Model"), words("Model Type & Properties"))
    assert not shortened(words("Type"), words("Model Type"))
    assert key("Tensors&Inputs") == "tensors and inputs"


def test_ambiguous_names_stay_unmatched_and_list_the_candidates():
    cats = [Cat("1.1", "Data Type Mismatch"), Cat("1.2", "Data Type Conversion")]
    result = match_groups(["Data Type"], cats)
    assert result.unmatched == ["Data Type"]
    assert [c.code for c in result.ambiguous["Data Type"]] == ["1.1", "1.2"]
    assert "matches several" in result.rows(["Data Type"])[0]["note"]


def test_a_category_goes_to_one_group_the_better_match():
    result = match_groups(["OptimiserProblems", "Optimiser"], STUDY)
    assert result.matched == {"Optimiser": STUDY[9]}
    assert result.taken == {"OptimiserProblems": "Optimiser"}
    assert result.unmatched == ["OptimiserProblems"]
    assert [c.name for c in result.unused(STUDY)] == [c.name for c in STUDY if c.name != "Optimiser"]


def test_mapping_wins_and_names_the_category_by_code_or_name():
    mapping = parse_mapping(["Q7 block=5.1", "misc=", "optimiserproblems = optimiser"])
    assert mapping == {"Q7 block": "5.1", "misc": "", "optimiserproblems": "optimiser"}
    result = match_groups(["Q7 block", "misc", "OptimiserProblems", "Hyperparameters"], STUDY, mapping)
    assert result.matched["Q7 block"].name == "Hyperparameters"
    assert result.how["Q7 block"] == "mapped"
    assert result.matched["OptimiserProblems"].name == "Optimiser"
    assert result.ignored == ["misc"]
    assert result.taken == {"Hyperparameters": "Q7 block"}
    assert list(result.matched) == ["Q7 block", "OptimiserProblems"]  # file order


@pytest.mark.parametrize(
    "entries, message",
    [(["nonsense"], "Not GROUP=CATEGORY"), (["=Layers"], "Not GROUP=CATEGORY")],
)
def test_bad_mapping_entries(entries, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping(entries)


def test_mapping_to_unknown_group_or_category_is_refused():
    with pytest.raises(MappingError, match="No column group"):
        match_groups(["Layers"], STUDY, {"Lyrs": "Layers"})
    with pytest.raises(MappingError, match="No category"):
        match_groups(["Lyrs"], STUDY, {"Lyrs": "Layerz"})


def test_plain_strings_work_as_categories():
    result = match_groups(["model type", "Layers"], ["Model Type & Properties", "Layers"])
    assert result.matched == {"model type": "Model Type & Properties", "Layers": "Layers"}
