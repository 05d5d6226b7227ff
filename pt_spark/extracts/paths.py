"""Location paths as pt_spark stores them: one spelling per folder (no Spark, no store).

``normalize_path`` gives a folder its one stored spelling, ``path_spellings`` the other spellings
an older pt_spark stored verbatim, so that look-ups still find those rows.
"""

from __future__ import annotations

import re

#: ``scheme:`` at the start of a URI; two letters at least, so ``C:\data`` stays a local path.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")


def scheme_of(path: str) -> str:
    """Return the lower-case URI scheme of ``path`` (``''`` for a plain local path)."""
    match = _SCHEME.match(path)
    return match.group(1).lower() if match else ""


def split_authority(path: str) -> tuple[str, str]:
    """Split ``scheme://authority/rest`` into (authority, rest); plain paths have no authority."""
    scheme = scheme_of(path)
    rest = path[len(scheme) + 1 :] if scheme else path
    if scheme and rest.startswith("//"):
        authority, _, tail = rest[2:].partition("/")
        return authority, tail
    return "", rest


#: Local hosts of a ``file://host/path`` URI: the path is local.
_LOCAL_HOSTS = frozenset({"", "localhost"})


def _strip_trailing(prefix: str, rest: str) -> str:
    """Return ``prefix + rest`` without trailing separators, keeping a root's one separator."""
    stripped = rest.rstrip("/\\")
    if not stripped or stripped.endswith(":"):  # "/", "dbfs:/", "C:\\": the root keeps its separator
        return prefix + (stripped + rest[len(stripped)] if rest else "")
    return prefix + stripped


def normalize_path(path: str) -> str:
    r"""Return the one spelling of a folder path that pt_spark stores and looks up.

    Trailing separators and repeated slashes go; a ``file:`` URI of this machine becomes the plain
    path; a URI scheme is lower-cased and the authority (bucket, host) kept as it is. A root keeps
    its separator. Nothing else changes: ``.`` and ``..`` segments and letter case stay.

    Example:
        >>> normalize_path("file:///data//in/")
        '/data/in'
        >>> normalize_path("S3://bucket/dir/")
        's3://bucket/dir'
        >>> normalize_path("/")
        '/'
    """
    scheme = scheme_of(path)
    if scheme == "file":
        authority, tail = split_authority(path)
        if path[len("file:") :].startswith("//") and authority.lower() not in _LOCAL_HOSTS:
            return _strip_trailing(f"file://{authority}/", re.sub("/{2,}", "/", tail))
        path, scheme = ("/" + tail if path[len("file:") :].startswith("//") else path[len("file:") :]), ""
    if not scheme:
        if path.startswith("\\\\"):  # a Windows UNC path: its backslashes are not repeated slashes
            return _strip_trailing("", path)
        return _strip_trailing("", re.sub("/{2,}", "/", path))
    rest = path[len(scheme) + 1 :]
    if rest.startswith("//"):
        authority, tail = split_authority(path)
        tail = re.sub("/{2,}", "/", tail).lstrip("/")
        return f"{scheme}://{authority}/{tail}".rstrip("/") if tail else f"{scheme}://{authority}"
    return _strip_trailing(f"{scheme}:", re.sub("/{2,}", "/", rest))


def path_spellings(path: str) -> list[str]:
    """Return the spellings of the normalised ``path`` an older pt_spark may have stored verbatim.

    Example:
        >>> path_spellings("/data/in")
        ['/data/in', '/data/in/', 'file:/data/in', 'file:/data/in/', 'file:///data/in', 'file:///data/in/']
    """
    bases = [path]
    if path.startswith("/") and not path.startswith("//"):
        bases += [f"file:{path}", f"file://{path}"]
    return list(dict.fromkeys(spelling for base in bases for spelling in (base, base.rstrip("/") + "/")))


__all__ = ["normalize_path", "path_spellings", "scheme_of", "split_authority"]
