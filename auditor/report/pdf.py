"""PDF through the optional ``auditor[pdf]`` extra (WeasyPrint), with every resource fetch refused.

The HTML reports are self-contained, so nothing needs fetching; a fetcher that refuses all URLs makes
sure a hostile value can never make the PDF renderer reach the network or the disk.
"""

from __future__ import annotations

from typing import Any


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the system libraries it needs) is not installed."""


def available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def from_html(html: str) -> bytes:
    """The HTML report printed to PDF with its print stylesheet."""
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher, URLFetchingError
    except (ImportError, OSError) as error:
        raise PdfUnavailable(str(error)) from None

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise URLFetchingError(f"auditor refuses to fetch {url[:80]!r}")

    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=RefuseAll())
    data: bytes = document.write_pdf()
    return data
