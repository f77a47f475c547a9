//! 打印办事指南: one item's guide as a thermal-printer document — the materials as a checklist with boxes to
//! tick, the time limits, the fee, where it can be done, and the online service as a QR. Pure: the item in,
//! ESC/POS blocks out.

use super::{Catalogue, Form, Item, Level, Online};
use drivers::escpos::{Align, Block, Document, Size};
use vocabulary::Named;

/// What the hall itself says about an item: the hall's name and where its counters for the item are.
#[derive(Debug, Clone, Default)]
pub struct Hall {
    pub name: String,
    /// The counters of the item's queue category in this hall (empty when the hall has none).
    pub window: Named,
}

pub fn form_zh(form: Form) -> &'static str {
    match form {
        Form::Original => "原件",
        Form::Copy => "复印件",
        Form::OriginalAndCopy => "原件及复印件",
    }
}

pub fn online_zh(online: Online) -> &'static str {
    match online {
        Online::Full => "全程网办",
        Online::Partial => "部分网办",
        Online::Offline => "线下办理",
    }
}

/// "即办" or "N 个工作日".
pub fn days_zh(days: u32) -> String {
    if days == 0 { "即办".into() } else { format!("{days} 个工作日") }
}

/// Where else in the county the item can be done, as lines (town centres, village stations).
pub fn levels_zh(item: &Item) -> Vec<&'static str> {
    let mut v = vec![];
    if item.levels.contains(&Level::Town) || item.levels.contains(&Level::Street) {
        v.push("各镇（街道）便民服务中心");
    }
    if item.levels.contains(&Level::Village) {
        v.push("各村（社区）便民服务站");
    }
    v
}

/// Where in the citizen's town: its centre, its village stations.
pub fn levels_in_town_zh(item: &Item, town: &str) -> Vec<String> {
    let mut v = vec![];
    if item.levels.contains(&Level::Town) || item.levels.contains(&Level::Street) {
        v.push(format!("{town}便民服务中心"));
    }
    if item.levels.contains(&Level::Village) {
        v.push(format!("{town}各村（社区）便民服务站"));
    }
    v
}

fn text(s: impl Into<String>) -> Block {
    Block::Text { text: s.into(), align: Align::Left, size: Size::Normal, bold: false }
}

fn bold(s: impl Into<String>) -> Block {
    Block::Text { text: s.into(), align: Align::Left, size: Size::Normal, bold: true }
}

/// The guide for `item`, printed at `time` (local, "YYYY-MM-DD HH:MM"); with the citizen's `town`, the places
/// there come first.
pub fn guide(catalogue: &Catalogue, item: &Item, hall: &Hall, town: Option<&str>, time: &str) -> Document {
    let mut b = vec![
        Block::Text { text: hall.name.clone(), align: Align::Center, size: Size::Normal, bold: true },
        Block::Text {
            text: "办事指南 Service guide".into(), align: Align::Center, size: Size::Double, bold: false
        },
        Block::Feed(1),
        Block::Text { text: item.name.clone(), align: Align::Left, size: Size::Normal, bold: true },
        text(format!("事项编码 {}", item.code)),
        text(format!("{} · {}", catalogue.department_name(&item.department), item.kind)),
        Block::Feed(1),
        bold("所需材料（请逐项打勾）Materials"),
    ];
    if item.materials.is_empty() {
        b.push(text("无需提交材料"));
    }
    for m in &item.materials {
        b.push(text(format!("□ {}（{}）× {}", m.name, form_zh(m.form), m.count)));
        if !m.note.is_empty() {
            b.push(text(format!("   {}", m.note)));
        }
    }
    b.push(Block::Feed(1));
    b.push(text(format!("法定时限 {}；承诺时限 {}", days_zh(item.legal_days), days_zh(item.promised_days))));
    b.push(text(format!("收费 {}", item.fee)));
    b.push(Block::Feed(1));
    b.push(bold("办理地点 Where"));
    if item.levels.contains(&Level::County) {
        let here =
            if hall.window.zh.is_empty() { hall.name.clone() } else { format!("{} {}", hall.name, hall.window.zh) };
        b.push(text(format!("· {here}")));
    }
    match town {
        Some(t) => {
            for l in levels_in_town_zh(item, t) {
                b.push(text(format!("· {l}")));
            }
        }
        None => {
            for l in levels_zh(item) {
                b.push(text(format!("· {l}")));
            }
        }
    }
    let mut points: Vec<_> = catalogue.points_in(item, town).collect();
    let all = catalogue.points_for(item).count();
    if town.is_some() {
        // The citizen's own town first, then (if room) others.
        points.extend(catalogue.points_for(item).filter(|p| Some(p.town.as_str()) != town));
    }
    if !points.is_empty() {
        b.push(text(format!("· 合作网点 {all} 处，例如：")));
        for p in points.iter().take(4) {
            b.push(text(format!("  {}（{}）{} {}", p.name, p.town, p.hours, p.phone)));
        }
    }
    b.push(Block::Feed(1));
    b.push(text(format!("网上办理 {}", online_zh(item.online))));
    if let Some(url) = catalogue.online_url(item) {
        b.push(text("扫码在网上办理 Scan to apply online"));
        b.push(Block::Qr { data: url, align: Align::Center });
    }
    if catalogue.header.sample {
        b.push(text("（样例目录，仅供演示 Sample catalogue）"));
    }
    b.push(Block::Text {
        text: format!("打印时间 Printed {time}"),
        align: Align::Center,
        size: Size::Normal,
        bold: false,
    });
    b.push(Block::Feed(3));
    b.push(Block::Cut);
    Document { blocks: b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_lists_every_material_with_a_box_and_says_where() {
        let c = Catalogue::sample();
        let item = c.item("371329-ZR-001").unwrap();
        let hall = Hall {
            name: "临沭县24小时政务服务大厅".into(), window: Named::new("二楼 不动产专区", "2nd floor")
        };
        let doc = guide(&c, item, &hall, None, "2026-11-27 09:00");
        let lines: Vec<&str> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        for m in &item.materials {
            assert!(lines.iter().any(|l| l.starts_with("□ ") && l.contains(&m.name)), "{} in {lines:?}", m.name);
        }
        assert!(lines.contains(&"法定时限 30 个工作日；承诺时限 5 个工作日"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("二楼 不动产专区")));
        assert!(
            doc.blocks.iter().any(|b| matches!(b, Block::Qr { data, .. } if data.ends_with("/item/371329-ZR-001")))
        );
        assert_eq!(doc.blocks.last(), Some(&Block::Cut));
        // Every line can be printed in GB18030.
        for l in lines {
            drivers::escpos::encode::gb18030(l).unwrap();
        }
    }

    #[test]
    fn with_the_citizens_town_its_centre_stations_and_points_come_first() {
        let c = Catalogue::sample();
        // An item a village station and partner points can do.
        let item = c
            .items
            .iter()
            .find(|i| i.levels.contains(&Level::Village) && c.points_for(i).count() > 1)
            .expect("the sample has a village item with partner points");
        let town = c.points_for(item).last().unwrap().town.clone();
        let hall = Hall { name: "临沭县24小时政务服务大厅".into(), window: Named::default() };
        let doc = guide(&c, item, &hall, Some(&town), "2026-11-27 09:00");
        let lines: Vec<&str> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(lines.contains(&format!("· {town}各村（社区）便民服务站").as_str()), "{lines:?}");
        let first_point = lines.iter().position(|l| l.starts_with("· 合作网点")).unwrap() + 1;
        assert!(lines[first_point].contains(&format!("（{town}）")), "{town} first: {lines:?}");
    }

    /// A catalogue whose fee text holds printer commands is refused where it is written (file, line,
    /// field), and if such text ever reached a guide anyway (a catalogue installed before this check), the
    /// printed stream holds one job and only the commands the kiosk chose: decoded with the project's own
    /// decoder, no second `ESC @`, no drawer kick, no cut but the guide's own.
    #[test]
    fn a_hostile_fee_text_is_refused_and_never_reaches_the_printer_as_commands() {
        use drivers::escpos::decode::{Command, Decoder};
        let hostile = "免费\u{1b}@\u{1b}p\u{0}\u{19}\u{fa}\u{1d}V\u{41}\u{0}";
        // In TOML the control characters are written as \uXXXX escapes.
        let toml_text: String = hostile
            .chars()
            .map(|c| if c.is_control() { format!("\\u{:04X}", c as u32) } else { c.to_string() })
            .collect();
        let src = crate::SAMPLE_CATALOGUE.replacen("fee = \"", &format!("fee = \"{toml_text}"), 1);
        assert_ne!(src, crate::SAMPLE_CATALOGUE, "the sample has a fee");
        let err = crate::parse_catalogue(&src, std::path::Path::new("catalogue.toml")).unwrap_err().to_string();
        assert!(err.contains("catalogue.toml:") && err.contains(".fee"), "names the place: {err}");
        assert!(err.contains("U+001B (ESC)") && err.contains("remove it"), "says why and what to do: {err}");

        let c = Catalogue::sample();
        let mut item = c.item("371329-ZR-001").unwrap().clone();
        item.fee = hostile.into();
        let hall = Hall { name: "临沭县24小时政务服务大厅".into(), window: Named::default() };
        let doc = guide(&c, &item, &hall, None, "2026-11-27 09:00");
        let profile = drivers::escpos::encode::Profile::named("generic-80", 80).unwrap();
        let bytes = drivers::escpos::encode::encode(&doc, &profile).unwrap();
        let mut decoder = Decoder::default();
        decoder.feed(&bytes);
        let commands: Vec<Command> = std::iter::from_fn(|| decoder.next_command()).collect();
        assert_eq!(commands.iter().filter(|c| **c == Command::Init).count(), 1, "one job");
        assert_eq!(commands.iter().filter(|c| **c == Command::Cut).count(), 1, "the guide's own cut only");
        assert!(!commands.iter().any(|c| matches!(c, Command::Unknown(_))), "{commands:?}");
        assert!(
            commands.iter().any(|c| matches!(c, Command::Line(l) if l.contains("免费@p"))),
            "the text is printed as text"
        );
    }
}
