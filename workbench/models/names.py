"""File names built from data: ids, moments, variants and journey names never decide where a file goes.

:func:`safe_name` turns any text into one path component. Text that is
already a plain name (ASCII letters, digits, ``_`` and ``-``, at most 80
characters, not starting with ``-``) is kept as it is, so the usual ids read
naturally (``cart_recovery``, variant ``A``); anything else is encoded and gets
a hash of the original text after ``=`` (a character plain names never
contain), so two different ids never share a file name and no name can be
``..`` or contain ``/``. (Plain names that differ only in case stay distinct
on the case-sensitive file systems the workbench writes to; on a
case-insensitive one, such as macOS's default, they would share a file.)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["safe_name"]

_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,79}$")
_READABLE = re.compile(r"[^a-z0-9_\-]+")


def safe_name(text: object) -> str:
    """One path component for ``text``: itself when plain, else a readable part, ``=`` and a hash.

    Examples
    --------
    >>> safe_name("cart_recovery")
    'cart_recovery'
    >>> safe_name("../../etc/passwd")
    'etc-passwd=3754d6cb3a38'
    >>> safe_name("Zoë/Ann")
    'zoe-ann=74d90c95a5f8'
    >>> safe_name("A")
    'A'
    """
    raw = str(text)
    if _PLAIN.match(raw):
        return raw
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii").lower()
    readable = _READABLE.sub("-", ascii_text).strip("-.")[:40] or "x"
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}={digest}"
