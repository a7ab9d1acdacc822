//! The `portcullis` binary: everything happens in [`portcullis::cli`].

fn main() -> std::process::ExitCode {
    portcullis::cli::main()
}
