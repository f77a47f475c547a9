#!/usr/bin/python3
"""An independent verifier of a kiosk's JSON-lines journal export, written from docs/journal-format.md alone.

Usage: verify_export.py EXPORT.jsonl ROOT_PUBLIC_KEY_HEX
       verify_export.py EXPORT.csv ROOT_PUBLIC_KEY_HEX      (its signature beside it, EXPORT.csv.sig)
Exit 0 intact, 1 tampered (prints "TAMPERED at seq N: why"), 2 unreadable. Uses Debian's python3-cryptography
for Ed25519 and nothing of the kiosk's code, so that the document, not the implementation, is what is tested.
"""
import csv
import datetime
import hashlib
import io
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEX = set("0123456789abcdef")


class Tampered(Exception):
    def __init__(self, seq, why):
        super().__init__(f"TAMPERED at seq {seq}: {why}")


def strict(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("repeated key")
    return dict(pairs)


def lp(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b


def hex64(s):
    return isinstance(s, str) and len(s) == 64 and set(s) <= HEX


def entry_hash(e):
    m = (b"kiosk-journal-entry-v1\x00" + bytes.fromhex(e["prev_hash"]) + struct.pack(">Q", e["seq"])
         + lp(e["kiosk_id"]) + lp(e["boot_id"]) + lp(e["time_utc"]) + struct.pack(">q", e["mono_ms"])
         + lp(e["session_id"]) + lp(e["kind"]) + bytes.fromhex(e["payload_digest"]))
    return hashlib.sha256(m).hexdigest()


def verified(key_hex, signature_hex, text):
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex)).verify(bytes.fromhex(signature_hex), text.encode())
        return True
    except (InvalidSignature, ValueError):
        return False


CSV_HEADER = ["seq", "kiosk_id", "boot_id", "time_utc", "mono_ms", "session_id", "kind", "payload",
              "payload_digest", "prev_hash", "hash"]


def seal_text(s, n):
    fields = ("kiosk_id", "epoch", "seq", "head_hash", "time_utc", "public_key", "next_public_key")
    if "policy" in s:
        p = s["policy"]
        if not isinstance(p, dict) or set(p) != {"epoch_entries", "epoch_minutes", "retention_days"} or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in p.values()):
            raise Tampered(s["seq"], f"the seal of epoch {n} has a malformed policy")
        return "kiosk-journal-seal-v2\n" + "".join(f"{s[k]}\n" for k in fields) + "".join(
            f"{p[k]}\n" for k in ("epoch_entries", "epoch_minutes", "retention_days"))
    return "kiosk-journal-seal-v1\n" + "".join(f"{s[k]}\n" for k in fields)


def check_entries(entries, kiosk_id, contiguous):
    """Digest, hash, links; a contiguous file skips no seq. Returns {seq: hash}."""
    prev = None
    hashes = {}
    for e in entries:
        seq = e["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise Tampered(0, "seq is not a whole number >= 1")
        for k in ("payload_digest", "prev_hash", "hash"):
            if not hex64(e[k]):
                raise Tampered(seq, f"{k} is not 64 lower-case hex digits")
        if e["payload"] is not None and hashlib.sha256(e["payload"].encode()).hexdigest() != e["payload_digest"]:
            raise Tampered(seq, "payload altered")
        if entry_hash(e) != e["hash"]:
            raise Tampered(seq, "hash does not match the fields")
        if e["kiosk_id"] != kiosk_id:
            raise Tampered(seq, "another kiosk")
        if prev is not None:
            if seq <= prev["seq"]:
                raise Tampered(seq, "duplicated or out of order")
            if seq == prev["seq"] + 1 and e["prev_hash"] != prev["hash"]:
                raise Tampered(seq, "chain broken")
            if seq > prev["seq"] + 1 and contiguous:
                raise Tampered(seq, "entries missing")
        elif seq == 1 and e["prev_hash"] != "0" * 64:
            raise Tampered(seq, "does not start at genesis")
        hashes[seq] = e["hash"]
        prev = e
    return hashes


def walk_seals(seals, root, kiosk_id, hashes):
    """The walk from the root: returns the keys it reaches (epoch n's at index n) and the newest sealed seq."""
    key, keys, last_sealed = root, [root], 0
    for n, s in enumerate(seals):
        if s["epoch"] != n:
            raise Tampered(s["seq"], f"the seal of epoch {n} is missing")
        if s["kiosk_id"] != kiosk_id or s["public_key"] != key:
            raise Tampered(s["seq"], f"the seal of epoch {n} is not signed by the key the chain hands over to")
        if not verified(key, s["signature"], seal_text(s, n)):
            raise Tampered(s["seq"], f"the seal of epoch {n} does not verify")
        if s["seq"] <= last_sealed:
            raise Tampered(s["seq"], "seals go backwards")
        if s["seq"] in hashes and hashes[s["seq"]] != s["head_hash"]:
            raise Tampered(s["seq"], f"entries of epoch {n} were rewritten")
        last_sealed = s["seq"]
        key = s["next_public_key"]
        keys.append(key)
    return keys, last_sealed


def check_checkpoint(cp, keys, kiosk_id, hashes):
    if cp["public_key"] not in keys:
        raise Tampered(cp["seq"], "the checkpoint's key is not reached from the root")
    cp_text = f"kiosk-journal-checkpoint-v1\n{cp['kiosk_id']}\n{cp['seq']}\n{cp['head_hash']}\n{cp['time_utc']}\n"
    if not verified(cp["public_key"], cp["signature"], cp_text) or cp["kiosk_id"] != kiosk_id:
        raise Tampered(cp["seq"], "the checkpoint does not verify")
    if hashes.get(cp["seq"]) != cp["head_hash"]:
        raise Tampered(cp["seq"], "the checkpoint's entry differs or is missing")


def check_sealed_kinds(entries, last_sealed):
    """session_end and shutdown are sealed in the transaction that writes them."""
    for e in entries:
        if e["kind"] in ("session_end", "shutdown") and e["seq"] > last_sealed:
            raise Tampered(e["seq"], f"{e['kind']} not sealed: seals were removed")


LOOSEST = {"epoch_entries": 10000, "epoch_minutes": 60, "retention_days": 180}


def epochs_of(seals, entries):
    """(first seq, last seq, closed by a seal, its policy): each seal announces the next epoch's."""
    epochs = []
    start, policy = 1, LOOSEST
    for s in seals:
        if s["seq"] >= start:
            epochs.append((start, s["seq"], True, policy))
            start = s["seq"] + 1
        policy = s.get("policy") or LOOSEST
    if entries and start <= entries[-1]["seq"]:
        epochs.append((start, entries[-1]["seq"], False, policy))
    return epochs


def check_policy(epochs, entries):
    """Every epoch keeps to its policy: fewer than epoch_entries + 16 entries before its last transaction
    (a run sharing boot_id, time_utc and mono_ms), each boot's clock spanning less than epoch_minutes; a
    sealed epoch that does not is excused by a seal_failed entry inside it."""
    for first, last, sealed, p in epochs:
        inside = [e for e in entries if first <= e["seq"] <= last]
        if not inside:
            continue
        key = lambda e: (e["boot_id"], e["time_utc"], e["mono_ms"])
        i = len(inside) - 1
        while i > 0 and key(inside[i - 1]) == key(inside[-1]):
            i -= 1
        spans = {}
        for e in inside:
            lo, hi = spans.get(e["boot_id"], (e["mono_ms"], e["mono_ms"]))
            spans[e["boot_id"]] = (min(lo, e["mono_ms"]), max(hi, e["mono_ms"]))
        longest = max(hi - lo for lo, hi in spans.values())
        if i >= p["epoch_entries"] + 16 or longest >= p["epoch_minutes"] * 60000:
            if not (sealed and any(e["kind"] == "seal_failed" for e in inside)):
                raise Tampered(inside[0]["seq"], "an epoch longer than its sealing policy: seals were removed")


def verify_csv(path, root):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        with open(path + ".sig", "rb") as f:
            sig = json.loads(f.read().decode("utf-8"), object_pairs_hook=strict)
    except FileNotFoundError:
        print("NOT VERIFIED: a CSV without its .sig signs nothing of what it must hold")
        return 1
    if sig.get("format") != "kiosk-journal-csv-signature":
        raise Tampered(0, "the .sig is not a CSV signature")
    if sig.get("version") != 2:
        print(f"NOT VERIFIED: a version {sig.get('version')} CSV signature, older than version 2")
        return 1
    if set(sig) != {"format", "version", "kiosk_id", "public_key", "csv_sha256", "entries", "first_seq", "last_seq",
                    "contiguous", "filter", "checkpoint", "seals", "signature"}:
        raise Tampered(0, "the .sig has unknown or missing keys")
    if sig["public_key"] != root:
        raise Tampered(sig["first_seq"], "the signature names another root key")
    if hashlib.sha256(raw).hexdigest() != sig["csv_sha256"]:
        raise Tampered(sig["first_seq"], "the CSV is not the file signed")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    if not rows or rows[0] != CSV_HEADER:
        print("not a journal CSV", file=sys.stderr)
        return 2
    entries = []
    for row in rows[1:]:
        if len(row) != 11:
            raise Tampered(0, "a row without its eleven fields")
        e = dict(zip(CSV_HEADER, row))
        e["seq"], e["mono_ms"] = int(e["seq"]), int(e["mono_ms"])
        e["payload"] = e["payload"] or None
        entries.append(e)
    hashes = check_entries(entries, sig["kiosk_id"], sig["contiguous"])
    keys, last_sealed = walk_seals(sig["seals"], root, sig["kiosk_id"], hashes)
    cp = sig["checkpoint"]
    text = (f"kiosk-journal-csv-signature v{sig['version']}\n{sig['kiosk_id']}\n{sig['csv_sha256']}\n{sig['entries']}\n"
            f"{sig['first_seq']}\n{sig['last_seq']}\n{'true' if sig['contiguous'] else 'false'}\n"
            f"{json.dumps(sig['filter'], separators=(',', ':'), ensure_ascii=False)}\n{cp['seq']}\n{cp['head_hash']}\n")
    if not verified(keys[-1], sig["signature"], text):
        raise Tampered(sig["first_seq"], "the signature does not verify under the key the seals hand over to")
    if not entries:
        raise Tampered(0, "a signed CSV without rows")
    if (sig["entries"], sig["first_seq"], sig["last_seq"]) != (len(entries), entries[0]["seq"], entries[-1]["seq"]):
        raise Tampered(sig["first_seq"], "rows were cut or removed")
    check_checkpoint(cp, keys, sig["kiosk_id"], hashes)
    check_sealed_kinds(entries, last_sealed)
    if sig["contiguous"]:
        check_policy(epochs_of(sig["seals"], entries), entries)
    print(f"intact: {len(entries)} rows, {len(sig['seals'])} seals")
    return 0


def main(path, root):
    if path.endswith(".csv"):
        return verify_csv(path, root)
    with open(path, "rb") as f:
        raw = f.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise Tampered(1, "byte-order mark")
    lines = [l for l in raw.decode("utf-8").split("\n") if l.strip()]
    header_line = lines[0]
    header = json.loads(header_line, object_pairs_hook=strict)
    if header["format"] != "kiosk-journal-export" or header["version"] not in (1, 2, 3, 4):
        print("not a journal export of a known version", file=sys.stderr)
        return 2
    if header["version"] < 3:
        # Older formats do not sign their range: a relabelled file looks the same, so they are not verified.
        print(f"NOT VERIFIED: a version {header['version']} export, older than version 3")
        return 1
    joined = header["version"] == 4
    if header["public_key"] != root:
        raise Tampered(1, "the header names another root key")
    entries, seals, closing, pages = [], [], None, []
    for line in lines[1:]:
        if closing is not None:
            raise Tampered(closing["checkpoint"]["seq"] + 1, "a line after the closing line")
        obj = json.loads(line, object_pairs_hook=strict)
        if pages and "page" not in obj:
            raise Tampered(0, "a line after the page proofs")
        if joined and "page" in obj:
            if set(obj["page"]) != {"header", "checkpoint", "export"}:
                raise Tampered(0, "a malformed page proof")
            pages.append(obj["page"])
        elif "seal" in obj:
            seals.append(obj["seal"])
        elif "checkpoint" in obj and not joined:
            closing = obj
        else:
            if seals:
                raise Tampered(obj.get("seq", 0), "an entry after the seals")
            entries.append(obj)
    hashes = check_entries(entries, header["kiosk_id"], header["contiguous"])
    prev = entries[-1] if entries else None
    if joined and pages:
        closing = {"checkpoint": pages[-1]["checkpoint"]}
    if closing is None:
        raise Tampered((prev or {"seq": 0})["seq"] + 1, "no closing line")
    keys, last_sealed = walk_seals(seals, root, header["kiosk_id"], hashes)
    key = keys[-1]

    def check_checkpoint_here(cp):
        check_checkpoint(cp, keys, header["kiosk_id"], hashes)

    def statement_text(st, cp):
        return (f"kiosk-journal-export-statement v1\n{header['kiosk_id']}\n{st['header_sha256']}\n{st['entries']}\n"
                f"{st['first_seq']}\n{st['last_seq']}\n{cp['seq']}\n{cp['head_hash']}\n")

    # The closing checkpoint, and the export's statement (a joined file: every page's).
    cp = closing["checkpoint"]
    check_checkpoint_here(cp)
    if prev is None or cp["seq"] != prev["seq"]:
        raise Tampered(cp["seq"], "the checkpoint does not cover the last entry")
    if joined:
        if not header["contiguous"]:
            raise Tampered(entries[0]["seq"], "a joined export must be contiguous")
        expect = entries[0]["seq"]
        for page in pages:
            st, pcp = page["export"], page["checkpoint"]
            ph = json.loads(page["header"], object_pairs_hook=strict)
            if (ph["format"], ph["version"], ph["kiosk_id"], ph["public_key"], ph["contiguous"]) != (
                    "kiosk-journal-export", 3, header["kiosk_id"], header["public_key"], True):
                raise Tampered(st["first_seq"], "a page's header is not a contiguous version 3 page of this journal")
            if st["header_sha256"] != hashlib.sha256(page["header"].encode()).hexdigest():
                raise Tampered(st["first_seq"], "a page's header is not the one signed")
            check_checkpoint_here(pcp)
            if not verified(pcp["public_key"], st["signature"], statement_text(st, pcp)):
                raise Tampered(st["first_seq"], "a page's statement does not verify")
            if st["first_seq"] != expect or st["last_seq"] < st["first_seq"] or pcp["seq"] != st["last_seq"] \
                    or st["entries"] != st["last_seq"] - st["first_seq"] + 1:
                raise Tampered(st["first_seq"], "the pages do not tile the entries")
            expect = st["last_seq"] + 1
        if expect != prev["seq"] + 1:
            raise Tampered(expect, "the pages do not cover the last entries")
    else:
        st = closing["export"]
        if not verified(key, st["signature"], statement_text(st, cp)):
            raise Tampered(cp["seq"], "the statement does not verify under the current epoch's key")
        if st["header_sha256"] != hashlib.sha256(header_line.encode()).hexdigest():
            raise Tampered(entries[0]["seq"], "the header is not the one signed")
        if (st["entries"], st["first_seq"], st["last_seq"]) != (len(entries), entries[0]["seq"], prev["seq"]):
            raise Tampered(st["first_seq"], "entries were cut or removed")
    check_sealed_kinds(entries, last_sealed)
    epochs = epochs_of(seals, entries)
    if header["contiguous"]:
        check_policy(epochs, entries)

    def policy_at(seq):
        for first, last, _, p in epochs:
            if first <= seq <= last:
                return p
        return LOOSEST

    # A purged payload must be older than the cut-off of a consistent retention_purge entry after it (at
    # least 180 days, its cut-off that many days before the purge's own time): checked when the export skips
    # nothing and runs to the head.
    filt = header.get("filter") or {}
    if header["contiguous"] and all(filt.get(k) is None for k in ("to", "to_utc", "limit")):
        def ts(t):
            return datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
        purges = []
        for e in entries:
            if e["kind"] == "retention_purge" and e["payload"] is not None:
                p = json.loads(e["payload"])
                days = p.get("retention_days")
                if (isinstance(days, int) and days >= max(180, policy_at(e["seq"])["retention_days"])
                        and ts(p["before"]) <= ts(e["time_utc"]) - datetime.timedelta(days=days)):
                    purges.append((e["seq"], p["before"]))
        for e in entries:
            if e["payload"] is None and not any(s > e["seq"] and ts(b) > ts(e["time_utc"]) for s, b in purges):
                raise Tampered(e["seq"], "a payload erased before its retention period ended")
    unsealed = sum(1 for s in hashes if s > last_sealed)
    print(f"intact: {len(entries)} entries, {len(seals)} seals, unsealed tail {unsealed}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except Tampered as t:
        print(t)
        sys.exit(1)
    except (ValueError, KeyError, TypeError, IndexError) as e:
        print(f"TAMPERED at seq 0: malformed ({e!r})")
        sys.exit(1)
