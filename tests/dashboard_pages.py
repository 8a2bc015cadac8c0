"""Reading the dashboard's pages back: a page parsed with html.parser into what the tests check
(its headings, tables as rows of cell texts, links, ids, elements by class)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

_VOID = {"meta", "link", "br", "img", "hr", "input", "source", "col", "wbr", "area", "base"}


@dataclass
class Page:
    lang: str | None = None
    titles: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    # Every table: its caption and its rows, each (row's class, [cell texts]).
    tables: list[tuple[str, list[tuple[str, list[str]]]]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # href and src values
    ids: set[str] = field(default_factory=set)
    th_without_scope: int = 0
    tables_without_caption: int = 0
    scripts: int = 0
    by_id: dict[str, str] = field(default_factory=dict)  # the text of each element with an id
    text: str = ""

    def rows(self, cls: str) -> list[list[str]]:
        """The cells of every table row of class `cls`."""
        return [cells for _, rows in self.tables for c, cells in rows if cls in c.split()]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, str | None, list[str]]] = []  # tag, id, text parts
        self.row: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        page = self.page
        if tag == "html":
            page.lang = found.get("lang")
        page.links += [v for k, v in attrs if k in ("href", "src") and v is not None]
        if found.get("id"):
            page.ids.add(str(found["id"]))
        if tag == "th" and "scope" not in found:
            page.th_without_scope += 1
        if tag == "script":
            page.scripts += 1
        if tag == "table":
            page.tables.append(("", []))
        if tag == "tr":
            self.row = (found.get("class") or "", [])
            page.tables[-1][1].append(self.row)
        if tag not in _VOID:
            self.stack.append((tag, found.get("id"), []))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, ident, parts = self.stack.pop()
            text = " ".join("".join(parts).split())
            if self.stack:
                self.stack[-1][2].append("".join(parts) + " ")
            self._closed(name, ident, text)
            if name == tag:
                return

    def _closed(self, name: str, ident: str | None, text: str) -> None:
        page = self.page
        if ident:
            page.by_id[ident] = text
        if name == "title" and not any(tag == "svg" for tag, _, _ in self.stack):
            page.titles.append(text)  # the page's, not a drawing's
        elif name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            page.headings.append((int(name[1]), text))
        elif name == "caption":
            page.tables[-1] = (text, page.tables[-1][1])
        elif name in ("td", "th") and self.row is not None:
            self.row[1].append(text)
        elif name == "table" and not page.tables[-1][0]:
            page.tables_without_caption += 1

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)
        self.page.text += data


def parse(path: Path) -> Page:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.page
