"""Babel extraction of the texts a data map file shows customers (for the catalog).

`babel.cfg` maps `storage/datamap/*.yaml` here, so `pybabel extract` puts the built-in
maps' labels, retention texts, purposes and recipients into `messages.pot` beside the
code's strings. A text given as {language: text} carries its own translation and is
not extracted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

_TEXT_KEYS = frozenset({"label", "retention", "text", "description", "law"})
_TEXT_MAPS = frozenset({"legal_bases"})


def _walk(node: Any, parent: str | None, in_map: bool) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            key = str(key_node.value)
            if isinstance(value, yaml.ScalarNode) and (key in _TEXT_KEYS or in_map):
                yield value.start_mark.line + 1, str(value.value)
            else:
                yield from _walk(value, key, key in _TEXT_MAPS)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, parent, False)


def extract_datamap(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """The babel extraction method: (line, function, message, comments)."""
    root = yaml.compose(fileobj.read().decode("utf-8"))
    for line, message in _walk(root, None, False):
        if message:
            yield line, "", message, []
