//! 办件查询 and 政务专递 on the platform: a case by its number or a card holder's cases, their steps with
//! times, the applicant's saved delivery addresses (masked by the platform) and a delivery request for a
//! finished case.

use super::{Platform, PlatformError, bounds};
use serde::{Deserialize, Serialize};

/// The steps a case goes through, in order.
pub const STEPS: [&str; 4] = ["受理", "审核", "办结", "送达"];

/// A case's steps in order, as the platform names them (`STEPS`): accepted, reviewed, finished, delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseStep {
    Accepted,
    Reviewed,
    Finished,
    Delivered,
}

impl CaseStep {
    pub const ALL: [CaseStep; 4] = [CaseStep::Accepted, CaseStep::Reviewed, CaseStep::Finished, CaseStep::Delivered];

    /// The platform's (and the slip's) name of the step.
    pub fn name_zh(self) -> &'static str {
        STEPS[self as usize]
    }

    pub fn parse(name: &str) -> Option<CaseStep> {
        Self::ALL.into_iter().find(|s| s.name_zh() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireStep {
    /// One of 受理, 审核, 办结, 送达.
    pub name: String,
    /// RFC 3339 with offset; absent while the step is not reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireCase {
    pub number: String,
    pub item_name: String,
    /// Its English name, when the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name_en: Option<String>,
    pub steps: Vec<WireStep>,
    /// The result can be sent home by post (政务专递) once the case is finished.
    #[serde(default)]
    pub delivery_offered: bool,
    /// A delivery has been requested already.
    #[serde(default)]
    pub delivery_requested: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    pub kiosk_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseList {
    pub cases: Vec<WireCase>,
}

/// A saved address, as the platform masks it ("临沭县青云镇**路*号").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireAddress {
    pub id: String,
    pub masked: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressQuery {
    pub kiosk_id: String,
    pub case_number: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressList {
    pub addresses: Vec<WireAddress>,
}

/// `POST /v1/delivery/requests`: the same key twice is one request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    pub kiosk_id: String,
    pub case_number: String,
    pub address_id: String,
    pub idempotency_key: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryAccepted {
    pub request_id: String,
}

/// A step with its local time ("2026-11-20 10:15"), or none yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub step: CaseStep,
    pub at: Option<jiff::Timestamp>,
}

/// A case as the kiosk shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub number: String,
    pub item_name: String,
    /// Empty when the platform sent none.
    pub item_name_en: String,
    /// 受理, 审核, 办结, 送达 in order, each reached or not.
    pub steps: Vec<Step>,
    pub delivery_offered: bool,
    pub delivery_requested: bool,
}

impl Case {
    pub fn from_wire(w: WireCase) -> Result<Case, PlatformError> {
        if !is_case_number(&w.number) || w.item_name.is_empty() {
            return Err(PlatformError::Malformed(format!("case \"{}\" lacks a number or a name", w.number)));
        }
        let item_name = bounds::text(&format!("case {}: item_name", w.number), w.item_name, bounds::MAX_NAME_CHARS)?;
        let item_name_en = bounds::english(&format!("case {}: item_name_en", w.number), w.item_name_en)?;
        // Only the known steps are kept (an unknown one is refused below); more than a case can have is not read.
        if w.steps.len() > STEPS.len() * 2 {
            return Err(PlatformError::Malformed(format!(
                "case {}: {} steps (at most {})",
                w.number,
                w.steps.len(),
                STEPS.len() * 2
            )));
        }
        let mut steps = vec![];
        for step in CaseStep::ALL {
            let name = step.name_zh();
            let at = match w.steps.iter().find(|s| s.name == name).and_then(|s| s.at.as_deref()) {
                Some(t) => Some(t.parse().map_err(|e| {
                    PlatformError::Malformed(format!("case {}: step {name} at \"{t}\" ({e})", w.number))
                })?),
                None => None,
            };
            steps.push(Step { step, at });
        }
        if let Some(s) = w.steps.iter().find(|s| CaseStep::parse(&s.name).is_none()) {
            return Err(PlatformError::Malformed(format!("case {}: unknown step \"{}\"", w.number, s.name)));
        }
        Ok(Case {
            number: w.number,
            item_name,
            item_name_en,
            steps,
            delivery_offered: w.delivery_offered,
            delivery_requested: w.delivery_requested,
        })
    }

    /// The matter's name on a screen in that language.
    pub fn name_in(&self, english: bool) -> &str {
        if english && !self.item_name_en.is_empty() { &self.item_name_en } else { &self.item_name }
    }

    /// Finished (办结 reached): the result exists and can be sent.
    pub fn finished(&self) -> bool {
        self.reached(CaseStep::Finished)
    }

    /// Whether `step` has been reached.
    pub fn reached(&self, step: CaseStep) -> bool {
        self.steps.iter().any(|s| s.step == step && s.at.is_some())
    }

    /// 邮寄到家 can be asked for.
    pub fn can_deliver(&self) -> bool {
        self.finished() && self.delivery_offered && !self.delivery_requested
    }
}

/// A case number: 8 to 24 digits.
pub fn is_case_number(s: &str) -> bool {
    (8..=24).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

impl Platform {
    /// A case by its number, or the cases of a card holder.
    pub fn cases(&self, case_number: Option<&str>, id_number: Option<&str>) -> Result<Vec<Case>, PlatformError> {
        let q = CaseQuery {
            kiosk_id: self.kiosk_id.clone(),
            case_number: case_number.map(str::to_owned),
            id_number: id_number.map(str::to_owned),
        };
        let list: CaseList = self.call("POST", "/v1/cases/query", Some(&q), bounds::MAX_LIST_ANSWER)?;
        bounds::rows("cases", &list.cases)?;
        list.cases.into_iter().map(Case::from_wire).collect()
    }

    /// The saved addresses of the case's applicant, masked by the platform.
    pub fn addresses(&self, case_number: &str) -> Result<Vec<WireAddress>, PlatformError> {
        let q = AddressQuery { kiosk_id: self.kiosk_id.clone(), case_number: case_number.to_owned() };
        let list: AddressList = self.call("POST", "/v1/delivery/addresses", Some(&q), bounds::MAX_LIST_ANSWER)?;
        bounds::rows("addresses", &list.addresses)?;
        list.addresses
            .into_iter()
            .map(|a| {
                Ok(WireAddress {
                    id: bounds::text("address id", a.id, bounds::MAX_ID_CHARS)?,
                    masked: bounds::text("masked address", a.masked, bounds::MAX_NAME_CHARS)?,
                })
            })
            .collect()
    }

    /// Asks for the case's result to be posted to `address_id`; `key` makes a retry the same request.
    pub fn request_delivery(&self, case_number: &str, address_id: &str, key: &str) -> Result<String, PlatformError> {
        let body = DeliveryRequest {
            kiosk_id: self.kiosk_id.clone(),
            case_number: case_number.to_owned(),
            address_id: address_id.to_owned(),
            idempotency_key: key.to_owned(),
        };
        let ok: DeliveryAccepted = self.call("POST", "/v1/delivery/requests", Some(&body), bounds::MAX_LIST_ANSWER)?;
        bounds::text("request_id", ok.request_id, bounds::MAX_ID_CHARS)
    }
}

/// What the citizen does next, by where the case is: printed on the slip under its steps.
pub fn next_step_zh(case: &Case, delivery_requested: bool) -> String {
    if delivery_requested || case.delivery_requested {
        return "下一步：已申请邮寄到家，请留意快递来电".into();
    }
    match case.steps.iter().find(|s| s.at.is_none()) {
        None => "办理完毕".into(),
        Some(s) if s.step == CaseStep::Delivered => "下一步：已办结，请到大厅窗口领取，或在本机申请邮寄到家".into(),
        Some(s) => format!("下一步：等待{}，可随时在本机或扫码查询进度", s.step.name_zh()),
    }
}

/// The status slip for the thermal printer: the case, its steps with their times (local, `tz`), the
/// delivery requested (the masked address and the request id) if any, what to do next, and the case's page
/// on the platform as a QR (`case_url`, `{number}` replaced) when one is configured.
pub fn slip(
    hall_name: &str,
    case: &Case,
    delivery: Option<(&WireAddress, &str)>,
    tz: &jiff::tz::TimeZone,
    printed_at: &str,
    case_url: Option<&str>,
) -> drivers::escpos::Document {
    use drivers::escpos::{Align, Block, Document, Size};
    let text = |s: String| Block::Text { text: s, align: Align::Left, size: Size::Normal, bold: false };
    let mut b = vec![
        Block::Text { text: hall_name.to_owned(), align: Align::Center, size: Size::Normal, bold: true },
        Block::Text {
            text: "办件进度 Case progress".into(), align: Align::Center, size: Size::Double, bold: false
        },
        Block::Feed(1),
        Block::Text { text: case.item_name.clone(), align: Align::Left, size: Size::Normal, bold: true },
        // Masked as on screen (vocabulary::mask); the QR below carries the whole number to follow the case.
        text(format!("办件编号 {}", vocabulary::mask::number(&case.number))),
        Block::Feed(1),
    ];
    for s in &case.steps {
        let when = match s.at {
            Some(t) => format!("■ {} {}", s.step.name_zh(), t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M")),
            None => format!("□ {} 未到", s.step.name_zh()),
        };
        b.push(text(when));
    }
    if let Some((address, request_id)) = delivery {
        b.push(Block::Feed(1));
        b.push(Block::Text {
            text: "政务专递 已申请邮寄到家".into(),
            align: Align::Left,
            size: Size::Normal,
            bold: true,
        });
        b.push(text(format!("收件地址 {}", address.masked)));
        b.push(text(format!("申请编号 {request_id}")));
    }
    b.push(Block::Feed(1));
    b.push(Block::Text {
        text: next_step_zh(case, delivery.is_some()),
        align: Align::Left,
        size: Size::Normal,
        bold: true,
    });
    if let Some(url) = case_url {
        b.push(Block::Feed(1));
        b.push(text("扫码查询办件进度 Scan to follow this case".into()));
        b.push(Block::Qr { data: url.replace("{number}", &case.number), align: Align::Center });
    }
    b.push(Block::Feed(1));
    b.push(Block::Text {
        text: format!("打印时间 Printed {printed_at}"),
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
    fn a_case_has_its_four_steps_and_can_be_delivered_once_finished() {
        let w = WireCase {
            number: "202611200123".into(),
            item_name: "不动产登记".into(),
            item_name_en: None,
            steps: vec![
                WireStep { name: "受理".into(), at: Some("2026-11-20T09:00:00+08:00".into()) },
                WireStep { name: "审核".into(), at: Some("2026-11-21T09:00:00+08:00".into()) },
            ],
            delivery_offered: true,
            delivery_requested: false,
        };
        let c = Case::from_wire(w.clone()).unwrap();
        assert_eq!(c.steps.iter().map(|s| s.step.name_zh()).collect::<Vec<_>>(), STEPS);
        assert!(!c.finished() && !c.can_deliver());
        let mut done = w.clone();
        done.steps.push(WireStep { name: "办结".into(), at: Some("2026-11-25T16:00:00+08:00".into()) });
        assert!(Case::from_wire(done).unwrap().can_deliver());
        let mut bad = w.clone();
        bad.steps.push(WireStep { name: "盖章".into(), at: None });
        assert!(matches!(Case::from_wire(bad), Err(PlatformError::Malformed(_))));
        assert!(matches!(Case::from_wire(WireCase { number: "12".into(), ..w }), Err(PlatformError::Malformed(_))));
        assert_eq!(vocabulary::mask::number("202611200123"), "2026****0123");
    }
}
