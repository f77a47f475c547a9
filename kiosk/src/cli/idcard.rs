//! `kiosk idcard read|decode` for technicians, and the ID-card reader simulator behind `kiosk sim idreader`.

use cli_common::invalid;

use clap::Subcommand;
use drivers::idcard::sim::{Fault, SamSim, serve};
use drivers::idcard::{IdCard, Sam, Validity, decode_hex_reply, fixtures};
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
pub enum IdcardCommand {
    /// Wait for a card on the reader at PATH, read it and print it (masked unless --reveal).
    Read {
        #[arg(long, value_name = "PATH")]
        port: String,
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        reveal: bool,
        /// How long to wait for a card.
        #[arg(long, default_value_t = 30)]
        wait_s: u64,
    },
    /// Decode one hex 30 01 / 30 10 reply frame from stdin and print the card (masked unless --reveal).
    Decode {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        reveal: bool,
    },
}

/// The card as a technician sees it: ID number and address never in full unless revealed.
pub fn describe(card: &IdCard, reveal: bool, json: bool) -> String {
    let id = if reveal { card.id_number.clone() } else { card.masked_id() };
    let name = if reveal { card.name.clone() } else { card.masked_name() };
    let english =
        if reveal { card.english_name.clone() } else { drivers::idcard::card::mask(&card.english_name, 1, 0) };
    let address = if reveal { card.address.clone() } else { drivers::idcard::card::mask(&card.address, 6, 0) };
    let valid_to = match card.valid_to {
        Validity::LongTerm => "长期".to_owned(),
        Validity::Until(d) => d.to_string(),
    };
    if json {
        return serde_json::json!({
            "kind": card.kind, "type_zh": card.kind.name_zh(), "name": name, "english_name": english,
            "gender": card.gender.name_zh(), "nation": card.nation, "birth_date": card.birth_date.to_string(),
            "address": address, "id_number": id, "authority": card.authority,
            "valid_from": card.valid_from.to_string(), "valid_to": valid_to,
            "pass_number": if reveal { card.pass_number.clone() } else { drivers::idcard::card::mask(&card.pass_number, 1, 2) },
            "nationality": card.nationality, "issue_count": card.issue_count,
        })
        .to_string();
    }
    let mut out = format!("证件类型 Type:      {}\n姓名 Name:          {name}\n", card.kind.name_zh());
    if !card.english_name.is_empty() {
        out.push_str(&format!("英文名 English:     {english}\n"));
    }
    out.push_str(&format!("性别 Gender:        {}\n出生 Born:          {}\n", card.gender.name_zh(), card.birth_date));
    if !card.nation.is_empty() {
        out.push_str(&format!("民族 Nation:        {}\n", card.nation));
    }
    if !card.address.is_empty() {
        out.push_str(&format!("住址 Address:       {address}\n"));
    }
    out.push_str(&format!("号码 Number:        {id}\n"));
    if !card.nationality.is_empty() {
        out.push_str(&format!("国籍 Nationality:   {}\n", card.nationality));
    }
    if !card.pass_number.is_empty() {
        let pass = if reveal { card.pass_number.clone() } else { drivers::idcard::card::mask(&card.pass_number, 1, 2) };
        out.push_str(&format!("通行证号码 Permit:  {pass}\n"));
    }
    if !card.issue_count.is_empty() {
        out.push_str(&format!("签发次数 Issued:    {}\n", card.issue_count));
    }
    if !card.authority.is_empty() {
        out.push_str(&format!("签发 Authority:     {}\n", card.authority));
    }
    out.push_str(&format!("有效期 Valid:       {} – {valid_to}\n", card.valid_from));
    out
}

pub fn run(cmd: IdcardCommand) -> anyhow::Result<()> {
    match cmd {
        IdcardCommand::Decode { json, reveal } => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let card = decode_hex_reply(&input).map_err(|e| invalid(format!("Cannot decode the frame: {e}.")))?;
            print!("{}", describe(&card, reveal, json));
            if json {
                println!();
            }
            Ok(())
        }
        IdcardCommand::Read { port, baud, json, reveal, wait_s } => {
            let link = serialport::new(&port, baud).timeout(Duration::from_millis(50)).open_native().map_err(|e| {
                invalid(format!("Cannot open the reader at {port} ({e}). Check the cable and the path."))
            })?;
            let mut sam = Sam::new(link);
            let info = sam
                .init()
                .map_err(|e| anyhow::anyhow!("The reader at {port} does not answer as a GA/T 467 SAM: {e}."))?;
            eprintln!("SAM {} ready; place a card on the reader.", info.sam_id);
            let deadline = Instant::now() + Duration::from_secs(wait_s);
            loop {
                match sam.read_card() {
                    Ok(Some(card)) => {
                        print!("{}", describe(&card, reveal, json));
                        if json {
                            println!();
                        }
                        return Ok(());
                    }
                    Ok(None) => {}
                    Err(e) => return Err(anyhow::anyhow!("The card could not be read: {e}. Lift it and try again.")),
                }
                if Instant::now() > deadline {
                    return Err(anyhow::anyhow!("No card was placed on the reader within {wait_s} s."));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    }
}

pub fn run_sim(
    pty: bool,
    port: Option<String>,
    cards: &Path,
    place: Option<usize>,
    fault: &str,
    paced: bool,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(cards)
        .map_err(|e| invalid(format!("{}: cannot read the fixture file ({e}).", cards.display())))?;
    let cards = fixtures::load(&text).map_err(|e| invalid(format!("{}: {e}.", cards.display())))?;
    let mut sim = SamSim::new(cards);
    sim.fault = Fault::parse(fault)
        .ok_or_else(|| invalid(format!("--fault {fault}: use none, silent, checksum, garbage or sw3-XX.")))?;
    if let Some(i) = place
        && !sim.place(i)
    {
        return Err(invalid(format!("--place {i}: the fixture file has {} cards.", sim.cards.len())));
    }
    let sim = Arc::new(Mutex::new(sim));
    let served = sim.clone();
    let _keep_open;
    if pty {
        let (master, slave) = serialport::TTYPort::pair().map_err(|e| anyhow::anyhow!("cannot create a pty: {e}"))?;
        let path = serialport::SerialPort::name(&slave).unwrap_or_default();
        let mut master = master;
        serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(3600))?;
        _keep_open = slave;
        eprintln!("ID reader simulator on {path}");
        std::thread::spawn(move || serve(served, master, paced));
    } else if let Some(p) = port {
        let link = serialport::new(&p, 115_200).timeout(Duration::from_secs(3600)).open_native()?;
        eprintln!("ID reader simulator on {p}");
        std::thread::spawn(move || serve(served, link, paced));
    } else {
        return Err(invalid("Give --pty or --port PATH."));
    }
    // Commands on stdin: the technician (or a test) places and removes cards.
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let Ok(mut s) = sim.lock() else { break };
        let reply = match words.as_slice() {
            ["place", n] => match n.parse::<usize>() {
                Ok(i) if s.place(i) => format!("placed card {i}"),
                _ => format!("no card {n}; there are {}", s.cards.len()),
            },
            ["remove"] => {
                s.remove();
                "removed".into()
            }
            ["fault", f] => match Fault::parse(f) {
                Some(f) => {
                    s.fault = f;
                    format!("fault {f:?}")
                }
                None => "unknown fault".into(),
            },
            ["list"] => s
                .cards
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{i}: {:?} {}", c.kind, c.masked_name()))
                .collect::<Vec<_>>()
                .join("\n"),
            [] => continue,
            _ => "commands: place N, remove, fault MODE, list".into(),
        };
        // The operator may have closed stderr; a lost acknowledgement must not stop the simulator.
        let _ = writeln!(std::io::stderr(), "{reply}");
    }
    // stdin closed (e.g. under a test harness): keep serving until killed.
    loop {
        std::thread::park();
    }
}
