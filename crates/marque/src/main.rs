//! `marque`: see the library's `cli` module.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    marque::cli::main()
}
