from collection.mining.htmltext import field_text, html_to_text, words


def test_plain_text_title_keeps_words_between_angle_brackets():
    title = "<tf.Tensor 'batch:0' shape=(?, 3) dtype=float32> has no attribute numpy"
    assert words(title, is_html=False) == [
        "tf", "tensor", "batch", "shape", "dtype", "float32", "has", "no", "attribute", "numpy",
    ]  # fmt: skip


def test_comparisons_keep_their_words_in_text_and_in_html():
    text = "loss < 0.5 and accuracy > 0.9"
    assert words(text, is_html=False) == ["loss", "and", "accuracy"]
    assert words(f"<p>{text}</p>", is_html=True) == ["loss", "and", "accuracy"]


def test_html_body_tags_become_spaces_and_entities_decode():
    body = "<p>Use<code>model.fit</code>&amp;<b>early</b>stopping</p><script>var evil=1</script><style>p{}</style>"
    assert html_to_text(body).split() == ["Use", "model.fit", "&", "early", "stopping"]
    assert "evil" not in words(body, is_html=True)


def test_escaped_markup_in_html_is_text():
    assert words("<pre>&lt;tf.Tensor 'x'&gt;</pre>", is_html=True) == ["tf", "tensor", "x"]


def test_plain_text_entities_only_when_asked():
    assert field_text("a &amp; b", is_html=False) == "a & b"
    assert field_text("a &amp; b", is_html=False, unescape=False) == "a &amp; b"
    assert field_text("", is_html=True) == ""
