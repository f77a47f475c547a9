//! The kiosk's font made Slint's at run time, from bytes the caller owns, so the binary holds it once.

use slint::fontique_011::fontique;
use std::sync::OnceLock;

/// Why the font could not be made the screen's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FontError {
    /// The bytes hold no font face fontique can read.
    #[error(
        "the kiosk's built-in font ({0} bytes) holds no face the screen can use; the binary is damaged: reinstall the kiosk package"
    )]
    NoFace(usize),
    /// The faces registered carry another family name than the one app.slint draws with.
    #[error(
        "the kiosk's built-in font holds the families {found}, but the screen draws with \"{wanted}\"; the build is inconsistent: reinstall the kiosk package"
    )]
    OtherFamily {
        /// The family app.slint names.
        wanted: String,
        /// The families the bytes hold, quoted, in order.
        found: String,
    },
}

static REGISTERED: OnceLock<Result<(), FontError>> = OnceLock::new();

/// Registers `data` (a font file or collection) with Slint's shared font collection, once per process (a
/// second window, or a second call, changes nothing), and makes it the fallback for Han script. Call it
/// after the Slint platform is chosen (or let this choose the default one, as `AppWindow::new` would) and
/// before the first window; `family` is the family app.slint's `default-font-family` names.
pub fn register(data: &'static [u8], family: &str) -> Result<(), FontError> {
    REGISTERED.get_or_init(|| register_faces(data, family)).clone()
}

/// `register` without the once: every call adds the faces again. For the checks of bad bytes.
pub fn register_faces(data: &'static [u8], family: &str) -> Result<(), FontError> {
    let mut collection = slint::fontique_011::shared_collection();
    // `&'static [u8]` is its own storage: the blob points into the executable's read-only data.
    let families = collection.register_fonts(fontique::Blob::new(std::sync::Arc::new(data)), None);
    if families.is_empty() {
        return Err(FontError::NoFace(data.len()));
    }
    if !families.iter().any(|(id, _)| collection.family_name(*id) == Some(family)) {
        // fontique returns the families in no fixed order: name them sorted, so the message is always the same.
        let mut names: Vec<String> =
            families.iter().map(|(id, _)| collection.family_name(*id).unwrap_or("?").to_owned()).collect();
        names.sort_unstable();
        let found = names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(" and ");
        return Err(FontError::OtherFamily { wanted: family.to_string(), found });
    }
    let han = fontique::FallbackKey::new(fontique::Script::from_bytes(*b"Hani"), None);
    collection.append_fallbacks(han, families.iter().map(|(id, _)| *id));
    Ok(())
}
/// Whether `family` resolves to a face read from memory of exactly `len` bytes (the registered copy), not
/// to a file the machine happens to have: the tests' and `kiosk doctor`'s check that the screen draws with
/// the kiosk's own font.
pub fn drawn_from_memory(family: &str, len: usize) -> bool {
    let mut collection = slint::fontique_011::shared_collection();
    collection.family_by_name(family).is_some_and(|info| {
        info.fonts().iter().any(|font| match font.source().kind() {
            fontique::SourceKind::Memory(blob) => blob.len() == len,
            #[allow(unreachable_patterns)]
            _ => false,
        })
    })
}
