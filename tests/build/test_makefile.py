"""The Makefile, run for real into temporary build directories.

- `make deps all` works as the first command on a machine without the -dev
  packages: a stand-in pkg-config answers only once a stand-in apt-get has
  "installed" them, so library flags computed before `deps` ran come out empty
  and the link fails.
- `make CFLAGS=-O0` changes the optimisation and keeps the project's own flags.
- Header edits rebuild exactly the objects that include the header, fuzz objects
  too (`make -q -W header` asks "would this target be rebuilt?" without touching
  the file).

COLLABD_SRC points the tests at another source tree (e.g. an old commit, to see
them fail there); by default they run on this checkout.
"""

import glob
import os
import shutil
import stat
import subprocess

import pytest

REPO = os.environ.get("COLLABD_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LIBS = ("-lwebsockets", "-lcurl", "-ljansson", "-lsqlite3")
# The stand-in pkg-config adds this to --cflags, so a compile line shows whether
# it was run with the flags asked after deps.
MARK = "-DCOLLABD_BUILD_TEST_PKGCONFIG=1"


def make_env(extra_path=None):
    """The caller's environment without what an outer make passes down (MAKEFLAGS
    carries its command-line variables and jobserver), so each run starts clean."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CFLAGS", "LDFLAGS",
                        "LDLIBS", "CC", "BUILD", "SAN", "V")}
    if extra_path:
        env["PATH"] = extra_path + os.pathsep + env["PATH"]
    return env


def make(*args, env=None, timeout=240):
    return subprocess.run(["make", "-C", REPO, "--no-print-directory", *args], capture_output=True,
                          text=True, env=env or make_env(), timeout=timeout)


def script(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fresh_machine(tmp_path):
    """A bin/ to put first on PATH: pkg-config that knows no library until the
    apt-get stand-in has run `install` (then it asks the real one)."""
    real = shutil.which("pkg-config")
    assert real, "pkg-config is needed to run this test"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    installed = tmp_path / "installed"
    script(bindir / "pkg-config", f"""#!/bin/sh
[ -e '{installed}' ] || exit 1
case " $* " in *" --cflags "*) printf '%s ' '{MARK}' ;; esac
exec '{real}' "$@"
""")
    script(bindir / "apt-get", f"""#!/bin/sh
echo "stand-in apt-get $*"
case "$1" in install) sleep 1; touch '{installed}' ;; esac
""")
    return bindir


def link_line(out, binary):
    lines = [ln for ln in out.splitlines() if f"-o {binary} " in ln]
    assert len(lines) == 1, out[-3000:]
    return lines[0]


def test_deps_then_build_in_one_invocation(tmp_path, fresh_machine):
    build = tmp_path / "build"
    env = make_env(str(fresh_machine))
    p = make("-j2", "V=1", f"BUILD={build}", "SUDO=", f"APT_GET={fresh_machine / 'apt-get'}",
             "deps", "all", env=env)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    out = p.stdout
    install = out.index("stand-in apt-get install")
    compiles = [ln for ln in out.splitlines() if " -c -o " in ln]
    assert compiles, out[-3000:]
    assert install < out.index(compiles[0]), "a compile started before deps finished"
    assert all(MARK in ln for ln in compiles), [ln for ln in compiles if MARK not in ln][:2]
    link = link_line(out, build / "collabd")
    for lib in LIBS:
        assert lib in link.split(), (lib, link)
    v = subprocess.run([str(build / "collabd"), "--version"], capture_output=True, text=True, timeout=10)
    assert v.returncode == 0 and "collabd" in v.stdout + v.stderr


def test_without_deps_the_missing_libraries_are_named(tmp_path, fresh_machine):
    p = make(f"BUILD={tmp_path / 'build'}", "all", env=make_env(str(fresh_machine)))
    assert p.returncode != 0
    assert "make deps" in p.stderr, p.stderr[-2000:]


@pytest.fixture(scope="module")
def o0_build(tmp_path_factory):
    """One full build with the user's CFLAGS=-O0 (shared by the tests below)."""
    build = tmp_path_factory.mktemp("o0") / "build"
    p = make("-j2", "V=1", f"BUILD={build}", "CFLAGS=-O0", "all")
    return build, p


def test_user_cflags_keep_the_project_flags(o0_build):
    build, p = o0_build
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    compiles = [ln for ln in p.stdout.splitlines() if " -c -o " in ln]
    assert compiles
    for ln in compiles:
        words = ln.split()
        assert "-O0" in words and "-O2" not in words, ln
        assert "-std=c11" in words and "-Iinclude" in words and "-Werror" in words, ln
    assert (build / "collabd").exists()


def includers(header):
    """Sources that #include this header, relative to REPO."""
    name = os.path.basename(header)
    found = []
    for src in glob.glob(os.path.join(REPO, "daemon", "**", "*.c"), recursive=True):
        with open(src, encoding="utf-8") as f:
            if f'#include "{name}"' in f.read():
                found.append(os.path.relpath(src, REPO))
    return sorted(found)


def touched(header):
    """make's "what if this file were just modified", under both of its names: fuzz
    objects are compiled from absolute paths, so their .d files name headers that
    sit beside the source absolutely."""
    return ("-W", header, "-W", os.path.join(REPO, header))


def out_of_date(target, *args):
    """make -q: 0 up to date, 1 would be rebuilt (2 is an error)."""
    p = make("-q", *args, target)
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return p.returncode == 1


def test_a_private_header_rebuilds_its_includers_only(o0_build):
    build, p = o0_build
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    header = glob.glob(os.path.join(REPO, "daemon", "**", "store_internal.h"), recursive=True)
    assert len(header) == 1
    header = os.path.relpath(header[0], REPO)
    users = includers(header)
    assert users, header
    obj = lambda src: f"{build}/obj/{src[:-2]}.o"  # noqa: E731
    common = (f"BUILD={build}", "CFLAGS=-O0")
    assert not out_of_date(f"{build}/collabd", *common), "a fresh build is out of date"
    for src in users:
        assert out_of_date(obj(src), *common, *touched(header)), src
    log_c = glob.glob(os.path.join(REPO, "daemon", "**", "log.c"), recursive=True)
    bystander = os.path.relpath(log_c[0], REPO)
    assert bystander not in users
    assert not out_of_date(obj(bystander), *common, *touched(header)), \
        f"{bystander} does not include {header} but would be rebuilt"


def test_fuzz_objects_track_headers_too(tmp_path):
    if not shutil.which("clang"):
        pytest.fail("clang is needed (make deps installs it)")
    fuzz = tmp_path / "fuzz"
    header = glob.glob(os.path.join(REPO, "daemon", "**", "store_internal.h"), recursive=True)
    header = os.path.relpath(header[0], REPO)
    src = includers(header)[0]
    target = f"{fuzz}/obj/{src[:-2]}.o"
    p = make(f"FUZZ_DIR={fuzz}", f"BUILD={tmp_path / 'build'}", target)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    args = (f"FUZZ_DIR={fuzz}", f"BUILD={tmp_path / 'build'}")
    assert not out_of_date(target, *args)
    assert out_of_date(target, *args, *touched(header)), f"{target} does not depend on {header}"
    assert out_of_date(target, *args, *touched("include/collabd/store.h"))
