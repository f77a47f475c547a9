//! `kiosk-county fleet report`: one self-contained HTML file (no script, no link out; charts as inline SVG drawn
//! by plotters) with the figures county staff read per town and per kiosk for a period: tickets, waits,
//! ratings and 好评率, licence prints, device faults and their duration, kiosks not heard from.
//! [`gather`] reads the views; [`render`] is pure.

use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One row of figures (a town's or a kiosk's) over the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub tickets: i64,
    /// Called tickets and their mean wait in minutes.
    pub called: i64,
    pub mean_wait_minutes: Option<f64>,
    pub ratings: i64,
    pub good: i64,
    pub licence_prints: i64,
    pub licence_copies: i64,
    pub licence_failures: i64,
    pub faults: i64,
    /// Minutes of faults that recovered within the county's copy; open faults are counted in `open_faults`.
    pub fault_minutes: f64,
    pub open_faults: i64,
}

impl Figures {
    /// 好评率: ratings 4 and 5 over all ratings.
    pub fn good_rate(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.good as f64 / self.ratings as f64)
    }
}

/// A kiosk's row: its town, figures and contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KioskRow {
    pub id: String,
    pub town: String,
    pub figures: Figures,
    /// Local time of the last answered pull, "YYYY-MM-DD HH:MM"; None: never.
    pub last_heard: Option<String>,
    pub hours_silent: Option<f64>,
    pub broken: Option<String>,
}

/// Everything the report shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportData {
    pub from: String,
    pub to: String,
    pub generated: String,
    pub kiosks: Vec<KioskRow>,
    /// Tickets per town per business day.
    pub daily: BTreeMap<String, BTreeMap<String, i64>>,
    /// Alerts raised in the period: (local time, kiosk, what).
    pub alerts: Vec<(String, String, String)>,
    /// Hours after which a kiosk counts as not heard from.
    pub silent_hours: f64,
    /// Entries of the period the figures leave out because their payload is not what their kind says:
    /// (kiosk, seq, kind, problem), at most [`LEFT_OUT_LISTED`], and how many there are in all.
    pub left_out: Vec<(String, i64, String, String)>,
    pub left_out_total: i64,
}

/// How many left-out entries the report lists one by one (the count covers the rest).
pub const LEFT_OUT_LISTED: i64 = 100;

impl ReportData {
    /// The kiosks' figures summed per town.
    pub fn towns(&self) -> BTreeMap<String, Figures> {
        let mut towns: BTreeMap<String, Figures> = BTreeMap::new();
        for k in &self.kiosks {
            let t = towns.entry(town_name(&k.town)).or_default();
            let f = &k.figures;
            let waits = t.mean_wait_minutes.unwrap_or(0.0) * t.called as f64
                + f.mean_wait_minutes.unwrap_or(0.0) * f.called as f64;
            t.tickets += f.tickets;
            t.called += f.called;
            t.mean_wait_minutes = (t.called > 0).then(|| waits / t.called as f64);
            t.ratings += f.ratings;
            t.good += f.good;
            t.licence_prints += f.licence_prints;
            t.licence_copies += f.licence_copies;
            t.licence_failures += f.licence_failures;
            t.faults += f.faults;
            t.fault_minutes += f.fault_minutes;
            t.open_faults += f.open_faults;
        }
        towns
    }
}

fn town_name(town: &str) -> String {
    if town.is_empty() { "（未填写 no town）".into() } else { town.to_owned() }
}

/// Reads the period's figures from the views. `from` and `to` are inclusive local dates (YYYY-MM-DD).
pub fn gather(
    client: &mut postgres::Client,
    from: &str,
    to: &str,
    silent_hours: f64,
) -> Result<ReportData, postgres::Error> {
    let mut data = ReportData {
        from: from.to_owned(),
        to: to.to_owned(),
        generated: jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC))
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        silent_hours,
        ..ReportData::default()
    };
    let (f, t) = (&from, &to);
    let mut kiosks: BTreeMap<String, KioskRow> = BTreeMap::new();
    for r in client.query(
        "SELECT kiosk_id, town, to_char(last_heard_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'),
                hours_silent::float8, broken_reason
         FROM kiosk_contact ORDER BY town, kiosk_id",
        &[],
    )? {
        let id: String = r.get(0);
        kiosks.insert(
            id.clone(),
            KioskRow {
                id,
                town: r.get(1),
                last_heard: r.get(2),
                hours_silent: r.get(3),
                broken: r.get(4),
                ..Default::default()
            },
        );
    }
    let days = "BETWEEN $1::text::date AND $2::text::date";
    for r in client.query(
        &format!(
            "SELECT kiosk_id, town, business_day::text, sum(tickets)::bigint FROM tickets_per_day
             WHERE business_day {days} GROUP BY 1, 2, 3"
        ),
        &[f, t],
    )? {
        let (id, town, day, n): (String, String, String, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
        if let Some(k) = kiosks.get_mut(&id) {
            k.figures.tickets += n;
        }
        *data.daily.entry(town_name(&town)).or_default().entry(day).or_default() += n;
    }
    for r in client.query(
        &format!(
            "SELECT kiosk_id, count(*), avg(wait_minutes)::float8 FROM ticket_waits WHERE business_day {days} GROUP BY 1"
        ),
        &[f, t],
    )? {
        if let Some(k) = kiosks.get_mut(&r.get::<_, String>(0)) {
            k.figures.called = r.get(1);
            k.figures.mean_wait_minutes = r.get(2);
        }
    }
    for r in client.query(
        &format!(
            "SELECT kiosk_id, sum(ratings)::bigint, sum(good)::bigint FROM ratings_per_day WHERE day {days} GROUP BY 1"
        ),
        &[f, t],
    )? {
        if let Some(k) = kiosks.get_mut(&r.get::<_, String>(0)) {
            k.figures.ratings = r.get(1);
            k.figures.good = r.get(2);
        }
    }
    for r in client.query(
        &format!(
            "SELECT kiosk_id, sum(prints)::bigint, sum(copies)::bigint, sum(failures)::bigint
             FROM licence_prints_per_day WHERE day {days} GROUP BY 1"
        ),
        &[f, t],
    )? {
        if let Some(k) = kiosks.get_mut(&r.get::<_, String>(0)) {
            k.figures.licence_prints = r.get(1);
            k.figures.licence_copies = r.get(2);
            k.figures.licence_failures = r.get(3);
        }
    }
    for r in client.query(
        &format!(
            "SELECT kiosk_id, count(*), coalesce(sum(minutes), 0)::float8, count(*) FILTER (WHERE recovered_at IS NULL)
             FROM device_faults WHERE (fault_at AT TIME ZONE 'Asia/Shanghai')::date {days} GROUP BY 1"
        ),
        &[f, t],
    )? {
        if let Some(k) = kiosks.get_mut(&r.get::<_, String>(0)) {
            k.figures.faults = r.get(1);
            k.figures.fault_minutes = r.get(2);
            k.figures.open_faults = r.get(3);
        }
    }
    for r in client.query(
        &format!(
            "SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), kiosk_id, what FROM alerts
             WHERE (at AT TIME ZONE 'Asia/Shanghai')::date {days} ORDER BY at DESC LIMIT 200"
        ),
        &[f, t],
    )? {
        data.alerts.push((r.get(0), r.get(1), r.get(2)));
    }
    data.left_out_total =
        client.query_one(&format!("SELECT count(*) FROM entries_left_out WHERE local_day {days}"), &[f, t])?.get(0);
    for r in client.query(
        &format!(
            "SELECT kiosk_id, seq, kind, problem FROM entries_left_out WHERE local_day {days}
             ORDER BY kiosk_id, seq LIMIT {LEFT_OUT_LISTED}"
        ),
        &[f, t],
    )? {
        data.left_out.push((r.get(0), r.get(1), r.get(2), r.get(3)));
    }
    data.kiosks = kiosks.into_values().collect();
    Ok(data)
}

/// HTML-escapes text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The bars' colour (the screenshot test looks for it).
pub const BAR: RGBColor = RGBColor(0x1f, 0x6f, 0xb4);
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x6f, 0xb4),
    RGBColor(0xd6, 0x5f, 0x0e),
    RGBColor(0x2c, 0x9a, 0x2c),
    RGBColor(0xc4, 0x27, 0x28),
    RGBColor(0x7b, 0x4f, 0xa6),
    RGBColor(0x8c, 0x56, 0x4b),
];
const FONT: &str = "Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif";

/// A horizontal bar chart, one bar per label, as an SVG element.
fn bars(title: &str, rows: &[(String, f64)]) -> String {
    let mut svg = String::new();
    let height = 70 + 30 * rows.len().max(1) as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            // At least 1, so a period without any (no faults, say) still has a readable axis.
            let max = rows.iter().map(|(_, v)| *v).fold(0.0f64, f64::max).max(1.0) * 1.15;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, (FONT, 20))
                .margin(10)
                .x_label_area_size(28)
                .y_label_area_size(230)
                .build_cartesian_2d(0f64..max, (0..rows.len().max(1)).into_segmented())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(WHITE)
                .label_style((FONT, 14))
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => rows.get(*i).map(|(l, _)| l.clone()).unwrap_or_default(),
                    _ => String::new(),
                })
                .x_label_formatter(&|v| axis_number(*v))
                .draw()?;
            chart.draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
                let mut r =
                    Rectangle::new([(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], BAR.filled());
                r.set_margin(4, 4, 0, 0);
                r
            }))?;
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            log::warn!("the chart \"{title}\" could not be drawn ({e})");
        }
    }
    svg
}

/// Tickets per business day, one line per town.
fn daily_lines(data: &ReportData) -> String {
    let days: Vec<String> = data
        .daily
        .values()
        .flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let max = data.daily.values().flat_map(|m| m.values()).copied().max().unwrap_or(1).max(1) as f64 * 1.15;
            let mut chart = ChartBuilder::on(&root)
                .caption("每日取号 Tickets per day", (FONT, 20))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(-0.5f64..days.len().max(1) as f64 - 0.5, 0f64..max)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .label_style((FONT, 14))
                .x_labels(days.len().clamp(1, 10))
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() > 0.01 || i < 0.0 {
                        return String::new();
                    }
                    days.get(i as usize).and_then(|d| d.get(5..)).map(str::to_owned).unwrap_or_default()
                })
                .y_label_formatter(&|y| format!("{y:.0}"))
                .draw()?;
            for (i, (town, per_day)) in data.daily.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let points: Vec<(f64, f64)> =
                    days.iter().enumerate().map(|(x, d)| (x as f64, *per_day.get(d).unwrap_or(&0) as f64)).collect();
                // Points as well as the line: a period of one day is one point.
                chart.draw_series(points.iter().map(|p| Circle::new(*p, 5, color.filled())))?;
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(3)))?
                    .label(town.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
            }
            chart
                .configure_series_labels()
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()?;
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            log::warn!("the daily chart could not be drawn ({e})");
        }
    }
    svg
}

/// An axis tick: whole numbers as such, others with one decimal (a small range's ticks stay distinct).
fn axis_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
}

fn minutes(v: Option<f64>) -> String {
    // Never "-0.0": a ticket called within the second it was issued waited nothing.
    v.map_or("—".into(), |m| format!("{:.1}", m.max(0.0)))
}

fn figures_cells(f: &Figures) -> String {
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({} copies, {} failed)</td><td>{} ({:.0} min{})</td>",
        f.tickets,
        f.called,
        minutes(f.mean_wait_minutes),
        f.ratings,
        pct(f.good_rate()),
        f.licence_prints,
        f.licence_copies,
        f.licence_failures,
        f.faults,
        f.fault_minutes,
        if f.open_faults > 0 { format!(", {} open", f.open_faults) } else { String::new() }
    )
}

const HEAD: &str = "<th>取号<br>Tickets</th><th>已叫号<br>Called</th><th>平均等候(分)<br>Mean wait (min)</th>\
<th>评价<br>Ratings</th><th>好评率<br>Good rate</th><th>证照打印<br>Licence prints</th><th>设备故障<br>Device faults</th>";

/// The report as one HTML document.
pub fn render(data: &ReportData) -> String {
    let towns = data.towns();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>自助终端运行报告 Kiosk fleet report {from} – {to}</title>\
    <style>body{{font-family:{FONT};margin:24px;color:#222}}table{{border-collapse:collapse;margin:12px 0}}\
    td,th{{border:1px solid #bbb;padding:4px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}\
    th{{background:#eef3f8}}h2{{margin-top:32px}}.warn{{color:#b00}}.text td,.text th{{text-align:left}}svg{{display:block;margin:12px 0}}</style></head><body>\n\
    <h1>自助终端运行报告 Kiosk fleet report</h1><p>{from} – {to} · 生成于 generated {gen} · {n} 台终端 kiosks</p>\n",
        from = esc(&data.from),
        to = esc(&data.to),
        gen = esc(&data.generated),
        n = data.kiosks.len()
    );
    h.push_str("<h2>按乡镇 By town</h2>\n<table><tr><th>乡镇 Town</th>");
    h.push_str(HEAD);
    h.push_str("</tr>\n");
    for (town, f) in &towns {
        let _ = writeln!(h, "<tr><td>{}</td>{}</tr>", esc(town), figures_cells(f));
    }
    h.push_str("</table>\n");
    h.push_str(&daily_lines(data));
    let town_rows = |get: &dyn Fn(&Figures) -> f64| -> Vec<(String, f64)> {
        towns.iter().map(|(t, f)| (t.clone(), get(f))).collect()
    };
    h.push_str(&bars("好评率 Good rating rate (%)", &town_rows(&|f| f.good_rate().unwrap_or(0.0) * 100.0)));
    h.push_str(&bars("平均等候 Mean wait (min)", &town_rows(&|f| f.mean_wait_minutes.unwrap_or(0.0))));
    h.push_str("<h2>按终端 By kiosk</h2>\n<table><tr><th>终端 Kiosk</th><th>乡镇 Town</th>");
    h.push_str(HEAD);
    h.push_str("<th>最近联系 Last heard</th></tr>\n");
    for k in &data.kiosks {
        let heard = match (&k.last_heard, &k.broken) {
            (_, Some(_)) => "<span class=\"warn\">链断裂 chain broken (see the alerts)</span>".into(),
            (None, _) => "<span class=\"warn\">从未 never</span>".into(),
            (Some(t), _) if k.hours_silent.is_some_and(|s| s > data.silent_hours) => {
                format!("<span class=\"warn\">{}</span>", esc(t))
            }
            (Some(t), _) => esc(t),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td>{}<td>{heard}</td></tr>",
            esc(&k.id),
            esc(&k.town),
            figures_cells(&k.figures)
        );
    }
    h.push_str("</table>\n");
    let per_kiosk = |get: &dyn Fn(&Figures) -> f64| -> Vec<(String, f64)> {
        data.kiosks.iter().map(|k| (k.id.clone(), get(&k.figures))).collect()
    };
    h.push_str(&bars("取号 Tickets per kiosk", &per_kiosk(&|f| f.tickets as f64)));
    h.push_str(&bars("证照打印 Licence copies per kiosk", &per_kiosk(&|f| f.licence_copies as f64)));
    h.push_str(&bars("设备故障时长 Device fault minutes per kiosk", &per_kiosk(&|f| f.fault_minutes)));
    let silent: Vec<&KioskRow> =
        data.kiosks.iter().filter(|k| k.hours_silent.is_none_or(|s| s > data.silent_hours)).collect();
    let _ = writeln!(h, "<h2>超过 {0:.0} 小时未联系 Not heard from in {0:.0} hours</h2>", data.silent_hours);
    if silent.is_empty() {
        h.push_str("<p>无 None.</p>\n");
    } else {
        h.push_str("<ul>\n");
        for k in silent {
            let _ = writeln!(
                h,
                "<li>{} ({}): {}</li>",
                esc(&k.id),
                esc(&k.town),
                esc(k.last_heard.as_deref().unwrap_or("从未 never"))
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h2>告警 Alerts</h2>\n");
    if data.alerts.is_empty() {
        h.push_str("<p>无 None.</p>\n");
    } else {
        h.push_str("<table class=\"text\"><tr><th>时间 Time</th><th>终端 Kiosk</th><th>内容 What</th></tr>\n");
        for (at, kiosk, what) in &data.alerts {
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(at), esc(kiosk), esc(what));
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>未计入 Left out of the figures</h2>\n");
    if data.left_out_total == 0 {
        h.push_str("<p>无 None.</p>\n");
    } else {
        let _ = writeln!(
            h,
            "<p class=\"warn\">{} 条记录的内容与其类型不符，未计入以上数字（记录已保存）。 {} entries are left out of the \
             figures above: their payload is not what their kind says (they are stored).</p>",
            data.left_out_total, data.left_out_total
        );
        h.push_str(
            "<table class=\"text\"><tr><th>终端 Kiosk</th><th>序号 Seq</th><th>类型 Kind</th><th>原因 Why</th></tr>\n",
        );
        for (kiosk, seq, kind, problem) in &data.left_out {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{seq}</td><td>{}</td><td>{}</td></tr>",
                esc(kiosk),
                esc(kind),
                esc(problem)
            );
        }
        h.push_str("</table>\n");
        if data.left_out_total > data.left_out.len() as i64 {
            let _ = writeln!(h, "<p>… {} more.</p>", data.left_out_total - data.left_out.len() as i64);
        }
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiosk(id: &str, town: &str, tickets: i64, ratings: i64, good: i64) -> KioskRow {
        KioskRow {
            id: id.into(),
            town: town.into(),
            figures: Figures {
                tickets,
                ratings,
                good,
                called: tickets,
                mean_wait_minutes: Some(6.0),
                ..Default::default()
            },
            last_heard: Some("2026-11-26 09:00".into()),
            hours_silent: Some(1.0),
            broken: None,
        }
    }

    #[test]
    fn towns_sum_their_kiosks_and_the_document_holds_every_chart() {
        let mut data =
            ReportData { from: "2026-11-01".into(), to: "2026-11-26".into(), silent_hours: 24.0, ..Default::default() };
        data.kiosks = vec![
            kiosk("a", "临沭街道", 100, 10, 9),
            kiosk("b", "临沭街道", 50, 10, 5),
            kiosk("c", "<青云镇>", 5, 0, 0),
        ];
        data.kiosks[2].hours_silent = Some(30.0);
        data.daily.entry("临沭街道".into()).or_default().insert("2026-11-25".into(), 150);
        let towns = data.towns();
        let t = &towns["临沭街道"];
        assert_eq!((t.tickets, t.ratings, t.good), (150, 20, 14));
        assert_eq!(t.good_rate(), Some(0.7));
        let html = render(&data);
        assert_eq!(html.matches("<svg").count(), 6, "a daily chart, two town charts, three kiosk charts");
        assert!(html.contains("70.0%"));
        assert!(html.contains("&lt;青云镇&gt;") && !html.contains("<青云镇>"), "text is escaped");
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains(" src="), "self-contained");
        assert!(html.contains("<li>c (&lt;青云镇&gt;): 2026-11-26 09:00</li>"), "the silent kiosk is listed");
        assert!(html.contains("<h2>未计入 Left out of the figures</h2>\n<p>无 None.</p>"));
        data.left_out =
            vec![("b".into(), 7, "evaluation".into(), "the evaluation's level 9 is not one of 1 to 5".into())];
        data.left_out_total = 3;
        let html = render(&data);
        assert!(html.contains("3 entries are left out of the figures"));
        assert!(html.contains("<tr><td>b</td><td>7</td><td>evaluation</td><td>the evaluation's level 9 is"));
        assert!(html.contains("<p>… 2 more.</p>"));
    }
}
