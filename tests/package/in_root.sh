#!/usr/bin/env bash
# Run by tests/package/check inside its private mount namespace: everything written under /etc, /usr and
# /var goes to the overlays' upper folders in $work. Exits non-zero at the first check that fails.
set -euo pipefail
for d in etc usr var; do
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/$d/upper,workdir=$work/$d/work" "/$d"
done
fail() { echo "package check FAILED: $*" >&2; exit 1; }
mode() { stat -c '%a %U %G' "$1"; }
expect_mode() { local got; got=$(mode "$1") || fail "$1 is missing"; [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"; }
# `systemd-analyze security` rates the unit at 2.0 or less (0 is the most confined, 10 the least).
exposure() {
  local level
  level=$(systemd-analyze security --offline=yes "$1" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$level" ] || fail "systemd-analyze security gave no exposure for $1"
  awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "$1 is exposed $level (at most 2.0)"
  echo "package check: $(basename "$1") exposure $level"
}

getent passwd kiosk >/dev/null && fail "this machine already has a kiosk user; the check needs a box without one"
# Install, as a technician does.
dpkg -i "$deb" > "$work/install.txt" 2>&1 || { cat "$work/install.txt"; fail "dpkg -i failed"; }
out=$(cat "$work/install.txt")

# The user and its groups.
getent passwd kiosk | grep -q ':/var/lib/kiosk:/usr/sbin/nologin$' || fail "kiosk user: $(getent passwd kiosk)"
for g in dialout lp; do id -nG kiosk | tr ' ' '\n' | grep -qx "$g" || fail "kiosk is not in $g: $(id -nG kiosk)"; done

# Files, owners, modes.
expect_mode /usr/bin/kiosk "755 root root"
expect_mode /etc/kiosk "750 root kiosk"
expect_mode /etc/kiosk/kiosk.toml "644 root root"
expect_mode /etc/kiosk/kiosk.env "644 root root"
expect_mode /etc/kiosk/credentials.toml "640 root kiosk"
expect_mode /etc/kiosk/admin-key.pem "640 root kiosk"
expect_mode /etc/kiosk/admin-cert.pem "644 root root"
expect_mode /usr/lib/systemd/system/kiosk.service "644 root root"
expect_mode /usr/lib/udev/rules.d/60-kiosk.rules "644 root root"
expect_mode /var/lib/kiosk "700 kiosk kiosk"
expect_mode /var/lib/kiosk/journal.sqlite3 "600 kiosk kiosk"
expect_mode /var/lib/kiosk/subject.key "600 kiosk kiosk"
expect_mode /var/lib/kiosk/checkpoint.ed25519 "600 kiosk kiosk"
dpkg-query -W -f='${Conffiles}\n' kiosk | grep -q '/etc/kiosk/kiosk.toml' || fail "kiosk.toml is not a conffile"
dpkg-query -W -f='${Conffiles}\n' kiosk | grep -q '/etc/kiosk/kiosk.env' || fail "kiosk.env is not a conffile"
[ -L /etc/systemd/system/multi-user.target.wants/kiosk.service ] || fail "the service is not enabled"

# The installation sheet: the PIN and three tokens (only their hashes are stored), the fingerprint and the
# root key, in a file for root alone; standard output says where it is and holds none of them.
sheet=/etc/kiosk/installation-sheet.txt
expect_mode "$sheet" "600 root root"
echo "$out" | grep -q "are in $sheet" || fail "the install does not say where the sheet is: $out"
text=$(cat "$sheet")
pin=$(echo "$text" | sed -n 's/.*maintenance PIN (维护密码) *\([0-9]\{8\}\)$/\1/p')
[ -n "$pin" ] || fail "no maintenance PIN in the sheet: $text"
secrets=("$pin")
for role in counter staff technician; do
  token=$(echo "$text" | sed -n "s/^ *$role token *\([0-9a-f]\{64\}\)$/\1/p")
  [ -n "$token" ] || fail "no $role token in the sheet"
  secrets+=("$token")
  hash=$(printf '%s\n' "$token" | kiosk admin hash-token)
  grep -q "role = \"$role\"" /etc/kiosk/credentials.toml || fail "no $role token in credentials.toml"
  grep -q "$hash" /etc/kiosk/credentials.toml || fail "the $role token shown is not the one stored"
  # (The sheet for root alone holds it until the technician deletes it; nowhere else does.)
  if grep -rqF --exclude=installation-sheet.txt "$token" "$work/etc/upper" "$work/var/upper"; then
    fail "the $role token is stored in clear"
  fi
done
if grep -rqF "maintenance_pin_hash = \"$pin" /etc/kiosk/credentials.toml; then fail "the PIN is stored in clear"; fi
echo "$text" | grep -q 'pin: *sha256:' || fail "no certificate fingerprint in the sheet"
root=$(runuser -u kiosk -- kiosk journal pubkey --config /etc/kiosk/kiosk.toml)
echo "$text" | grep -qx "$root" || fail "the root key in the sheet is not the journal's ($root)"
# No secret on dpkg's output (what apt keeps in /var/log/apt/term.log) or in any log under /var/log.
for s in "${secrets[@]}"; do
  if grep -qF "$s" "$work/install.txt"; then fail "a secret reached the install's output"; fi
  if grep -rqF "$s" "$work/var/upper/log" 2>/dev/null; then fail "a secret reached /var/log"; fi
done
# The packaged configuration is valid as installed, for the kiosk user, and carries no demo credential.
runuser -u kiosk -- kiosk config check /etc/kiosk/kiosk.toml | grep -q "valid configuration" || fail "config check"
if grep -q "demo-\|^maintenance_pin_hash\|^\[\[admin.tokens" /etc/kiosk/kiosk.toml; then fail "credentials in kiosk.toml"; fi

# The unit, with its binary and user in place.
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /usr/lib/systemd/system/kiosk.service > "$work/verify.txt" 2>&1 || { cat "$work/verify.txt"; fail "systemd-analyze verify"; }
  if [ -s "$work/verify.txt" ]; then cat "$work/verify.txt"; fail "systemd-analyze verify printed warnings"; fi
  exposure /usr/lib/systemd/system/kiosk.service
else
  fail "systemd-analyze is missing (Debian's systemd package)"
fi

# postinst run again changes nothing: same files, contents, owners and modes.
snapshot() {
  (cd "$work" && find etc/upper usr/upper var/upper \( -path '*/var/upper/log' -o -path '*/var/upper/cache' \
      -o -path '*/var/upper/lib/dpkg' \) -prune -o -print0 | sort -z | xargs -0 stat -c '%n %a %U %G %s' ;
   cd "$work" && find etc/upper var/upper/lib/kiosk -type f -print0 | sort -z | xargs -0 sha256sum)
}
snapshot > "$work/before.txt"
DPKG_MAINTSCRIPT_PACKAGE=kiosk DPKG_MAINTSCRIPT_NAME=postinst DPKG_ROOT= \
  /var/lib/dpkg/info/kiosk.postinst configure 0.1.0-1 > "$work/again.txt" 2>&1 || { cat "$work/again.txt"; fail "postinst again"; }
snapshot > "$work/after.txt"
diff "$work/before.txt" "$work/after.txt" || fail "postinst run twice changed the files above"
[ ! -s "$work/again.txt" ] || { cat "$work/again.txt"; fail "postinst run twice printed something (it made something anew?)"; }

# An upgrade (the same package again) keeps the journal, its keys, the credentials and the certificate.
keep() { sha256sum /etc/kiosk/credentials.toml /etc/kiosk/admin-key.pem /var/lib/kiosk/subject.key | cut -d' ' -f1; runuser -u kiosk -- kiosk journal pubkey --config /etc/kiosk/kiosk.toml; }
keep > "$work/keep-before.txt"
echo "# a technician's edit" >> /etc/kiosk/kiosk.toml
dpkg -i "$deb" > "$work/upgrade.txt" 2>&1 || { cat "$work/upgrade.txt"; fail "the upgrade failed"; }
keep > "$work/keep-after.txt"
diff "$work/keep-before.txt" "$work/keep-after.txt" || fail "the upgrade changed the journal's keys or the credentials"
grep -q "# a technician's edit" /etc/kiosk/kiosk.toml || fail "the upgrade undid the technician's edit"

# A purge removes the configuration and the credentials, keeps the journal.
dpkg --purge kiosk > "$work/purge.txt" 2>&1 || { cat "$work/purge.txt"; fail "purge failed"; }
[ ! -e /etc/kiosk/credentials.toml ] || fail "purge kept the credentials"
[ ! -e /etc/kiosk/installation-sheet.txt ] || fail "purge kept the installation sheet"
[ ! -e /usr/bin/kiosk ] || fail "purge kept the binary"
[ -e /var/lib/kiosk/journal.sqlite3 ] || fail "purge removed the journal"
grep -q "journal and its keys are kept" "$work/purge.txt" || fail "purge did not say the journal is kept"
echo "package check: installed, files and modes right, unit verified, postinst idempotent, upgrade and purge keep the journal"

# The county server's package: the tool (no Slint in it), the pull service (installed, not enabled).
dpkg -i "$county_deb" > "$work/county.txt" 2>&1 || { cat "$work/county.txt"; fail "dpkg -i kiosk-county failed"; }
expect_mode /usr/bin/kiosk-county "755 root root"
expect_mode /usr/lib/systemd/system/kiosk-fleet-pull.service "644 root root"
expect_mode /usr/share/doc/kiosk-county/examples/fleet.toml "644 root root"
[ ! -e /etc/systemd/system/multi-user.target.wants/kiosk-fleet-pull.service ] || fail "the pull service was enabled before a fleet file exists"
kiosk-county fleet --help | grep -q migrate || fail "kiosk-county fleet --help"
if ldd /usr/bin/kiosk-county | grep -qi "fontconfig\|xkbcommon\|libinput"; then fail "kiosk-county links the screen's libraries"; fi
systemd-analyze verify /usr/lib/systemd/system/kiosk-fleet-pull.service > "$work/verify-fleet.txt" 2>&1 \
  || { cat "$work/verify-fleet.txt"; fail "systemd-analyze verify kiosk-fleet-pull.service"; }
if [ -s "$work/verify-fleet.txt" ]; then cat "$work/verify-fleet.txt"; fail "systemd-analyze verify printed warnings for kiosk-fleet-pull.service"; fi
exposure /usr/lib/systemd/system/kiosk-fleet-pull.service
dpkg --purge kiosk-county > "$work/county-purge.txt" 2>&1 || { cat "$work/county-purge.txt"; fail "purge of kiosk-county failed"; }
[ ! -e /usr/bin/kiosk-county ] || fail "purge kept kiosk-county"
echo "package check: kiosk-county installed, its pull service verified, purged"
