"""XML from strangers, parsed safely: one parser setting for every XML reader in `formats`.

No network, no DTD loading, no entity expansion, no huge text nodes; a document with a DOCTYPE
is refused (neither an e-invoice nor a bank statement has one, and a DOCTYPE is where entity
bombs live). Malformed XML, a truncated file included, is refused with the line lxml reports:

    statement.xml line 120: expected well-formed XML, got "Premature end of data in tag Ntry line 53"
"""

from __future__ import annotations

import re

from lxml import etree

from dunwell.formats.errors import FileRejected, FormatError

_LXML_POSITION = re.compile(r",? line \d+, column \d+$")


def parse_xml(data: bytes, file_name: str, *, what: str) -> etree._Element:
    """The root element of `data`; `what` names the document in the DOCTYPE refusal
    ("an e-invoice", "a bank statement")."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        got = _LXML_POSITION.sub("", exc.msg)
        raise FileRejected(
            [FormatError(file_name, exc.lineno, None, "well-formed XML", got)]
        ) from None
    doctype: str = getattr(root.getroottree().docinfo, "doctype", "")  # lxml-stubs lack it
    if doctype:
        error = FormatError(file_name, 1, None, f"{what} without a DOCTYPE", doctype)
        raise FileRejected([error])
    return root


def source_line(node: etree._Element) -> int | None:
    """The physical line the element starts on, where lxml knows it."""
    line: object = node.sourceline  # lxml-stubs type it as `...`
    return line if isinstance(line, int) else None
