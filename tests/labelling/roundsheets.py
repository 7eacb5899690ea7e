"""Generated round spreadsheets for the import tests (never copies of the shared fixtures).

ROWS is a small labelled round in canonical fields; `build` writes it with any
header spelling, column order, missing/extra columns and blank rows, as XLSX
(first sheet + a second sheet with category codes + a statistics sheet that
lies) or as CSV (category code in a column of the first sheet).
"""

import csv
import io
import random

import openpyxl

# canonical field -> the study's header
STUDY = {
    "entity_type": "EntityType",
    "link": "Link",
    "conflict": "Conflict",
    "n": "NumberOfEvaluators",
    "e1": "Evaluator1",
    "t1": "Tag1",
    "e2": "Evaluator2",
    "t2": "Tag2",
    "e3": "Evaluator3",
    "t3": "Tag3",
    "e4": "Evaluator4",
    "t4": "Tag4",
    "final": "Final Tag",
    "taxonomy": "Taxonomy Tag",
}
SHEET2 = {"entity_type": "EntityType", "link": "Link", "taxonomy": "Taxonomy Tag", "code": "Taxonomy Cat"}

ROWS = [
    # 1 agreed label, relevant under 5.2
    dict(
        entity_type="so-keras",
        link="https://stackoverflow.com/questions/1001",
        conflict=0,
        n=2,
        e1="E1",
        t1="wrong loss",
        e2="E2",
        t2="Wrong loss.",
        final="wrong loss",
        taxonomy="wrong loss function",
        code=5.2,
    ),
    # 2 a pull request; disagreement, majority b; the team still met (Conflict 1); not relevant
    dict(
        entity_type="issue-torch",
        link="https://github.com/org/repo/pull/7",
        conflict=1,
        n=3,
        e1="E1",
        t1="a",
        e2="E3",
        t2="b",
        e3="E2",
        t3="b",
        final="b",
        taxonomy="-",
    ),
    # 3 verdicts with a typo and a qualifier: agreement on false positive; a verdict is never a leaf
    dict(
        entity_type="commit-tensorflow",
        link="https://github.com/org/repo/commit/abc123",
        conflict=0,
        n=2,
        e1="E2",
        t1="false positive",
        e2="E3",
        t2="False positve (refactoring)",
        final="false positive",
        taxonomy="false positive",
    ),
    # 4 conflict among four; the final tag changed (a -> b); relevant under 4.1
    dict(
        entity_type="so-tensorflow",
        link="https://stackoverflow.com/questions/1004",
        conflict=1,
        n=4,
        e1="E1",
        t1="x",
        e2="E2",
        t2="generic",
        e3="E3",
        t3="y",
        e4="E4",
        t4="z",
        final="x -> wrong tensor shape",
        taxonomy="wrong tensor shape",
        code=4.1,
    ),
    # 5 a doubled verdict and a synonym: both generic
    dict(
        entity_type="issue-keras",
        link="https://github.com/org/repo/issues/5",
        conflict=0,
        n=2,
        e1="E1",
        t1="generic generic",
        e2="E4",
        t2="general",
        final="generic",
        taxonomy="",
    ),
    # 6 an evaluator named without a tag
    dict(
        entity_type="so-keras",
        link="https://stackoverflow.com/questions/1006",
        conflict=0,
        n=2,
        e1="E3",
        t1="unclear",
        e2="E4",
        t2=None,
        final="unclear",
        taxonomy=None,
    ),
    # 7 the same label as row 4, under another node (code as text)
    dict(
        entity_type="so-torch",
        link="https://stackoverflow.com/questions/1007",
        conflict=0,
        n=2,
        e1="E2",
        t1="shape bug",
        e2="E4",
        t2="shape bug",
        final="shape bug",
        taxonomy="wrong tensor shape",
        code="4.2.1",
    ),
    # 8 conflict between two; relevant under a code the outline lacks
    dict(
        entity_type="commit-keras",
        link="https://github.com/org/repo/commit/def456",
        conflict=1,
        n=2,
        e1="E1",
        t1="p",
        e2="E3",
        t2="q",
        final="q",
        taxonomy="missing layer",
        code="1.2.9",
    ),
]
EXPECTED = {"analysed": 8, "disagreements": 3, "conflicts": 3, "relevant": 4}
OUTLINE = (
    b"code,name\n1,Model\n1.2,Layers\n4,Tensors & Inputs\n4.1,Wrong Tensor Shape\n4.2,Wrong Input\n"
    b"4.2.1,Wrong Shape of Input Data\n5,Training\n5.2,Loss Function\n"
)


def header_variant(name: str) -> dict:
    """Header text per canonical field for a named variant."""
    h = dict(STUDY)
    if name == "lower":
        h = {k: v.lower() for k, v in h.items()}
    elif name == "upper":
        h = {k: v.upper() for k, v in h.items()}
    elif name == "spaced":
        h.update(entity_type=" Entity  Type ", n="Number of evaluators", final="final  tag", taxonomy="taxonomy_tag")
        for i in (1, 2, 3, 4):
            h[f"e{i}"], h[f"t{i}"] = f"Evaluator {i}", f"Tag {i}"
    elif name == "synonyms":
        h.update(
            entity_type="Type",
            link="URL",
            conflict="In conflict",
            n="# evaluators",
            final="Final Label",
            taxonomy="Taxonomy Label",
        )
        for i in (1, 2, 3, 4):
            h[f"e{i}"], h[f"t{i}"] = f"Rater{i}", f"Label{i}"
    elif name == "misspelt":
        h.update(conflict="Confict", final="Final Lable", taxonomy="Taxonomy Lable", n="NumberOfEvalutors")
        for i in (1, 2, 3, 4):
            h[f"e{i}"], h[f"t{i}"] = f"Evalutor{i}", f"Lable{i}"
    elif name == "plural":
        h.update(link="Links", conflict="Conflicts", final="Final Tags", taxonomy="Taxonomy Tags")
        for i in (1, 2, 3, 4):
            h[f"t{i}"] = f"Tags{i}"
    return h


def _value(row: dict, field: str):
    return row.get(field)


def build_rows(rows=None, *, drop=(), blank_rows=False, extra=False):
    rows = [dict(r) for r in (rows or ROWS)]
    fields = [f for f in STUDY if f not in drop]
    out = []
    for r in rows:
        values = [_value(r, f) for f in fields]
        if extra:
            values += ["a remark", None]
        out.append(values)
        if blank_rows:
            out.append([None] * len(values))
    return fields, out


def build(
    fmt="xlsx",
    *,
    headers="study",
    reorder=False,
    drop=(),
    extra=False,
    blank_rows=False,
    rows=None,
    second_sheet=True,
    encoding="utf-8-sig",
):
    """The round as bytes in `fmt` ('xlsx' or 'csv') with the given variations."""
    names = header_variant(headers) if isinstance(headers, str) else headers
    fields, data = build_rows(rows, drop=drop, blank_rows=blank_rows, extra=extra)
    header = [names[f] for f in fields] + (["Notes", ""] if extra else [])
    order = list(range(len(header)))
    if reorder:
        random.Random(7).shuffle(order)
    header = [header[i] for i in order]
    data = [[row[i] for i in order] for row in data]
    if extra:  # a ragged row with a value beyond the last header
        data[0] = [*data[0], "stray"]
    source = rows or ROWS
    if fmt == "csv":
        header = [*header, "Taxonomy Cat"]
        codes = [r.get("code") for r in source]
        out, i = [], 0
        for row in data:
            if all(v is None for v in row):
                out.append(row + [None])
            else:
                out.append(row + [codes[i]])
                i += 1
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in out])
        return buffer.getvalue().encode(encoding)
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Round 9 All"
    first.append(header)
    for row in data:
        first.append(row)
    if second_sheet:
        second = workbook.create_sheet("Round 9 Relevant")
        second.append(list(SHEET2.values()))
        for r in source:
            if r.get("code") is not None:
                second.append([r["entity_type"], r["link"], r["taxonomy"], r["code"]])
    stats = workbook.create_sheet("Stats")  # never a source: these figures are wrong on purpose
    for line in (["Round 9", "01.01.20"], ["New analysed issues", 999], ["Conflicts", 99], ["New entities", 77]):
        stats.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
