"""Where each part of a state-machine drawing goes: a layered (Sugiyama-style) layout.

Pure geometry, no SVG: states are ranked top to bottom by their longest path from the start
(edges that close a cycle are turned round for the ranking and drawn back up), ordered within
their rank by barycenter sweeps to cut crossings, and placed so that no two boxes overlap. An
edge's label is a node of its own in the rank just below where the edge leaves, so labels take
room like boxes do and never sit on one. Every edge runs straight down through a rank (where
nothing else is at its x) and bends only between ranks, so no edge crosses a box.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

Point = tuple[float, float]

STATE_FONT, LABEL_FONT = 13.0, 11.5
_CHAR = 0.56  # mean advance of a sans-serif character, in ems: enough to wrap text safely
_BOX_W, _LABEL_W, _LOOP_LABEL_W, _PAD, _LINE = 156.0, 128.0, 104.0, 9.0, 1.3
_GAP_X, _GAP_Y, _MARGIN, _DOT = 16.0, 24.0, 10.0, 14.0
_LOOP_W, _PORT_GAP, _SWEEPS = 26.0, 9.0, 10


def wrap(text: str, width: float, size: float) -> tuple[str, ...]:
    """Words of `text` in lines that fit `width` pixels at font `size` (a long word alone)."""
    most = max(int(width / (size * _CHAR)), 8)
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= most:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return tuple(lines) or ("",)


def text_height(lines: Sequence[str], size: float) -> float:
    return len(lines) * size * _LINE


def text_width(lines: Sequence[str], size: float) -> float:
    return max(len(line) for line in lines) * size * _CHAR


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @classmethod
    def at(cls, x: float, y: float, w: float, h: float) -> Rect:
        """Rounded to a tenth of a pixel, as the points of the arrows are."""
        return cls(round(x, 1), round(y, 1), round(w, 1), round(h, 1))

    def overlaps(self, other: Rect) -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)  # fmt: skip

    def on_boundary(self, point: Point, slack: float = 0.06) -> bool:
        x, y = point
        inside = (self.x - slack <= x <= self.x + self.w + slack
                  and self.y - slack <= y <= self.y + self.h + slack)  # fmt: skip
        edge = min(abs(x - self.x), abs(x - self.x - self.w), abs(y - self.y),
                   abs(y - self.y - self.h))  # fmt: skip
        return inside and edge <= slack


@dataclass(frozen=True)
class Box:
    """A state (or the start dot, `key` None) and where it is drawn."""

    key: str | None
    lines: tuple[str, ...]
    rect: Rect
    final: bool = False


@dataclass(frozen=True)
class Label:
    lines: tuple[str, ...]
    rect: Rect


@dataclass(frozen=True)
class Edge:
    """A drawn arrow from `source` to `dest` (None: the start dot) through `points`; its
    arrowhead is at the last point. `back` when it runs against the ranking (up the page)."""

    source: str | None
    dest: str
    points: tuple[Point, ...]
    label: Label | None
    back: bool = False


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]

    def box(self, key: str | None) -> Box:
        return next(box for box in self.boxes if box.key == key)


@dataclass(frozen=True)
class Graph:
    """What to lay out: state keys with the words in their box, which are final, and arrows
    (source, dest, label lines); source None is the start dot. An arrow from a state to itself
    is a loop drawn at its right."""

    states: tuple[tuple[str, str], ...]
    final: frozenset[str]
    arrows: tuple[tuple[str | None, str, str], ...]


@dataclass
class _Node:
    key: int
    w: float
    h: float
    port: float  # x of where edges meet it, from its left
    rank: int = 0
    x: float = 0.0
    # How much its place matters when neighbours compete for room: boxes most, then the
    # labels of arrows to the next stage, least the long arrows' bends.
    weight: float = 8.0
    bend: bool = False  # a point an arrow passes through, not a stage
    up: list[int] = field(default_factory=list)
    down: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Chain:
    """One arrow as a path of nodes down the ranks: real, virtual ones, real."""

    source: str | None
    dest: str
    nodes: tuple[int, ...]
    label: int  # its labelled bend; -1 when it joins a line labelled already
    back: bool


def layout(graph: Graph) -> Layout:
    """Ranks, orders and places the graph; every state and arrow is in the result."""
    return _Builder(graph).run()


class _Builder:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.keys: list[str | None] = [None, *(key for key, _ in graph.states)]
        self.words = {key: wrap(text, _BOX_W - 2 * _PAD, STATE_FONT) for key, text in graph.states}
        self.loops = _loops(graph)
        self.nodes: list[_Node] = [self._real(key) for key in self.keys]
        self.labels: dict[int, tuple[str, ...]] = {}
        self.shared: dict[tuple[str, str, int], int] = {}

    def _real(self, key: str | None) -> _Node:
        if key is None:
            return _Node(0, _DOT, _DOT, _DOT / 2)
        height = text_height(self.words[key], STATE_FONT) + 2 * _PAD
        loop = self.loops.get(key)
        if loop is None:
            return _Node(self.keys.index(key), _BOX_W, height, _BOX_W / 2)
        loop_w = text_width(loop, LABEL_FONT) + 6
        loop_h = text_height(loop, LABEL_FONT)
        return _Node(self.keys.index(key), _BOX_W + _LOOP_W + loop_w, max(height, loop_h + 8),
                     _BOX_W / 2)  # fmt: skip

    def run(self) -> Layout:
        arrows = _merged(self.graph)
        ranks = _ranks(self.keys, arrows)
        for node in self.nodes:
            node.rank = 2 * ranks[self.keys[node.key]]
        chains = [self._chain(src, dst, text, ranks) for src, dst, text in arrows]
        layers = _order(self.nodes)
        _place(self.nodes, layers)
        return self._result(chains, layers)

    def _chain(self, src: str | None, dst: str, text: str, ranks: dict[str | None, int]) -> _Chain:
        """The arrow's nodes down the ranks. Arrows of one action down to one stage share their
        bends from where they meet (one line, labelled once, not one per stage it leaves)."""
        back = ranks[src] > ranks[dst]
        top, bottom = (dst, src) if back else (src, dst)
        start, end = self.nodes[self.keys.index(top)], self.nodes[self.keys.index(bottom)]
        path, label = [start.key], -1
        for rank in range(start.rank + 1, end.rank):
            shared = None if back else self.shared.get((dst, text, rank))
            if shared is None:
                first = rank == start.rank + 1
                shared = self._bend(text, rank, labelled=first,
                                    weight=(2 / (end.rank - start.rank)) ** 3)  # fmt: skip
                label = shared if first else label
                if not back:
                    self.shared[(dst, text, rank)] = shared
            path.append(shared)
        path.append(end.key)
        for upper, lower in itertools.pairwise(path):
            if lower not in self.nodes[upper].down:
                self.nodes[upper].down.append(lower)
                self.nodes[lower].up.append(upper)
        return _Chain(src, dst, tuple(path), label, back)

    def _bend(self, text: str, rank: int, labelled: bool, weight: float) -> int:
        node = _Node(len(self.nodes), 0.0, 0.0, 0.0, rank, weight=weight, bend=True)
        if labelled:
            words = wrap(text, _LABEL_W, LABEL_FONT)
            node.w = text_width(words, LABEL_FONT) + 12
            node.h = text_height(words, LABEL_FONT) + 4
            self.labels[node.key] = words
        self.nodes.append(node)
        return node.key

    def _result(self, chains: list[_Chain], layers: list[list[int]]) -> Layout:
        bands = _bands(self.nodes, layers)
        boxes = tuple(self._box(key, bands) for key in self.keys)
        by_key = {box.key: box for box in boxes}
        ports = _ports(self.nodes, chains)
        edges = [self._edge(chain, bands, by_key, ports) for chain in chains]
        edges += [self._loop(by_key[key], lines) for key, lines in self.loops.items()]
        width = max(node.x + node.w for node in self.nodes) + _MARGIN
        height = max(top + h for top, h in bands.values()) + _MARGIN
        return Layout(round(width, 1), round(height, 1), boxes, tuple(edges))

    def _box(self, key: str | None, bands: dict[int, tuple[float, float]]) -> Box:
        node = self.nodes[self.keys.index(key)]
        top, band = bands[node.rank]
        width = _DOT if key is None else _BOX_W
        height = _DOT if key is None else text_height(self.words[key], STATE_FONT) + 2 * _PAD
        rect = Rect.at(node.x, top + (band - height) / 2, width, height)
        final = key in self.graph.final
        return Box(key, () if key is None else self.words[key], rect, final)

    def _edge(self, chain: _Chain, bands: dict[int, tuple[float, float]],
              boxes: dict[str | None, Box], ports: dict[tuple[int, int], float]) -> Edge:
        first, last = self.nodes[chain.nodes[0]], self.nodes[chain.nodes[-1]]
        top_key, bottom_key = self.keys[first.key], self.keys[last.key]
        upper, lower = boxes[top_key].rect, boxes[bottom_key].rect
        out_x = ports[(first.key, chain.nodes[1])]
        in_x = ports[(last.key, chain.nodes[-2])]
        points: list[Point] = [(out_x, upper.y + upper.h), (out_x, sum(bands[first.rank]))]
        for key in chain.nodes[1:-1]:
            node = self.nodes[key]
            points += [(node.x + node.port, bands[node.rank][0]),
                       (node.x + node.port, sum(bands[node.rank]))]  # fmt: skip
        points += [(in_x, bands[last.rank][0]), (in_x, lower.y)]
        label = None
        if chain.label in self.labels:
            label_node = self.nodes[chain.label]
            top, band = bands[label_node.rank]
            words = self.labels[chain.label]
            height = text_height(words, LABEL_FONT)
            label = Label(words, Rect.at(label_node.x + 8, top + (band - height) / 2,
                                      label_node.w - 8, height))  # fmt: skip
        path = _dedup(points)
        if chain.back:
            path.reverse()
        return Edge(chain.source, chain.dest, tuple(path), label, chain.back)

    def _loop(self, box: Box, lines: tuple[str, ...]) -> Edge:
        rect = box.rect
        right, mid = rect.x + rect.w, rect.y + rect.h / 2
        out, back = mid - min(rect.h / 4, 10), mid + min(rect.h / 4, 10)
        points = tuple(_dedup([(right, out), (right + _LOOP_W - 6, out),
                               (right + _LOOP_W - 6, back), (right, back)]))  # fmt: skip
        height = text_height(lines, LABEL_FONT)
        label = Label(lines, Rect.at(right + _LOOP_W, mid - height / 2,
                                  text_width(lines, LABEL_FONT) + 6, height))  # fmt: skip
        assert box.key is not None
        return Edge(box.key, box.key, points, label)


def _loops(graph: Graph) -> dict[str, tuple[str, ...]]:
    """Each state's loop words: what can be done there without moving on, summed up."""
    found: dict[str, list[str]] = {}
    for src, dst, text in graph.arrows:
        if src == dst and src is not None:
            found.setdefault(src, []).append(text)
    loops = {}
    for key, texts in found.items():
        words = (f"{len(texts)} steps that keep this stage",) if len(texts) > 2 else texts
        loops[key] = tuple(line for text in words for line in wrap(text, _LOOP_LABEL_W, LABEL_FONT))
    return loops


def _merged(graph: Graph) -> list[tuple[str | None, str, str]]:
    """The arrows between two different states, those of one pair drawn as one."""
    merged: dict[tuple[str | None, str], list[str]] = {}
    for src, dst, text in graph.arrows:
        if src != dst:
            merged.setdefault((src, dst), []).append(text)
    return [(src, dst, "; ".join(texts)) for (src, dst), texts in merged.items()]


Arrow = tuple[str | None, str, str]


def _ranks(keys: list[str | None], arrows: list[Arrow]) -> dict[str | None, int]:
    """Longest path from the start, after turning round the arrows that close a cycle."""
    after: dict[str | None, list[str]] = {key: [] for key in keys}
    for src, dst, _ in arrows:
        after[src].append(dst)
    forward: dict[str | None, list[str | None]] = {key: [] for key in keys}
    state: dict[str | None, int] = {}
    for root in keys:
        _visit(root, after, forward, state)
    rank: dict[str | None, int] = {}
    for key in reversed(_topological(keys, forward)):
        rank[key] = max((rank[p] + 1 for p in keys if key in forward[p]), default=0)
    return rank


def _visit(root: str | None, after: dict[str | None, list[str]],
           forward: dict[str | None, list[str | None]], state: dict[str | None, int]) -> None:
    """Depth first from `root`, without recursion; an arrow to a state on the path is a back
    arrow, kept out of `forward` (state: 1 on the path, 2 done)."""
    if root in state:
        return
    state[root] = 1
    stack: list[tuple[str | None, int]] = [(root, 0)]
    while stack:
        key, index = stack.pop()
        if index < len(after[key]):
            stack.append((key, index + 1))
            nxt = after[key][index]
            if nxt not in state:
                forward[key].append(nxt)
                state[nxt] = 1
                stack.append((nxt, 0))
            elif state[nxt] == 2:
                forward[key].append(nxt)
        else:
            state[key] = 2


def _topological(keys: list[str | None],
                 forward: dict[str | None, list[str | None]]) -> list[str | None]:
    """The keys, each after everything it leads to (reverse it for sources first)."""
    order: list[str | None] = []
    seen: set[str | None] = set()
    for root in keys:
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[str | None, int]] = [(root, 0)]
        while stack:
            key, index = stack.pop()
            if index < len(forward[key]):
                stack.append((key, index + 1))
                nxt = forward[key][index]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, 0))
            else:
                order.append(key)
    return order


def _order(nodes: list[_Node]) -> list[list[int]]:
    """Nodes in each rank, left to right, ordered by barycenter sweeps (the fewest crossings
    seen is kept)."""
    layers: list[list[int]] = [[] for _ in range(max(n.rank for n in nodes) + 1)]
    for node in nodes:
        layers[node.rank].append(node.key)
    best, fewest = [list(layer) for layer in layers], _crossings(nodes, layers)
    for sweep in range(8):
        downward = sweep % 2 == 0
        for rank in range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1):
            near = layers[rank - 1] if downward else layers[rank + 1]
            layers[rank] = _by_barycenter(nodes, layers[rank], near, downward)
        count = _crossings(nodes, layers)
        if count < fewest:
            best, fewest = [list(layer) for layer in layers], count
    return best


def _by_barycenter(nodes: list[_Node], layer: list[int], near: list[int],
                   downward: bool) -> list[int]:
    """`layer` sorted by the mean place of its neighbours in `near` (a node without any keeps
    its place); the sort is stable, so ties keep their order and the result is deterministic."""
    where = {key: n for n, key in enumerate(near)}

    def center(item: tuple[int, int]) -> float:
        place, key = item
        seen = [where[k] for k in (nodes[key].up if downward else nodes[key].down)]
        return sum(seen) / len(seen) if seen else float(place)

    return [key for _, key in sorted(enumerate(layer), key=center)]


def _crossings(nodes: list[_Node], layers: list[list[int]]) -> int:
    count = 0
    for upper, lower in itertools.pairwise(layers):
        where = {key: n for n, key in enumerate(lower)}
        links = [(i, where[k]) for i, key in enumerate(upper) for k in nodes[key].down]
        count += sum(1 for a in links for b in links if a[0] < b[0] and a[1] > b[1])
    return count


def _place(nodes: list[_Node], layers: list[list[int]]) -> None:
    """x of each node: packed, then drawn towards its neighbours, keeping the order and gaps."""
    for layer in layers:
        _pack(nodes, layer, dict.fromkeys(layer, 0.0))
    for sweep in range(_SWEEPS):
        # The last sweeps go down only: each node settles under what leads to it, so the
        # main line of the process reads straight down.
        downward = sweep % 2 == 0 or sweep >= _SWEEPS - 3
        for layer in layers if downward else reversed(layers):
            want = {}
            for key in layer:
                node = nodes[key]
                links = node.up if downward else node.down
                if node.bend:  # a line keeps straight on along the line it continues
                    links = [k for k in links if nodes[k].bend] or links
                ports = [nodes[k].x + nodes[k].port for k in links]
                want[key] = (sum(ports) / len(ports) if ports else node.x + node.port) - node.port
            _pack(nodes, layer, want)
    low = min(node.x for node in nodes)
    for node in nodes:
        node.x += _MARGIN - low


def _pack(nodes: list[_Node], layer: list[int], want: dict[int, float]) -> None:
    """x of each node of `layer`, in order and apart, nearest (in weighted least squares) to
    where each wants to be: neighbours that would overlap move together as one block."""
    blocks: list[list[int]] = []
    for key in layer:
        blocks.append([key])
        while len(blocks) > 1 and _left(nodes, blocks[-2], want) + _span(nodes, blocks[-2]) \
                + _GAP_X > _left(nodes, blocks[-1], want):
            blocks[-2:] = [blocks[-2] + blocks[-1]]
    for block in blocks:
        x = _left(nodes, block, want)
        for key in block:
            nodes[key].x = x
            x += nodes[key].w + _GAP_X


def _left(nodes: list[_Node], block: list[int], want: dict[int, float]) -> float:
    total, weights, offset = 0.0, 0.0, 0.0
    for key in block:
        total += nodes[key].weight * (want[key] - offset)
        weights += nodes[key].weight
        offset += nodes[key].w + _GAP_X
    return total / weights


def _span(nodes: list[_Node], block: list[int]) -> float:
    return sum(nodes[key].w for key in block) + _GAP_X * (len(block) - 1)


def _bands(nodes: list[_Node], layers: list[list[int]]) -> dict[int, tuple[float, float]]:
    """Each rank's top and height; ranks holding only edges passing through are thin."""
    bands, top = {}, _MARGIN
    for rank, layer in enumerate(layers):
        height = max((nodes[key].h for key in layer), default=0.0)
        bands[rank] = (top, height)
        top += height + (_GAP_Y if height else _GAP_Y / 2)
    return bands


def _ports(nodes: list[_Node], chains: list[_Chain]) -> dict[tuple[int, int], float]:
    """Where each arrow leaves or meets a box: straight above or below where it goes when the
    box reaches there, else near the box's side; apart, so arrows do not meet in one point."""
    ends: dict[tuple[int, str], dict[int, float]] = {}
    for chain in chains:
        first, second = chain.nodes[0], chain.nodes[1]
        last, before = chain.nodes[-1], chain.nodes[-2]
        ends.setdefault((first, "down"), {})[second] = _port_x(nodes[second])
        ends.setdefault((last, "up"), {})[before] = _port_x(nodes[before])
    ports = {}
    for (key, _), others in ends.items():
        node = nodes[key]
        low, high = node.x + 10, node.x + node.port * 2 - 10
        ordered = sorted((x, other) for other, x in others.items())
        gap = min(_PORT_GAP, (high - low) / max(len(ordered) - 1, 1))
        placed = [min(max(x, low), high) for x, _ in ordered]
        for n in range(1, len(placed)):
            placed[n] = max(placed[n], placed[n - 1] + gap)
        for n in range(len(placed) - 2, -1, -1):
            placed[n] = min(placed[n], placed[n + 1] - gap)
        if key == 0:  # the start dot: one point
            placed = [node.x + node.port] * len(placed)
        ports.update({(key, other): x for x, (_, other) in zip(placed, ordered, strict=True)})
    return ports


def _port_x(node: _Node) -> float:
    return node.x + node.port


def _dedup(points: list[Point]) -> list[Point]:
    kept = [(round(x, 1), round(y, 1)) for x, y in points]
    return [p for n, p in enumerate(kept) if n == 0 or p != kept[n - 1]]
