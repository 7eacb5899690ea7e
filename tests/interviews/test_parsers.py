"""Transcript parsers on the study's .docx files and on generated .docx, .txt, .md, .vtt and .srt."""

import io

import docx
import pytest
from docx.enum.dml import MSO_THEME_COLOR
from docx.shared import RGBColor

from core.errors import InvalidInput
from interviews.parsers import colour_distance, nearest_colour_name, parse_transcript

# --- the study's transcripts --------------------------------------------------------------------------


def _legend_colours(document):
    """Colour of each legend entry as the first line writes it (read independently of the parser)."""
    first = document.paragraphs[0]
    colours, text = {}, ""
    for run in first.runs:
        text += run.text
        for word, speaker in (("Blue", "Interviewer1"), ("Purple", "Interviewer2"), ("Green", "Interviewee")):
            if word in run.text and run.text.strip().startswith(word):
                colours[str(run.font.color.rgb)] = speaker
    return text, colours


@pytest.mark.parametrize("number", [1, 2, 3])
def test_study_docx_speakers_by_colour(replication_dir, number):
    path = replication_dir / "interviews" / f"interview{number}.docx"
    parsed = parse_transcript(path.name, path.read_bytes())
    document = docx.Document(str(path))
    legend, colours = _legend_colours(document)
    assert set(colours.values()) == {"Interviewer1", "Interviewer2", "Interviewee"}
    assert parsed.metadata["legend"] == legend.strip()
    assert [s["name"] for s in parsed.speakers] == ["Interviewer1", "Interviewer2", "Interviewee"]
    # Paragraphs kept (the legend line is not part of the transcript), in order.
    expected = [p for p in document.paragraphs[1:] if p.text.strip()]
    assert [p.text for p in parsed.paragraphs] == [p.text.strip() for p in expected]
    # Every paragraph written wholly in a legend colour goes to that speaker.
    checked = 0
    for source, paragraph in zip(expected, parsed.paragraphs, strict=True):
        run_colours = {str(r.font.color.rgb) for r in source.runs if r.text.strip() and r.font.color.type}
        if len(run_colours) == 1 and next(iter(run_colours)) in colours:
            assert paragraph.speaker == colours[next(iter(run_colours))], paragraph.text[:60]
            checked += 1
    assert checked >= 0.9 * len(expected)
    speakers = {p.speaker for p in parsed.paragraphs}
    assert {"Interviewer1", "Interviewer2", "Interviewee"} <= speakers
    # A paragraph in a colour off the legend is still assigned (nearest colour), and flagged for checking.
    for paragraph in parsed.paragraphs:
        if paragraph.speaker_note:
            assert paragraph.speaker in {"Interviewer1", "Interviewer2", "Interviewee"}


def test_nearest_colour_is_perceptual():
    assert nearest_colour_name("1F3864") == "dark blue"
    assert nearest_colour_name("9900FF") == "purple"
    assert colour_distance("1F3864", "0000FF") < colour_distance("1F3864", "38761D")


# --- generated .docx -------------------------------------------------------------------------------------


def _docx(build) -> bytes:
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _para(document, *runs):
    paragraph = document.add_paragraph()
    for text, colour in runs:
        run = paragraph.add_run(text)
        if isinstance(colour, str):
            run.font.color.rgb = RGBColor.from_string(colour)
        elif colour is not None:
            run.font.color.theme_color = colour
    return paragraph


def test_docx_legend_in_black_uses_reference_shades():
    def build(d):
        _para(d, ("Red – Alice, Dark Blue – Bob", None))
        _para(d, ("Tell me about your last bug.", "002060"))  # Word's "Dark Blue"
        _para(d, ("The ", "C00000"), ("loss was NaN.", "FF0000"))  # dark red and red: Alice
        _para(d, ("", None))

    parsed = parse_transcript("t.docx", _docx(build))
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Bob", "Tell me about your last bug."),
        ("Alice", "The loss was NaN."),
    ]


def test_docx_theme_colours_and_majority_of_characters():
    def build(d):
        _para(d, ("Blue - Interviewer; Green - Interviewee", None))
        _para(d, ("What framework?", MSO_THEME_COLOR.ACCENT_1))
        _para(d, ("Mostly PyTorch, ", MSO_THEME_COLOR.ACCENT_6), ("ok", MSO_THEME_COLOR.ACCENT_1))

    parsed = parse_transcript("t.docx", _docx(build))
    assert [p.speaker for p in parsed.paragraphs] == ["Interviewer", "Interviewee"]


def test_docx_without_legend_uses_name_prefixes_or_a_table():
    def prefixed(d):
        d.add_paragraph("Interviewer: What went wrong?")
        d.add_paragraph("Participant 3: The shapes did not match.")
        d.add_paragraph("And the loss exploded.")

    parsed = parse_transcript("t.docx", _docx(prefixed))
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Interviewer", "What went wrong?"),
        ("Participant 3", "The shapes did not match."),
        ("Participant 3", "And the loss exploded."),
    ]

    def table(d):
        t = d.add_table(rows=2, cols=2)
        t.cell(0, 0).text, t.cell(0, 1).text = "Q", "Which optimiser?"
        t.cell(1, 0).text, t.cell(1, 1).text = "A", "Adam, with a high learning rate."

    parsed = parse_transcript("t.docx", _docx(table))
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Q", "Which optimiser?"),
        ("A", "Adam, with a high learning rate."),
    ]


def test_docx_colours_without_legend_name_speakers_by_colour():
    def build(d):
        _para(d, ("Question one?", "0000FF"))
        _para(d, ("Answer one.", "00B050"))

    parsed = parse_transcript("t.docx", _docx(build))
    assert [p.speaker for p in parsed.paragraphs] == ["Speaker (blue)", "Speaker (green)"]


@pytest.mark.parametrize("data,message", [(b"not a zip", "not a readable .docx"), (b"", "empty")])
def test_bad_docx(data, message):
    with pytest.raises(InvalidInput) as error:
        parse_transcript("bad.docx", data)
    assert message in error.value.message and "bad.docx" in error.value.message


def test_docx_without_text():
    with pytest.raises(InvalidInput, match="no transcript text"):
        parse_transcript("blank.docx", _docx(lambda d: d.add_paragraph("   ")))


# --- text formats ----------------------------------------------------------------------------------------------


def test_txt_paragraphs_speakers_and_continuations():
    text = (
        "Interviewer: What problems did you have?\r\n\r\n"
        "Interviewee: The learning rate.\nIt was far too high.\r\n\r\n"
        "We lowered it later.\r\n\r\n"
        "Note: this is not a speaker, just text\r\n\r\n"
        "Interviewer: Thanks."
    )
    parsed = parse_transcript("t.txt", text.encode("utf-8-sig"))
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Interviewer", "What problems did you have?"),
        ("Interviewee", "The learning rate.\nIt was far too high."),
        ("Interviewee", "We lowered it later."),
        ("Interviewee", "Note: this is not a speaker, just text"),
        ("Interviewer", "Thanks."),
    ]


def test_txt_one_turn_per_line_with_timestamps_and_legacy_bytes():
    text = "[00:00:03] Anna: Ready?\n[00:00:05] Ben: Yes, caf\xe9 is open.\n[00:00:09] Anna: Good."
    parsed = parse_transcript("t.txt", text.encode("cp1252"))
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Anna", "Ready?"),
        ("Ben", "Yes, café is open."),
        ("Anna", "Good."),
    ]


def test_txt_otter_style_speaker_lines():
    text = "Speaker 1  0:03\nHow did you debug it?\n\nSpeaker 2  0:10\nWith print statements."
    parsed = parse_transcript("t.txt", text.encode())
    assert [(p.speaker, p.text, p.start_time) for p in parsed.paragraphs] == [
        ("Speaker 1", "How did you debug it?", 3.0),
        ("Speaker 2", "With print statements.", 10.0),
    ]


def test_md_front_matter_headings_and_bold_speakers():
    text = (
        "---\ninterviewee_profile: Senior ML engineer\ndate: 2019-08-24\nduration: 45 min\n---\n"
        "# Interview 7\n\n"
        "**Interviewer:** What **exactly** failed?\n\n"
        "**Interviewee**: The model did not converge.\n\n"
        "## Part 2\n\n"
        "**Interviewer:** Go on."
    )
    parsed = parse_transcript("t.md", text.encode())
    assert parsed.metadata["title"] == "Interview 7"
    assert parsed.metadata["interviewee_profile"] == "Senior ML engineer"
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Interviewer", "What exactly failed?"),
        ("Interviewee", "The model did not converge."),
        ("Interviewee", "Part 2"),
        ("Interviewer", "Go on."),
    ]


def test_vtt_voices_merge_consecutive_cues():
    text = (
        "WEBVTT\n\nNOTE generated\n\n"
        "1\n00:00:01.000 --> 00:00:03.500\n<v Dana>Which layers did you use?</v>\n\n"
        "00:00:04.000 --> 00:00:06.000\n<v Eli>Two LSTMs</v>\n\n"
        "00:00:06.000 --> 00:01:02.250 align:start\n<v Eli>and a <i>dense</i> layer.</v>\n"
    )
    parsed = parse_transcript("t.vtt", text.encode())
    assert [(p.speaker, p.text, p.start_time) for p in parsed.paragraphs] == [
        ("Dana", "Which layers did you use?", 1.0),
        ("Eli", "Two LSTMs and a dense layer.", 4.0),
    ]
    assert parsed.metadata["duration_seconds"] == 62.25


def test_srt_with_name_prefixes():
    text = (
        "1\r\n00:00:01,000 --> 00:00:02,000\r\nFay: Did it crash?\r\n\r\n"
        "2\r\n00:00:02,500 --> 00:00:04,000\r\nGus: Only on the GPU.\r\n\r\n"
        "3\r\n00:00:04,500 --> 00:00:05,000\r\nGus: <b>Every</b> time.\r\n"
    )
    parsed = parse_transcript("t.srt", text.encode())
    assert [(p.speaker, p.text) for p in parsed.paragraphs] == [
        ("Fay", "Did it crash?"),
        ("Gus", "Only on the GPU. Every time."),
    ]


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("t.vtt", b"no header\n00:00:01.000 --> 00:00:02.000\nhi", "WEBVTT"),
        ("t.srt", b"just some words", "No cues"),
        ("t.pdf", b"%PDF", "unsupported"),
        ("t.txt", b"\n\n  \n", "no transcript text"),
        ("t.txt", b"\x00\x01binary", "binary"),
    ],
)
def test_bad_text_files(name, data, message):
    with pytest.raises(InvalidInput) as error:
        parse_transcript(name, data)
    assert message in error.value.message and error.value.field == "file"


def test_joined_text_offsets_match_paragraphs():
    parsed = parse_transcript("t.txt", b"A: one\n\nB: two two\n\nA: three")
    text, spans = parsed.joined()
    assert [text[a:b] for a, b in spans] == ["one", "two two", "three"]
