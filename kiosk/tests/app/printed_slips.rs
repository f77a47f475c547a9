//! Printed slips fit the paper (issue #30 item 7): the guide with the most materials and the case slip are
//! encoded as the ticket printer gets them, decoded back and drawn as the virtual printer draws them; nothing
//! is drawn in the margins, the checklist's □ boxes are whole, the case slip says what comes next and its QR
//! reads back as the case's page.

use kiosk::catalogue::Catalogue;
use kiosk::catalogue::guide::{Hall, guide};
use kiosk::platform::cases::{Case, WireCase, WireStep, slip};

use drivers::escpos::decode::{Command, Decoder};
use drivers::escpos::virtual_printer::{render_png, transcript};
use drivers::escpos::{Document, Profile, encode};

const FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei.ttc");

fn decoded(doc: &Document) -> Vec<Command> {
    let bytes = encode(doc, &Profile::named("generic-80", 80).unwrap()).unwrap();
    let mut decoder = Decoder::default();
    decoder.feed(&bytes);
    std::iter::from_fn(|| decoder.next_command()).collect()
}

/// The drawn slip as grey levels, row by row, and its width.
fn drawn(cmds: &[Command]) -> (Vec<u8>, usize) {
    // The cut is drawn as a dashed line across the paper: not ink.
    let cmds: Vec<Command> = cmds.iter().filter(|c| **c != Command::Cut).cloned().collect();
    let png_bytes = render_png(&cmds, 576, Some(FONT));
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale, "the virtual printer draws in grey");
    buf.truncate(info.buffer_size());
    (buf, info.width as usize)
}

/// The leftmost and rightmost columns with ink.
fn inked_columns(pixels: &[u8], width: usize) -> (usize, usize) {
    let cols: Vec<usize> = pixels
        .chunks(width)
        .flat_map(|row| row.iter().enumerate().filter(|(_, p)| **p < 128).map(|(x, _)| x))
        .collect();
    (*cols.iter().min().unwrap(), *cols.iter().max().unwrap())
}

#[test]
fn the_guide_with_the_most_materials_prints_inside_the_margins() {
    let catalogue = Catalogue::sample();
    let item = catalogue.items.iter().max_by_key(|i| i.materials.len()).unwrap();
    assert!(item.materials.len() >= 4, "{} has {} materials", item.name, item.materials.len());
    let hall = Hall { name: "临沭县为民服务中心".into(), ..Hall::default() };
    let cmds = decoded(&guide(&catalogue, item, &hall, None, "2026-12-07 03:00"));
    let text = transcript(&cmds);
    assert!(text.starts_with("[margin 16]\n[width 544]\n"), "{text}");
    let boxes = text.lines().filter(|l| l.contains("] □ ")).count();
    assert_eq!(boxes, item.materials.len(), "one box per material: {text}");
    let (pixels, width) = drawn(&cmds);
    let (left, right) = inked_columns(&pixels, width);
    assert!(left >= 16, "ink at column {left}, inside the 16-dot margin");
    assert!(right < 576 - 16, "ink at column {right}, inside the right margin");
    // The □ of the first material is drawn whole: ink within a few dots of the margin on its rows.
    assert!(left <= 24, "the checklist starts at the margin, not further in: {left}");
}

#[test]
fn the_case_slip_says_what_comes_next_and_its_qr_reads_back_as_the_case_s_page() {
    let step = |name: &str, at: Option<&str>| WireStep { name: name.into(), at: at.map(str::to_owned) };
    let case = Case::from_wire(WireCase {
        number: "202611200123".into(),
        item_name: "不动产登记".into(),
        item_name_en: None,
        steps: vec![
            step("受理", Some("2026-11-20T09:00:00+08:00")),
            step("审核", Some("2026-11-22T10:30:00+08:00")),
            step("办结", Some("2026-11-26T16:00:00+08:00")),
            step("送达", None),
        ],
        delivery_offered: true,
        delivery_requested: false,
    })
    .unwrap();
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let url = "https://zwfw.example.invalid/case/{number}";
    let cmds = decoded(&slip("临沭县为民服务中心", &case, None, &tz, "2026-12-07 03:00", Some(url)));
    let text = transcript(&cmds);
    assert!(text.contains("] 下一步：已办结，请到大厅窗口领取，或在本机申请邮寄到家\n"), "{text}");
    assert!(text.contains("[qr] https://zwfw.example.invalid/case/202611200123\n"), "{text}");
    let (pixels, width) = drawn(&cmds);
    let (left, right) = inked_columns(&pixels, width);
    let row_of = |x: usize| pixels.chunks(width).position(|r| r[x] < 128).unwrap_or(0);
    assert!(left >= 16 && right < 576 - 16, "ink from column {left} to {right} (row {}): {text}", row_of(right));
    // The QR as a phone reads it off the paper.
    let height = pixels.len() / width;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the slip");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, "https://zwfw.example.invalid/case/202611200123");
    // Without a page configured, no QR, and the next step still.
    let cmds = decoded(&slip("临沭县为民服务中心", &case, None, &tz, "2026-12-07 03:00", None));
    assert!(!transcript(&cmds).contains("[qr]"));
}
