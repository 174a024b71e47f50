"""The README's examples, run as written.

Each example the README marks with '<!-- README test: NAME -->' is the
fenced block after the mark.  They run in one folder per xdist worker,
with pvhstub (build/) first on PATH, 'vmlinuz' Debian 12's cloud kernel,
'initrd.img' the test initrd (scripts/mkinitrd.sh), whose init prints
what the kernel got and powers off, and 'uki.efi' a UKI of the two that
Debian 13's ukify built, with the command line "console=ttyS0 panic=-1".  A row says how to run and check each
block; a marked block without a row, or a row without a block, fails."""
import json
import os
import re
import shlex
import subprocess

import pytest

from framework import images, paths, tool as pvhstub


def readme_blocks():
    text = (paths.TOP / "README.md").read_text()
    return {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r"^<!-- README test: ([\w-]+) -->\n```(\w*)\n(.*?)^```$", text, re.M | re.S)}


BLOCKS = readme_blocks()
TESTED = ["wrap", "carry", "uki", "qemu-microvm", "qemu-pc", "xlconfig", "firecracker", "cloud-hypervisor"]


def test_every_block_has_a_row():
    assert sorted(BLOCKS) == sorted(TESTED)


def run_shell(block, cwd, timeout):
    env = dict(os.environ, PATH="%s:%s" % (paths.BUILD, os.environ["PATH"]))
    return subprocess.run(["sh", "-ec", block], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


@pytest.fixture(scope="module")
def readme_dir(cloud_kernel, worker_id):
    """The folder the examples run in, after the 'wrap' example ran there."""
    d = paths.BUILD / "tests" / "pytest" / "readme" / worker_id
    if d.exists():
        subprocess.run(["rm", "-rf", str(d)], check=True)
    d.mkdir(parents=True)
    os.symlink(cloud_kernel, d / "vmlinuz")
    subprocess.run([str(paths.TOP / "scripts/mkinitrd.sh"), str(d / "initrd.img")], check=True,
                   stdout=subprocess.DEVNULL)
    images.uki(d / "uki.efi", cloud_kernel, initrd=d / "initrd.img", cmdline="console=ttyS0 panic=-1")
    p = run_shell(BLOCKS["wrap"][1], d, 300)
    (d / "wrap.log").write_bytes(p.stdout)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    return d


def test_wrap(readme_dir):
    for image in ("vmlinuz.pvh", "vmlinuz-fast.pvh"):
        j = pvhstub.inspect(readme_dir / image)
        assert j["kind"] == "pvhstub-image", j
    assert pvhstub.inspect(readme_dir / "vmlinuz-fast.pvh")["kaslr"]["by"] == "stub"
    log = (readme_dir / "wrap.log").read_text()
    assert re.search(r"^kind: +PVH image made by pvhstub wrap$", log, re.M), log


@pytest.mark.boot
@pytest.mark.linux
@pytest.mark.parametrize("name", ["qemu-microvm", "qemu-pc", "carry", "uki"])
def test_qemu(readme_dir, name):
    try:
        p = run_shell(BLOCKS[name][1], readme_dir, 240)
        out = p.stdout.decode(errors="replace").replace("\r", "")
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace"), "timeout"
    (readme_dir / ("%s.log" % name)).write_text(out)
    tail = "\n".join(out.splitlines()[-40:])
    assert rc == 0, "exit %s; the console's tail:\n%s" % (rc, tail)
    assert re.search(r"pvhstub: start_info 0x[0-9a-f]+ v1, ", out), tail
    assert "PVHSTUB-INIT: reached init" in out and "PVHSTUB-DONE" in out, tail
    assert "PVHSTUB-CMDLINE: console=ttyS0 panic=-1" in out, tail
    if name in ("carry", "uki"):
        # No -initrd, no -append: both came from the image.
        assert re.search(r"pvhstub: carried: initrd 0x[0-9a-f]+ \+ the loader's 0x0, command line the image's",
                         out, re.M), tail
        assert "PVHSTUB-DMESG: Freeing initrd memory" in out, tail
    if name == "uki":
        assert re.search(r"^kind: +Unified Kernel Image", out, re.M), tail


def test_xlconfig(readme_dir):
    """The xlconfig line as written (xl create needs a Xen dom0: make check-xen runs it)."""
    block = BLOCKS["xlconfig"][1]
    runnable = "\n".join(line for line in block.replace("\\\n", " ").splitlines() if not line.startswith("xl "))
    p = run_shell(runnable, readme_dir, 60)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    cfg = (readme_dir / "debian.cfg").read_text()
    for line in ('type = "pvh"', 'name = "debian"', "memory = 1024", "vcpus = 2",
                 'kernel = "%s/vmlinuz.pvh"' % readme_dir, 'ramdisk = "%s/initrd.img"' % readme_dir,
                 'cmdline = "console=hvc0 root=/dev/xvda1"',
                 'disk = [ "format=raw,vdev=xvda,access=rw,target=/srv/xen/debian.img" ]',
                 'vif = [ "bridge=xenbr0" ]'):
        assert line + "\n" in cfg, "%r not in\n%s" % (line, cfg)
    assert "xl create -c debian.cfg" in block


def test_firecracker(readme_dir):
    """Firecracker's config file: the fields its API documents, and files that exist."""
    cfg = json.loads(BLOCKS["firecracker"][1])
    assert set(cfg) <= {"boot-source", "machine-config", "drives", "network-interfaces", "logger"}
    boot = cfg["boot-source"]
    assert set(boot) <= {"kernel_image_path", "initrd_path", "boot_args"}
    assert isinstance(cfg["machine-config"]["vcpu_count"], int)
    assert isinstance(cfg["machine-config"]["mem_size_mib"], int)
    assert (readme_dir / boot["initrd_path"]).is_file()
    j = pvhstub.inspect(readme_dir / boot["kernel_image_path"])
    assert j["loaders"]["Firecracker"]["ok"] and j["elf_class"] == 64, j["loaders"]


CH_FLAGS = {"--kernel", "--initramfs", "--cmdline", "--cpus", "--memory", "--serial", "--console"}


def test_cloud_hypervisor(readme_dir):
    """Cloud Hypervisor's command line: its documented flags, and files that exist."""
    argv = shlex.split(BLOCKS["cloud-hypervisor"][1].replace("\\\n", " "))
    assert argv[0] == "cloud-hypervisor"
    flags = dict(zip(argv[1::2], argv[2::2]))
    assert set(flags) <= CH_FLAGS and len(argv) % 2 == 1, argv
    assert (readme_dir / flags["--initramfs"]).is_file()
    j = pvhstub.inspect(readme_dir / flags["--kernel"])
    assert j["loaders"]["Cloud Hypervisor"]["ok"], j["loaders"]
