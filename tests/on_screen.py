"""What a page shows as its KPI tiles, read off AppTest's Markdown the way a screen shows it:
each tile's label, value and change (the hover hint and the arrow left out)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from reactions.ui.kpis import CHANGE, LABEL, TILE, VALUE

FIELDS = {LABEL: "label", VALUE: "value", CHANGE: "delta"}


@dataclass
class ShownKpi:
    label: str = ""
    value: str = ""
    delta: str | None = None


class _Tiles(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tiles: list[ShownKpi] = []
        self.field: str | None = None
        self.in_span = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if TILE in classes:
            self.tiles.append(ShownKpi())
        for name in classes:
            if name in FIELDS:
                self.field = FIELDS[name]
                setattr(self.tiles[-1], self.field, "")
        if tag == "span":
            self.in_span += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self.in_span -= 1
        elif tag == "div" and self.field:
            tile = self.tiles[-1]
            setattr(tile, self.field, (getattr(tile, self.field) or "").strip())
            self.field = None

    def handle_data(self, data: str) -> None:
        if self.field and not self.in_span:
            tile = self.tiles[-1]
            setattr(tile, self.field, (getattr(tile, self.field) or "") + data)


def kpis(at: Any) -> dict[str, ShownKpi]:
    """The page's KPI tiles by label (`at`: an AppTest after a run)."""
    parser = _Tiles()
    for block in at.markdown:
        parser.feed(block.value)
    return {tile.label: tile for tile in parser.tiles}
