"""The examples in README.md compile and run as shown."""
import os
import re
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def blocks(source_root, lang):
    text = (source_root / "README.md").read_text()
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.S | re.M)


def test_readme_starts_with_the_two_commands(source_root):
    sh = blocks(source_root, "sh")[0]
    lines = [line.split("#")[0].strip() for line in sh.splitlines()]
    assert lines[:2] == ["./dev demo", "./dev test"]


def build_c_example(source_root, tmp_path):
    build = os.environ["PKTCAP_BUILD_ROOT"]
    (c_example,) = blocks(source_root, "c")
    src = tmp_path / "count.c"
    src.write_text(c_example)
    extra = os.environ.get("PKTCAP_TEST_CFLAGS", "").split()
    subprocess.run([os.environ.get("CC", "cc"), *extra, "-std=c99", "-Wall", "-Wextra", "-Werror",
                    f"-I{source_root}/include", f"-I{build}/include", str(src), f"-L{build}/lib",
                    "-lpktcap", "-o", str(tmp_path / "count")], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=f"{build}/lib")
    env.pop("LD_PRELOAD", None)
    return tmp_path / "count", env


def test_readme_c_example_counts_packets(source_root, tmp_path):
    exe, env = build_c_example(source_root, tmp_path)
    sample = CORPUS / "tcpdump" / "afs.pcap"   # 601 packets, 512276 bytes
    out = subprocess.run([str(exe), str(sample)], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout == "601 packets, 512276 bytes\n"
    piped = subprocess.run([str(exe)], env=env, input=sample.read_bytes(), capture_output=True,
                           check=True)
    assert piped.stdout == b"601 packets, 512276 bytes\n"


def test_readme_c_example_reports_errors(source_root, tmp_path):
    exe, env = build_c_example(source_root, tmp_path)
    out = subprocess.run([str(exe), str(tmp_path / "missing.pcap")], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("PKTCAP_E_NOTFOUND: ")
    assert "missing.pcap" in out.stderr


def test_readme_python_example_runs(source_root, tmp_path):
    (py_example,) = blocks(source_root, "python")
    env = dict(os.environ, PYTHONPATH=str(source_root / "bindings" / "python"))
    if os.environ.get("PKTCAP_TEST_PRELOAD"):   # sanitizer build: the interpreter needs the runtimes
        env.update(LD_PRELOAD=os.environ["PKTCAP_TEST_PRELOAD"],
                   ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
    out = subprocess.run([sys.executable, "-c", py_example], env=env, capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    lines = out.stdout.splitlines()
    assert lines[0] == "1700000000 5 42 42 hello"
    assert lines[1] == "1 UDP 02:00:00:00:00:01 10.0.0.1 42"
    assert lines[2].startswith("E_NOTFOUND ") and "missing.pcap" in lines[2]
    assert sorted(os.listdir(tmp_path)) == ["demo.pcapng"]
