//! Licence printing speed: render time per template (median) and PDF size, against a one-line PDF with the
//! same embedded font; and card-on to job accepted (look-up, render, printer check, journal, Print-Job) on
//! the demo's A4 printer, against rendering alone.

use kiosk::config::Config;
use kiosk::journal::{Journal, JournalSettings};
use kiosk::licence::template::Template;
use kiosk::licence::{Licences, PdfFont, RenderInput, Templates, render};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::var("KIOSK_BENCH_RENDERS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    let font = PdfFont::find(None, None).expect("a CJK font (fonts-wqy-microhei or fonts-noto-cjk)");
    let templates = Templates::builtin().unwrap();
    let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    let one_line = Template::parse(
        "type = \"baseline\"\ntitle_zh = \"x\"\ntitle_en = \"x\"\nnumber_field = \"n\"\nrequired = [\"n\"]\n\
         [[item]]\nkind = \"text\"\ntext = \"证明 {n}\"\nx_mm = 20\ny_mm = 20\nsize_pt = 12\n",
        "baseline",
        None,
    )
    .unwrap();
    let base_data = BTreeMap::from([("n".to_string(), "1".to_string())]);
    let base_input =
        RenderInput { document_id: "B", data: &base_data, verify_url: "u", kiosk_id: "bench", printed_at: &now };
    let base = median((0..n).map(|_| time(|| render(&one_line, &base_input, &font).unwrap())).collect());

    for line in kiosk::licence::SAMPLE_DOCUMENTS.lines().take(3) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let doc_type = v["type"].as_str().unwrap();
        let data: BTreeMap<String, String> =
            v["data"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
        let t = templates.get(doc_type).unwrap();
        let input = RenderInput {
            document_id: v["id"].as_str().unwrap(),
            data: &data,
            verify_url: "https://zwfw.example.invalid/verify/x",
            kiosk_id: "bench",
            printed_at: &now,
        };
        let size = render(t, &input, &font).unwrap().len();
        let ms = median((0..n).map(|_| time(|| render(t, &input, &font).unwrap())).collect());
        println!(
            "bench licence_render_{doc_type}: {ms:.1} ms median, {:.1} KiB (baseline one-line PDF, same font: {base:.1} ms, ratio {:.2}, goal report)",
            size as f64 / 1024.0,
            ms / base
        );
    }

    // Card on the reader → job accepted by the printer, everything the kiosk does in between.
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo(dir.path());
    let samples = dir.path().join("samples.jsonl");
    std::fs::write(&samples, kiosk::licence::SAMPLE_DOCUMENTS).unwrap();
    kiosk::cli::import_file(&config, &samples).unwrap();
    let journal = Journal::open(JournalSettings::from_config(&config)).unwrap();
    let licences = Licences::from_config(&config, journal).unwrap();
    let runs = 20;
    let mut ours = vec![];
    let mut render_only = vec![];
    for _ in 0..runs {
        let t = Instant::now();
        let docs = licences.documents_for("371329198812122020").unwrap();
        let bl = docs.iter().find(|d| d.document.doc_type == "business_licence").unwrap();
        licences.print(&bl.document, 1, "bench", |_| {}).unwrap();
        ours.push(t.elapsed());
        render_only.push(time(|| licences.render(&bl.document).unwrap()));
        // The document allows 5 copies: free the allowance so every run prints.
        licences_reset(&config);
    }
    let (o, r) = (median(ours), median(render_only));
    println!(
        "bench licence_card_to_job_accepted: {o:.1} ms median (simulated A4 printer; baseline render alone: {r:.1} ms, ratio {:.2}, goal report)",
        o / r
    );
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    std::hint::black_box(f());
    t.elapsed()
}

/// Clears the bench's copy reservations so every run prints (the journal's entries stay).
fn licences_reset(config: &Config) {
    let conn = rusqlite::Connection::open(&config.journal.path).unwrap();
    conn.execute("DELETE FROM licence_prints", []).unwrap();
}
