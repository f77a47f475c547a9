//! What the package's postinst runs on a box, as a technician would run it by hand: `kiosk admin
//! init-credentials` (the PIN and tokens shown once, only hashes stored, a second run changes nothing),
//! `[admin] credentials_file` (read with the configuration; its errors name its own line and field; the
//! same credentials in both files are refused), and `kiosk journal init` (keys made once, the root key
//! printed; an existing journal is not touched).

use crate::support::{kiosk, run, workspace_root};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The packaged configuration with its paths moved into `dir`.
fn box_config(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(workspace_root().join("config/box.toml"))
        .unwrap()
        .replace("/etc/kiosk/", &format!("{}/", dir.display()))
        .replace("/var/lib/kiosk/", &format!("{}/", dir.display()));
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every file in `dir` with its bytes, for "nothing changed".
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn credentials_are_shown_once_stored_as_hashes_and_kept_on_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials.toml");
    let (code, out, err) = run(kiosk().args(["admin", "init-credentials"]).arg(&creds));
    assert_eq!(code, Some(0), "{err}");
    let stored = std::fs::read_to_string(&creds).unwrap();
    assert_eq!(std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777, 0o640);

    let pin = out.lines().find_map(|l| l.trim().strip_prefix("maintenance PIN (维护密码)")).unwrap().trim();
    assert!(pin.len() == 8 && pin.chars().all(|c| c.is_ascii_digit()), "{out}");
    assert!(!stored.contains(pin), "the PIN is stored in clear: {stored}");
    for role in ["counter", "staff", "technician"] {
        let token = out.lines().find_map(|l| l.trim().strip_prefix(&format!("{role} token"))).unwrap().trim();
        assert_eq!(token.len(), 64, "{out}");
        assert!(!stored.contains(token), "the {role} token is stored in clear");
        assert!(stored.contains(&kiosk::secrets::token_hash(token)), "the {role} token shown is not the one stored");
        assert!(stored.contains(&format!("role = \"{role}\"")));
    }
    let hash_line = stored.lines().find(|l| l.starts_with("maintenance_pin_hash")).unwrap();
    let hash = hash_line.split('"').nth(1).unwrap();
    assert!(kiosk::secrets::pin_matches(pin, hash), "the PIN shown is not the one whose hash is stored");

    // Again: kept byte for byte, nothing shown.
    let (code, out, _) = run(kiosk().args(["admin", "init-credentials"]).arg(&creds));
    assert_eq!(code, Some(0));
    assert!(out.contains("kept unchanged") && !out.contains(pin), "{out}");
    assert_eq!(std::fs::read_to_string(&creds).unwrap(), stored);

    // The packaged configuration reads them.
    let config = box_config(dir.path());
    let (code, out, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(0), "{out}{err}");
}

#[test]
fn a_bad_credentials_file_is_named_by_its_own_line_and_field_and_two_places_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials.toml");
    let (code, _, err) = run(kiosk().args(["admin", "init-credentials"]).arg(&creds));
    assert_eq!(code, Some(0), "{err}");
    let config = box_config(dir.path());

    // The first token's hash spoiled: the error points into the credentials file, not the configuration.
    let good = std::fs::read_to_string(&creds).unwrap();
    let line = good.lines().position(|l| l.starts_with("hash = ")).unwrap() + 1;
    let bad = good.replacen("hash = \"sha256:", "hash = \"sha256:zz", 1);
    std::fs::write(&creds, &bad).unwrap();
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("credentials.toml:{line}:")), "{err}");
    assert!(err.contains("tokens[0].hash") && err.contains("kiosk admin hash-token"), "{err}");

    // The PIN hash in the main file as well as in the credentials file.
    std::fs::write(&creds, &good).unwrap();
    let both = std::fs::read_to_string(&config).unwrap().replace(
        "credentials_file = ",
        "maintenance_pin_hash = \"pbkdf2-sha256:100000:00112233445566778899aabbccddeeff:00\"\ncredentials_file = ",
    );
    std::fs::write(&config, both).unwrap();
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("admin.maintenance_pin_hash") && err.contains("one place"), "{err}");

    // A credentials file any user may read is refused, saying how to fix it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = box_config(dir.path());
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("credentials.toml: refused") && err.contains("chmod o-rwx"), "{err}");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A credentials file that is not there says which and changes nothing.
    std::fs::remove_file(&creds).unwrap();
    let config = box_config(dir.path());
    let (code, _, err) = run(kiosk().args(["config", "check"]).arg(&config));
    assert_ne!(code, Some(0));
    assert!(err.contains("credentials.toml"), "{err}");
}

#[test]
fn journal_init_makes_the_keys_once_and_leaves_an_existing_journal_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(kiosk().args(["admin", "init-credentials"]).arg(dir.path().join("credentials.toml")));
    assert_eq!(code, Some(0), "{err}");
    let config = box_config(dir.path());

    let (code, out, err) = run(kiosk().args(["journal", "init", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("made the journal and its keys"), "{out}");
    let root = out.lines().last().unwrap().to_string();
    assert_eq!(root.len(), 64, "{out}");
    for key in ["journal.sqlite3", "subject.key", "checkpoint.ed25519"] {
        assert!(dir.path().join(key).is_file(), "{key} was not made");
    }
    let (_, pubkey, _) = run(kiosk().args(["journal", "pubkey", "--config"]).arg(&config));
    assert_eq!(pubkey.trim(), root);

    let before = files(dir.path());
    let (code, out, err) = run(kiosk().args(["journal", "init", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("kept as they are") && out.trim_end().ends_with(&root), "{out}");
    assert_eq!(files(dir.path()), before, "a second init changed a file");
}
