"""The pktcap tool's dispatch, help, version and usage errors."""
import re

VERSION_RE = rb"pktcap (\d+\.\d+\.\d+) \(libpktcap (\d+\.\d+\.\d+)\)\n"


def test_version_flag_and_command_print_both_versions(cli):
    for args in (["--version"], ["-V"], ["version"]):
        proc = cli(*args, check_status=0)
        m = re.fullmatch(VERSION_RE, proc.stdout)
        assert m, proc.stdout
        assert m.group(1) == m.group(2)
        assert proc.stderr == b""


def test_help_lists_every_command_and_the_exit_statuses(cli):
    proc = cli("help", check_status=0)
    text = proc.stdout.decode()
    assert text.startswith("usage: pktcap [--version] [--help] COMMAND [ARGS...]\n")
    assert re.search(r"^  version +print the versions", text, re.M)
    assert "Exit status: 0 success, 1 a libpktcap operation failed, 2 usage error." in text
    assert cli("--help", check_status=0).stdout == proc.stdout


def test_help_for_a_command_prints_its_usage(cli):
    proc = cli("help", "version", check_status=0)
    assert proc.stdout.startswith(b"usage: pktcap version\n")
    assert cli("version", "--help", check_status=0).stdout == proc.stdout


def test_no_command_is_a_usage_error(cli):
    proc = cli(check_status=2)
    assert proc.stdout == b""
    assert proc.stderr.startswith(b"usage: pktcap")


def test_unknown_command_is_a_usage_error_naming_it(cli):
    proc = cli("frobnicate", check_status=2)
    assert proc.stderr == (b"pktcap: unknown command 'frobnicate'\n"
                           b"Run 'pktcap help' for usage.\n")


def test_unknown_option_is_a_usage_error(cli):
    proc = cli("--frobnicate", check_status=2)
    assert proc.stderr.startswith(b"pktcap: unknown option '--frobnicate'\n")


def test_help_for_an_unknown_command_is_a_usage_error(cli):
    proc = cli("help", "nope", check_status=2)
    assert proc.stderr.startswith(b"pktcap help: unknown command 'nope'\n")


def test_extra_arguments_to_version_are_a_usage_error(cli):
    proc = cli("version", "extra", check_status=2)
    assert proc.stderr.startswith(b"pktcap version: takes no arguments\n")
