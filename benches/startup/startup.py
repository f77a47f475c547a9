#!/usr/bin/env python3
"""Startup comparison for scripts/bench: `kiosk demo` and Chromium in kiosk mode showing the same home page
as static HTML (home.html), each alone under a private Xvfb at 1920x1080.

For each: the time from launch until the screen settles on its first complete picture (the screen is
not blank and stays identical for SETTLE_S), and the PSS summed over the process and all its descendants
once settled. Prints two `bench` lines with ratios against Chromium measured in the same run.
Goals (issue #6): time <= 0.25x and memory <= 0.1x Chromium's."""

import hashlib, os, shutil, signal, statistics, subprocess, sys, tempfile, time

SETTLE_S = 1.0
RUNS = 3  # each program starts this many times, alternating; medians are reported
POLL_S = 0.05
TIMEOUT_S = 60
WIDTH, HEIGHT = 1920, 1080


def free_display():
    for n in range(120, 200):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise SystemExit("no free X display number")


def frame_digest(display):
    """SHA-256 of the root window's pixels, and whether any pixel differs from the first (not blank)."""
    pixels = subprocess.run(["import", "-display", display, "-window", "root", "-depth", "8", "rgb:-"],
                            capture_output=True).stdout
    if len(pixels) < WIDTH * HEIGHT * 3:
        return None, False
    blank = pixels.count(pixels[:3]) * 3 >= len(pixels) - 3
    return hashlib.sha256(pixels).hexdigest(), not blank


def descendants(pid):
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pss_kib(pid):
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(name, argv, env):
    n = free_display()
    display = f":{n}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            if time.time() > deadline:
                raise SystemExit("Xvfb did not start")
            time.sleep(0.05)
        e = dict(env, DISPLAY=display)
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        last, since, first_seen = None, None, None
        try:
            while time.monotonic() - start < TIMEOUT_S:
                digest, drawn = frame_digest(display)
                now = time.monotonic()
                if drawn and digest == last:
                    if now - since >= SETTLE_S:
                        settled_s = first_seen - start
                        return settled_s, pss_kib(proc.pid)
                else:
                    last, since, first_seen = digest, now, now
                time.sleep(POLL_S)
            raise SystemExit(f"{name} did not settle within {TIMEOUT_S} s")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    finally:
        xvfb.kill()
        xvfb.wait()


def main():
    kiosk, chromium = sys.argv[1], shutil.which("chromium")
    if chromium is None:
        print("bench ui_startup: skipped, Chromium is not installed (apt-get install chromium)")
        return
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, RUST_LOG="warn")
    kiosk_runs, chromium_runs = [], []
    for _ in range(RUNS):
        # A fresh state folder and profile each time: both start cold, as after a reboot.
        with tempfile.TemporaryDirectory() as tmp:
            kiosk_runs.append(measure("kiosk demo", [kiosk, "demo", "--state-dir", os.path.join(tmp, "demo")], env))
            chromium_runs.append(measure("chromium", [
                chromium, "--kiosk", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--noerrdialogs", "--disable-translate", f"--user-data-dir={os.path.join(tmp, 'profile')}",
                f"--window-size={WIDTH},{HEIGHT}", "file://" + os.path.join(here, "home.html")], env))
    k_time = statistics.median(t for t, _ in kiosk_runs)
    k_pss = statistics.median(p for _, p in kiosk_runs)
    c_time = statistics.median(t for t, _ in chromium_runs)
    c_pss = statistics.median(p for _, p in chromium_runs)
    print(f"bench ui_startup_time: {k_time * 1000:.0f} ms to a settled first picture, median of {RUNS} "
          f"(baseline Chromium kiosk, same page as HTML: {c_time * 1000:.0f} ms, ratio {k_time / c_time:.2f}, goal <= 0.25)")
    print(f"bench ui_startup_memory: {k_pss / 1024:.1f} MiB PSS, all processes "
          f"(baseline Chromium kiosk: {c_pss / 1024:.1f} MiB, ratio {k_pss / c_pss:.2f}, goal <= 0.1)")


if __name__ == "__main__":
    main()
