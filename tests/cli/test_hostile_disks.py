"""A workspace on a disk that fills up or turns read-only, or whose logs folder is a file.

The full and read-only disks are small tmpfs mounts (root on Linux, as in CI's
container); elsewhere those tests skip, and only those.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shelfdesk.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def release_logs(folder: Path) -> None:
    """Close the log files this process opened under ``folder`` (a mount with a file open for writing stays rw)."""
    import logging

    from shelfdesk import context

    logger = logging.getLogger("shelfdesk")
    for handler in list(logger.handlers):
        if str(getattr(handler, "baseFilename", "")).startswith(str(folder)):
            logger.removeHandler(handler)
            handler.close()
    context._logging_configured.clear()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        release_logs(mount)  # no later test may log to a file on a disk that is gone
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_logs_file_instead_of_a_folder_warns_once_and_commands_work(workspace, capsys) -> None:  # type: ignore[no-untyped-def]
    workspace.mkdir(parents=True)
    (workspace / "logs").write_text("not a folder")
    code, out, err = run(capsys, "store", "add", "Refurb Paris", "--country", "FR", "--home", str(workspace))
    assert code == 0 and "Refurb Paris" in out
    warnings = [line for line in err.splitlines() if "cannot write the log file" in line]
    assert len(warnings) == 1 and "logs is not a folder" in warnings[0]


@pytest.mark.needs_mount
def test_a_read_only_workspace_still_answers_reading_commands(small_disk, capsys) -> None:  # type: ignore[no-untyped-def]
    home = small_disk / "ws"
    assert run(capsys, "store", "add", "Refurb Paris", "--country", "FR", "--home", str(home))[0] == 0
    release_logs(small_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for argv in (["store", "list"], ["store", "list", "--read-only"], ["status"], ["jobs", "list"]):
        code, out, err = run(capsys, *argv, "--home", str(home))
        assert "Traceback" not in err and code in (0, 1), (argv, code, err)
    code, out, err = run(capsys, "store", "list", "--home", str(home))
    assert code == 0 and "Refurb Paris" in out
    code, out, err = run(capsys, "store", "add", "Other", "--country", "FR", "--home", str(home))
    assert code == 2 and "open read-only (it sits on a read-only disk)" in err.splitlines()[-1] and "Traceback" not in err


@pytest.mark.sqlite  # the workspace's SQLite file is what fills the disk
@pytest.mark.needs_mount
def test_a_full_disk_is_one_clear_line_and_loses_nothing(small_disk, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = small_disk / "ws"
    feed = tmp_path / "feed.csv"
    feed.write_text("sku,title,price,stock\n" + "".join(f"S{i},Chair {i},{10 + i},1\n" for i in range(50)))
    assert run(capsys, "store", "add", "Refurb Paris", "--country", "FR", "--home", str(home))[0] == 0
    assert run(capsys, "catalog", "import", "Refurb Paris", str(feed), "--home", str(home))[0] == 0
    with (small_disk / "filler").open("wb", buffering=0) as filler:  # fill the disk to the last byte
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError:
            pass
    for argv in (
        ["store", "add", "Other", "--country", "FR"],
        ["catalog", "import", "Refurb Paris", str(feed)],
        ["orders", "export", str(small_disk / "orders.csv")],
    ):
        code, out, err = run(capsys, *argv, "--home", str(home))
        lines = [line for line in err.splitlines() if "cannot write the log file" not in line]
        assert code != 0 and len(lines) == 1 and "Traceback" not in err, (argv, code, err)
    (small_disk / "filler").unlink()
    code, out, err = run(capsys, "store", "list", "--home", str(home))
    assert code == 0 and "50 products" in out
