"""Kernel images for the tests: synthetic ones (tests/tool/mk*.py), made
fresh, and Debian's, from the machine cache (scripts/fetch-kernels.sh)."""
import subprocess
import sys

from . import paths


def bzimage(out, *fields, payload=None):
    """A synthetic bzImage (tests/tool/mkbzimage.py): FIELDS are field=value."""
    args = [str(out)] + list(fields) + (["payload=%s" % payload] if payload else [])
    subprocess.run([sys.executable, str(paths.TOP / "tests/tool/mkbzimage.py")] + args, check=True)
    return out


def payload(fmt, out, *options):
    """A tiny vmlinux compressed as a bzImage payload (tests/tool/mkpayload.py)."""
    subprocess.run([sys.executable, str(paths.TOP / "tests/tool/mkpayload.py"), fmt, str(out)] + list(options),
                   check=True)
    return out


def debian_kernel(name):
    """vmlinuz-NAME from the machine cache, fetched first if need be; None if it cannot be."""
    p = subprocess.run([str(paths.TOP / "scripts/fetch-kernels.sh"), name], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    k = paths.cache() / "kernels" / ("vmlinuz-" + name)
    if p.returncode != 0 or not k.is_file():
        return None, p.stdout.decode(errors="replace")[-2000:]
    return k, ""
