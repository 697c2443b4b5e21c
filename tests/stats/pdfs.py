"""Reading PDFs back as a person would: their text (poppler's pdftotext) and the QR
codes on their pages (rendered with pdftoppm, decoded with zxing-cpp)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image


def text_of(pdf: bytes) -> str:
    """The PDF's text in reading order, whitespace folded (tables wrap their cells)."""
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode("utf-8")
    return re.sub(r"[ \t]+", " ", out)


def flat(text: str) -> str:
    """Text without any whitespace: sentences that wrapped across lines read whole."""
    return re.sub(r"\s+", "", text)


def pages(pdf: bytes) -> int:
    info = subprocess.run(
        ["pdfinfo", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]


def page_image(pdf: bytes, page: int = 1, dpi: int = 150) -> Image.Image:
    """One page as a picture (pdftoppm)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(dpi),
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(source),
                str(Path(folder) / "page"),
            ],
            check=True,
            timeout=60,
        )
        image = Image.open(Path(folder) / "page.png")
        image.load()
        return image


def qr_codes(pdf: bytes, page: int = 1) -> list[str]:
    """The text of every QR code on the page."""
    return [found.text for found in zxingcpp.read_barcodes(page_image(pdf, page))]
