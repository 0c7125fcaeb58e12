"""Safe, streaming XML: defusedxml with DTDs refused, elements handed out one by one, memory flat.

GPX and KML exports reach hundreds of MB and may be hostile (billion laughs, external entities).
The document goes through ``defusedxml``'s ``DefusedXMLParser`` with ``forbid_dtd``,
``forbid_entities`` and ``forbid_external`` all set: any ``<!DOCTYPE`` stops the file with
``xml-forbidden`` before an entity can be declared, let alone expanded.

We drive that parser with our own small handlers rather than ``iterparse``, which cannot tell where
an element starts (it reports events a 16 KB chunk late): the handlers record the line of each start
tag (expat's position during the callback), which becomes ``source_row``. They also keep the tree from
growing: an element is attached to its parent only inside a *kept* element (a record such as
``trkpt``), so everything else is dropped once the consumer has seen it, and kept records go as soon as
they end.

The text is decoded by the project's encoding cascade (BOM, UTF-8, declared, guessed) and fed to expat
as ``str``, so a BOM, a cp1252 file without declaration or stray bytes read the same way as in every
other text format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from auditor.errors import InputError
from auditor.io.text import repair

CHUNK = 1 << 16  # characters fed to expat at a time
MAX_DEPTH = 256  # deeper nesting is refused (no export needs it; ancestor tuples would grow)
_SURROGATES = re.compile("[\udc80-\udcff]")
_FORBIDDEN = (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden)


class XmlElement:
    """One element, handed out at its end tag.

    ``element.tag`` and attribute names are local (namespace stripped); ``element.text`` is its own
    character data (leaf text). Children are present only inside a kept element. ``ancestors`` are the
    open elements around it, root first: their attributes are complete, their children are not.
    """

    __slots__ = ("ancestors", "element", "line")

    def __init__(self, element: Element, line: int, ancestors: tuple[Element, ...]) -> None:
        self.element = element
        self.line = line
        self.ancestors = ancestors

    @property
    def name(self) -> str:
        return self.element.tag

    @property
    def parent(self) -> str:
        return self.ancestors[-1].tag if self.ancestors else ""

    @property
    def text(self) -> str:
        return (self.element.text or "").strip()

    def child_text(self, name: str) -> str | None:
        """Stripped text of the first direct child named ``name`` (kept elements only), else None."""
        child = self.element.find(name)
        if child is None:
            return None
        return (child.text or "").strip()


def local(name: str) -> str:
    """``{namespace}local`` or expat's ``namespace}local`` → ``local``."""
    return name[name.rfind("}") + 1 :]


class _Open:
    __slots__ = ("element", "has_child", "inside", "line")

    def __init__(self, element: Element, line: int, inside: bool) -> None:
        self.element = element
        self.line = line
        self.inside = inside  # attached to a kept ancestor
        self.has_child = False


class _Target:
    """Expat handlers building only what the consumer needs and queueing finished elements.

    They are installed directly on the defused parser's expat object (replacing ElementTree's
    name-fixing wrappers, which cost more than the parse itself); defusedxml's DTD/entity handlers
    stay in place.
    """

    def __init__(self, keep: Collection[str], only: Collection[str] | None, file: str) -> None:
        self.keep = frozenset(keep)
        self.only = None if only is None else frozenset(only)
        self.file = file
        self.expat: Any = None  # the expat parser, for the line of the current event
        self.names: dict[str, str] = {}
        self.stack: list[_Open] = []
        self.path: tuple[Element, ...] = ()
        self.done: list[tuple[XmlElement, bool]] = []
        self.text: list[str] = []

    def start(self, tag: str, attributes: list[str]) -> None:
        if self.text:
            self._flush()
        name = self.names.get(tag)
        if name is None:
            name = local(tag)
            if len(self.names) < 4096:  # a hostile file with endless distinct names does not grow it
                self.names[tag] = name
        attrib = {}
        for i in range(0, len(attributes), 2):
            key = attributes[i]
            attrib[key[key.rfind("}") + 1 :]] = attributes[i + 1]
        element = Element(name, attrib)
        inside = False
        stack = self.stack
        if stack:
            parent = stack[-1]
            if not parent.has_child:
                parent.has_child = True
                text = parent.element.text
                if text is not None and not text.strip():
                    parent.element.text = None  # indentation before the first child
            if parent.inside or parent.element.tag in self.keep:
                parent.element.append(element)
                inside = True
        line = self.expat.CurrentLineNumber
        if len(stack) >= MAX_DEPTH:
            raise InputError("xml-malformed", self.file, line, detail=f"nesting deeper than {MAX_DEPTH}")
        stack.append(_Open(element, line, inside))
        self.path += (element,)

    def end(self, tag: str) -> None:
        if self.text:
            self._flush()
        node = self.stack.pop()
        self.path = path = self.path[:-1]
        if self.only is None or node.element.tag in self.only:
            self.done.append((XmlElement(node.element, node.line, path), node.inside))

    def data(self, data: str) -> None:
        if self.stack and not self.stack[-1].has_child:
            self.text.append(data)  # text after the first child (tails, indentation) is not kept

    def close(self) -> None:
        return None

    def _flush(self) -> None:
        element = self.stack[-1].element
        element.text = (element.text or "") + "".join(self.text)
        self.text = []


def iter_elements(
    stream: IO[str],
    file: str,
    keep: Collection[str] = (),
    only: Collection[str] | None = None,
    on_repair: Callable[[], None] | None = None,
) -> Iterator[XmlElement]:
    """The elements of the document at their end tag, in document order (``only`` these names if given).

    ``stream`` is decoded text (see ``auditor.io.text.open_text``). Elements named in ``keep`` keep
    their subtree until they end; every other element is cleared once the consumer moves on.
    Raises ``InputError`` ``xml-forbidden`` (DTD, entity, external reference) or ``xml-malformed``.
    """
    target = _Target(keep, only, file)
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat = target.expat = parser.parser
    expat.StartElementHandler = target.start
    expat.EndElementHandler = target.end
    expat.CharacterDataHandler = target.data
    while True:
        chunk = stream.read(CHUNK)
        final = not chunk
        try:
            if final:
                parser.close()
            else:
                parser.feed(_repaired(chunk, on_repair))
        except ParseError as error:
            line = error.position[0] if getattr(error, "position", None) else None
            raise InputError("xml-malformed", file, line, detail=_detail(error)) from None
        except _FORBIDDEN as error:
            raise InputError(
                "xml-forbidden", file, int(expat.CurrentLineNumber) or None, detail=_forbidden(error)
            ) from None
        done, target.done = target.done, []
        for item, inside in done:
            yield item
            if not inside:
                item.element.clear()
        if final:
            return


def _repaired(chunk: str, on_repair: Callable[[], None] | None) -> str:
    """Undecodable bytes (surrogate-escaped) re-read as cp1252 line by line, like other text formats."""
    if not _SURROGATES.search(chunk):
        return chunk
    return "".join(repair(piece, on_repair) for piece in chunk.splitlines(keepends=True))


def _detail(error: ParseError) -> str:
    return str(error)[:200]


def _forbidden(error: Exception) -> str:
    kind = {DTDForbidden: "DOCTYPE", EntitiesForbidden: "ENTITY", ExternalReferenceForbidden: "external reference"}
    return f"{kind.get(type(error), type(error).__name__)}: {error}"[:200]
