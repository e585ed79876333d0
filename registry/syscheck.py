"""Clear messages for missing system libraries instead of a traceback (run by `make run` and `make test`)."""

from __future__ import annotations

import ctypes.util
import sys
import warnings

DEBIAN_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"


def check_weasyprint() -> str | None:
    """None if WeasyPrint loads with HarfBuzz subsetting; otherwise one sentence naming what to install."""
    install = f"on Debian/Ubuntu `apt-get install {DEBIAN_PACKAGES}`; on macOS `brew install pango harfbuzz`"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import weasyprint  # noqa: F401
    except OSError as exc:
        return f"WeasyPrint cannot load a system library ({exc}). Install Pango and HarfBuzz: {install}."
    if ctypes.util.find_library("harfbuzz-subset") is None:
        # Without it WeasyPrint embeds whole fonts: PDFs render several times slower and are larger.
        return f"HarfBuzz's subsetting library (libharfbuzz-subset) is missing. Install it: {install}."
    return None


if __name__ == "__main__":
    problem = check_weasyprint()
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(1)
