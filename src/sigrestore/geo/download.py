"""Download GEO files over HTTPS into a cache folder: atomic, resumable, skip-if-complete.

Only the standard library (``urllib``) is used.  A file is downloaded to
``<name>.part`` beside its final name and renamed onto it only once its size
matches the server's ``Content-Length``, so a complete-looking file is always
complete.  (The deterministic ``.part`` name, rather than
:func:`sigrestore.atomic.atomic_path`'s random one, is what lets a rerun resume.)
An interrupted transfer is resumed with an HTTP ``Range`` request; a server
that ignores ``Range`` (answers 200) makes the download start again cleanly.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from sigrestore.errors import SigrestoreError

__all__ = ["DownloadError", "DownloadOptions", "download_file", "list_directory", "remote_size"]

_BLOCK = 1 << 20
_USER_AGENT = "sigrestore/0.1 (GEO fetch; Python urllib)"


class DownloadError(SigrestoreError):
    """A file could not be downloaded; the message names the URL and the manual fix."""


@dataclass(frozen=True)
class DownloadOptions:
    """How to talk to the server.

    Attributes
    ----------
    timeout : float
        Seconds to wait for a connection or a block of data.
    retries : int
        Further attempts after an interrupted transfer or a connection error.
    backoff : float
        Seconds before the first retry (doubled each time).
    """

    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0


def _manual_fix(url: str, dest: Path) -> str:
    return (
        f"; to place the file by hand, download it on a machine with internet access "
        f"(e.g. `curl -fL -o {dest.name} '{url}'`) and copy it to {dest}, then rerun"
    )


def _request(url: str, *, method: str = "GET", start: int = 0) -> urllib.request.Request:
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.Request(url, headers=headers, method=method)


def _http_error(url: str, dest: Path, exc: Exception) -> DownloadError:
    if isinstance(exc, urllib.error.HTTPError):
        what = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        what = f"cannot connect ({exc.reason})"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return DownloadError(f"GET {url} failed: {what}" + _manual_fix(url, dest))


def remote_size(url: str, options: DownloadOptions = DownloadOptions()) -> int | None:
    """The ``Content-Length`` of ``url`` from a HEAD request (None if not given)."""
    with urllib.request.urlopen(_request(url, method="HEAD"), timeout=options.timeout) as resp:
        length = resp.headers.get("Content-Length")
    return int(length) if length is not None else None


def _content_range_total(resp: http.client.HTTPResponse, start: int) -> int | None:
    """Full size from a 206 answer's ``Content-Range``; ConnectionError if not our range."""
    match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.headers.get("Content-Range", ""))
    if not match or int(match.group(1)) != start:
        raise ConnectionError(f"the server answered another range ({match and match.group(0)})")
    return None if match.group(3) == "*" else int(match.group(3))


def _attempt(url: str, part: Path, options: DownloadOptions) -> int | None:
    """One GET into ``part`` (resuming it if it has bytes); return the expected total size.

    Raises the underlying exception on an interrupted transfer (the bytes
    received so far stay in ``part`` for the next attempt).
    """
    start = part.stat().st_size if part.exists() else 0
    with urllib.request.urlopen(_request(url, start=start), timeout=options.timeout) as resp:
        if resp.status == 206:
            try:
                total = _content_range_total(resp, start)
            except ConnectionError:
                part.unlink()  # resume impossible: the next attempt starts again
                raise
        else:
            # The whole file (first attempt, or a server without Range support):
            # start again cleanly.
            start = 0
            length = resp.headers.get("Content-Length")
            total = int(length) if length is not None else None
        with part.open("r+b" if start else "wb") as out:
            out.seek(start)
            out.truncate()
            shutil.copyfileobj(resp, out, _BLOCK)
    got = part.stat().st_size
    if total is not None and got < total:
        raise http.client.IncompleteRead(b"", total - got)
    if total is not None and got > total:
        part.unlink()
        raise ConnectionError(f"received {got} bytes, more than the {total} announced")
    return total


def download_file(
    url: str, dest: str | os.PathLike[str], options: DownloadOptions = DownloadOptions()
) -> Path:
    """Download ``url`` to ``dest`` atomically, resuming an earlier partial download.

    Parameters
    ----------
    url
        The file's URL (``https://``, ``http://`` or ``file://``).
    dest
        The final path; ``dest.part`` holds the bytes while downloading.
    options
        Timeout and retries.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        HTTP error (e.g. 404), no connection, or the transfer still incomplete
        after ``options.retries`` retries; the message names the URL and says
        where to put the file when downloading it by hand.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    delay = options.backoff
    last: Exception | None = None
    for attempt in range(options.retries + 1):
        try:
            _attempt(url, part, options)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and part.exists():
                # Range beyond the end: the partial file is stale; start again.
                part.unlink()
                last = exc
                continue
            if exc.code < 500:
                raise _http_error(url, dest, exc) from None
            last = exc
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
        ) as exc:
            last = exc
        else:
            os.replace(part, dest)
            return dest
        if attempt < options.retries:
            time.sleep(delay)
            delay *= 2
    assert last is not None
    raise DownloadError(
        f"GET {url} failed after {options.retries + 1} attempts: "
        f"{type(last).__name__}: {last}" + _manual_fix(url, dest)
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() == "a":
            for name, value in attrs:
                if name.lower() == "href" and value:
                    self.links.append(value)


def list_directory(url: str, options: DownloadOptions = DownloadOptions()) -> list[str]:
    """File names linked from a directory index page (GEO's HTTPS folders are such pages).

    A ``file://`` URL (a local copy of GEO's layout) lists the folder's files.
    """
    if url.startswith("file:"):
        folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        if not folder.is_dir():
            raise DownloadError(f"GET {url} failed: no such folder (listing the folder)")
        return sorted(p.name for p in folder.iterdir() if p.is_file())
    try:
        with urllib.request.urlopen(_request(url), timeout=options.timeout) as resp:
            charset = resp.headers.get_content_charset() or "utf-8"
            page = resp.read().decode(charset, errors="replace")
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        err = _http_error(url, Path("."), exc)
        raise DownloadError(str(err).split("; to place")[0] + " (listing the folder)") from None
    parser = _Links()
    parser.feed(page)
    names = []
    for link in parser.links:
        name = link.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if name and not link.endswith("/"):
            names.append(urllib.parse.unquote(name))
    return sorted(set(names))


def is_complete(dest: Path, size: int | None) -> bool:
    """``dest`` exists with the expected size (any size when unknown)."""
    with contextlib.suppress(FileNotFoundError):
        return size is None or dest.stat().st_size == size
    return False
