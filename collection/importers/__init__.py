"""Reading working files into Concord: artefacts and labelled rounds (the reference study's layout).

- reading.py   CSV / JSON / JSON Lines / XLSX into sheets; encodings, BOM, legacy bytes, CRLF, ragged rows
- headers.py   tolerant header matching (case, spacing, plural, synonyms, misspellings, run-together words)
- values.py    cells: none (`-`), history (`a -> b`), verdicts with typos and qualifiers, codes, links, types
- artefacts.py the artefact importer (mapping, duplicates, idempotent updates)
- rounds.py    the labelled-round importer (evaluators, annotations, decisions, conflicts, leaves)
- services.py  file-level services for commands and pages, and the Celery jobs with progress
"""
