//! `kiosk journal stats`: the county's figures from the journal file, as the staff API gives them — here
//! the ratings per level with 好评率 per day, flow and category.

use crate::support::{config_in, kiosk, run};

#[test]
fn journal_stats_give_the_good_rate_per_day_flow_and_category() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    {
        let cfg = kiosk::config::Config::load(&config).unwrap();
        let journal = kiosk::journal::Journal::open(kiosk::journal::JournalSettings::from_config(&cfg)).unwrap();
        for (level, tx) in [
            (5, kiosk::flows::core::Transaction::Ticket { ticket_id: "k-20261127-A001".into() }),
            (2, kiosk::flows::core::Transaction::Ticket { ticket_id: "k-20261127-B1001".into() }),
            (4, kiosk::flows::core::Transaction::CaseQuery { case_number: "202611200123".into() }),
        ] {
            let entry = kiosk::journal::payload::Evaluation {
                transaction: tx,
                level,
                level_name: String::new(),
                reason: None,
                channel: kiosk::journal::payload::Channel::Kiosk,
                follow_up: level <= 2,
                contact_masked: None,
            };
            journal.append(entry.into()).unwrap();
        }
    }
    let (code, out, err) = run(kiosk().args(["journal", "stats", "--config"]).arg(&config));
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let day = v["from"].as_str().unwrap().to_owned();
    assert_eq!(v["ratings_by_day"][&day]["levels"], serde_json::json!({"2": 1, "4": 1, "5": 1}), "{v}");
    assert_eq!(v["ratings_by_flow"]["ticket"]["good_rate"], serde_json::json!(0.5), "{v}");
    assert_eq!(v["ratings_by_flow"]["case_query"]["good_rate"], serde_json::json!(1.0), "{v}");
    assert_eq!(v["ratings_by_category"]["B"]["good_rate"], serde_json::json!(0.0), "{v}");
    let (code, _, err) = run(kiosk().args(["journal", "stats", "--from", "2026-13-01", "--config"]).arg(&config));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}
