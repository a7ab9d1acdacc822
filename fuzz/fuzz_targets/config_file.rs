//! The TOML configuration file (`--config`), read through the same layers as the server: any
//! text loads or is refused with an error naming a setting, never a panic. Every value that was
//! accepted loads the same through its environment variable.
#![no_main]

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis::config::Config;
use portcullis::config::layers::env_name;
use portcullis_fuzz::env;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("portcullis-fuzz-{}.toml", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // This setting names a file to read the key from: reading files the input names is not
    // parsing (and `/dev/zero` would never end).
    if text.contains("key_encryption_key_file") {
        return;
    }
    let written = std::fs::File::create(path()).and_then(|mut f| f.write_all(data));
    if written.is_err() {
        return;
    }
    let Ok(from_file) = Config::from_sources(Some(path()), env(), false) else {
        return;
    };
    // The same settings as environment variables (the later layer) load the same config.
    let Ok(table) = text.parse::<toml::Table>() else {
        panic!("a file that loaded is not TOML");
    };
    let mut vars = env();
    for (key, value) in table {
        // The key-encryption key is already in the environment, which wins over the file.
        if key == "key_encryption_key" {
            continue;
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => panic!("a file with {} loaded", other.type_str()),
        };
        vars.push((env_name(&key), value));
    }
    match Config::from_sources(None, vars, false) {
        Ok(from_env) => assert_eq!(format!("{from_file:?}"), format!("{from_env:?}")),
        Err(e) => panic!("accepted from the file, refused from the environment: {e}"),
    }
});
