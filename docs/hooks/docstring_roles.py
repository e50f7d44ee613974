"""MkDocs hook: Sphinx cross-reference roles in the package's docstrings, rendered on the Python API page.

The docstrings are Google style but name other objects the Sphinx way (``:func:`sampleaudio.models.SampleCNN```,
``:class:`~sampleaudio.store.Store```), which mkdocstrings prints literally. This hook drops the role, shortens a
``~`` target to its last component, and links the name when the page documents that object.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|meth|data|mod|attr|obj|exc):<code>(~?)([\w.]+)(\(\))?</code>")


def on_page_content(html: str, page, config, files) -> str:
    if page.file.src_uri != "python-api.md":
        return html
    anchors = set(re.findall(r'id="([\w.]+)"', html))

    def replace(match: re.Match) -> str:
        short, target, call = match.group(1), match.group(2), match.group(3) or ""
        text = (target.rsplit(".", 1)[-1] if short else target) + call
        return f'<a href="#{target}"><code>{text}</code></a>' if target in anchors else f"<code>{text}</code>"

    return ROLE.sub(replace, html)
