//! `kiosk config check` on good and bad files: exit codes and messages that name file, line, column and field.

use crate::support::{kiosk, run, workspace_root};
use std::path::{Path, PathBuf};

fn demo_toml() -> String {
    std::fs::read_to_string(workspace_root().join("config/kiosk.toml")).unwrap()
}

/// Writes `text` to a temp file and runs `kiosk config check` on it.
fn check(dir: &Path, text: &str) -> (Option<i32>, String, PathBuf) {
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).unwrap();
    let (code, _out, err) = run(kiosk().args(["config", "check"]).arg(&path));
    (code, err, path)
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let off = text.find(needle).unwrap_or_else(|| panic!("{needle:?} is in the test file"));
    let line = text[..off].matches('\n').count() + 1;
    let line_start = text[..off].rfind('\n').map_or(0, |p| p + 1);
    (line, text[line_start..off].chars().count() + 1)
}

/// Replaces exactly one occurrence, so a test cannot silently edit nothing.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} occurs once in config/kiosk.toml");
    text.replacen(from, to, 1)
}

fn assert_rejected(text: &str, at: &str, field: &str, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, path) = check(dir.path(), text);
    assert_eq!(code, Some(2), "exit code 2 for an invalid file; stderr: {err}");
    let (line, col) = position(text, at);
    let expected = format!("{}:{line}:{col}: field `{field}`: ", path.display());
    assert!(err.contains(&expected), "stderr names {expected:?}; got: {err}");
    assert!(err.to_lowercase().contains(&says.to_lowercase()), "stderr says {says:?}; got: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line; got: {err}");
}

#[test]
fn the_demo_configuration_is_valid() {
    let (code, out, err) = run(kiosk().args(["config", "check"]).arg(workspace_root().join("config/kiosk.toml")));
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.contains("linshu-county-01") && out.contains("4 queue categories"), "{out}");
}

#[test]
fn invalid_toml_syntax_names_line_and_column() {
    let text = edit(&demo_toml(), "baud = 115200\npoll_interval_ms", "baud = = 115200\npoll_interval_ms");
    let dir = tempfile::tempdir().unwrap();
    let (code, err, path) = check(dir.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    let (line, _) = position(&text, "baud = = 115200");
    assert!(err.contains(&format!("{}:{line}:", path.display())), "{err}");
    assert!(err.contains("TOML syntax"), "{err}");
}

#[test]
fn wrong_type_names_the_field() {
    let text = edit(&demo_toml(), "first = 1001", "first = \"1001\"");
    assert_rejected(&text, "\"1001\"", "queue.categories[1].first", "invalid type");
}

#[test]
fn unknown_key_is_rejected() {
    let text = edit(&demo_toml(), "elder_mode = false", "elder_mode = false\nelderly_mode = true");
    assert_rejected(&text, "elderly_mode", "ui.elderly_mode", "unknown field `elderly_mode`");
}

#[test]
fn missing_required_field_is_named() {
    let text = edit(&demo_toml(), "hall_name = \"临沭县24小时政务服务大厅\"\n", "");
    let dir = tempfile::tempdir().unwrap();
    let (code, err, path) = check(dir.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("field `kiosk.hall_name`") && err.contains("Missing field `hall_name`. Add it"), "{err}");
    assert!(err.starts_with(&format!("kiosk: {}:", path.display())), "{err}");
}

#[test]
fn duplicate_prefixes_are_rejected() {
    let text = edit(&demo_toml(), "prefix = \"C\"", "prefix = \"B\"");
    let at = text.match_indices("prefix = \"B\"").nth(1).unwrap().0 + "prefix = ".len();
    let dir = tempfile::tempdir().unwrap();
    let (code, err, path) = check(dir.path(), &text);
    assert_eq!(code, Some(2), "{err}");
    let line = text[..at].matches('\n').count() + 1;
    assert!(err.contains(&format!("{}:{line}:10: field `queue.categories[2].prefix`", path.display())), "{err}");
    assert!(err.contains("already used"), "{err}");
}

#[test]
fn overlapping_bands_are_rejected() {
    let text = edit(&demo_toml(), "first = 2001", "first = 1500");
    assert_rejected(&text, "1500", "queue.categories[2].first", "overlaps category 1");
}

/// A hall queue's offline band must be numbers the hall never gives; its database address must parse.
#[test]
fn a_shared_queue_offline_band_inside_a_category_or_a_bad_address_is_rejected() {
    let shared = |db: &str, band: &str| {
        edit(
            &demo_toml(),
            "[queue]\n",
            &format!("[queue]\nshared = {{ db = \"{db}\", hall = \"linshu-county\", offline_band = {band} }}\n"),
        )
    };
    assert_rejected(
        &shared("host=/run/postgresql dbname=kiosk_fleet", "[950, 999]"),
        "[950, 999]",
        "queue.shared.offline_band",
        "overlaps category A's numbers (1–999)",
    );
    assert_rejected(
        &shared("host=/run/postgresql dbname=kiosk_fleet", "[999, 900]"),
        "[999, 900]",
        "queue.shared.offline_band",
        "is not a band",
    );
    assert_rejected(
        &shared("no such thing", "[5001, 5099]"),
        "\"no such thing\"",
        "queue.shared.db",
        "not a PostgreSQL address",
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, err, _) = check(dir.path(), &shared("postgres://kiosk@hall-db/kiosk_fleet", "[5001, 5099]"));
    assert_eq!(code, Some(0), "a band above every category is fine: {err}");
}

#[test]
fn band_outside_range_is_rejected() {
    let text = edit(&demo_toml(), "last = 3999", "last = 10000");
    assert_rejected(&text, "10000", "queue.categories[3].last", "1–9999");
}

#[test]
fn unknown_timezone_is_rejected() {
    let text = edit(&demo_toml(), "timezone = \"Asia/Shanghai\"", "timezone = \"Asia/Linshu\"");
    assert_rejected(&text, "\"Asia/Linshu\"", "kiosk.timezone", "not a known IANA time zone");
}

#[test]
fn short_retention_is_rejected() {
    let text = edit(&demo_toml(), "retention_days = 180", "retention_days = 90");
    assert_rejected(&text, "90", "journal.retention_days", "at least 180 days");
}

#[test]
fn an_epoch_rule_out_of_range_is_rejected() {
    let text = edit(&demo_toml(), "epoch_entries = 200", "epoch_entries = 0");
    assert_rejected(&text, "0                     # an epoc", "journal.epoch_entries", "1–10000");
    let text = edit(&demo_toml(), "epoch_minutes = 5", "epoch_minutes = 600");
    assert_rejected(&text, "600                       # or 5 ", "journal.epoch_minutes", "1–60");
}

#[test]
fn implausible_device_path_is_rejected() {
    let text = edit(&demo_toml(), "port = \"simulated\"                      # or", "port = \"COM3\" # or");
    assert_rejected(&text, "\"COM3\"", "devices.id_reader.port", "serial device path");
}

#[test]
fn unknown_transport_is_rejected() {
    let text = edit(&demo_toml(), "transport = \"simulated\"", "transport = \"bluetooth\"");
    assert_rejected(&text, "\"bluetooth\"", "devices.ticket_printer.transport", "unknown variant");
}

#[test]
fn unreadable_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let (code, _out, err) = run(kiosk().args(["config", "check"]).arg(&missing));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("{}: cannot read the configuration file", missing.display())), "{err}");
}

#[test]
fn unknown_printer_model_is_rejected() {
    let text = edit(&demo_toml(), "model = \"generic-80\"", "model = \"tm-t88\"");
    assert_rejected(&text, "\"tm-t88\"", "devices.ticket_printer.model", "not a known printer model");
}

/// Issue #13: a journal, key or store path that cannot be a file of ours is refused at `config check`, with
/// the field named, and nothing is created (a dangling symlink used to overflow the stack, exit 134).
#[test]
fn file_paths_that_cannot_be_files_of_ours_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("a-folder")).unwrap();
    std::fs::write(d.join("a-file"), "x").unwrap();
    std::os::unix::fs::symlink(d.join("missing/journal.sqlite3"), d.join("dangling")).unwrap();
    let journal_line = "path = \"/var/lib/kiosk/journal.sqlite3\"";
    for (path, says) in [
        (d.join("a-folder"), "is a folder, not a file"),
        (d.join("a-file/journal.sqlite3"), "which is a file, not a folder"),
        (d.join("dangling"), "symbolic link to a file that cannot be reached"),
        (PathBuf::from("/proc/self/journal.sqlite3"), "under /proc, /sys or /dev"),
        (PathBuf::from("/dev/null"), "under /proc, /sys or /dev"),
    ] {
        let text = edit(&demo_toml(), journal_line, &format!("path = \"{}\"", path.display()));
        let (code, err, file) = check(d, &text);
        assert_eq!(code, Some(2), "{}: {err}", path.display());
        let (line, col) = position(&text, &format!("\"{}\"", path.display()));
        assert!(err.contains(&format!("{}:{line}:{col}: field `journal.path`: ", file.display())), "{err}");
        assert!(err.contains(says), "{}: {err}", path.display());
    }
    assert!(!d.join("missing").exists(), "nothing was created");
    // Two stores in one file.
    let text = edit(
        &edit(&demo_toml(), journal_line, &format!("path = \"{}\"", d.join("j.sqlite3").display())),
        "store_path = \"/var/lib/kiosk/documents.sqlite3\"",
        &format!("store_path = \"{}\"", d.join("j.sqlite3").display()),
    );
    let (code, err, _) = check(d, &text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("field `licence.store_path`") && err.contains("is the journal as well"), "{err}");
}

/// Issue #13: a PIN hash asking for an absurd number of PBKDF2 iterations would freeze every login.
#[test]
fn a_pin_hash_with_absurd_iterations_is_refused() {
    let text = demo_toml();
    let line = text.lines().find(|l| l.starts_with("maintenance_pin_hash = ")).unwrap().to_owned();
    let iterations = line.split(':').nth(1).unwrap().to_owned();
    let absurd = line.replacen(&format!(":{iterations}:"), ":4000000000:", 1);
    let text = edit(&text, &line, &absurd);
    assert_rejected(&text, "\"pbkdf2-sha256:4000000000", "admin.maintenance_pin_hash", "4000000000 PBKDF2 iterations");
}

#[test]
fn the_staff_api_beyond_loopback_needs_tls() {
    let text = edit(&demo_toml(), "listen = \"127.0.0.1:8080\"", "listen = \"0.0.0.0:8443\"");
    assert_rejected(&text, "\"0.0.0.0:8443\"", "admin.listen", "set tls_cert and tls_key");
    // With a certificate and key named it is accepted (the files are made by `kiosk admin gen-cert`).
    let with_tls = edit(
        &text,
        "# tls_cert = \"/etc/kiosk/admin-cert.pem\"\n# tls_key = \"/etc/kiosk/admin-key.pem\"",
        "tls_cert = \"/tmp/kiosk-test-cert.pem\"\ntls_key = \"/tmp/kiosk-test-key.pem\"",
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, err, _) = check(dir.path(), &with_tls);
    assert_eq!(code, Some(0), "{err}");
    let half = edit(&text, "# tls_cert = \"/etc/kiosk/admin-cert.pem\"", "tls_cert = \"/tmp/kiosk-test-cert.pem\"");
    assert_rejected(&half, "\"/tmp/kiosk-test-cert.pem\"", "admin.tls_cert", "without tls_key");
}

#[test]
fn old_token_hashes_say_how_to_move_to_roles() {
    let text = edit(
        &demo_toml(),
        "[admin]\n",
        "[admin]\ntoken_hashes = [\"sha256:014519f70727c7a3c69e8a1e41b396ceb2f9df7059eff690703bed0858ee014f\"]\n",
    );
    assert_rejected(&text, "[\"sha256:0145", "admin.token_hashes", "[[admin.tokens]]");
    let twice = edit(&demo_toml(), "name = \"demo-staff\"", "name = \"demo-counter\"");
    let dir = tempfile::tempdir().unwrap();
    let (code, err, _) = check(dir.path(), &twice);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("Two tokens are named \"demo-counter\""), "{err}");
}

#[test]
fn a_maintenance_pin_is_at_least_six_digits() {
    use std::io::Write;
    for (pin, ok) in [("2468", false), ("24681", false), ("402917", true), ("12345678901234", false)] {
        let mut child = kiosk()
            .args(["admin", "hash-pin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.success(), ok, "{pin}: {}", String::from_utf8_lossy(&out.stderr));
        if !ok {
            assert!(String::from_utf8_lossy(&out.stderr).contains("6 to 12 digits"));
        }
    }
}

/// Text the kiosk prints, shows or echoes may not carry a printer or terminal command, nor reorder what a
/// reader sees: an ESC in the hall's name, a right-to-left override in a window's name are refused with
/// their place, the character named (the message itself holds no raw control character).
#[test]
fn control_and_bidi_characters_in_printed_text_are_refused_where_they_are_written() {
    let text = edit(&demo_toml(), "hall_name = \"临沭县", "hall_name = \"\\u001B[2J\\u001Bp临沭县");
    assert_rejected(&text, "\"\\u001B[2J", "kiosk.hall_name", "U+001B (ESC)");
    let dir = tempfile::tempdir().unwrap();
    let (_, err, _) = check(dir.path(), &text);
    assert!(!err.contains('\u{1b}'), "the message echoes no raw ESC: {err:?}");
    let window = demo_toml().lines().find(|l| l.starts_with("window_zh = ")).unwrap().to_owned();
    let text = edit(&demo_toml(), &window, &window.replacen("= \"", "= \"\\u202E", 1));
    assert_rejected(&text, "\"\\u202E", "queue.categories[0].window_zh", "U+202E (RIGHT-TO-LEFT OVERRIDE)");
}

/// The state files' paths are whole paths: a relative one would depend on the folder the kiosk started in.
#[test]
fn a_relative_state_path_is_refused() {
    let text = edit(&demo_toml(), "path = \"/var/lib/kiosk/journal.sqlite3\"", "path = \"journal.sqlite3\"");
    assert_rejected(&text, "\"journal.sqlite3\"", "journal.path", "is a relative path");
}

/// Two configurations naming one signing key file: `config check` of the second names the key file and says
/// it is another journal's (issue #28 item 5).
#[test]
fn a_key_file_of_another_journal_is_refused_by_config_check() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (config_a, config_b) = (crate::support::config_in(a.path()), crate::support::config_in(b.path()));
    for config in [&config_a, &config_b] {
        let (code, _, err) = run(kiosk().args(["journal", "init", "--config"]).arg(config));
        assert_eq!(code, Some(0), "{err}");
    }
    let text = std::fs::read_to_string(&config_b).unwrap().replace(
        &b.path().join("checkpoint.ed25519").to_string_lossy().to_string(),
        &a.path().join("checkpoint.ed25519").to_string_lossy(),
    );
    std::fs::write(&config_b, text).unwrap();
    let (code, out, err) = run(kiosk().args(["config", "check"]).arg(&config_b));
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("[journal] signing_key_path") && err.contains("belongs to another journal"), "{err}");
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config_a));
    assert_eq!(code, Some(0), "{err}");
}

/// A name longer than the screen can ever show is refused with its place (issue #29 item 7: a 10 MB hall
/// name was accepted).
#[test]
fn names_longer_than_the_screen_can_show_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::support::config_in(dir.path());
    let text = std::fs::read_to_string(&config).unwrap();
    let long = "临沭".repeat(20);
    std::fs::write(
        &config,
        text.replacen("hall_name = \"临沭县24小时政务服务大厅\"", &format!("hall_name = \"{long}\""), 1),
    )
    .unwrap();
    let (code, out, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("kiosk.hall_name") && err.contains("is 40 characters long (at most 24)"), "{err}");
    std::fs::write(
        &config,
        text.replacen("name_en = \"Social and medical insurance\"", &format!("name_en = \"{}\"", "x".repeat(41)), 1),
    )
    .unwrap();
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("name_en") && err.contains("is 41 characters long (at most 40)"), "{err}");
}
