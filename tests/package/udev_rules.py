"""The kiosk's udev rules, parsed as udev reads them: every rule line is comma-separated KEY op "value"
pairs with keys and operators udev knows; each device rule names a kiosk device by vendor and product id
(or the first USB printer), with a group and a mode. Prints the table of devices; exits 1 naming the line."""
import re
import sys

MATCH = {"SUBSYSTEM", "KERNEL", "ATTRS", "ENV", "ACTION", "DRIVERS", "SUBSYSTEMS"}
ASSIGN = {"SYMLINK", "GROUP", "MODE", "ENV", "OWNER", "TAG"}
PAIR = re.compile(r'\s*([A-Z_]+)(\{[A-Za-z_]+\})?\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*(,|$)')

path = sys.argv[1]
names = set()
for number, line in enumerate(open(path, encoding="utf-8"), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    pos, pairs = 0, []
    while pos < len(line):
        m = PAIR.match(line, pos)
        if not m:
            sys.exit(f"{path}:{number}: cannot read a KEY==\"value\" pair at column {pos + 1}: {line[pos:]}")
        key, attr, op, value, _ = m.groups()
        if op in ("==", "!=") and key not in MATCH or op not in ("==", "!=") and key not in ASSIGN:
            sys.exit(f"{path}:{number}: {key}{attr or ''} {op} is not a rule udev knows")
        pairs.append((key, attr, op, value))
        pos = m.end()
    keys = {(k, a) for k, a, _, _ in pairs}
    symlinks = [v for k, _, _, v in pairs if k == "SYMLINK"]
    names.update(symlinks)
    if symlinks:
        by_id = ("ATTRS", "{idVendor}") in keys and ("ATTRS", "{idProduct}") in keys
        first_printer = ("KERNEL", None) in keys and any(v == "lp0" for k, _, _, v in pairs if k == "KERNEL")
        if not (by_id or first_printer):
            sys.exit(f"{path}:{number}: a device rule must match by idVendor and idProduct")
        if ("GROUP", None) not in keys or ("MODE", None) not in keys:
            sys.exit(f"{path}:{number}: a device rule must set GROUP and MODE")
        for k, _, _, v in pairs:
            if k == "ATTRS" and not re.fullmatch(r"[0-9a-f]{4}", v):
                sys.exit(f"{path}:{number}: USB ids are four lower-case hex digits, not {v!r}")
if names != {"kiosk-idreader", "kiosk-ticket"}:
    sys.exit(f"{path}: the rules name {sorted(names)}, expected kiosk-idreader and kiosk-ticket")
print(f"udev rules: {path} parses; it names {', '.join(sorted(names))}")
