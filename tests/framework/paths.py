"""Where things are: the source tree, the build folder, the machine cache."""
import os
import pathlib

TOP = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PVHSTUB_BUILD", TOP / "build")).resolve()
TOOL = BUILD / "pvhstub"


def cache():
    """$PVHSTUB_CACHE, as scripts/common.sh chooses it."""
    if os.environ.get("PVHSTUB_CACHE"):
        return pathlib.Path(os.environ["PVHSTUB_CACHE"])
    if os.getuid() == 0:
        return pathlib.Path("/var/cache/pvhstub")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ["HOME"], ".cache")
    return pathlib.Path(base) / "pvhstub"


def version():
    """The version debian/changelog gives, which the tool reports."""
    first = (TOP / "debian" / "changelog").read_text().splitlines()[0]
    return first.split("(", 1)[1].split(")", 1)[0]
