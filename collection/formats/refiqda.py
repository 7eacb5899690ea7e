"""REFI-QDA codebooks (.qdc): writing and reading, and the parts shared with projects (.qdpx).

The REFI-QDA standard (https://www.qdasoftware.org, version 1.5) exchanges a codebook as
an XML document whose root is `CodeBook` in the namespace `urn:QDA-XML:codebook:1.0`:

    <CodeBook origin="Concord">
      <Codes>
        <Code guid="…" name="Training" isCodable="false" color="#1F77B4">
          <Description>…</Description>
          <Code guid="…" name="Loss function" isCodable="true"/>
        </Code>
      </Codes>
    </CodeBook>

A `Code` has the required attributes `guid` (a GUID, with or without braces), `name` and
`isCodable` (xsd:boolean), an optional `color` (`#RRGGBB` or `#RGB`), then an optional
`Description` element followed by its child `Code`s. A project (`.qde`, namespace
`urn:QDA-XML:project:1.0`) holds the same tree under `Project/CodeBook/Codes`, where a
`Code` may also carry `NoteRef`s between its description and its children.

GUIDs are stable: a UUID 5 of the project and the node's identity, so exporting the
same taxonomy twice gives the same file and another tool's re-import matches codes.
"""

from __future__ import annotations

import colorsys
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from .common import FormatError

NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
NS_PROJECT = "urn:QDA-XML:project:1.0"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:concord:refi-qda")  # Concord's own UUID-5 namespace
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_RGB = re.compile(r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
MAX_DEPTH = 64


@dataclass
class Code:
    """One code of the tree. `key` is its identity in Concord (a node's code or path); GUIDs derive from it."""

    name: str
    key: str = ""
    description: str = ""
    color: str | None = None
    codable: bool = True
    guid: str = ""
    children: list[Code] = field(default_factory=list)

    def walk(self) -> Iterable[Code]:
        yield self
        for child in self.children:
            yield from child.walk()


def stable_guid(project: str, kind: str, identity: str) -> str:
    """A GUID that is the same for the same project, kind (`code`, `source`, `user`, …) and identity."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{project}\x1f{kind}\x1f{identity}"))


def palette_color(index: int) -> str:
    """A distinct colour per top-level branch (golden-angle hues), as `#RRGGBB`."""
    hue = (index * 0.381966) % 1.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.65)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def assign_guids(codes: list[Code], *, project: str) -> list[Code]:
    """Fill missing GUIDs (from project and key, else the name path) and colours (a palette per top branch)."""

    def visit(code: Code, path: tuple[str, ...], color: str) -> None:
        path = (*path, code.name)
        if not code.guid:
            code.guid = stable_guid(project, "code", code.key or "/".join(path))
        if not code.color:
            code.color = color
        for child in code.children:
            visit(child, path, code.color)

    for index, code in enumerate(codes):
        visit(code, (), code.color or palette_color(index))
    return codes


def append_codes(parent: etree._Element, codes: list[Code], ns: str) -> None:
    """`Code` elements (with their descriptions and children) under `parent`, in namespace `ns`."""
    for code in codes:
        if not code.guid:
            raise ValueError(f"code {code.name!r} has no GUID; call assign_guids first")
        attrs = {"guid": code.guid, "name": code.name, "isCodable": "true" if code.codable else "false"}
        if code.color:
            attrs["color"] = code.color
        element = etree.SubElement(parent, f"{{{ns}}}Code", attrs)
        if code.description:
            etree.SubElement(element, f"{{{ns}}}Description").text = code.description
        append_codes(element, code.children, ns)


def codebook_xml(codes: list[Code], *, project: str, origin: str = "Concord") -> bytes:
    """A `.qdc` document (UTF-8, with its XML declaration). An empty tree still has its `Codes` element."""
    assign_guids(codes, project=project)
    root = etree.Element(f"{{{NS_CODEBOOK}}}CodeBook", {"origin": origin}, nsmap={None: NS_CODEBOOK})
    codes_el = etree.SubElement(root, f"{{{NS_CODEBOOK}}}Codes")
    append_codes(codes_el, codes, NS_CODEBOOK)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"Not an XML document: {exc}.") from exc


def _read_code(element: etree._Element, ns: str, depth: int, where: str) -> Code:
    if depth > MAX_DEPTH:
        raise FormatError(f"Codes nested deeper than {MAX_DEPTH} levels.")
    name = (element.get("name") or "").strip()
    guid = (element.get("guid") or "").strip()
    if not name:
        raise FormatError(f"A Code without a name ({where}).")
    if not _GUID.match(guid):
        raise FormatError(f"Code {name!r} has no valid guid ({guid!r}).")
    codable = (element.get("isCodable") or "").strip()
    if codable not in ("true", "false", "1", "0"):
        raise FormatError(f"Code {name!r}: isCodable must be true or false, not {codable!r}.")
    color = element.get("color")
    code = Code(
        name=name,
        guid=guid.strip("{}").lower(),
        codable=codable in ("true", "1"),
        color=color if color and _RGB.match(color) else None,
    )
    description = element.find(f"{{{ns}}}Description")
    if description is not None and description.text:
        code.description = description.text.strip()
    for index, child in enumerate(element.findall(f"{{{ns}}}Code"), start=1):
        code.children.append(_read_code(child, ns, depth + 1, f"{where} > {name} #{index}"))
    return code


def read_codebook(data: bytes) -> list[Code]:
    """The code tree of a `.qdc` (root CodeBook) or of a project's `.qde` (Project/CodeBook).

    Raises FormatError naming what is wrong (not XML, another root or namespace, a code without
    a name or a valid guid, a GUID used twice)."""
    root = _parse(data)
    tag = etree.QName(root)
    if tag.namespace == NS_CODEBOOK and tag.localname == "CodeBook":
        ns, book = NS_CODEBOOK, root
    elif tag.namespace == NS_PROJECT and tag.localname == "Project":
        ns, book = NS_PROJECT, root.find(f"{{{NS_PROJECT}}}CodeBook")
        if book is None:
            return []
    else:
        raise FormatError(
            f"Not a REFI-QDA codebook: the root is {tag.localname!r} in {tag.namespace!r}, "
            f"expected CodeBook in {NS_CODEBOOK!r}."
        )
    codes_el = book.find(f"{{{ns}}}Codes")
    if codes_el is None:
        raise FormatError("The codebook has no Codes element.")
    codes = [_read_code(c, ns, 1, f"code #{i}") for i, c in enumerate(codes_el.findall(f"{{{ns}}}Code"), start=1)]
    seen: set[str] = set()
    for code in (c for top in codes for c in top.walk()):
        if code.guid in seen:
            raise FormatError(f"The guid {code.guid} is used by more than one code.")
        seen.add(code.guid)
    return codes
