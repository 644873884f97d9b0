"""Translations: the .po catalogues are the source; their .mo files are compiled at start-up.

No binary is committed: `compile_catalogues` writes each .mo under the instance folder when
it is missing or older than its .po, atomically, so parallel workers never read half a file.
"""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE = Path(__file__).parent / "translations"


def catalogues() -> list[Path]:
    """Every .po file of the package."""
    return sorted(SOURCE.glob("*/LC_MESSAGES/*.po"))


def compile_catalogues(target: Path, source: Path = SOURCE) -> Path:
    """Compile every .po under `source` into `target` (same layout); return `target`."""
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parts[-3])
        fd, temporary = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(temporary, mo)
    return target
