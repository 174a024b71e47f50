"""Running the pvhstub tool, and what it did to a folder."""
import hashlib
import json
import os
import pathlib
import re
import stat
import subprocess

from . import paths


class Run:
    """How a command ended: rc (negative: killed by that signal), stdout, stderr."""

    def __init__(self, argv, rc, stdout, stderr):
        self.argv, self.rc, self.stdout, self.stderr = argv, rc, stdout, stderr

    def __str__(self):
        return "%s: exit %s\n--- stderr ---\n%s--- stdout (first 2000 bytes) ---\n%s" % (
            " ".join(map(str, self.argv)), self.rc, self.stderr.decode(errors="replace"),
            self.stdout[:2000].decode(errors="replace"))


def run(args, cwd=None, stdout=subprocess.PIPE, timeout=300, env=None, tool=None):
    """pvhstub ARGS in cwd; the tool is build/pvhstub unless told."""
    argv = [str(tool or paths.TOOL)] + [str(a) for a in args]
    p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                       stderr=subprocess.PIPE, timeout=timeout, env=env)
    return Run(argv, p.returncode, p.stdout or b"", p.stderr)


def ok(*args, **kw):
    """pvhstub ARGS, which must succeed; its Run."""
    r = run(list(args), **kw)
    assert r.rc == 0, str(r)
    return r


def wrap(src, out, args=()):
    """pvhstub wrap ARGS SRC -o OUT, which must succeed; OUT."""
    ok("wrap", *args, src, "-o", out)
    return out


def inspect(image, cwd=None, tool=None):
    """The JSON object 'pvhstub inspect --json' gives for one image."""
    r = run(["inspect", "--json", image], cwd=cwd, tool=tool)
    assert r.rc == 0, str(r)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1, "inspect --json: one line per image, got %d" % len(lines)
    return json.loads(lines[0])


def snapshot(folder):
    """Every entry under folder (links not followed): its kind, mode and content's hash."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, folder)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("file", oct(st.st_mode & 0o7777), digest)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", oct(st.st_mode & 0o7777))
            else:
                out[rel] = ("special", st.st_mode, st.st_rdev)
    return out


def changes(before, after):
    """What differs between two snapshots: {path: (before, after)}."""
    return {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
            if before.get(k) != after.get(k)}


def refuses(folder, argv, rc, message):
    """Run argv in folder: it must exit rc with stderr matching the regex
    message, and leave every entry of folder as it was.  A refusal is quick:
    one that waits (on a FIFO, say) fails at the timeout."""
    before = snapshot(folder)
    r = run(argv, cwd=folder, timeout=60)
    after = snapshot(folder)
    assert r.rc == rc, str(r)
    assert re.search(message, r.stderr.decode(), re.M), "stderr does not match %r\n%s" % (message, r)
    assert not changes(before, after), "the refusal changed the folder: %s" % changes(before, after)
    return r


def segments(info, kind="LOAD"):
    """The program headers of an inspect --json object, of one type."""
    return [s for s in info["segments"] if s["type"] == kind]


def placed(image, info):
    """IMAGE's PT_LOAD segments as a loader places them: [(paddr, file bytes)]."""
    return [(s["paddr"], segment_bytes(image, s)) for s in segments(info)]


def segment_bytes(image, seg):
    """The file bytes of one program header of image."""
    with open(image, "rb") as f:
        f.seek(seg["offset"])
        return f.read(seg["filesz"])


def valgrind_problems(folder, args, cmd):
    """pvhstub ARGS in FOLDER under valgrind: (its exit status, what is
    wrong or None).  It must make no invalid read or write, exit 0
    (described) or 1 (refused with a message that names the command CMD)."""
    log = pathlib.Path(folder) / ("%s.valgrind" % cmd)
    p = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--log-file=%s" % log, str(paths.TOOL)] + args,
                       cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    err = p.stderr.decode(errors="replace")
    if p.returncode == 99 or log.read_text().strip():
        return p.returncode, "%s: valgrind: %s" % (cmd, log.read_text()[:600])
    if p.returncode not in (0, 1):
        return p.returncode, "%s: exit %d: %s" % (cmd, p.returncode, err)
    if p.returncode == 1 and not err.startswith("pvhstub %s: " % cmd):
        return p.returncode, "%s: refused without a message: %r" % (cmd, err)
    return p.returncode, None
