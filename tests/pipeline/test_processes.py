"""A child process never outlives its parent, even one that died before the child asked the kernel to tell it."""

import subprocess
import sys
import time
from pathlib import Path

import psutil

SCRIPT = """
import multiprocessing, os, sys, time
from pathlib import Path

def child():
    time.sleep(1.5)  # a web process importing the application: its parent may die meanwhile
    from travesia.pipeline.worker import die_with_parent
    die_with_parent()
    time.sleep(60)

if __name__ == "__main__":
    process = multiprocessing.get_context("spawn").Process(target=child)
    process.start()
    Path(sys.argv[2]).write_text(str(process.pid))
    if sys.argv[1] == "die":
        time.sleep(0.5)  # the child is up, still importing
        os._exit(0)  # as a SIGKILLed server: no goodbye
    time.sleep(4)
    Path(sys.argv[2]).write_text(str(process.is_alive()))
    process.kill()
"""


def run(folder: Path, mode: str) -> str:
    script, out = folder / "parent.py", folder / "out.txt"  # a file: a spawned child imports its parent's module
    script.write_text(SCRIPT, encoding="utf-8")
    # the child's output is not waited for (it inherits the parent's): only the parent's exit
    subprocess.run([sys.executable, str(script), mode, str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60, check=True)  # fmt: skip
    return out.read_text()


def test_a_child_whose_parent_died_early_ends_instead_of_working_on(tmp_path):
    child = psutil.Process(int(run(tmp_path, "die")))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.2)
    working = child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    if working:  # the test failed: leave nothing behind
        child.kill()
    assert not working, "an orphan went on after its parent died"


def test_a_child_whose_parent_lives_keeps_working(tmp_path):
    assert run(tmp_path, "live") == "True"
