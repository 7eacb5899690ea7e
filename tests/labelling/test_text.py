import pytest

from core.text import clean_label, normalise_label, sanitise_html


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Wrong Loss Function", "wrong loss function"),
        ("  wrong   loss\tfunction ", "wrong loss function"),
        ("wrong loss function.", "wrong loss function"),
        ("wrong loss function ?!", "wrong loss function"),
    ],
)
def test_labels_equal_after_normalisation(a, b):
    assert normalise_label(a) == normalise_label(b)


def test_normalisation_keeps_inner_punctuation_and_words_apart():
    assert normalise_label("wrong shape (missing squeeze)") == "wrong shape (missing squeeze)"
    assert normalise_label("learning rate too high") != normalise_label("learning rate too low")


def test_clean_label_keeps_case_but_trims_space():
    assert clean_label("  Missing   Softmax ") == "Missing Softmax"


def test_sanitise_removes_scripts_handlers_and_remote_images_but_keeps_code():
    body = (
        '<p onclick="steal()">Loss is <b>nan</b></p><script>alert(1)</script>'
        '<img src="https://tracker.example/pixel.gif"><pre><code>model.fit(x)</code></pre>'
        '<a href="https://stackoverflow.com/q/1">source</a>'
    )
    clean = sanitise_html(body)
    assert "<script" not in clean and "alert(1)" not in clean
    assert "onclick" not in clean
    assert "<img" not in clean and "tracker.example" not in clean
    assert "<b>nan</b>" in clean and "<code>model.fit(x)</code>" in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
