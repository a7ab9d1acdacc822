//! Where settings come from: built-in defaults, then an optional TOML file, then `PORTCULLIS_*`
//! environment variables (the last one wins). Each value remembers its origin so that an error can
//! name the exact variable or file key a person has to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The prefix of every environment variable Portcullis reads.
pub const ENV_PREFIX: &str = "PORTCULLIS_";

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env,
}

/// A setting that could not be used, with the name a person should look for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", describe(.setting, .origin))]
pub struct ConfigError {
    /// The setting's key, as written in the TOML file (`key_rotation_period`).
    pub setting: String,
    pub origin: Origin,
    /// What is wrong and what is allowed.
    pub message: String,
}

fn describe(setting: &str, origin: &Origin) -> String {
    let env = env_name(setting);
    match origin {
        Origin::Env => format!("invalid setting {env}"),
        Origin::File(path) => format!("invalid setting `{setting}` in {}", path.display()),
        Origin::Default => format!("setting {env} (`{setting}` in a config file)"),
    }
}

/// The environment variable for a file key: `jwks_max_age` → `PORTCULLIS_JWKS_MAX_AGE`.
pub fn env_name(setting: &str) -> String {
    format!("{ENV_PREFIX}{}", setting.to_ascii_uppercase())
}

/// The raw values of every layer, as strings.
pub struct Layers {
    defaults: BTreeMap<&'static str, &'static str>,
    file: BTreeMap<String, (String, PathBuf)>,
    env: BTreeMap<String, String>,
}

impl Layers {
    /// Reads the file (if any) and the given environment. `defaults` maps every setting key to its
    /// default as written (empty: no default). An
    /// unknown key in the file is an error (a typo would otherwise be silently ignored), while
    /// unknown `PORTCULLIS_*` variables are returned as warnings, because orchestrators add
    /// variables of their own (Kubernetes sets `<SERVICE>_PORT` for a Service of that name).
    pub fn read(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        defaults: BTreeMap<&'static str, &'static str>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let known: BTreeSet<&'static str> = defaults.keys().copied().collect();
        let mut layers = Layers {
            defaults,
            file: BTreeMap::new(),
            env: BTreeMap::new(),
        };
        let mut warnings = Vec::new();
        if let Some(path) = file {
            layers.file = read_file(path, &known)?;
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            match known.get(key.as_str()) {
                Some(_) => {
                    layers.env.insert(key, value);
                }
                None if key == "config" => {}
                None => warnings.push(format!("ignoring unknown environment variable {name}")),
            }
        }
        Ok((layers, warnings))
    }

    /// The value of `setting` and where it came from, if any layer sets it.
    pub fn raw(&self, setting: &str) -> Option<(&str, Origin)> {
        if let Some(v) = self.env.get(setting) {
            return Some((v, Origin::Env));
        }
        self.file
            .get(setting)
            .map(|(v, path)| (v.as_str(), Origin::File(path.clone())))
    }

    /// Parses the value of `setting` (its default when no layer sets it) with `parse`.
    pub fn get<T>(
        &self,
        setting: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        self.get_opt(setting, parse)?
            .ok_or_else(|| self.error(setting, "is required and has no value"))
    }

    /// Like [`Layers::get`], but an empty or unset value without a default is `None`.
    pub fn get_opt<T>(
        &self,
        setting: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let (raw, origin) = match self.raw(setting) {
            Some((raw, origin)) => (raw, origin),
            None => (
                self.defaults.get(setting).copied().unwrap_or_default(),
                Origin::Default,
            ),
        };
        if raw.trim().is_empty() {
            return Ok(None);
        }
        parse(raw.trim()).map(Some).map_err(|message| ConfigError {
            setting: setting.to_owned(),
            origin,
            message,
        })
    }

    /// An error about `setting` that names where its value came from.
    pub fn error(&self, setting: &str, message: impl Into<String>) -> ConfigError {
        let origin = self
            .raw(setting)
            .map_or(Origin::Default, |(_, origin)| origin);
        ConfigError {
            setting: setting.to_owned(),
            origin,
            message: message.into(),
        }
    }
}

fn read_file(
    path: &Path,
    known: &BTreeSet<&'static str>,
) -> Result<BTreeMap<String, (String, PathBuf)>, ConfigError> {
    let file_error = |message: String| ConfigError {
        setting: "config".to_owned(),
        origin: Origin::File(path.to_owned()),
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| file_error(format!("cannot read the config file: {e}")))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| file_error(format!("not valid TOML: {e}")))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !known.contains(key.as_str()) {
            return Err(file_error(format!(
                "unknown setting `{key}`; the settings are: {}",
                known.iter().copied().collect::<Vec<_>>().join(", ")
            )));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError {
                    setting: key,
                    origin: Origin::File(path.to_owned()),
                    message: format!(
                        "expected a string, number or boolean, found {}",
                        other.type_str()
                    ),
                });
            }
        };
        out.insert(key, (text, path.to_owned()));
    }
    Ok(out)
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env => f.write_str("environment"),
        }
    }
}
