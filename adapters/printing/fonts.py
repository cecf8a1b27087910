"""The fonts a printed certificate embeds, from Debian packages the Makefile installs.

- **DejaVu Sans** (``fonts-dejavu-core``): Latin with every precomposed Vietnamese letter
  (documents are NFC, so ``ệ`` is one code point and one glyph: no shaping needed),
  Greek and Cyrillic; its Mono face prints hashes and addresses.
- **Nanum Gothic** (``fonts-nanum``): the 11,172 Hangul syllables, used as the fallback
  for any character DejaVu lacks (Korean names and addresses).

Both are TrueType (``glyf`` outlines), which every PDF reader renders and fpdf2 subsets:
a certificate carries only the glyphs it uses. Noto CJK was set aside: its Debian fonts
are CFF collections of ~20 MB each, slow to parse on every render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters.printing.errors import PrintingFontsMissing

_DEJAVU: Final = Path("/usr/share/fonts/truetype/dejavu")
_NANUM: Final = Path("/usr/share/fonts/truetype/nanum")


@dataclass(frozen=True, slots=True)
class CertificateFonts:
    """TrueType files for the four faces a certificate uses."""

    text: Path
    text_bold: Path
    mono: Path
    #: fallback for characters ``text`` lacks (Hangul)
    fallback: Path
    fallback_bold: Path

    def files(self) -> tuple[Path, ...]:
        return (self.text, self.text_bold, self.mono, self.fallback, self.fallback_bold)


#: where Debian's ``fonts-dejavu-core`` and ``fonts-nanum`` install them
DEBIAN_FONTS: Final = CertificateFonts(
    text=_DEJAVU / "DejaVuSans.ttf",
    text_bold=_DEJAVU / "DejaVuSans-Bold.ttf",
    mono=_DEJAVU / "DejaVuSansMono.ttf",
    fallback=_NANUM / "NanumGothic.ttf",
    fallback_bold=_NANUM / "NanumGothicBold.ttf",
)


def installed_fonts(fonts: CertificateFonts = DEBIAN_FONTS) -> CertificateFonts:
    """``fonts`` when every file exists; :class:`PrintingFontsMissing` names the others."""
    missing = [str(path) for path in fonts.files() if not path.is_file()]
    if missing:
        raise PrintingFontsMissing(
            "fonts for printable certificates are missing: "
            + ", ".join(missing)
            + " (Debian packages fonts-dejavu-core and fonts-nanum; `make setup` installs them)"
        )
    return fonts
