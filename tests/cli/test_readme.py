"""The examples in README.md compile and run as shown."""
import os
import re
import subprocess
import sys

import pytest


def blocks(source_root, lang):
    text = (source_root / "README.md").read_text()
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)


def test_readme_starts_with_the_two_commands(source_root):
    sh = blocks(source_root, "sh")[0]
    lines = [line.split("#")[0].strip() for line in sh.splitlines()]
    assert lines[:2] == ["./dev demo", "./dev test"]


def test_readme_c_example_compiles_and_runs(source_root, tmp_path):
    build = os.environ["PKTCAP_BUILD_ROOT"]
    (c_example,) = blocks(source_root, "c")
    src = tmp_path / "hello.c"
    src.write_text(c_example)
    cc = os.environ.get("CC", "cc")
    extra = os.environ.get("PKTCAP_TEST_CFLAGS", "").split()
    subprocess.run([cc, *extra, "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{source_root}/include",
                    f"-I{build}/include", str(src), f"-L{build}/lib", "-lpktcap",
                    "-o", str(tmp_path / "hello")], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=f"{build}/lib")
    env.pop("LD_PRELOAD", None)
    out = subprocess.run([str(tmp_path / "hello")], env=env, capture_output=True, text=True,
                         check=True)
    assert re.fullmatch(r"libpktcap \d+\.\d+\.\d+\n", out.stdout)


def test_readme_python_example_runs(source_root):
    (py_example,) = blocks(source_root, "python")
    env = dict(os.environ, PYTHONPATH=str(source_root / "bindings" / "python"))
    out = subprocess.run([sys.executable, "-c", py_example], env=env, capture_output=True,
                         text=True, check=True)
    lines = out.stdout.splitlines()
    assert re.fullmatch(r"\d+\.\d+\.\d+", lines[0])
    assert lines[1] == "E_TIMEOUT timed out 0"
