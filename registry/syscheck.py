"""Clear messages for missing system libraries instead of a traceback."""

from __future__ import annotations

import sys

DEBIAN_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"


def check_weasyprint() -> str | None:
    """None if WeasyPrint loads; otherwise one sentence naming the packages to install."""
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        return (
            f"WeasyPrint cannot load a system library ({exc}). Install Pango and HarfBuzz: "
            f"on Debian/Ubuntu `apt-get install {DEBIAN_PACKAGES}`; on macOS `brew install pango`."
        )
    return None


if __name__ == "__main__":
    problem = check_weasyprint()
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(1)
