"""Writing a REFI-QDA project (.qdpx): a zip holding `project.qde` and the sources' text under `sources/`.

`project.qde` (namespace `urn:QDA-XML:project:1.0`, REFI-QDA 1.5) is written element by
element in the order the standard's Project type sets:

    <Project name="…" origin="Concord" creatingUserGUID="…" creationDateTime="…">
      <Users><User guid="…" name="alice" id="alice"/></Users>
      <CodeBook><Codes><Code guid="…" name="…" isCodable="…" color="#…">…</Code></Codes></CodeBook>
      <Sources>
        <TextSource guid="…" name="…" plainTextPath="internal://<guid>.txt" creatingUser="…">
          <Description>…</Description>
          <PlainTextSelection guid="…" name="…" startPosition="0" endPosition="120" creatingUser="…">
            <Coding guid="…" creatingUser="…"><CodeRef targetGUID="<code guid>"/></Coding>
          </PlainTextSelection>
        </TextSource>
      </Sources>
    </Project>

A TextSource names its text by `plainTextPath` (`internal://` is the archive's `sources/`
folder, lower-case as the standard's section 8.1 requires), never both that and
`PlainTextContent`. Positions are character offsets (Unicode code points) into that text,
`endPosition` exclusive. Every GUID is stable (UUID 5 of the project and the thing's
identity), and the zip's entries carry a fixed date, so the same project exports to the
same bytes. The sources are written as they come (an iterable, or a callable giving a
fresh one, read twice: texts first, then the XML) so memory stays flat.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from collection.formats.refiqda import NS_PROJECT, Code, append_codes, assign_guids, stable_guid

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
P = f"{{{NS_PROJECT}}}"


@dataclass
class QdaUser:
    key: str  # the username
    name: str = ""
    guid: str = ""


@dataclass
class QdaSelection:
    start: int
    end: int
    code_guids: list[str]
    user_key: str | None = None
    name: str = ""
    created: str | None = None  # xsd:dateTime


@dataclass
class QdaSource:
    key: str  # identity within the project, e.g. "interview:3" or "artefact:https://…"
    name: str
    text: str
    selections: list[QdaSelection] = field(default_factory=list)
    description: str = ""
    user_key: str | None = None
    created: str | None = None

    def __post_init__(self):
        length = len(self.text)
        for selection in self.selections:
            if not 0 <= selection.start <= selection.end <= length:
                raise ValueError(
                    f"selection {selection.start}-{selection.end} is outside source {self.key!r} ({length} characters)"
                )


def _zipinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _sources(sources: Iterable[QdaSource] | Callable[[], Iterable[QdaSource]]) -> Iterable[QdaSource]:
    return sources() if callable(sources) else sources


def write_qdpx(
    target: BinaryIO | str,
    *,
    project: str,
    name: str,
    users: list[QdaUser],
    codes: list[Code],
    sources: Iterable[QdaSource] | Callable[[], Iterable[QdaSource]],
    creating_user: str | None = None,
    created: str | None = None,
    origin: str = "Concord",
) -> dict:
    """Write the .qdpx to `target` (a path or a binary file). Returns counts (sources, selections, codings)."""
    assign_guids(codes, project=project)
    known_codes = {c.guid for top in codes for c in top.walk()}
    for user in users:
        user.guid = user.guid or stable_guid(project, "user", user.key)
    user_guid = {u.key: u.guid for u in users}
    counts = {"users": len(users), "codes": len(known_codes), "sources": 0, "selections": 0, "codings": 0}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        # pass 1: the texts (each read once, written at once)
        for source in _sources(sources):
            guid = stable_guid(project, "source", source.key)
            with archive.open(_zipinfo(f"sources/{guid}.txt"), "w") as out:
                out.write(source.text.encode("utf-8"))
        # pass 2: project.qde, streamed
        with archive.open(_zipinfo("project.qde"), "w") as out, etree.xmlfile(out, encoding="utf-8") as xf:
            xf.write_declaration()
            attrs = {"name": name, "origin": origin}
            if creating_user and creating_user in user_guid:
                attrs["creatingUserGUID"] = user_guid[creating_user]
            if created:
                attrs["creationDateTime"] = created
            with xf.element(f"{P}Project", attrs, nsmap={None: NS_PROJECT}):
                if users:
                    users_el = etree.Element(f"{P}Users")
                    for user in users:
                        etree.SubElement(
                            users_el, f"{P}User", {"guid": user.guid, "name": user.name or user.key, "id": user.key}
                        )
                    xf.write(users_el)
                if codes:
                    book = etree.Element(f"{P}CodeBook")
                    append_codes(etree.SubElement(book, f"{P}Codes"), codes, NS_PROJECT)
                    xf.write(book)
                remaining = iter(_sources(sources))
                first = next(remaining, None)
                if first is not None:
                    with xf.element(f"{P}Sources"):
                        for source in itertools.chain([first], remaining):
                            xf.write(
                                _text_source(
                                    source, project=project, user_guid=user_guid, known=known_codes, counts=counts
                                )
                            )
    return counts


def _text_source(source: QdaSource, *, project: str, user_guid: dict, known: set[str], counts: dict):
    guid = stable_guid(project, "source", source.key)
    attrs = {"guid": guid, "name": source.name, "plainTextPath": f"internal://{guid}.txt"}
    if source.user_key in user_guid:
        attrs["creatingUser"] = user_guid[source.user_key]
    if source.created:
        attrs["creationDateTime"] = source.created
    element = etree.Element(f"{P}TextSource", attrs)
    if source.description:
        etree.SubElement(element, f"{P}Description").text = source.description
    counts["sources"] += 1
    for index, selection in enumerate(source.selections):
        sel_guid = stable_guid(project, "selection", f"{source.key}\x1f{index}\x1f{selection.start}:{selection.end}")
        sel_attrs = {
            "guid": sel_guid,
            "name": selection.name or source.text[selection.start : selection.end][:60],
            "startPosition": str(selection.start),
            "endPosition": str(selection.end),
        }
        creator = user_guid.get(selection.user_key) if selection.user_key else None
        if creator:
            sel_attrs["creatingUser"] = creator
        if selection.created:
            sel_attrs["creationDateTime"] = selection.created
        sel_el = etree.SubElement(element, f"{P}PlainTextSelection", sel_attrs)
        counts["selections"] += 1
        for code_guid in selection.code_guids:
            if code_guid not in known:
                raise ValueError(f"selection in {source.key!r} refers to a code that is not in the codebook")
            coding_attrs = {"guid": stable_guid(project, "coding", f"{sel_guid}\x1f{code_guid}")}
            if creator:
                coding_attrs["creatingUser"] = creator
            coding = etree.SubElement(sel_el, f"{P}Coding", coding_attrs)
            etree.SubElement(coding, f"{P}CodeRef", {"targetGUID": code_guid})
            counts["codings"] += 1
    return element
