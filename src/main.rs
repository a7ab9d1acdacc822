//! The `portcullis` binary: everything happens in [`portcullis::cli`].

/// mimalloc: per-thread free lists that suit a server answering many small requests on few cores
/// (see the README's performance section for what it changed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    portcullis::cli::main()
}
