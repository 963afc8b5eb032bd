//! The service `volumes:` short syntax (`[source:]target[:options]`) and the long-syntax
//! entry it becomes. Parsing is exact to compose-go's `format.ParseVolume`: Windows
//! drive letters and named pipes, `${...}` left intact (colons inside are not
//! separators), `ro`/`rw`/`nocopy`/propagation/SELinux options (unknown options are
//! ignored, as compose does), and the bind-versus-named-volume decision by the source's
//! first characters. Errors start with compose-go's wording and then say what is wrong.
//! This module owns only that string -> [`VolumeSpec`] conversion; it must not resolve
//! paths, look at the file system, or decide how mounts become Kubernetes volumes.

use crate::compose::units::parse_bytes;
use serde::{Deserialize, Deserializer, Serialize};

/// One long-syntax `volumes:` entry of a service. Field order and names follow
/// compose-go's `ServiceVolumeConfig`, so `config` prints what `docker compose config`
/// prints (including the empty `volume: {}` compose-go allocates for named volumes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    /// `bind`, `volume`, `tmpfs`, `image`, `npipe` or `cluster`.
    pub r#type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default)]
    pub target: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOpts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOpts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOpts>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindOpts {
    /// Create the host directory when it is missing (implied by the short syntax).
    #[serde(default)]
    pub create_host_path: bool,
    /// `rprivate`, `private`, `rshared`, `shared`, `rslave` or `slave`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation: Option<String>,
    /// `z` (shared) or `Z` (private) relabelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOpts {
    #[serde(default, skip_serializing_if = "is_false")]
    pub nocopy: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOpts {
    /// Size in bytes; the long syntax also accepts a size string such as `64m`.
    #[serde(
        default,
        deserialize_with = "de_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<u64>,
    /// File mode bits (YAML `0o1777` / `1777` as an integer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Int(u64),
        Str(String),
    }
    match Option::<Size>::deserialize(d)? {
        None => Ok(None),
        Some(Size::Int(i)) => Ok(Some(i)),
        Some(Size::Str(s)) => parse_bytes(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

/// What the short syntax looks like; appended to every error.
const SYNTAX_HELP: &str = "expected [source:]target[:options], e.g. \"./data:/data:ro\"";

/// Parse one short-syntax service volume, exactly as compose-go's `ParseVolume`.
pub fn parse_volume(spec: &str) -> Result<VolumeSpec, String> {
    match spec.len() {
        0 => return Err(format!("invalid empty volume spec ({SYNTAX_HELP})")),
        // compose-go returns these before any splitting: an anonymous volume, without
        // the volume-options struct it allocates everywhere else.
        1 | 2 => {
            return Ok(VolumeSpec {
                r#type: "volume".to_string(),
                target: spec.to_string(),
                ..VolumeSpec::default()
            })
        }
        _ => {}
    }

    let mut fields = Fields::default();
    let mut buffer = String::new();
    let mut depth = 0usize; // nesting of ${...}
    let bytes = spec.as_bytes();
    // Go appends rune(0) as an end marker, so a NUL in the spec also ends a field.
    let chars = spec
        .char_indices()
        .chain(std::iter::once((spec.len(), END)));
    for (i, c) in chars {
        if c == '$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            buffer.push(c);
            continue;
        }
        if c == '}' && depth > 0 {
            depth -= 1;
            buffer.push(c);
            continue;
        }
        if is_windows_drive(&buffer, c) {
            buffer.push(c);
        } else if (c == ':' || c == END) && depth == 0 {
            fields
                .take(c, &buffer)
                .map_err(|why| format!("invalid spec: {spec}: {why}"))?;
            buffer.clear();
        } else {
            buffer.push(c);
        }
    }
    Ok(fields.finish())
}

/// Go's `rune(0)` end-of-spec marker.
const END: char = '\0';

/// A single letter followed by `:` (`C:`): the colon belongs to the path.
fn is_windows_drive(buffer: &str, c: char) -> bool {
    if c != ':' {
        return false;
    }
    let mut it = buffer.chars();
    matches!((it.next(), it.next()), (Some(l), None) if l.is_alphabetic())
}

#[derive(Default)]
struct Fields {
    source: String,
    target: String,
    read_only: bool,
    bind: Option<BindOpts>,
    volume: Option<VolumeOpts>,
}

impl Fields {
    /// compose-go's `populateFieldFromBuffer`: the error is the reason only.
    fn take(&mut self, c: char, buffer: &str) -> Result<(), String> {
        if buffer.is_empty() {
            return Err(format!("empty section between colons ({SYNTAX_HELP})"));
        }
        if self.source.is_empty() {
            if c == END {
                // Anonymous volume.
                self.target = buffer.to_string();
            } else {
                self.source = buffer.to_string();
            }
            return Ok(());
        }
        if self.target.is_empty() {
            self.target = buffer.to_string();
            return Ok(());
        }
        if c == ':' {
            return Err(format!(
                "too many colons (options go in one field, separated by commas, e.g. \
                 \"./src:/app:ro,z\"; {SYNTAX_HELP})"
            ));
        }
        for option in buffer.split(',') {
            match option {
                "ro" => self.read_only = true,
                "rw" => self.read_only = false,
                "nocopy" => self.volume = Some(VolumeOpts { nocopy: true }),
                "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                    self.bind.get_or_insert_with(BindOpts::default).propagation =
                        Some(option.to_string());
                }
                "z" | "Z" => {
                    self.bind.get_or_insert_with(BindOpts::default).selinux =
                        Some(option.to_string());
                }
                // compose-go ignores unknown options.
                _ => {}
            }
        }
        Ok(())
    }

    /// compose-go's `populateType`.
    fn finish(self) -> VolumeSpec {
        let is_bind = is_file_path(&self.source);
        let mut v = VolumeSpec {
            r#type: String::new(),
            source: (!self.source.is_empty()).then_some(self.source),
            target: self.target,
            read_only: self.read_only,
            bind: self.bind,
            volume: self.volume,
            ..VolumeSpec::default()
        };
        if is_bind {
            v.r#type = "bind".to_string();
            // Short syntax creates a missing host path (docker-compose v1 behaviour).
            v.bind
                .get_or_insert_with(BindOpts::default)
                .create_host_path = true;
        } else {
            v.r#type = "volume".to_string();
            v.volume.get_or_insert_with(VolumeOpts::default);
        }
        v
    }
}

/// A source that starts with `.`, `/`, `~`, `\\` or a drive letter is a host path;
/// anything else names a volume.
fn is_file_path(source: &str) -> bool {
    let Some(first) = source.chars().next() else {
        return false;
    };
    if matches!(first, '.' | '/' | '~') || source.starts_with("\\\\") {
        return true;
    }
    // Go compares the *byte* after the first rune with ':'.
    source.as_bytes().get(first.len_utf8()) == Some(&b':') && first.is_alphabetic()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths() {
        let cases: &[(&str, bool)] = &[
            ("", false),
            ("./a", true),
            ("/a", true),
            ("~/a", true),
            ("..", true),
            ("\\\\host\\share", true),
            ("\\single", false),
            ("C:\\x", true),
            ("c:", true),
            ("é:", true),
            ("1:", false),
            ("name", false),
            ("relative/path", false),
        ];
        for (input, want) in cases {
            assert_eq!(is_file_path(input), *want, "{input:?}");
        }
    }

    #[test]
    fn errors_explain() {
        let err = parse_volume("/a:/b:ro:x").unwrap_err();
        assert!(
            err.starts_with("invalid spec: /a:/b:ro:x: too many colons ("),
            "{err}"
        );
        let err = parse_volume("/a::ro").unwrap_err();
        assert!(
            err.starts_with("invalid spec: /a::ro: empty section between colons ("),
            "{err}"
        );
        let err = parse_volume("").unwrap_err();
        assert!(err.starts_with("invalid empty volume spec ("), "{err}");
    }

    #[test]
    fn nul_ends_a_field_like_go() {
        // Go's end marker is rune(0): a NUL makes the first part an anonymous target
        // that the real end then overwrites.
        let v = parse_volume("abc\0def").unwrap();
        assert_eq!(v.target, "def");
        assert_eq!(v.source, None);
    }

    #[test]
    fn long_syntax_deserializes() {
        let v: VolumeSpec = serde_json::from_value(serde_json::json!({
            "type": "tmpfs", "target": "/tmp", "tmpfs": {"size": "64m", "mode": 1777}
        }))
        .unwrap();
        assert_eq!(
            v.tmpfs,
            Some(TmpfsOpts {
                size: Some(64 << 20),
                mode: Some(1777)
            })
        );
        let v: VolumeSpec = serde_json::from_value(serde_json::json!({
            "type": "tmpfs", "target": "/tmp", "tmpfs": {"size": 1024}
        }))
        .unwrap();
        assert_eq!(v.tmpfs.and_then(|t| t.size), Some(1024));
        let err = serde_json::from_value::<VolumeSpec>(serde_json::json!({
            "type": "tmpfs", "target": "/tmp", "tmpfs": {"size": "lots"}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("invalid size"), "{err}");
    }
}
