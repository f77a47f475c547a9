//! Queue tickets to a serial printer and a USB printer-class device file, both played by the virtual printer on a real pty.

use crate::support::{KillOnDrop, config_in, kiosk, run};
use std::path::Path;

fn pty_printer(out: &Path, status: &str) -> (KillOnDrop, String) {
    let (child, path) = crate::support::sim_printer(out, status, &["--pty"]);
    assert!(path.starts_with("/dev/pts/"), "{path}");
    (child, path)
}

fn config_for(dir: &Path, transport: &str, path: &str) -> std::path::PathBuf {
    let config = config_in(dir);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("transport = \"simulated\"", &format!("transport = \"{transport}\""))
        .replace("path = \"/dev/usb/lp0\"", &format!("path = \"{path}\""));
    std::fs::write(&config, text).unwrap();
    config
}

#[test]
fn tickets_print_over_a_serial_pty_and_a_device_file() {
    for transport in ["serial", "usb-lp"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("printed");
        let (_printer, path) = pty_printer(&out, "ok");
        let config = config_for(dir.path(), transport, &path);
        for expect in ["D3001", "D3002"] {
            let (code, stdout, err) =
                run(kiosk().args(["ticket", "issue", "--config"]).arg(&config).args(["--category", "D"]));
            assert_eq!(code, Some(0), "{transport}: {err}");
            assert!(stdout.starts_with(&format!("{expect} ")), "{transport}: {stdout}");
        }
        let transcript = std::fs::read_to_string(out.join("job-0002.txt")).unwrap();
        assert!(transcript.contains("[center x4 bold] D3002\n"), "{transport}: {transcript}");
        assert!(transcript.contains("[center x2] 帮办代办\n"), "{transport}: {transcript}");
        assert!(transcript.contains("[center x2] 前面还有 1 人\n"), "{transport}: {transcript}");
    }
}

#[test]
fn a_silent_serial_printer_times_out_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("printed");
    let (_printer, path) = pty_printer(&out, "silent");
    let config = config_for(dir.path(), "serial", &path);
    let (code, _, err) = run(kiosk().args(["ticket", "issue", "--config"]).arg(&config).args(["--category", "A"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not available"), "{err}");
}
