//! Search as you type over a 5,000-item catalogue: every keystroke of a set of typed queries (initials,
//! full pinyin, Chinese, common names), p50/p99 per keystroke, against a plain linear substring scan of the
//! same names for the same keystrokes in the same run. Goal: p99 ≤ 1 ms.

use kiosk::catalogue::Catalogue;
use kiosk::catalogue::search::Index;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn main() {
    let sample = Catalogue::sample();
    // 5,000 items: the sample's, each also as a town's own variant (names differ, materials are shared).
    let towns = [
        "",
        "临沭街道",
        "郑山街道",
        "蛟龙镇",
        "青云镇",
        "玉山镇",
        "石门镇",
        "曹庄镇",
        "南古镇",
        "白旄镇",
        "店头镇",
        "大兴镇",
        "朱仓镇",
        "石门",
        "县城",
        "东区",
        "西区",
    ];
    let mut items = vec![];
    'fill: for town in towns {
        for it in &sample.items {
            let mut it = it.clone();
            it.name = format!("{town}{}", it.name);
            it.code = format!("{}-{}", it.code, items.len());
            items.push(it);
            if items.len() == 5000 {
                break 'fill;
            }
        }
    }
    assert_eq!(items.len(), 5000);
    let t = Instant::now();
    let index = Index::build(&items);
    let build = t.elapsed();
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    let typed = [
        "bdcdj",
        "budongchan",
        "sbk",
        "shebaoka",
        "jsz",
        "hz",
        "hukou",
        "cszm",
        "yljz",
        "qqqq",
        "gjj",
        "ylbx",
        "不动产",
        "身份证",
        "房产证",
        "xsez",
        "tyjr",
        "cjr",
        "qygs",
        "gtgsh",
        "spjy",
        "zfgjj",
        "yibao",
        "dibao",
    ];
    let rounds = 20;
    let (mut ours, mut scan) = (vec![], vec![]);
    let mut hits = 0usize;
    for _ in 0..rounds {
        for q in typed {
            let mut prefix = String::new();
            for c in q.chars() {
                prefix.push(c);
                let t = Instant::now();
                let found = index.search(&prefix, kiosk::flows::find::RESULTS);
                ours.push(t.elapsed());
                hits += found.hits.len();
                let t = Instant::now();
                let n = names.iter().filter(|n| n.contains(prefix.as_str())).take(kiosk::flows::find::RESULTS).count();
                scan.push(t.elapsed());
                hits += n;
            }
        }
    }
    ours.sort();
    scan.sort();
    let (p50, p99, max) = (percentile(&ours, 0.5), percentile(&ours, 0.99), percentile(&ours, 1.0));
    let (s50, s99) = (percentile(&scan, 0.5), percentile(&scan, 0.99));
    println!(
        "catalogue search, 5,000 items, {} keystrokes ({hits} hits), index built in {:.0} ms",
        ours.len(),
        build.as_secs_f64() * 1e3
    );
    println!(
        "  ours (pinyin, initials, common names, materials, ranked): p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms"
    );
    println!("  baseline (linear substring scan of the names):             p50 {s50:.3} ms, p99 {s99:.3} ms");
    println!(
        "  ratio p99 ours / baseline: {:.2}  (goal: p99 ≤ 1 ms: {})",
        p99 / s99,
        if p99 <= 1.0 { "met" } else { "NOT met" }
    );
}
