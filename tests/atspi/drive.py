#!/usr/bin/python3
"""Drives the kiosk through the Linux accessibility tree (AT-SPI), as a screen reader or test robot would.

Usage: drive.py STEP...   where STEP is  click:LABEL  (find the element named LABEL in the application
named "kiosk" that offers an action, and invoke its default action once),  wait:LABEL  (until an element
named LABEL exists), or  click:LABEL=>EXPECT  (click LABEL once, then wait for EXPECT to appear).
Each wait is up to 30 s. A click is never repeated and never falls back to the pointer: a click that comes
to nothing is a defect in the kiosk, reported with what was on screen. Exit 0 when every step worked; 1
with the step that failed.
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


def actionable(node):
    """The element's action interface when it offers at least one action, else None.

    The node's cached interfaces are dropped first: libatspi learns an element that appears after the
    tree was read (a page, a panel) from accesskit's AddAccessible signal, whose signature Debian 12's
    libatspi cannot parse ("AddAccessible with unknown signature" on stderr), so its cache says such a
    button has no Action interface. Asked afresh, the kiosk answers with the button's click."""
    try:
        node.clear_cache()
        action = node.queryAction()
        return action if action.nActions > 0 else None
    except (NotImplementedError, Exception):
        return None


def wait_for(label, needs_action=False):
    """The element named LABEL (with NEEDS_ACTION, one that offers an action), within the timeout; or None."""
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        app = kiosk_app()
        for node in find_all(app, label) if app is not None else []:
            if not needs_action or actionable(node) is not None:
                return node
        time.sleep(0.2)
    return None


def click(label):
    """Invokes the default action of the element named LABEL, once. False when none offers an action."""
    node = wait_for(label, needs_action=True)
    return node is not None and bool(actionable(node).doAction(0))


def step(kind, label, expect=""):
    if kind == "wait":
        return wait_for(label) is not None
    if not click(label):
        return False
    return not expect or wait_for(expect) is not None


def main():
    for arg in sys.argv[1:]:
        kind, _, label = arg.partition(":")
        if kind not in ("click", "wait") or not label:
            print(f"drive.py: bad step {arg!r}; write click:LABEL or wait:LABEL", file=sys.stderr)
            return 2
        label, _, expect = label.partition("=>")
        done = step(kind, label, expect)
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
