"""Readers of Label Studio and doccano exports, from sample files written after each tool's documentation.

Label Studio: https://labelstud.io/guide/task_format (a task with data, annotations with
completed_by and result items, predictions) and https://labelstud.io/guide/export
(JSON-MIN and CSV: one flat record per annotation with annotator, annotation_id, …).
doccano: its export formats (JSONL `{"text", "label": [...]}` with metadata at the top or
under `meta`, CSV `id,text,label`, a zip with one file per user).
"""

import io
import json
import zipfile

import pytest

from collection.formats.common import FormatError, flatten, looks_like_label, split_labels, stable_link
from collection.formats.detect import read_exchange
from collection.formats.doccano import read_doccano_csv, read_doccano_jsonl, read_doccano_zip
from collection.formats.labelstudio import read_labelstudio_csv, read_labelstudio_json, read_labelstudio_min
from collection.formats.rounds import label_fields, ratings_round_sheet

LS_JSON = [
    {
        "id": 1,
        "created_at": "2021-03-09T21:52:49.513742Z",
        "updated_at": "2021-03-09T22:16:08.746926Z",
        "project": 83,
        "data": {
            "url": "https://stackoverflow.com/questions/111",
            "text": "Loss is nan after a few epochs",
            "meta_info": {"source": "so", "score": 3},
        },
        "meta": {"batch": "b1"},
        "annotations": [
            {
                "id": 1001,
                "result": [
                    {
                        "from_name": "fault",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": ["Wrong loss function"]},
                    },
                    {"from_name": "why", "to_name": "text", "type": "textarea", "value": {"text": ["nan loss"]}},
                ],
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": "2021-03-09T22:16:08.728353Z",
                "lead_time": 4.288,
                "task": 1,
                "completed_by": 10,
            },
            {
                "id": 1002,
                "result": [
                    {
                        "from_name": "fault",
                        "to_name": "text",
                        "type": "taxonomy",
                        "value": {"taxonomy": [["Training", "Loss Function", "Wrong loss function"]]},
                    }
                ],
                "was_cancelled": False,
                "completed_by": {"id": 11, "email": "bob@example.com", "first_name": "", "last_name": ""},
            },
        ],
        "predictions": [
            {
                "model_version": "model 1",
                "result": [
                    {"from_name": "fault", "to_name": "text", "type": "choices", "value": {"choices": ["GPU Usage"]}}
                ],
                "score": 0.4,
            }
        ],
    },
    {
        "id": 2,
        "data": {"url": "https://github.com/keras-team/keras/issues/222", "text": "Shapes mismatch"},
        "annotations": [],
        "predictions": [],
    },
]


def test_labelstudio_json_tasks_become_rows_and_annotations_ratings():
    out = read_labelstudio_json(LS_JSON)
    assert out.tool == "label-studio" and out.format == "json"
    assert [r.link for r in out.rows] == [
        "https://stackoverflow.com/questions/111",
        "https://github.com/keras-team/keras/issues/222",
    ]
    assert out.link_column == "data.url"
    assert out.rows[0].values["data.text"] == "Loss is nan after a few epochs"
    assert out.rows[0].values["data.meta_info.source"] == "so"
    assert out.rows[0].values["meta.batch"] == "b1"
    # nothing of the annotations reaches a column
    assert not any("annot" in c or "predict" in c or "fault" in c for c in out.columns)
    fault = [r for r in out.annotations if r.field_name == "fault"]
    assert [(r.evaluator, r.labels) for r in fault] == [
        ("10", ["Wrong loss function"]),
        ("bob@example.com", ["Wrong loss function"]),
    ]
    assert fault[1].paths == [["Training", "Loss Function", "Wrong loss function"]]
    why = [r for r in out.annotations if r.field_name == "why"]
    assert why[0].labels == ["nan loss"]
    assert [(p.evaluator, p.labels) for p in out.predictions] == [("model 1", ["GPU Usage"])]
    assert out.evaluators == ["10", "bob@example.com"]


def test_labelstudio_json_without_url_gets_a_stable_link_from_the_task_id():
    tasks = [{"id": 7, "data": {"text": "no link here"}, "annotations": []}]
    first = read_labelstudio_json(tasks).rows[0]
    again = read_labelstudio_json(json.loads(json.dumps(tasks))).rows[0]
    assert first.link == again.link == "https://label-studio.invalid/id/7"
    assert first.link_synthesised


def test_labelstudio_cancelled_annotation_is_marked():
    tasks = [
        {
            "id": 3,
            "data": {"text": "x"},
            "annotations": [
                {"completed_by": 4, "was_cancelled": True, "result": [{"from_name": "c", "value": {"choices": ["A"]}}]}
            ],
        }
    ]
    (rating,) = read_labelstudio_json(tasks).ratings
    assert rating.cancelled


LS_MIN = [
    {
        "id": 1,
        "url": "https://stackoverflow.com/questions/111",
        "text": "Loss is nan",
        "sentiment": "Positive",
        "fault": {"choices": ["Wrong loss function", "Wrong optimiser"]},
        "annotator": "alice@example.com",
        "annotation_id": 5,
        "created_at": "2021-03-09T22:16:08.728353Z",
        "updated_at": "2021-03-09T22:16:08.728378Z",
        "lead_time": 4.2,
    },
    {
        "id": 1,
        "url": "https://stackoverflow.com/questions/111",
        "text": "Loss is nan",
        "sentiment": "Negative",
        "fault": "Wrong loss function",
        "annotator": "bob@example.com",
        "annotation_id": 6,
        "lead_time": 2.0,
    },
]


def test_labelstudio_min_bookkeeping_is_never_a_column_and_labels_are_flagged():
    out = read_labelstudio_min(LS_MIN)
    assert "annotation_id" not in out.columns and "annotator" not in out.columns and "lead_time" not in out.columns
    assert set(out.flagged) == {"sentiment", "fault"}
    assert "sentiment" not in out.columns and "fault" not in out.columns
    assert len(out.rows) == 1  # two annotations of one task
    assert out.rows[0].values == {"id": 1, "url": "https://stackoverflow.com/questions/111", "text": "Loss is nan"}
    got = sorted((r.evaluator, r.field_name, tuple(r.labels)) for r in out.ratings)
    assert got == [
        ("alice@example.com", "fault", ("Wrong loss function", "Wrong optimiser")),
        ("alice@example.com", "sentiment", ("Positive",)),
        ("bob@example.com", "fault", ("Wrong loss function",)),
        ("bob@example.com", "sentiment", ("Negative",)),
    ]


def test_labelstudio_min_explicit_label_fields_leave_the_others_as_flagged_columns():
    out = read_labelstudio_min(LS_MIN, label_fields=["fault"])
    assert {r.field_name for r in out.ratings} == {"fault"}
    assert "sentiment" in out.columns and "sentiment" in out.flagged
    with pytest.raises(FormatError, match="No column 'nope'"):
        read_labelstudio_min(LS_MIN, label_fields=["nope"])


LS_CSV = (
    "annotation_id,annotator,created_at,fault,id,lead_time,text,updated_at,url\n"
    '5,alice@example.com,2021-03-09,"{""choices"": [""A"", ""B""]}",1,4.2,Loss is nan,2021-03-09,'
    "https://stackoverflow.com/questions/111\n"
    "6,bob@example.com,2021-03-09,A,1,2.0,Loss is nan,2021-03-09,https://stackoverflow.com/questions/111\n"
    "7,bob@example.com,2021-03-09,C,2,1.0,Shapes,2021-03-09,https://github.com/a/b/issues/1\n"
)


def test_labelstudio_csv():
    out = read_labelstudio_csv(LS_CSV)
    assert out.format == "csv"
    assert out.columns == ["id", "text", "url"]
    assert [r.link for r in out.rows] == ["https://stackoverflow.com/questions/111", "https://github.com/a/b/issues/1"]
    assert sorted((r.evaluator, tuple(r.labels)) for r in out.ratings) == [
        ("alice@example.com", ("A", "B")),
        ("bob@example.com", ("A",)),
        ("bob@example.com", ("C",)),
    ]
    with pytest.raises(FormatError, match="annotator"):
        read_labelstudio_csv("text,url\nx,https://a.b/c\n")


DOCCANO_JSONL = "\n".join(
    json.dumps(d)
    for d in [
        {"id": 1, "text": "Loss is nan", "label": ["wrong loss"], "source": "so", "Comments": []},
        {"id": 2, "text": "Shapes mismatch", "label": ["shape", "layer"], "meta": {"source": "gh", "year": 2019}},
        {"id": 3, "text": "Keras OOM on GPU", "label": [[0, 5, "LIB"], [9, 12, "HW"]]},
        {"text": "no id at all", "label": []},
    ]
)


def test_doccano_jsonl_labels_are_ratings_metadata_columns_and_stable_links():
    out = read_doccano_jsonl(DOCCANO_JSONL, evaluator="alice")
    assert "label" not in out.columns and "Comments" not in out.columns
    assert {"id", "text", "source", "meta.source", "meta.year"} <= set(out.columns)
    assert out.link_column is None
    assert [r.link for r in out.rows][:3] == [
        "https://doccano.invalid/id/1",
        "https://doccano.invalid/id/2",
        "https://doccano.invalid/id/3",
    ]
    assert out.rows[3].link == stable_link("doccano", content="no id at all")
    assert out.rows[3].link.startswith("https://doccano.invalid/sha256/")
    assert [(r.evaluator, r.labels) for r in out.ratings] == [
        ("alice", ["wrong loss"]),
        ("alice", ["shape", "layer"]),
        ("alice", ["LIB", "HW"]),
    ]
    again = read_doccano_jsonl(DOCCANO_JSONL, evaluator="alice")
    assert [r.link for r in again.rows] == [r.link for r in out.rows]


def test_doccano_without_an_evaluator_reports_instead_of_inventing_one():
    out = read_doccano_jsonl(DOCCANO_JSONL)
    assert out.ratings == []
    assert len(out.problems) == 3


def test_doccano_link_column_is_used_when_present():
    text = json.dumps({"text": "t", "url": "https://github.com/a/b/pull/3", "label": ["x"]})
    out = read_doccano_jsonl(text, evaluator="e")
    assert out.rows[0].link == "https://github.com/a/b/pull/3" and not out.rows[0].link_synthesised


def test_doccano_old_annotations_carry_their_users():
    record = {"id": 9, "text": "t", "annotations": [{"label": "bug", "user": 1}, {"label": "ok", "user": 2}]}
    out = read_doccano_jsonl(json.dumps(record))
    assert [(r.evaluator, r.labels) for r in out.ratings] == [("1", ["bug", "ok"]), ("2", ["bug", "ok"])]


def test_doccano_csv_labels_joined_by_hash():
    out = read_doccano_csv("id,text,label,source\n1,Loss is nan,wrong loss#optimiser,so\n2,Other,,gh\n", evaluator="e")
    assert out.columns == ["id", "text", "source"]
    assert [(r.link, r.labels) for r in out.ratings] == [("https://doccano.invalid/id/1", ["wrong loss", "optimiser"])]
    with pytest.raises(FormatError, match="text"):
        read_doccano_csv("a,b\n1,2\n")


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buf.getvalue()


def test_doccano_zip_one_file_per_user():
    doc = {"id": 1, "text": "Loss is nan"}
    data = _zip(
        {
            "alice.jsonl": json.dumps(doc | {"label": ["loss"]}),
            "bob.jsonl": json.dumps(doc | {"label": ["optimiser"]}),
        }
    )
    out = read_doccano_zip(data)
    assert len(out.rows) == 1
    assert [(r.evaluator, r.labels) for r in out.ratings] == [("alice", ["loss"]), ("bob", ["optimiser"])]
    with pytest.raises(FormatError):
        read_doccano_zip(_zip({"readme.txt": "x"}))


def test_detection_by_content():
    ls = read_exchange("export.json", json.dumps(LS_JSON).encode())
    assert (ls.tool, ls.format) == ("label-studio", "json")
    ls_min = read_exchange("export.json", json.dumps(LS_MIN).encode())
    assert (ls_min.tool, ls_min.format) == ("label-studio", "json-min")
    ls_csv = read_exchange("export.csv", LS_CSV.encode())
    assert (ls_csv.tool, ls_csv.format) == ("label-studio", "csv")
    dc = read_exchange("admin.jsonl", DOCCANO_JSONL.encode(), evaluator="e")
    assert (dc.tool, dc.format) == ("doccano", "jsonl")
    dc_json = read_exchange("all.json", json.dumps([{"text": "t", "label": ["a"]}]).encode(), evaluator="e")
    assert (dc_json.tool, dc_json.format) == ("doccano", "json")
    # Concord's own files are no other tool's export
    assert read_exchange("artefacts.csv", b"url,title\nhttps://a.b/c,t\n") is None
    assert read_exchange("artefacts.json", json.dumps([{"url": "https://a.b/c"}]).encode()) is None
    with pytest.raises(FormatError, match="Unknown tool"):
        read_exchange("x.json", b"[]", tool="prodigy")


def test_helpers():
    assert flatten({"data": {"url": "u", "m": {"a": 1}}, "id": 2}) == {"data.url": "u", "data.m.a": 1, "id": 2}
    assert looks_like_label("Annotation_ID") and looks_like_label("data.label") and not looks_like_label("data.text")
    assert looks_like_label("fault", [{"choices": ["x"]}]) and not looks_like_label("fault", ["x"])
    assert split_labels('["a", "b"]') == ["a", "b"]
    assert split_labels("a; b") == ["a", "b"]
    assert split_labels({"taxonomy": [["P", "C"]]}) == ["C"]


def test_ratings_become_a_round_sheet_never_columns():
    out = read_labelstudio_json(LS_JSON)
    assert label_fields(out) == ["fault", "why"]
    header, rows, problems = ratings_round_sheet(out)
    assert header == ["Link", "Evaluator1", "Tag1", "Evaluator2", "Tag2"]
    assert rows == [
        [
            "https://stackoverflow.com/questions/111",
            "10",
            "Wrong loss function",
            "bob@example.com",
            "Wrong loss function",
        ]
    ]
    assert problems == []
    header, rows, _ = ratings_round_sheet(out, include_predictions=True)
    assert rows[0][5:] == ["model:model 1", "GPU Usage"]
    _, rows, _ = ratings_round_sheet(out, field_name="why")
    assert rows == [["https://stackoverflow.com/questions/111", "10", "nan loss"]]


def test_round_sheet_reports_several_labels_and_repeated_evaluators():
    out = read_labelstudio_min(LS_MIN + [LS_MIN[1]], label_fields=["fault"])
    header, rows, problems = ratings_round_sheet(out)
    assert rows == [
        [
            "https://stackoverflow.com/questions/111",
            "alice@example.com",
            "Wrong loss function",
            "bob@example.com",
            "Wrong loss function",
        ]
    ]
    assert [p["problem"] for p in problems] == [
        "alice@example.com gave 2 labels; the first ('Wrong loss function') is kept",
        "bob@example.com answered twice; the first answer is kept",
    ]
