//! Files read by name are regular files within a size their kind can have, refused at once otherwise (a
//! FIFO used to hang the command, /dev/zero to grow it until memory ran out); a command whose output
//! reader goes away ends quietly (it used to panic with a backtrace).

use crate::support::{config_in, kiosk};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` to its end, killing it (and failing the test) after 20 s: a command waiting on a FIFO for a
/// writer would otherwise hold the test. Returns the exit code and standard error.
fn finishes(cmd: &mut Command) -> (Option<i32>, String) {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn fifo(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let made = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success(), "mkfifo");
    path
}

#[test]
fn a_fifo_a_device_or_a_huge_file_is_refused_at_once_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let pipe = fifo(dir.path(), "pipe.toml");
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge).unwrap().set_len(65 << 20).unwrap();

    let cases: Vec<(Vec<&std::ffi::OsStr>, &Path, &str)> = vec![
        (
            vec!["config".as_ref(), "check".as_ref(), "/dev/zero".as_ref()],
            Path::new("/dev/zero"),
            "it is a device, not a file",
        ),
        (vec!["config".as_ref(), "check".as_ref(), pipe.as_os_str()], &pipe, "it is a named pipe (FIFO), not a file"),
        (vec!["catalogue".as_ref(), "check".as_ref(), pipe.as_os_str()], &pipe, "named pipe"),
        (
            vec!["appointments".as_ref(), "import".as_ref(), "--config".as_ref(), config.as_os_str(), huge.as_os_str()],
            &huge,
            "larger than the 64 MiB an appointments file can be",
        ),
        (
            vec![
                "documents".as_ref(),
                "import".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
                "/dev/zero".as_ref(),
            ],
            Path::new("/dev/zero"),
            "it is a device",
        ),
    ];
    for (args, file, says) in cases {
        let (code, err) = finishes(kiosk().args(&args));
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(&file.display().to_string()) && err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    }
    // A frame on standard input is bounded too: 1 MB of zeros is refused, not read on.
    let mut child = kiosk()
        .args(["idcard", "decode"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&vec![b'0'; 1 << 20]);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than the 64 KiB a frame can be"), "{err}");
}

/// `kiosk catalogue search … | head -1`: the reader is gone before the kiosk writes; the command ends with
/// the status a shell shows for SIGPIPE and says nothing (no panic, no backtrace).
#[test]
fn a_command_whose_reader_went_away_ends_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = kiosk()
        .args(["catalogue", "search", "户口"])
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "quiet: {err}");
}
