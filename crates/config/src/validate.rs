//! What a well-formed configuration must also mean: unique prefixes, sane bands, known time zone, plausible devices.

/// The longest names the screens and the ticket can show whole (the geometry test's fixtures stay within them).
const MAX_HALL_NAME: usize = 24;
const MAX_CATEGORY_NAME_ZH: usize = 12;
const MAX_CATEGORY_NAME_EN: usize = 40;

/// "is N characters long (at most M)" for a name longer than `max` characters.
fn too_long_to_show(name: &str, max: usize) -> Option<String> {
    let n = name.chars().count();
    (n > max).then(|| format!("is {n} characters long (at most {max})"))
}

use super::locate::FieldPath;
use super::{Config, PrinterTransport};

/// The first problem found, with the field it is about.
pub struct Problem {
    pub path: FieldPath,
    pub message: String,
}

fn root() -> FieldPath {
    FieldPath::default()
}

fn fail(path: FieldPath, message: impl Into<String>) -> Result<(), Problem> {
    Err(Problem { path, message: message.into() })
}

/// Parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let minutes = h * 60 + m;
    (m < 60 && minutes <= 24 * 60).then_some(minutes)
}

/// Parses "HH:MM-HH:MM" into a half-open minute range.
pub fn parse_hours(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (parse_hhmm(a.trim())?, parse_hhmm(b.trim())?);
    (a < b).then_some((a, b))
}

/// Thermal printer profiles the driver knows (drivers::escpos::Profile::named).
pub const PRINTER_MODELS: [&str; 4] = ["generic-80", "generic-58", "raster-qr", "raster-only"];
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const BAUDS: [u32; 8] = [9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600];

pub fn check(c: &Config) -> Result<(), Problem> {
    check_kiosk(c)?;
    check_journal(c)?;
    check_devices(c)?;
    check_queue(c)?;
    check_licence(c)?;
    check_platform(c)?;
    check_ui_admin(c)
}

fn check_kiosk(c: &Config) -> Result<(), Problem> {
    let k = &c.kiosk;
    let p = root().key("kiosk");
    if k.id.is_empty()
        || k.id.len() > 64
        || !k.id.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
    {
        return fail(
            p.key("id"),
            format!(
                "The kiosk id \"{}\" must be 1 to 64 characters of a-z, 0-9, '-' or '_', e.g. \"linshu-county-01\".",
                k.id
            ),
        );
    }
    if k.hall_name.trim().is_empty() {
        return fail(p.key("hall_name"), "The hall name is empty; write the name citizens see on the home screen.");
    }
    if let Some(why) = too_long_to_show(&k.hall_name, MAX_HALL_NAME) {
        return fail(
            p.key("hall_name"),
            format!("The hall name {why}; the home screen and the ticket show it on one line."),
        );
    }
    if jiff::tz::TimeZone::get(&k.timezone).is_err() {
        return fail(
            p.key("timezone"),
            format!("\"{}\" is not a known IANA time zone; use a name such as \"Asia/Shanghai\".", k.timezone),
        );
    }
    match parse_hhmm(&k.business_day_rollover) {
        Some(m) if m < 24 * 60 => {}
        _ => {
            return fail(
                p.key("business_day_rollover"),
                format!(
                    "\"{}\" is not a time of day; write it as \"HH:MM\" between 00:00 and 23:59, e.g. \"04:00\".",
                    k.business_day_rollover
                ),
            );
        }
    }
    if k.languages.is_empty() {
        return fail(p.key("languages"), "At least one UI language is needed: \"zh-CN\", \"en\" or both.");
    }
    for (i, lang) in k.languages.iter().enumerate() {
        if !matches!(lang.as_str(), "zh-CN" | "en") {
            return fail(
                p.clone().key("languages").index(i),
                format!("\"{lang}\" is not a supported language; use \"zh-CN\" or \"en\"."),
            );
        }
        if k.languages[..i].contains(lang) {
            return fail(
                p.clone().key("languages").index(i),
                format!("\"{lang}\" is listed twice; list each language once."),
            );
        }
    }
    Ok(())
}

fn check_journal(c: &Config) -> Result<(), Problem> {
    let j = &c.journal;
    let p = root().key("journal");
    if j.path.as_os_str().is_empty() {
        return fail(
            p.key("path"),
            "The journal path is empty; give the SQLite file's path, e.g. \"/var/lib/kiosk/journal.sqlite3\".",
        );
    }
    if j.retention_days < 180 {
        return fail(
            p.key("retention_days"),
            format!(
                "{} days is too short: logs must be kept at least 180 days (Cybersecurity Law art. 21). Use 180 or more.",
                j.retention_days
            ),
        );
    }
    // What is written in an epoch is unprotected until it ends: neither may be zero or very long.
    for (key, value, max, unit, default) in [
        ("epoch_entries", j.epoch_entries, crate::MAX_EPOCH_ENTRIES, "entries", 200),
        ("epoch_minutes", j.epoch_minutes, crate::MAX_EPOCH_MINUTES, "minutes", 5),
    ] {
        if !(1..=max).contains(&value) {
            return fail(
                p.clone().key(key),
                format!(
                    "{value} {unit} per epoch is out of range: use 1–{max} ({default} by default); entries written in an epoch are unprotected until it ends."
                ),
            );
        }
    }
    let dir = j.path.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let files = [
        (p.clone().key("path"), j.path.clone(), "the journal"),
        (
            p.clone().key("secret_path"),
            j.secret_path.clone().unwrap_or_else(|| dir.join("subject.key")),
            "the subject key",
        ),
        (
            p.clone().key("signing_key_path"),
            j.signing_key_path.clone().unwrap_or_else(|| dir.join("checkpoint.ed25519")),
            "the signing key",
        ),
        (root().key("licence").key("store_path"), c.licence.store_path.clone(), "the documents store"),
    ];
    for (i, (field, path, what)) in files.iter().enumerate() {
        check_file_path(field, path, what)?;
        if let Some((_, _, other)) = files[..i].iter().find(|(_, earlier, _)| same_file(earlier, path)) {
            return fail(
                field.clone(),
                format!("{} is {} as well: each needs a file of its own.", path.display(), other),
            );
        }
    }
    let (head, tail) = j.id_mask_keep;
    if usize::from(head) + usize::from(tail) > 10 {
        return fail(
            p.key("id_mask_keep"),
            format!(
                "Keeping {head} + {tail} characters of an 18-character ID number shows too much; keep at most 10 in all, e.g. [3, 4]."
            ),
        );
    }
    Ok(())
}

/// Two paths that name one file: the same text, or (when it exists) the same file once links are followed.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// A path the kiosk will create or open as a regular file of its own: nothing there yet, or a regular file
/// (possibly through a symlink that resolves). Checked without creating anything.
fn check_file_path(field: &FieldPath, path: &std::path::Path, what: &str) -> Result<(), Problem> {
    let bad = |why: String| fail(field.clone(), format!("{} ({what}) {why}", path.display()));
    // A relative path would depend on the folder the kiosk happened to start in (systemd starts it in /).
    if path.is_relative() {
        return bad("is a relative path; give the whole path from /, such as /var/lib/kiosk/journal.sqlite3.".into());
    }
    if ["/proc", "/sys", "/dev"].iter().any(|sys| path.starts_with(sys)) {
        return bad(
            "is under /proc, /sys or /dev, which hold no files of ours; use a folder such as /var/lib/kiosk.".into()
        );
    }
    if let Ok(link) = std::fs::symlink_metadata(path) {
        match std::fs::metadata(path) {
            Err(e) if link.file_type().is_symlink() => {
                return bad(format!(
                    "is a symbolic link to a file that cannot be reached ({e}); point it at the file or remove it."
                ));
            }
            Err(e) => return bad(format!("cannot be examined ({e}).")),
            Ok(m) if m.is_dir() => return bad("is a folder, not a file; name a file inside it.".into()),
            Ok(m) if !m.is_file() => {
                return bad("is a device or special file, not a regular file; name a file in a folder of ours.".into());
            }
            Ok(_) => {}
        }
    }
    let mut ancestor = path.parent();
    while let Some(a) = ancestor {
        if let Ok(m) = std::fs::metadata(a) {
            if !m.is_dir() {
                return bad(format!("lies under {}, which is a file, not a folder.", a.display()));
            }
            break;
        }
        ancestor = a.parent();
    }
    Ok(())
}

/// An absolute path without spaces: /dev/ttyUSB0, a udev link under /dev/serial/by-id/, or a test's pty link.
fn plausible_device_path(s: &str) -> bool {
    s.starts_with('/') && s.len() > 1 && !s.ends_with('/') && !s.contains(char::is_whitespace)
}

fn check_devices(c: &Config) -> Result<(), Problem> {
    let d = &c.devices;
    let p = root().key("devices");

    let r = &d.id_reader;
    let rp = p.clone().key("id_reader");
    if r.port != "simulated" && !plausible_device_path(&r.port) {
        return fail(
            rp.key("port"),
            format!("\"{}\" is neither \"simulated\" nor a serial device path such as \"/dev/ttyUSB0\".", r.port),
        );
    }
    if !BAUDS.contains(&r.baud) {
        return fail(
            rp.key("baud"),
            format!("{} is not a serial speed readers use; ID-card readers normally run at 115200.", r.baud),
        );
    }
    if !(50..=5_000).contains(&r.poll_interval_ms) {
        return fail(
            rp.key("poll_interval_ms"),
            format!("{} ms is outside 50–5000 ms; 250 ms is a good default.", r.poll_interval_ms),
        );
    }

    let t = &d.ticket_printer;
    let tp = p.clone().key("ticket_printer");
    match t.transport {
        PrinterTransport::Simulated => {}
        PrinterTransport::Tcp => {
            let Some(addr) = &t.address else {
                return fail(
                    tp.key("address"),
                    "The tcp transport needs `address` as host:port, e.g. \"192.0.2.10:9100\".",
                );
            };
            let ok = addr
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return fail(
                    tp.key("address"),
                    format!("\"{addr}\" is not host:port; write it like \"192.0.2.10:9100\"."),
                );
            }
        }
        PrinterTransport::Serial | PrinterTransport::UsbLp => {
            let example = if t.transport == PrinterTransport::Serial { "/dev/ttyS1" } else { "/dev/usb/lp0" };
            match &t.path {
                None => {
                    return fail(
                        tp.key("path"),
                        format!("This transport needs `path`, the printer's device file, e.g. \"{example}\"."),
                    );
                }
                Some(path) if !plausible_device_path(&path.to_string_lossy()) => {
                    return fail(
                        tp.key("path"),
                        format!("\"{}\" is not a device path such as \"{example}\".", path.display()),
                    );
                }
                Some(_) => {}
            }
            if t.transport == PrinterTransport::Serial && !BAUDS.contains(&t.baud) {
                return fail(
                    tp.key("baud"),
                    format!("{} is not a standard serial speed; thermal printers use e.g. 9600 or 115200.", t.baud),
                );
            }
        }
    }
    if !matches!(t.paper_width_mm, 58 | 80) {
        return fail(
            tp.key("paper_width_mm"),
            format!("{} mm paper is not supported; use 58 or 80.", t.paper_width_mm),
        );
    }
    if !PRINTER_MODELS.contains(&t.model.as_str()) {
        return fail(
            tp.key("model"),
            format!(
                "\"{}\" is not a known printer model; use one of {} (\"generic-80\" if unsure).",
                t.model,
                PRINTER_MODELS.join(", ")
            ),
        );
    }

    let l = &d.licence_printer;
    if l.uri != "simulated"
        && let Err(e) = drivers::ipp::parse_uri(&l.uri)
    {
        return fail(p.clone().key("licence_printer").key("uri"), format!("{e} Or write \"simulated\"."));
    }
    if !(10..=3600).contains(&l.job_timeout_s) {
        return fail(
            p.key("licence_printer").key("job_timeout_s"),
            format!("{} seconds is out of range; allow 10 to 3600 seconds for a job to finish.", l.job_timeout_s),
        );
    }
    Ok(())
}

fn check_licence(c: &Config) -> Result<(), Problem> {
    let l = &c.licence;
    let p = root().key("licence");
    if l.platform_url.is_some() {
        return fail(
            p.key("platform_url"),
            "The platform's address has moved to [platform] url, and must be https:// with ca_file or pin (see config/kiosk.toml).",
        );
    }
    if l.platform_token_file.is_some() {
        return fail(p.key("platform_token_file"), "The platform token has moved to [platform] token_file.");
    }
    if l.source == super::DocumentSourceKind::Platform && c.platform.url.is_none() {
        return fail(
            p.key("source"),
            "With source = \"platform\" set [platform] url to the platform's https:// address (see config/kiosk.toml).",
        );
    }
    if !l.verify_url.contains("{document_id}") {
        return fail(
            p.key("verify_url"),
            "The verification address must contain {document_id}, which is replaced by each document's id.",
        );
    }
    if let Some(f) = &l.font
        && !f.is_file()
    {
        return fail(
            p.key("font"),
            format!("The font file {} does not exist; install fonts-noto-cjk or correct the path.", f.display()),
        );
    }
    Ok(())
}

fn check_platform(c: &Config) -> Result<(), Problem> {
    let pl = &c.platform;
    let p = root().key("platform");
    if let Some(url) = &pl.url {
        let endpoint = net::Endpoint::parse(url).map_err(|e| Problem {
            path: p.clone().key("url"),
            message: format!("{e}/kiosk-api, the platform's address."),
        })?;
        if !endpoint.tls {
            return fail(
                p.key("url"),
                "http:// is refused: ID numbers must not cross a network in clear. Write the platform's https:// address and set ca_file or pin.",
            );
        }
        if pl.ca_file.is_none() && pl.pin.is_none() {
            return fail(
                p.key("ca_file"),
                "Set ca_file to the PEM file of the CA that issued the platform's certificate (or pin to its sha256 fingerprint), so that the kiosk knows whom it talks to.",
            );
        }
    }
    if let Some(pin) = &pl.pin
        && let Err(e) = net::tls::parse_pin(pin)
    {
        return fail(p.key("pin"), format!("{e}."));
    }
    if let Some(ca) = &pl.ca_file
        && let Err(e) = net::tls::load_certs(ca)
    {
        return fail(p.key("ca_file"), format!("{e}."));
    }
    let a = &c.appointments;
    for (key, v) in [("early_minutes", a.early_minutes), ("late_minutes", a.late_minutes)] {
        if v > 240 {
            return fail(
                root().key("appointments").key(key),
                format!("{v} minutes is out of range; allow 0 to 240 (30 early and 15 late are the defaults)."),
            );
        }
    }
    if let Some(u) = &pl.case_url
        && (!u.starts_with("https://")
            || !u.contains("{number}")
            || u.chars().any(char::is_whitespace)
            || u.len() > 300)
    {
        return fail(
            p.key("case_url"),
            "Give an https:// address of at most 300 characters with {number} where the case number goes, e.g. \"https://zwfw.example.gov.cn/case/{number}\".",
        );
    }
    if !(1..=30).contains(&pl.timeout_seconds) {
        return fail(
            p.key("timeout_seconds"),
            format!("{} seconds is out of range; allow 1 to 30 seconds (4 is the default).", pl.timeout_seconds),
        );
    }
    if let Some(t) = &pl.token_file
        && !t.is_file()
    {
        return fail(
            p.key("token_file"),
            format!(
                "The token file {} does not exist; ask the county office for the kiosk's platform token.",
                t.display()
            ),
        );
    }
    Ok(())
}

/// `[queue] shared`: a database address the kiosk can use, a hall name, and an offline band clear of every
/// category's own numbers.
fn check_shared_queue(
    s: &super::SharedQueue,
    categories: &[super::CategoryConfig],
    p: FieldPath,
) -> Result<(), Problem> {
    if let Err(e) = s.db.parse::<postgres::Config>() {
        return fail(
            p.key("db"),
            format!(
                "\"{}\" is not a PostgreSQL address ({e}); write e.g. \"postgres://kiosk@hall-db/kiosk_fleet\".",
                s.db
            ),
        );
    }
    if let Some(ca) = &s.ca_file
        && !ca.is_file()
    {
        return fail(
            p.key("ca_file"),
            format!(
                "{} is not a file; give the CA certificate (PEM) that issued the hall database's certificate.",
                ca.display()
            ),
        );
    }
    if s.hall.trim().is_empty() || s.hall.len() > 64 || s.hall.chars().any(char::is_control) {
        return fail(
            p.key("hall"),
            "Name the hall in at most 64 characters, the same on every kiosk of the hall, e.g. \"linshu-county\".",
        );
    }
    let [first, last] = s.offline_band;
    if !(1..=9999).contains(&first) || !(1..=9999).contains(&last) || last < first {
        return fail(
            p.key("offline_band"),
            format!("[{first}, {last}] is not a band: write [first, last] within 1–9999, e.g. [900, 999]."),
        );
    }
    if let Some(cat) = categories.iter().find(|c| first <= c.last && c.first <= last) {
        return fail(
            p.key("offline_band"),
            format!(
                "The offline band {first}–{last} overlaps category {}'s numbers ({}–{}); a kiosk's offline numbers must be ones the hall never gives, e.g. above every category's `last`.",
                cat.prefix, cat.first, cat.last
            ),
        );
    }
    if !(1..=3600).contains(&s.retry_seconds) {
        return fail(p.key("retry_seconds"), "Try the hall database again after 1 to 3600 seconds (10 by default).");
    }
    Ok(())
}

fn check_queue(c: &Config) -> Result<(), Problem> {
    let q = &c.queue;
    let p = root().key("queue");
    let url = &q.rating_url;
    if !url.is_empty() {
        let placeholders: Vec<&str> = url.match_indices('{').map(|(i, _)| &url[i..]).collect();
        let only_ticket_id =
            placeholders.iter().all(|p| p.starts_with("{ticket_id}")) && url.matches('}').count() == placeholders.len();
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || !url.contains("{ticket_id}")
            || !only_ticket_id
            || url.len() > 200
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return fail(
                p.clone().key("rating_url"),
                format!(
                    "\"{url}\" is not a rating link: write an http(s) address of at most 200 characters with {{ticket_id}} where the ticket goes, e.g. \"https://zwfw.example.gov.cn/rate/{{ticket_id}}\"."
                ),
            );
        }
    }
    if !(50..=120).contains(&q.priority_age) {
        return fail(
            p.key("priority_age"),
            format!("{} is not a plausible priority age; use a value from 50 to 120, e.g. 65.", q.priority_age),
        );
    }
    if q.categories.is_empty() {
        return fail(p.key("categories"), "No queue categories are configured; add at least one [[queue.categories]].");
    }
    if let Some(shared) = &q.shared {
        check_shared_queue(shared, &q.categories, p.clone().key("shared"))?;
    }
    for (i, cat) in q.categories.iter().enumerate() {
        let cp = p.clone().key("categories").index(i);
        if cat.prefix.is_empty() || cat.prefix.len() > 2 || !cat.prefix.chars().all(|ch| ch.is_ascii_uppercase()) {
            return fail(
                cp.key("prefix"),
                format!("\"{}\" is not a prefix; use one or two capital letters, e.g. \"A\".", cat.prefix),
            );
        }
        if let Some(j) = q.categories[..i].iter().position(|o| o.prefix == cat.prefix) {
            return fail(
                cp.key("prefix"),
                format!(
                    "The prefix \"{}\" is already used by category {j} ({}); give every category its own prefix.",
                    cat.prefix, q.categories[j].name_zh
                ),
            );
        }
        if cat.name_zh.trim().is_empty() || cat.name_en.trim().is_empty() {
            let which = if cat.name_zh.trim().is_empty() { "name_zh" } else { "name_en" };
            return fail(cp.key(which), "The category name is empty; citizens choose categories by name.");
        }
        for (which, name, max) in
            [("name_zh", &cat.name_zh, MAX_CATEGORY_NAME_ZH), ("name_en", &cat.name_en, MAX_CATEGORY_NAME_EN)]
        {
            if let Some(why) = too_long_to_show(name, max) {
                return fail(
                    cp.clone().key(which),
                    format!("The category name {why}; its button and the ticket show it whole."),
                );
            }
        }
        if !(1..=9999).contains(&cat.first) {
            return fail(cp.key("first"), format!("{} is outside the number range 1–9999.", cat.first));
        }
        if !(1..=9999).contains(&cat.last) || cat.last < cat.first {
            return fail(
                cp.key("last"),
                format!("{} must be within 1–9999 and not below `first` ({}).", cat.last, cat.first),
            );
        }
        for (j, other) in q.categories[..i].iter().enumerate() {
            if cat.first <= other.last && other.first <= cat.last {
                return fail(
                    cp.key("first"),
                    format!(
                        "The band {}–{} overlaps category {j} ({}, {}–{}); give each category its own numbers.",
                        cat.first, cat.last, other.prefix, other.first, other.last
                    ),
                );
            }
        }
        if cat.hours.is_empty() {
            return fail(cp.key("hours"), "No opening hours are given; use [\"00:00-24:00\"] for round the clock.");
        }
        for (h, hours) in cat.hours.iter().enumerate() {
            if super::validate::parse_hours(hours).is_none() {
                return fail(
                    cp.clone().key("hours").index(h),
                    format!(
                        "\"{hours}\" is not an opening time range; write \"HH:MM-HH:MM\" with the start before the end, e.g. \"08:30-12:00\"."
                    ),
                );
            }
        }
        if !(1..=120).contains(&cat.service_minutes) {
            return fail(
                cp.key("service_minutes"),
                format!(
                    "{} minutes is outside 1–120; say how long one ticket usually takes (5 by default).",
                    cat.service_minutes
                ),
            );
        }
        for (key, window) in [("window_zh", &cat.window_zh), ("window_en", &cat.window_en)] {
            if window.chars().count() > 40 || window.chars().any(char::is_control) {
                return fail(cp.key(key), "Where to wait is one short line (at most 40 characters) on the ticket.");
            }
        }
        for (d, day) in cat.days.iter().enumerate() {
            if !WEEKDAYS.contains(&day.as_str()) {
                return fail(
                    cp.clone().key("days").index(d),
                    format!("\"{day}\" is not a weekday; use mon, tue, wed, thu, fri, sat or sun."),
                );
            }
        }
    }
    Ok(())
}

fn check_ui_admin(c: &Config) -> Result<(), Problem> {
    if !(15..=600).contains(&c.ui.idle_timeout_s) {
        return fail(
            root().key("ui").key("idle_timeout_s"),
            format!("{} s is outside 15–600 s; 60 s suits most halls (elder mode doubles it).", c.ui.idle_timeout_s),
        );
    }
    if !(1..=60).contains(&c.ui.assistance_minutes) {
        return fail(
            root().key("ui").key("assistance_minutes"),
            format!(
                "{} minutes is outside 1–60; say how long staff usually take to come (3 by default).",
                c.ui.assistance_minutes
            ),
        );
    }
    if let Some(logo) = &c.ui.logo {
        let field = root().key("ui").key("logo");
        check_file_path(&field, logo, "the hall's logo")?;
        let known =
            logo.extension().and_then(|e| e.to_str()).is_some_and(|e| ["png", "svg", "jpg", "jpeg"].contains(&e));
        if !known {
            return fail(
                field,
                format!("{} is not a PNG, SVG or JPEG file; name the logo file with its type.", logo.display()),
            );
        }
        if !logo.is_file() {
            return fail(
                field,
                format!("{} (the hall's logo) does not exist; copy the logo there or remove `logo`.", logo.display()),
            );
        }
    }
    let v = &c.voice;
    if v.volume > 100 {
        return fail(
            root().key("voice").key("volume"),
            format!("{} is above 100; use 0–100 (80 by default).", v.volume),
        );
    }
    for (key, name) in [("voice_zh", &v.voice_zh), ("voice_en", &v.voice_en)] {
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_+".contains(ch))
        {
            return fail(
                root().key("voice").key(key),
                format!("\"{name}\" is not a voice name; use letters, digits and -_+ (see `espeak-ng --voices`)."),
            );
        }
    }
    let a = &c.admin;
    let p = root().key("admin");
    let Ok(listen) = a.listen.parse::<std::net::SocketAddr>() else {
        return fail(
            p.key("listen"),
            format!("\"{}\" is not an address:port to listen on, e.g. \"127.0.0.1:8080\".", a.listen),
        );
    };
    match (&a.tls_cert, &a.tls_key) {
        (Some(_), None) => return fail(p.key("tls_cert"), "tls_cert is set without tls_key; set both, or neither."),
        (None, Some(_)) => return fail(p.key("tls_key"), "tls_key is set without tls_cert; set both, or neither."),
        (Some(cert), Some(key)) => {
            check_file_path(&p.clone().key("tls_cert"), cert, "the staff API certificate")?;
            check_file_path(&p.clone().key("tls_key"), key, "the staff API key")?;
            if same_file(cert, key) {
                return fail(p.key("tls_key"), "The certificate and the key need a file each.");
            }
        }
        (None, None) if !listen.ip().is_loopback() => {
            return fail(
                p.key("listen"),
                format!(
                    "{listen} is reachable from the network, and the staff API carries tokens and citizens' records: \
                     set tls_cert and tls_key (make them with `kiosk admin gen-cert --config <file>`), or listen on 127.0.0.1."
                ),
            );
        }
        (None, None) => {}
    }
    if a.token_hashes.is_some() {
        return fail(
            p.key("token_hashes"),
            "token_hashes has become one [[admin.tokens]] table per token, each with a name, a role \
             (counter, staff or technician) and its hash; see config/kiosk.toml, then remove token_hashes.",
        );
    }
    if a.credentials_file.is_some() {
        if !a.maintenance_pin_hash.is_empty() {
            return fail(
                p.key("maintenance_pin_hash"),
                "The PIN hash is in credentials_file; remove it here so there is one place to change it.",
            );
        }
        if !a.tokens.is_empty() {
            return fail(
                p.key("tokens"),
                "The tokens are in credentials_file; move these [[admin.tokens]] there so there is one place to change them.",
            );
        }
        return Ok(());
    }
    check_credentials(&a.tokens, &a.maintenance_pin_hash, &p)
}

/// The tokens and the PIN hash, wherever they are written (`p`: their section, empty for a credentials file).
pub fn check_credentials(tokens: &[crate::TokenConfig], pin_hash: &str, p: &FieldPath) -> Result<(), Problem> {
    let mut names = std::collections::HashSet::new();
    let mut hashes = std::collections::HashSet::new();
    for (i, t) in tokens.iter().enumerate() {
        let at = p.clone().key("tokens").index(i);
        if t.name.is_empty() || t.name.chars().count() > 64 || t.name.chars().any(char::is_control) {
            return fail(at.key("name"), "A token's name is 1 to 64 printable characters, e.g. \"counter-3\".");
        }
        if !names.insert(t.name.as_str()) {
            return fail(at.key("name"), format!("Two tokens are named \"{}\"; give each its own name.", t.name));
        }
        let ok = t
            .hash
            .strip_prefix("sha256:")
            .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|ch| ch.is_ascii_hexdigit()));
        if !ok {
            return fail(
                at.key("hash"),
                "A token hash must be \"sha256:\" followed by 64 hex digits; create one with `kiosk admin hash-token`.",
            );
        }
        if !hashes.insert(t.hash.to_ascii_lowercase()) {
            return fail(at.key("hash"), "This token is listed twice; a token has exactly one role.");
        }
    }
    let iterations = pin_hash.split(':').nth(1).and_then(|n| n.parse::<u64>().ok());
    if iterations.is_some_and(|n| n > u64::from(vocabulary::secrets::MAX_PIN_ITERATIONS)) {
        return fail(
            p.clone().key("maintenance_pin_hash"),
            format!(
                "The PIN hash asks for {} PBKDF2 iterations; more than {} would keep the maintenance screen busy for minutes at every login. Create a hash with `kiosk admin hash-pin`.",
                iterations.unwrap_or_default(),
                vocabulary::secrets::MAX_PIN_ITERATIONS
            ),
        );
    }
    if !valid_pin_hash(pin_hash) {
        return fail(
            p.clone().key("maintenance_pin_hash"),
            "The PIN hash must look like \"pbkdf2-sha256:<iterations>:<salt hex>:<64 hex digits>\"; create one with `kiosk admin hash-pin`.",
        );
    }
    Ok(())
}

fn valid_pin_hash(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let hex = |x: &str| !x.is_empty() && x.len().is_multiple_of(2) && x.chars().all(|ch| ch.is_ascii_hexdigit());
    matches!(parts.as_slice(), ["pbkdf2-sha256", iters, salt, hash]
        if iters.parse::<u32>().is_ok_and(|n| n >= 10_000) && hex(salt) && salt.len() >= 16 && hash.len() == 64 && hex(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse() {
        assert_eq!(parse_hours("08:30-12:00"), Some((510, 720)));
        assert_eq!(parse_hours("00:00-24:00"), Some((0, 1440)));
        assert_eq!(parse_hours("12:00-08:00"), None);
        assert_eq!(parse_hours("8:30-12:00"), None);
        assert_eq!(parse_hhmm("23:60"), None);
    }

    /// The shipped configuration with `[platform]`'s lines replaced by `lines`; the error's field and text.
    fn platform_problem(lines: &str) -> Option<(String, String)> {
        let src = crate::DEMO_TOML.replace("[platform]\n", &format!("[platform]\n{lines}\n"));
        match crate::Config::parse(&src, std::path::Path::new("kiosk.toml")) {
            Ok(_) => None,
            Err(crate::ConfigError::Invalid(l)) => Some((l.field.clone(), l.message.clone())),
            Err(e) => Some((String::new(), e.to_string())),
        }
    }

    #[test]
    fn the_platform_is_https_with_a_certificate_to_trust() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, net::tls::generate("t", &["localhost".into()], 1).unwrap().cert_pem).unwrap();
        let ca = format!("ca_file = \"{}\"", pem.display());
        assert_eq!(platform_problem(&format!("url = \"https://zwfw.example:9443/kiosk-api\"\n{ca}")), None);
        let pin = format!("pin = \"sha256:{}\"", "ab".repeat(32));
        assert_eq!(platform_problem(&format!("url = \"https://10.20.0.5\"\n{pin}")), None);

        let (field, msg) = platform_problem(&format!("url = \"http://10.20.0.5:8090/kiosk-api\"\n{ca}")).unwrap();
        assert_eq!(field, "platform.url");
        assert!(msg.contains("http:// is refused") && msg.contains("in clear"), "{msg}");
        let (field, msg) = platform_problem("url = \"https://10.20.0.5\"").unwrap();
        assert_eq!(field, "platform.ca_file");
        assert!(msg.contains("ca_file") && msg.contains("pin"), "{msg}");
        let (field, _) = platform_problem("url = \"zwfw.example\"").unwrap();
        assert_eq!(field, "platform.url");
        let (field, msg) = platform_problem("pin = \"sha256:abc\"").unwrap();
        assert_eq!(field, "platform.pin");
        assert!(msg.contains("not a certificate fingerprint"), "{msg}");
        let (field, msg) =
            platform_problem(&format!("ca_file = \"{}\"", dir.path().join("none.pem").display())).unwrap();
        assert_eq!(field, "platform.ca_file");
        assert!(msg.contains("none.pem"), "{msg}");
        let src = crate::DEMO_TOML.replace("timeout_seconds = 4", "timeout_seconds = 0");
        let Err(crate::ConfigError::Invalid(l)) = crate::Config::parse(&src, "k".as_ref()) else {
            panic!("a zero timeout is refused")
        };
        assert_eq!(l.field, "platform.timeout_seconds");

        // The old keys say where they went.
        let src = crate::DEMO_TOML.replace(
            "store_path = \"/var/lib/kiosk/documents.sqlite3\"\n",
            "store_path = \"/var/lib/kiosk/documents.sqlite3\"\nplatform_url = \"http://10.20.0.5:8090\"\n",
        );
        let Err(crate::ConfigError::Invalid(l)) = crate::Config::parse(&src, "k".as_ref()) else {
            panic!("the old key is refused")
        };
        assert_eq!(l.field, "licence.platform_url");
        assert!(l.message.contains("[platform] url"), "{}", l.message);
    }
}
