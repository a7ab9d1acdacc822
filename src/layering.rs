//! Checks of the layering that the module list promises: only `http` (and `app`, which serves
//! it) knows axum, and the modules that once imported each other do not again. They read the
//! sources, so a change that breaks the layering fails `cargo nextest run --lib`.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The lines of `file` that are code: comments (`//`, `//!`, `///`) left out.
fn code_lines(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(n, line)| (n + 1, line.to_owned()))
        .collect()
}

/// The lines under `module` (a file `src/<module>.rs` or a directory `src/<module>/`) that
/// contain any of `needles`.
fn mentions(module: &str, needles: &[&str]) -> Vec<String> {
    let root = src();
    let mut files = sources(&root.join(module));
    let single = root.join(format!("{module}.rs"));
    if single.is_file() {
        files.push(single);
    }
    let mut hits = Vec::new();
    for file in files {
        for (n, line) in code_lines(&file) {
            if needles.iter().any(|needle| line.contains(needle)) {
                hits.push(format!("{}:{n}: {}", file.display(), line.trim()));
            }
        }
    }
    hits
}

#[test]
fn only_http_and_app_know_axum() {
    let root = src();
    let mut hits = Vec::new();
    for file in sources(&root) {
        let relative = file.strip_prefix(&root).unwrap_or(&file);
        // This file names axum to look for it.
        if relative.starts_with("http")
            || ["app.rs", "layering.rs"]
                .iter()
                .any(|f| relative == Path::new(f))
        {
            continue;
        }
        for (n, line) in code_lines(&file) {
            if line.contains("axum") {
                hits.push(format!("src/{}:{n}: {}", relative.display(), line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "axum outside src/http and src/app.rs:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_protocol_core_does_not_take_the_app_state() {
    for module in ["oauth", "tokens", "keys"] {
        let hits = mentions(module, &["crate::state", "AppState"]);
        assert!(
            hits.is_empty(),
            "{module} uses the app state:\n{}",
            hits.join("\n")
        );
    }
}

#[test]
fn modules_that_imported_each_other_do_not() {
    // (module, what it would write to import the other one), both ways.
    type Side = (&'static str, &'static [&'static str]);
    let pairs: [(Side, Side); 4] = [
        (
            ("config", &["crate::crypto"]),
            ("crypto", &["crate::config"]),
        ),
        (
            ("health", &["crate::state"]),
            ("state.rs", &["crate::health"]),
        ),
        (
            ("http/admin", &["crate::http::login", "super::login"]),
            ("http/login", &["crate::http::admin", "super::admin"]),
        ),
        (
            ("http/oauth", &["crate::http::login", "super::login"]),
            ("http/login", &["crate::http::oauth", "super::oauth"]),
        ),
    ];
    for ((a, a_to_b), (b, b_to_a)) in pairs {
        let b = b.trim_end_matches(".rs");
        let forward = mentions(a, a_to_b);
        let backward = mentions(b, b_to_a);
        assert!(
            forward.is_empty() || backward.is_empty(),
            "{a} and {b} import each other:\n{}\n{}",
            forward.join("\n"),
            backward.join("\n")
        );
    }
}
