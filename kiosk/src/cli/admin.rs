//! `kiosk admin`: make the token and PIN hashes that go into the [admin] section (or a box's credentials
//! file), the staff API's certificate, and serve the API alone.

use clap::Subcommand;
use std::io::BufRead;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Read a staff bearer token from stdin and print its `sha256:` hash for an [[admin.tokens]] entry.
    HashToken,
    /// Read a maintenance PIN (6–12 digits) from stdin and print its hash for `admin.maintenance_pin_hash`.
    HashPin,
    /// Serve the staff HTTP API without the UI, until SIGTERM or SIGINT.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: std::path::PathBuf,
        /// Serve even with the example's published demo tokens or PIN (a demonstration or a test, never a
        /// hall): without it such a configuration is refused.
        #[arg(long)]
        demo: bool,
    },
    /// Make a self-signed TLS certificate and key for the staff API at [admin] tls_cert and tls_key, and
    /// print the SHA-256 fingerprint the county pins.
    GenCert {
        #[arg(long, value_name = "FILE")]
        config: std::path::PathBuf,
        /// Host names and IP addresses the certificate names (repeatable); default: localhost, 127.0.0.1
        /// and the listen address.
        #[arg(long = "name", value_name = "NAME")]
        names: Vec<String>,
        /// Years the certificate is valid.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(i16).range(1..=20))]
        years: i16,
        /// Replace an existing certificate and key (the county must pin the new fingerprint).
        #[arg(long)]
        force: bool,
    },
    /// Make this box's maintenance PIN and its counter, staff and technician tokens, print them once, and
    /// write only their hashes to FILE (the file `[admin] credentials_file` names). An existing FILE is
    /// kept unchanged, so running it again (as the package's postinst does on every upgrade) changes nothing.
    InitCredentials { file: std::path::PathBuf },
}

pub fn run(cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Serve { config, demo } => {
            let config = super::load_config(&config)?;
            let published = config.demo_credentials();
            if !published.is_empty() && !demo {
                return Err(super::Exit {
                    code: super::EXIT_INVALID,
                    message: format!(
                        "this configuration has the example's published credentials, which anyone can read: {} (Or start with --demo for a demonstration.) Nothing was served.",
                        published.join(" ")
                    ),
                }
                .into());
            }
            let journal = crate::journal::Journal::open(crate::journal::JournalSettings::from_config(&config))?;
            let queue = crate::queue::Queue::new(&config, journal)?;
            // Stopped and joined when this returns.
            let _hall_sync = crate::hall_sync::start(&queue);
            Ok(crate::admin::serve(&config, queue)?)
        }
        AdminCommand::GenCert { config, names, years, force } => gen_cert(&config, names, years, force),
        AdminCommand::InitCredentials { file } => init_credentials(&file),
        AdminCommand::HashToken => {
            let secret = read_secret()?;
            if secret.len() < 16 {
                return Err(super::Exit {
                    code: super::EXIT_INVALID,
                    message: "The token is shorter than 16 characters; use a long random token.".into(),
                }
                .into());
            }
            println!("{}", crate::secrets::token_hash(&secret));
            Ok(())
        }
        AdminCommand::HashPin => {
            let secret = read_secret()?;
            if let Some(why) = crate::config::Config::weak_pin(&secret) {
                return Err(super::Exit {
                    code: super::EXIT_INVALID,
                    message: format!("{why}; choose another, nothing was hashed."),
                }
                .into());
            }
            println!("{}", crate::secrets::pin_hash(&secret, &crate::secrets::random_bytes::<16>()?));
            Ok(())
        }
    }
}

/// One line from stdin, without its line ending.
fn read_secret() -> anyhow::Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok(zeroize::Zeroizing::new(trimmed))
}

fn gen_cert(file: &std::path::Path, mut names: Vec<String>, years: i16, force: bool) -> anyhow::Result<()> {
    let config = super::load_config(file)?;
    let (Some(cert), Some(key)) = (&config.admin.tls_cert, &config.admin.tls_key) else {
        return Err(super::Exit {
            code: super::EXIT_INVALID,
            message: format!(
                "{}: set [admin] tls_cert and tls_key to where the certificate and key go (e.g. /etc/kiosk/admin-cert.pem and /etc/kiosk/admin-key.pem), then run this again; nothing was written.",
                file.display()
            ),
        }
        .into());
    };
    for path in [cert, key] {
        if path.exists() && !force {
            return Err(super::Exit {
                code: super::EXIT_INVALID,
                message: format!(
                    "{} exists; pass --force to replace it (the county must then pin the new fingerprint). Nothing was written.",
                    path.display()
                ),
            }
            .into());
        }
    }
    if names.is_empty() {
        names = vec!["localhost".into(), "127.0.0.1".into()];
        if let Ok(addr) = config.admin.listen.parse::<std::net::SocketAddr>()
            && !addr.ip().is_unspecified()
            && !addr.ip().is_loopback()
        {
            names.push(addr.ip().to_string());
        }
    }
    let made = crate::admin::tls::generate(&config.kiosk.id, &names, years)?;
    // The key first and private from birth (the process umask is 077); the certificate is public.
    write_replacing(key, made.key_pem.as_bytes())?;
    write_replacing(cert, made.cert_pem.as_bytes())?;
    println!("certificate: {}", cert.display());
    println!("key:         {}", key.display());
    println!("names:       {}", names.join(", "));
    println!("SHA-256 fingerprint: {}", crate::admin::tls::fingerprint_colons(&made.der));
    println!("pin:         {}", crate::admin::tls::fingerprint(&made.der));
    Ok(())
}

/// A PIN of `digits` uniformly random digits (rejection sampling: no digit more likely than another).
fn random_pin(digits: u32) -> std::io::Result<String> {
    let range = 10u32.pow(digits);
    let limit = u32::MAX - u32::MAX % range;
    loop {
        let n = u32::from_le_bytes(crate::secrets::random_bytes::<4>()?);
        if n < limit {
            return Ok(format!("{:0width$}", n % range, width = digits as usize));
        }
    }
}

fn init_credentials(file: &std::path::Path) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    use std::os::unix::fs::PermissionsExt;
    if file.exists() {
        println!(
            "{} exists and is kept unchanged (to make new credentials, move it away and run this again; the old \
             PIN and tokens stop working when the kiosk restarts).",
            file.display()
        );
        return Ok(());
    }
    let pin = zeroize::Zeroizing::new(random_pin(8)?);
    let mut toml = String::from(
        "# This kiosk's credentials, made by `kiosk admin init-credentials`: hashes only. The PIN and the tokens\n\
         # were shown once when this file was made. Read by the kiosk through [admin] credentials_file.\n",
    );
    let _ = writeln!(
        toml,
        "maintenance_pin_hash = \"{}\"",
        crate::secrets::pin_hash(&pin, &crate::secrets::random_bytes::<16>()?)
    );
    let mut shown = vec![("maintenance PIN (维护密码)".to_string(), pin)];
    for (name, role) in [("counter", "counter"), ("county-staff", "staff"), ("technician", "technician")] {
        let token = zeroize::Zeroizing::new(hex::encode(crate::secrets::random_bytes::<32>()?));
        let _ = write!(
            toml,
            "\n[[tokens]]\nname = \"{name}\"\nrole = \"{role}\"\nhash = \"{}\"\n",
            crate::secrets::token_hash(&token)
        );
        shown.push((format!("{role} token"), token));
    }
    write_replacing(file, toml.as_bytes())?;
    // Root writes it; the kiosk's group reads it (the postinst sets the group).
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o640))?;
    println!("Made this kiosk's credentials; {} holds their hashes only.", file.display());
    println!("Write these down now: they are not stored anywhere and are not shown again.");
    for (label, secret) in &shown {
        println!("  {label:<30} {}", secret.as_str());
    }
    Ok(())
}

/// Writes beside `path` and renames over it: a reader never sees half a key.
fn write_replacing(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}; check the folder exists and is writable", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
