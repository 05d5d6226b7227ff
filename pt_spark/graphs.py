"""Dependency graphs (process and extract dependencies): refuse a link that would close a cycle."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def reaches(edges: Iterable[tuple[Node, Node]], start: Node, goal: Node) -> bool:
    """Return whether ``goal`` can be reached from ``start`` along ``(parent, child)`` edges.

    Example:
        >>> reaches([(1, 2), (2, 3)], 1, 3), reaches([(1, 2), (2, 3)], 3, 1)
        (True, False)
    """
    children: dict[Node, set[Node]] = {}
    for parent, child in edges:
        children.setdefault(parent, set()).add(child)
    seen: set[Node] = set()
    pending = [start]
    while pending:
        node = pending.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            pending.extend(children.get(node, ()))
    return False


def closes_cycle(edges: Iterable[tuple[Node, Node]], parent: Node, child: Node) -> bool:
    """Return whether adding the edge ``parent -> child`` to ``edges`` would make a cycle.

    A self-link (``parent == child``) is a cycle too.

    Example:
        >>> closes_cycle([("a", "b"), ("b", "c")], "c", "a")
        True
    """
    return reaches(edges, child, parent)


__all__ = ["closes_cycle", "reaches"]
