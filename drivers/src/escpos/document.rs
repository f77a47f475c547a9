//! A printable document: lines of text, QR codes, feeds and a cut — what templates produce and the encoder consumes.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// Character size: normal, double (2×2) or quad (4×4, for the ticket number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    #[default]
    Normal,
    Double,
    Quad,
}

impl Size {
    /// Width and height multipliers.
    pub fn scale(self) -> u8 {
        match self {
            Size::Normal => 1,
            Size::Double => 2,
            Size::Quad => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Text { text: String, align: Align, size: Size, bold: bool },
    Qr { data: String, align: Align },
    Feed(u8),
    Cut,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub blocks: Vec<Block>,
}
