//! The `kiosk` binary: command-line definition and glue; the work lives in the library.

fn main() -> std::process::ExitCode {
    kiosk::cli::main()
}
