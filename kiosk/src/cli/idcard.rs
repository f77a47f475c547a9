//! `kiosk idcard read|decode` for technicians.

use cli_common::invalid;

use clap::Subcommand;
use drivers::idcard::{IdCard, Sam, Validity, decode_hex_reply};
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
            let input = config::files::read_text_from(std::io::stdin(), config::files::FileKind::Frames)
                .map_err(|e| invalid(format!("Cannot read the frame from standard input: {e}.")))?;
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
