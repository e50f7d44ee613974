"""MkDocs hook: the reStructuredText habits of the package's docstrings, rendered on the Python API page.

The docstrings are Google style but name other objects the Sphinx way (``:func:`sampleaudio.models.SampleCNN```,
``:class:`~sampleaudio.stores.Store```), which mkdocstrings prints literally. This hook drops the role, shortens a
``~`` target to its last component, and links the name when the page documents that object; a role inside a
literal block becomes the plain name. A paragraph ending in ``::`` (reStructuredText's "a literal block follows",
as in ``Example::``) ends in one colon, as Sphinx shows it.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|meth|data|mod|attr|obj|exc):<code>(~?)([\w.]+)(\(\))?</code>")
#: a role as it stays inside a literal block (the backticks are text there)
LITERAL_ROLE = re.compile(r":(?:func|class|meth|data|mod|attr|obj|exc):`(~?)([\w.]+)(\(\))?`")
#: a paragraph that announces a literal block
LITERAL_MARKER = re.compile(r"::</p>(\s*<div class=\"highlight\">)")
CODE_BLOCK = re.compile(r"(<pre>.*?</pre>)", re.S)


def _name(short: str, target: str, call: str | None) -> str:
    return (target.rsplit(".", 1)[-1] if short else target) + (call or "")


def on_page_content(html: str, page, config, files) -> str:
    if page.file.src_uri != "python-api.md":
        return html
    anchors = set(re.findall(r'id="([\w.]+)"', html))

    def replace(match: re.Match) -> str:
        target = match.group(2)
        text = _name(match.group(1), target, match.group(3))
        return f'<a href="#{target}"><code>{text}</code></a>' if target in anchors else f"<code>{text}</code>"

    def in_code(block: re.Match) -> str:
        return LITERAL_ROLE.sub(lambda m: _name(m.group(1), m.group(2), m.group(3)), block.group(1))

    html = CODE_BLOCK.sub(in_code, ROLE.sub(replace, html))
    return LITERAL_MARKER.sub(r":</p>\1", html)
