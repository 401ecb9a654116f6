"""The pktcap tool's dispatch, help, version and usage errors."""
import json
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
    assert proc.stdout.startswith(b"usage: pktcap version [--json]\n")
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
    assert proc.stderr.startswith(b"pktcap version: unexpected argument 'extra' (only --json)\n")


def test_version_json_names_both_versions(cli):
    text = cli("version", check_status=0).stdout.decode()
    tool, library = re.fullmatch(VERSION_RE.decode(), text).groups()
    assert json.loads(cli("version", "--json", check_status=0).stdout) == {
        "pktcap": tool, "libpktcap": library}


def commands(cli):
    """The command names `pktcap help` lists, 'help' itself left out."""
    text = cli("help", check_status=0).stdout.decode()
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in block.splitlines()]
    assert names[0] == "help"
    return names[1:]


def test_every_command_has_help_with_exit_statuses_and_runnable_examples(cli):
    names = commands(cli)
    assert len(names) == 14
    for name in names:
        text = cli(name, "--help", check_status=0).stdout.decode()
        assert text.startswith(f"usage: pktcap {name}"), name
        assert cli("help", name, check_status=0).stdout.decode() == text, name
        assert "\nExit status: 0 " in text, name
        examples = text.split("\nExamples:\n", 1)
        assert len(examples) == 2, f"{name} --help has no Examples section"
        lines = [line for line in examples[1].splitlines() if line.startswith("  ")]
        commands_shown = [line.split("pktcap ", 1)[1].split()[0]
                          for line in lines if "pktcap " in line and not line.startswith("      ")]
        assert commands_shown, name
        # Every example runs a command that exists (or the --version flag).
        assert set(commands_shown) <= set(names) | {"--version"}, (name, commands_shown)
        assert name in commands_shown or (name == "version" and "--version" in commands_shown), name


def test_json_output_is_offered_by_every_listing_and_status_command(cli):
    for name in ("info", "interfaces", "sessions", "status", "stop", "delete", "fetch",
                 "capture", "version"):
        assert "--json" in cli(name, "--help", check_status=0).stdout.decode(), name
    assert "--json" in cli("cloudflare", "--help", check_status=0).stdout.decode()
