"""The Urdu catalogue covers every portal message, and compiles at start-up (no .mo committed)."""

import os
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from lending.i18n import SOURCE, catalogues, compile_catalogues

ROOT = Path(__file__).resolve().parents[1]
URDU = SOURCE / "ur" / "LC_MESSAGES" / "messages.po"


# What a borrower sees of the shared layout (its staff and shop links are English-only pages).
CHROME = {
    "My loans",
    "Log out",
    "Log in",
    "Fair, disclosed instalment prices. Amounts in Pakistani rupees.",
}


def extracted() -> dict[str, set[str]]:
    """Every message marked for translation in the files of babel.cfg, by file."""
    with (SOURCE / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.setdefault(filename, set()).add(message if isinstance(message, str) else message[0])
    return found


def borrower_messages() -> set[str]:
    """The portal's own messages, the log-in page's, and the layout's that borrowers see."""
    found = extracted()
    own = {m for name, ms in found.items() if "base.html" not in name for m in ms}
    assert set().union(*found.values()) >= CHROME
    return own | CHROME


def test_every_portal_message_has_an_urdu_translation():
    with URDU.open("rb") as handle:
        catalog = read_po(handle, locale="ur")
    wanted = borrower_messages()
    untranslated = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
    assert untranslated == [], "extract with lending/translations/babel.cfg and translate these"
    assert len(wanted) > 80


def test_placeholders_match_in_every_translation():
    with URDU.open("rb") as handle:
        catalog = read_po(handle, locale="ur")
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert problems == []


def test_catalogues_compile_to_mo_files_that_translate(tmp_path):
    assert catalogues() == [URDU]
    target = compile_catalogues(tmp_path)
    mo = tmp_path / "ur" / "LC_MESSAGES" / "messages.mo"
    translations = Translations.load(str(target), ["ur"])
    assert translations.gettext("My loans") == "میرے قرضے"
    assert translations.gettext("Loan %(number)s") % {"number": 7} == "قرض 7"
    built = mo.stat().st_mtime_ns
    compile_catalogues(tmp_path)
    assert mo.stat().st_mtime_ns == built  # up to date: not written again
    os.utime(mo, (0, 0))  # older than its .po: compiled afresh
    compile_catalogues(tmp_path)
    assert mo.stat().st_mtime > 0
