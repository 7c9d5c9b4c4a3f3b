# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The Linux guest: a 6.1 bzImage from Debian's linux-source-6.1 and a busybox initramfs.

The kernel tree is build/linux/src-<key>, <key> a hash of the inputs (the source package's
version, guest-stubs/linux/series and its patches, the kernel.config fragment): it is a git
repository whose first commit (tag "debian") is Debian's source, the next one (tag "base")
makes .gitignore track the whole tree, and the rest are the series, applied with git am
(patches for it: git format-patch base..). The initramfs is keyed by busybox-static's
version and the init script. An unchanged input set builds nothing; --force rebuilds both.
"""
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import time

from . import build

LINUX_DIR = os.path.join(build.SOURCE_DIR, "guest-stubs", "linux")
SERIES = os.path.join(LINUX_DIR, "series")
FRAGMENT = os.path.join(LINUX_DIR, "kernel.config")
INIT = os.path.join(LINUX_DIR, "init")
SOURCE_PACKAGE = "linux-source-6.1"
TARBALL = "/usr/src/linux-source-6.1.tar.xz"
BUSYBOX_PACKAGE = "busybox-static"
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "mount", "mkdir", "cat", "grep", "nproc", "taskset", "renice", "mkfifo", "sleep",
           "kill", "poweroff", "reboot", "dd", "seq", "head", "md5sum")  # what init runs
KERNEL_OUT = "linux.bzImage"
INITRAMFS_OUT = "linux-initramfs.cpio.gz"
# The Linux partition's disk (disk= of linux.cfg): 4 MiB, each 512-byte sector starting with
# its own number, so that a read shows where on the disk it came from.
DISK_OUT = "linux-disk.img"
DISK_SECTORS = 8192
# Bumped when the recipe below changes what it builds, so that old trees are not reused.
RECIPE = "2"
# The guest ABI headers the patches include, copied from the hypervisor's own sources.
ABI_DIR = os.path.join(build.SOURCE_DIR, "guest-stubs", "include", "sidecore")
ABI_HEADERS = ("abi.h", "ring.h", "ring_client.h", "svc.h")
ABI_IN_TREE = os.path.join("arch", "x86", "include", "asm", "sidecore")
STAMP = ".sidecore-built"
# Fixed identity and dates: the same inputs give the same commits and the same kernel banner.
FIXED_DATE = "2026-01-01T00:00:00+00:00"
GIT_ENV = {"GIT_AUTHOR_NAME": "sidecore", "GIT_AUTHOR_EMAIL": "sidecore@localhost",
           "GIT_COMMITTER_NAME": "sidecore", "GIT_COMMITTER_EMAIL": "sidecore@localhost",
           "GIT_AUTHOR_DATE": FIXED_DATE, "GIT_COMMITTER_DATE": FIXED_DATE}
MAKE_ENV = {"ARCH": "x86_64", "KBUILD_BUILD_USER": "sidecore", "KBUILD_BUILD_HOST": "sidecore",
            "KBUILD_BUILD_TIMESTAMP": FIXED_DATE}
DEBIAN_IGNORE = ("#\n# Debian packaging: ignore everything at the top level, since it isn't\n"
                 "# included in our repository\n#\n/*\n!/debian/\n")
NOT_SET = re.compile(r"^# (CONFIG_\w+) is not set$")
SET = re.compile(r"^(CONFIG_\w+)=(.*)$")


def log(msg):
    build.log(f"linux: {msg}")


class Steps:
    """Runs named steps, logs each one's elapsed time and keeps them for the summary."""

    def __init__(self):
        self.done = []

    def run(self, name, fn, *args):
        start = time.monotonic()
        log(f"{name} ...")
        result = fn(*args)
        elapsed = time.monotonic() - start
        self.done.append((name, elapsed))
        log(f"{name}: {elapsed:.1f} s")
        return result


def package_version(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                         text=True)
    if out.returncode != 0 or not out.stdout:
        raise SystemExit(f"sidecore: {name} is not installed (tools/deps.sh installs it)")
    return out.stdout


def series_patches():
    """The patch files the series names, in order."""
    names = []
    with open(SERIES) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(os.path.join(LINUX_DIR, line))
    return names


def series_against():
    """The package version the series says it is against ("# against: PACKAGE VERSION")."""
    with open(SERIES) as f:
        for line in f:
            m = re.match(r"#\s*against:\s*(\S+)\s+(\S+)", line)
            if m and m.group(1) == SOURCE_PACKAGE:
                return m.group(2)
    return None


def digest(parts):
    h = hashlib.sha256()
    for label, data in parts:
        h.update(label.encode() + b"\0" + (data if isinstance(data, bytes) else data.encode()))
        h.update(b"\0")
    return h.hexdigest()[:16]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def kernel_key():
    parts = [("recipe", RECIPE), ("package", package_version(SOURCE_PACKAGE)),
             ("series", read_bytes(SERIES)), ("fragment", read_bytes(FRAGMENT))]
    parts += [(os.path.basename(p), read_bytes(p)) for p in series_patches()]
    parts += [(h, read_bytes(os.path.join(ABI_DIR, h))) for h in ABI_HEADERS]
    return digest(parts)


def copy_abi_headers(tree):
    """The MIT guest ABI headers, as the hypervisor has them, where the patches include them."""
    dst = os.path.join(tree, ABI_IN_TREE)
    os.makedirs(dst, exist_ok=True)
    for h in ABI_HEADERS:
        shutil.copyfile(os.path.join(ABI_DIR, h), os.path.join(dst, h))


def initramfs_key():
    return digest([("recipe", RECIPE), ("busybox", package_version(BUSYBOX_PACKAGE)),
                   ("init", read_bytes(INIT)), ("applets", " ".join(APPLETS))])


def run_logged(cmd, cwd, logf, env=None):
    """Runs cmd with its output appended to logf; on failure shows the log's tail and stops."""
    with open(logf, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        rc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            env=dict(os.environ, **(env or {}))).returncode
    if rc != 0:
        with open(logf) as f:
            tail = f.readlines()[-40:]
        raise SystemExit("".join(tail) + f"sidecore: linux: '{' '.join(cmd)}' failed "
                         f"(exit {rc}); full log: {logf}")


def unpack(tree, logf):
    os.makedirs(tree)
    run_logged(["tar", "-xJf", TARBALL, "--strip-components=1", "-C", tree], tree, logf)


def track_whole_tree(tree):
    """Drops Debian's "ignore everything at the top level" block from .gitignore (it ignores
    every new file of a patch, such as a new driver); True if it was there."""
    path = os.path.join(tree, ".gitignore")
    with open(path) as f:
        text = f.read()
    if DEBIAN_IGNORE not in text:
        return False
    with open(path, "w") as f:
        f.write(text.replace(DEBIAN_IGNORE, ""))
    return True


def apply_series(tree, logf, version):
    """git init; Debian's source as the first commit (tag "debian"), .gitignore made to track
    the whole tree (tag "base"); then git am the series."""
    git = ["git", "-c", "commit.gpgsign=false", "-c", "gc.auto=0"]
    run_logged(git + ["init", "-q", "-b", "sidecore"], tree, logf)
    run_logged(git + ["add", "-A", "--force"], tree, logf)
    run_logged(git + ["commit", "-q", "-m", f"{SOURCE_PACKAGE} {version} (Debian)"], tree, logf,
               GIT_ENV)
    run_logged(git + ["tag", "debian"], tree, logf)
    if track_whole_tree(tree):
        run_logged(git + ["commit", "-q", "-a", "-m", "gitignore: track the whole tree "
                          "(drop Debian packaging's top-level ignore)"], tree, logf, GIT_ENV)
    run_logged(git + ["tag", "base"], tree, logf)
    patches = series_patches()
    if patches:
        run_logged(git + ["am", "-q", "--whitespace=nowarn"] + patches, tree, logf, GIT_ENV)
    return len(patches)


def read_config(path):
    """{CONFIG_X: value} of a .config or fragment, "n" for "is not set"."""
    values = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = NOT_SET.match(line) or SET.match(line)
            if m:
                values[m.group(1)] = m.group(2) if m.re is SET else "n"
    return values


def best_effort_options():
    """Options whose comment line right above says "best-effort:"."""
    names, previous = set(), ""
    with open(FRAGMENT) as f:
        for line in f:
            line = line.rstrip("\n")
            m = NOT_SET.match(line) or SET.match(line)
            if m and previous.startswith("# best-effort:"):
                names.add(m.group(1))
            previous = line
    return names


def configure(tree, logf, jobs):
    make = ["make", f"-j{jobs}"]
    run_logged(make + ["tinyconfig"], tree, logf, MAKE_ENV)
    run_logged(["scripts/kconfig/merge_config.sh", "-m", ".config", FRAGMENT], tree, logf,
               MAKE_ENV)
    run_logged(make + ["olddefconfig"], tree, logf, MAKE_ENV)


def check_config(tree):
    """Every fragment option as asked in .config: a mismatch stops, unless best-effort."""
    got = read_config(os.path.join(tree, ".config"))
    best_effort = best_effort_options()
    failed = []
    for name, want in read_config(FRAGMENT).items():
        have = got.get(name, "n")
        if have == want:
            continue
        kind = "best-effort, not set" if name in best_effort else "MISMATCH"
        log(f"{kind}: {name} asked {want}, got {have}")
        if name not in best_effort:
            failed.append(name)
    if failed:
        raise SystemExit(f"sidecore: linux: options did not land: {', '.join(failed)} "
                         "(a dependency is missing; see its Kconfig)")


def make_kernel(tree, logf, jobs):
    run_logged(["make", f"-j{jobs}", "bzImage"], tree, logf, MAKE_ENV)


def build_kernel(tree, logf, jobs, steps):
    version = package_version(SOURCE_PACKAGE)
    against = series_against()
    if against and against != version:
        log(f"warning: the series is against {SOURCE_PACKAGE} {against}; installed: {version}")
    steps.run(f"unpack {SOURCE_PACKAGE} {version}", unpack, tree, logf)
    n = steps.run("git init, commit, git am the series", apply_series, tree, logf, version)
    log(f"{n} patch(es) applied")
    steps.run("copy the guest ABI headers", copy_abi_headers, tree)
    steps.run("configure (tinyconfig + kernel.config)", configure, tree, logf, jobs)
    steps.run("check the configuration", check_config, tree)
    steps.run(f"make -j{jobs} bzImage", make_kernel, tree, logf, jobs)
    with open(os.path.join(tree, STAMP), "w") as f:
        f.write(f"{SOURCE_PACKAGE} {version}, {n} patch(es)\n")


def cpio_list(busybox, init):
    """gen_init_cpio's input: the directories, /dev/console, busybox, its applets, /init."""
    lines = [f"dir /{d} 0755 0 0" for d in ("bin", "dev", "proc", "sys")]
    lines.append("nod /dev/console 0600 0 0 c 5 1")
    lines.append(f"file /bin/busybox {busybox} 0755 0 0")
    lines += [f"slink /bin/{a} busybox 0777 0 0" for a in APPLETS]
    lines.append(f"file /init {init} 0755 0 0")
    return "\n".join(lines) + "\n"


def stage(files, stage_dir):
    """Copies of the files with time 0 (gen_init_cpio keeps a file's own mtime)."""
    os.makedirs(stage_dir)
    copies = []
    for path in files:
        copy = os.path.join(stage_dir, os.path.basename(path))
        shutil.copyfile(path, copy)
        os.utime(copy, (0, 0))
        copies.append(copy)
    return copies


def make_initramfs(tree, out, logf):
    """newc cpio by the kernel tree's usr/gen_init_cpio (no root needed for /dev/console),
    every time stamp 0, gzip-compressed: the same inputs give the same bytes."""
    stage_dir = out + ".d"
    shutil.rmtree(stage_dir, ignore_errors=True)
    busybox, init = stage([BUSYBOX, INIT], stage_dir)
    listing = os.path.join(stage_dir, "list")
    with open(listing, "w") as f:
        f.write(cpio_list(busybox, init))
    gen = os.path.join(tree, "usr", "gen_init_cpio")
    with open(logf, "a") as logfile:
        data = subprocess.run([gen, "-t", "0", listing], check=True, stdout=subprocess.PIPE,
                              stderr=logfile).stdout
    with open(out + ".tmp", "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    os.replace(out + ".tmp", out)
    shutil.rmtree(stage_dir)


def install(src, build_dir, name):
    dest_dir = os.path.join(build_dir, "guest-stubs")
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, name)
    shutil.copyfile(src, dest)
    return dest


def kernel_stage(linux_dir, jobs, force, steps):
    """The kernel tree for the current inputs, built unless it already is."""
    key = kernel_key()
    tree = os.path.join(linux_dir, f"src-{key}")
    if os.path.exists(os.path.join(tree, STAMP)) and not force:
        log(f"kernel inputs unchanged (key {key}): nothing to build in {tree}")
        return tree
    if os.path.exists(tree):
        steps.run(f"remove the old {os.path.basename(tree)}", shutil.rmtree, tree)
    logf = os.path.join(linux_dir, f"src-{key}.log")
    if os.path.exists(logf):
        os.unlink(logf)
    log(f"building the kernel in {tree} (log {logf})")
    build_kernel(tree, logf, jobs, steps)
    others = sorted(d for d in os.listdir(linux_dir) if d.startswith("src-") and
                    os.path.isdir(os.path.join(linux_dir, d)) and d != os.path.basename(tree))
    if others:
        log(f"older kernel trees, kept (they may hold work; ~2 GB each): {', '.join(others)}")
    return tree


def initramfs_stage(linux_dir, tree, force, steps):
    key = initramfs_key()
    out = os.path.join(linux_dir, f"initramfs-{key}.cpio.gz")
    if os.path.exists(out) and not force:
        log(f"initramfs inputs unchanged (key {key}): nothing to build")
        return out
    logf = os.path.join(linux_dir, f"initramfs-{key}.log")
    steps.run("initramfs (busybox, init)", make_initramfs, tree, out, logf)
    return out


def patch_subject(path):
    """A patch file's subject, unfolded, without its "[PATCH n/m]" tag."""
    subject = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if subject is None:
                if line.startswith("Subject: "):
                    subject = line[len("Subject: "):]
            elif line.startswith((" ", "\t")):
                subject += line  # RFC 2822 folding: the line break goes, the space stays
            else:
                break
    return re.sub(r"^\[PATCH[^\]]*\]\s*", "", subject or "")


def check_series(tree):
    """The series as built: the tree's commits after tag "base" are the series' patches, in
    order (git am applied each), and checkpatch.pl finds no error in any of them."""
    out = subprocess.run(["git", "log", "--reverse", "--format=%s", "base..HEAD"], cwd=tree,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    patches = series_patches()
    want = [patch_subject(p) for p in patches]
    if out != want:
        raise SystemExit("sidecore: linux: the tree's commits after 'base' are not the series:\n"
                         f"  tree:   {out}\n  series: {want}")
    log(f"series: {len(out)} patch(es) applied by git am on Debian's source, in order")
    errors = 0
    for p in patches:
        res = subprocess.run(["perl", "scripts/checkpatch.pl", "--no-tree", "--no-color", p],
                             cwd=tree, capture_output=True, text=True)
        m = re.search(r"^total: (\d+) errors, (\d+) warnings", res.stdout, re.MULTILINE)
        if not m:
            raise SystemExit(f"sidecore: linux: checkpatch.pl gave no verdict on {p}:\n"
                             f"{res.stdout}{res.stderr}")
        log(f"checkpatch {os.path.basename(p)}: {m.group(1)} errors, {m.group(2)} warnings")
        if int(m.group(1)):
            print(res.stdout)
        errors += int(m.group(1))
    if errors:
        raise SystemExit(f"sidecore: linux: checkpatch.pl: {errors} error(s) in the series")


def summary(tree, kernel, initramfs, steps, start):
    with open(os.path.join(tree, "include", "config", "kernel.release")) as f:
        release = f.read().strip()
    log(f"kernel {release}: {kernel} ({os.path.getsize(kernel)} bytes)")
    log(f"initramfs: {initramfs} ({os.path.getsize(initramfs)} bytes)")
    log(f"symbols: {os.path.join(tree, 'vmlinux')}")
    for name, elapsed in steps.done:
        log(f"  {elapsed:7.1f} s  {name}")
    log(f"total {time.monotonic() - start:.1f} s" + ("" if steps.done else " (nothing to do)"))


def disk_image():
    """The bytes of the Linux partition's disk."""
    sectors = []
    for n in range(DISK_SECTORS):
        head = f"sidecore-disk sector {n:08d}\n".encode()
        sectors.append(head + bytes(512 - len(head)))
    return b"".join(sectors)


def install_disk(build_dir):
    path = os.path.join(build_dir, "guest-stubs", DISK_OUT)
    image = disk_image()
    try:
        with open(path, "rb") as f:
            if f.read() == image:
                return path
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(image)
    return path


def build_linux(build_dir, jobs=None, force=False, check=False):
    start = time.monotonic()
    jobs = jobs or os.cpu_count() or 2
    linux_dir = os.path.join(os.path.abspath(build_dir), "linux")
    os.makedirs(linux_dir, exist_ok=True)
    steps = Steps()
    tree = kernel_stage(linux_dir, jobs, force, steps)
    initramfs = initramfs_stage(linux_dir, tree, force, steps)
    kernel = install(os.path.join(tree, "arch", "x86", "boot", "bzImage"), build_dir, KERNEL_OUT)
    initramfs = install(initramfs, build_dir, INITRAMFS_OUT)
    disk = install_disk(build_dir)
    summary(tree, kernel, initramfs, steps, start)
    log(f"disk: {disk} ({DISK_SECTORS} sectors)")
    if check:
        check_series(tree)
    return 0


GUEST_FILE = re.compile(r"^\s*partition\b.*\b(?:image|initrd)=(?:%s|%s)(?:\s|$)" %
                        (re.escape(KERNEL_OUT), re.escape(INITRAMFS_OUT)))


def config_uses_linux(config_path):
    """True if a partition of the configuration boots the Linux guest this module builds."""
    with open(config_path) as f:
        return any(GUEST_FILE.match(line) for line in f)


LINUX_ARGS = re.compile(r'(^\s*partition name=linux\b.*\bargs="[^"]*)"', re.MULTILINE)


def config_with_args(text, extra):
    """A configuration's text with more words on the command line of its partition
    "linux" (the benchmark's sidecore_bench=N, for instance)."""
    out, count = LINUX_ARGS.subn(lambda m: f'{m.group(1)} {extra}"', text, count=1)
    if count != 1:
        raise SystemExit('sidecore: the configuration has no \'partition name=linux ... '
                         'args="..."\' line')
    return out
