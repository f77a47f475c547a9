//! Every visible string marked for translation (`@tr` in the .slint files) has an English translation.

use std::collections::HashSet;
use std::path::Path;

/// (context, msgid) pairs with a non-empty msgstr in the English catalogue.
fn english_catalogue() -> HashSet<(String, String)> {
    let po = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/ui/ui/translations/en/LC_MESSAGES/ui.po"),
    )
    .unwrap();
    let unquote =
        |l: &str| l.split_once(' ').map(|(_, v)| v.trim().trim_matches('"').replace("\\\"", "\"")).unwrap_or_default();
    let (mut ctx, mut id) = (String::new(), String::new());
    let mut out = HashSet::new();
    for line in po.lines() {
        if line.starts_with("msgctxt ") {
            ctx = unquote(line);
        } else if line.starts_with("msgid ") {
            id = unquote(line);
        } else if line.starts_with("msgstr ") {
            if !unquote(line).is_empty() && !id.is_empty() {
                out.insert((ctx.clone(), id.clone()));
            }
            ctx.clear();
        }
    }
    out
}

/// (context, string) for every `@tr("…")`; the context is the enclosing component or global, as Slint uses it,
/// or the explicit one of `@tr("Sub" => "…")`.
fn marked_strings(dir: &Path, out: &mut Vec<(String, String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            marked_strings(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut ctx = String::new();
            for line in text.lines() {
                let t = line.trim_start();
                for kw in ["export component ", "component ", "export global ", "global "] {
                    if let Some(rest) = t.strip_prefix(kw) {
                        ctx = rest
                            .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
                            .next()
                            .unwrap_or("")
                            .to_owned();
                    }
                }
                let mut rest = line;
                while let Some(i) = rest.find("@tr(\"") {
                    let mut after = &rest[i + 5..];
                    let mut end = after.find('"').unwrap();
                    let mut context = ctx.clone();
                    if let Some(explicit) = after[end..].strip_prefix("\" => \"") {
                        context = after[..end].to_owned();
                        after = explicit;
                        end = after.find('"').unwrap();
                    }
                    out.push((path.display().to_string(), context, after[..end].to_owned()));
                    rest = &after[end..];
                }
            }
        }
    }
}

#[test]
fn every_marked_string_has_an_english_translation() {
    let catalogue = english_catalogue();
    let mut strings = Vec::new();
    marked_strings(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/ui/ui"), &mut strings);
    assert!(strings.len() >= 20, "found the UI's strings: {}", strings.len());
    // An English line under a Chinese one ("Sub") takes the English of the same sentence, from any context
    // (build.rs makes its entry).
    let translated_somewhere = |s: &String| catalogue.iter().any(|(_, id)| id == s);
    let missing: Vec<String> =
        strings
            .iter()
            .filter(|(_, ctx, s)| {
                if ctx == "Sub" { !translated_somewhere(s) } else { !catalogue.contains(&(ctx.clone(), s.clone())) }
            })
            .map(|(file, ctx, s)| format!("{file}: [{ctx}] {s}"))
            .collect();
    assert!(missing.is_empty(), "strings without an English translation:\n{}", missing.join("\n"));
}
