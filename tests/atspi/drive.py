#!/usr/bin/python3
"""Drives the kiosk through the Linux accessibility tree (AT-SPI), as a screen reader or test robot would.

Usage: drive.py STEP...   where STEP is  click:LABEL  (find an element named LABEL in the application
named "kiosk" and invoke its default action),  wait:LABEL  (until an element named LABEL exists), or
click:LABEL=>EXPECT  (click LABEL until EXPECT appears, for a click that may be lost, such as placing a card
on the simulated reader while the page is still settling; clicking again must be harmless).
Each step waits up to 30 s. Exit 0 when every step worked; 1 with the step that failed.
Runs with Debian's /usr/bin/python3 (python3-pyatspi)."""

import sys
import time

import pyatspi

TIMEOUT_S = 30


def kiosk_app():
    for app in pyatspi.Registry.getDesktop(0):
        if app is not None and app.name == "kiosk":
            return app
    return None


def find(node, label, depth=0):
    if node is None or depth > 30:
        return None
    try:
        if node.name == label:
            return node
        for i in range(node.childCount):
            hit = find(node.getChildAtIndex(i), label, depth + 1)
            if hit is not None:
                return hit
    except Exception:  # an element vanished while we walked: try again on the next poll
        return None
    return None


def find_all(node, label, depth=0, out=None):
    """Every element named LABEL (a button and its text can both carry it)."""
    out = [] if out is None else out
    if node is None or depth > 30:
        return out
    try:
        if node.name == label:
            out.append(node)
        for i in range(node.childCount):
            find_all(node.getChildAtIndex(i), label, depth + 1, out)
    except Exception:
        pass
    return out


def names(node, depth=0, out=None):
    """Every element's name under NODE (for a failed step's report)."""
    out = [] if out is None else out
    if node is None or depth > 30:
        return out
    try:
        if node.name:
            out.append(node.name)
        for i in range(node.childCount):
            names(node.getChildAtIndex(i), depth + 1, out)
    except Exception:
        pass
    return out


def press(node, pointer=False):
    """Invokes the element's default action; where the tree offers none (yet), or with POINTER, taps its
    middle with the pointer, as a finger would."""
    if not pointer:
        try:
            action = node.queryAction()
            if action.nActions > 0:
                return action.doAction(0)
        except NotImplementedError:
            pass
    try:
        x, y, w, h = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    except Exception:
        return False
    if w <= 0 or h <= 0:
        return False
    pyatspi.Registry.generateMouseEvent(x + w // 2, y + h // 2, pyatspi.MOUSE_B1C)
    return True


def step(kind, label):
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        app = kiosk_app()
        node = find(app, label) if app is not None else None
        if node is not None:
            if kind == "wait":
                return True
            if press(node):
                return True
        time.sleep(0.2)
    return False


def click_until(label, expect):
    """Clicks LABEL until EXPECT appears. A click that took effect late is not repeated on the next page:
    the robot clicks only while LABEL is there and EXPECT is not, and waits 5 s after each click. A click that
    came to nothing is tried the other ways next: every element carrying LABEL in turn, by its action and
    then by a tap of the pointer (a full test run once saw one list item's action do nothing for 30 s)."""
    deadline = time.time() + TIMEOUT_S
    attempt = 0
    while time.time() < deadline:
        app = kiosk_app()
        if app is not None and find(app, expect) is not None:
            return True
        nodes = find_all(app, label) if app is not None else []
        if not nodes:
            time.sleep(0.2)
            continue
        node = nodes[(attempt // 2) % len(nodes)]
        pointer = attempt % 2 == 1
        attempt += 1
        if not press(node, pointer):
            time.sleep(0.2)
            continue
        settle = time.time() + 5
        while time.time() < settle:
            app = kiosk_app()
            if app is not None and find(app, expect) is not None:
                return True
            time.sleep(0.2)
    return False


def main():
    for arg in sys.argv[1:]:
        kind, _, label = arg.partition(":")
        if kind not in ("click", "wait") or not label:
            print(f"drive.py: bad step {arg!r}; write click:LABEL or wait:LABEL", file=sys.stderr)
            return 2
        label, _, expect = label.partition("=>")
        done = click_until(label, expect) if kind == "click" and expect else step(kind, label)
        if not done:
            app = kiosk_app()
            print(f"drive.py: step {arg!r} failed (kiosk app {'found' if app else 'not found'} on the AT-SPI bus)",
                  file=sys.stderr)
            if app is not None:
                print("drive.py: on screen: " + " | ".join(names(app)), file=sys.stderr)
            return 1
        print(f"ok {arg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
