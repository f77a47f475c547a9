//! Compiles the Slint UI and bundles its translations into the binary.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_bundled_translations(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/translations"))
        // Element names for the testing backend's ElementHandle queries; release builds stay lean.
        .with_debug_info(std::env::var("PROFILE").as_deref() != Ok("release"));
    slint_build::compile_with_config("ui/app.slint", config).expect("the Slint UI compiles");
}
