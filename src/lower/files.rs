//! Top-level `configs:` and `secrets:` -> ConfigMaps and Secrets, and their mounts in
//! the pods of the services that reference them. Owns: where each object's content
//! comes from (`file` read by the front-end into `Project::host_paths`, `content`,
//! `environment`), the objects' names (`prepare`, before any service is lowered,
//! including the `--hash-suffix` names), external and missing objects (referenced, not
//! emitted, listed in `ctx.external`), and the volumes/mounts Compose would create:
//! configs at `/<name>`, secrets at `/run/secrets/<name>` (or `target`; a relative
//! target is taken under those directories), one file each via `subPath`, `mode` as
//! the file mode. It must not read files (the front-end did), and never puts secret
//! content anywhere but a Secret's `data`.
//!
//! Data keys: a single-file object holds its content under the compose object's name
//! (`nginx_conf` -> key `nginx_conf`); an external object is expected to hold it under
//! that same key. A `file:` that is a directory becomes one key per regular file and is
//! mounted as a directory.

use super::env::{content_object, suffixed_name, Content, Kind};
use super::storage::{add_volume, dns_label};
use super::{Ctx, Plan};
use crate::compose::model::{is_external, HostPath, Project};
use crate::k8s::Manifest;
use crate::source::Span;
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, KeyToPath, SecretVolumeSource, Volume, VolumeMount,
};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// The most a ConfigMap or Secret can hold (keys plus values).
pub const MAX_OBJECT_BYTES: usize = 1 << 20;

/// Where one config or secret comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// Content to emit (a directory source is mounted whole).
    Content(HostContent),
    /// `external: true`: the object must exist; holds the Kubernetes name.
    External(String),
    /// The source could not be read (reason for the warning): treated as external.
    Missing(String),
    /// The source is larger than an object can hold (message for the error).
    TooLarge(String),
}

/// Configs or secrets: the two top-level sections handled alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Configs,
    Secrets,
}

impl Section {
    fn kind(self) -> Kind {
        match self {
            Section::Configs => Kind::ConfigMap,
            Section::Secrets => Kind::Secret,
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Section::Configs => "config",
            Section::Secrets => "secret",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Section::Configs => "configs",
            Section::Secrets => "secrets",
        }
    }
}

/// The fields both sections share.
struct Obj<'a> {
    span: Span,
    name: Option<&'a str>,
    file: Option<&'a str>,
    /// `content:` (configs) or the resolved `environment:` value.
    inline: Option<&'a str>,
    environment: Option<&'a str>,
    external: bool,
    labels: Option<&'a Json>,
}

fn obj<'a>(project: &'a Project, section: Section, key: &str) -> Option<Obj<'a>> {
    match section {
        Section::Configs => project.configs.get(key).map(|c| Obj {
            span: c.span,
            name: c.name.as_deref(),
            file: c.file.as_deref(),
            inline: c.content.as_deref(),
            environment: c.environment.as_deref(),
            external: is_external(&c.external),
            labels: c.labels.as_ref(),
        }),
        Section::Secrets => project.secrets.get(key).map(|s| Obj {
            span: s.span,
            name: s.name.as_deref(),
            file: s.file.as_deref(),
            inline: s.env_value.as_deref(),
            environment: s.environment.as_deref(),
            external: is_external(&s.external),
            labels: s.labels.as_ref(),
        }),
    }
}

fn keys(project: &Project, section: Section) -> Vec<String> {
    match section {
        Section::Configs => project.configs.keys().cloned().collect(),
        Section::Secrets => project.secrets.keys().cloned().collect(),
    }
}

/// A valid ConfigMap/Secret data key made from `s` (`[-._a-zA-Z0-9]`, not `.`/`..`).
pub fn data_key(s: &str) -> String {
    let mut k: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if k.is_empty() || k.starts_with("..") || k == "." {
        k.insert(0, '_');
    }
    k.truncate(253);
    k
}

/// What a host file or directory becomes as ConfigMap/Secret content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostContent {
    pub content: Content,
    /// A directory (mounted whole) rather than one file.
    pub dir: bool,
    /// Data key -> file name, for directory entries whose name is not a valid key.
    pub renamed: BTreeMap<String, String>,
}

impl HostContent {
    /// Volume `items` that restore renamed file names (all keys must then be listed).
    pub fn items(&self, mode: Option<i32>) -> Option<Vec<KeyToPath>> {
        if self.renamed.is_empty() {
            return None;
        }
        let keys = self.content.text.keys().chain(self.content.bytes.keys());
        let mut items: Vec<KeyToPath> = keys
            .map(|k| KeyToPath {
                key: k.clone(),
                path: self.renamed.get(k).cloned().unwrap_or_else(|| k.clone()),
                mode,
            })
            .collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        Some(items)
    }
}

/// Content of a host path: a file is stored under `key` (a valid data key), a
/// directory under its file names (made valid and kept distinct).
pub fn host_content(hp: &HostPath, key: &str) -> Option<HostContent> {
    let mut hc = HostContent::default();
    match hp {
        HostPath::File(bytes) => {
            insert_bytes(&mut hc.content, key.to_string(), bytes);
            Some(hc)
        }
        HostPath::Dir { files, .. } => {
            hc.dir = true;
            for (name, bytes) in files {
                let mut k = data_key(name);
                while hc.content.text.contains_key(&k) || hc.content.bytes.contains_key(&k) {
                    k.insert(0, '_');
                }
                if k != *name {
                    hc.renamed.insert(k.clone(), name.clone());
                }
                insert_bytes(&mut hc.content, k, bytes);
            }
            Some(hc)
        }
        _ => None,
    }
}

fn insert_bytes(content: &mut Content, key: String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            content.text.insert(key, s.to_string());
        }
        Err(_) => {
            content.bytes.insert(key, bytes.to_vec());
        }
    }
}

/// Why a host path was not read, for messages.
pub fn unread_reason(hp: Option<&HostPath>, path: &str) -> String {
    match hp {
        Some(HostPath::Outside) => {
            format!("`{path}` is outside the project directory, so it was not read")
        }
        _ => format!("`{path}` was not found"),
    }
}

/// The Kubernetes name of an existing (external) object: kept when it is a valid
/// DNS-1123 subdomain, else sanitised like every other name.
pub fn external_name(given: &str) -> String {
    let valid = !given.is_empty()
        && given.len() <= 253
        && given
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && given
            .split('.')
            .all(|part| !part.is_empty() && !part.starts_with('-') && !part.ends_with('-'));
    if valid {
        given.to_string()
    } else {
        dns_label(given, 253)
    }
}

/// Where a config or secret comes from (pure; `prepare`, `mount` and `lower_objects`
/// all use it so they agree).
pub fn resolve(project: &Project, section: Section, key: &str) -> Resolved {
    let Some(o) = obj(project, section, key) else {
        return Resolved::Missing(format!("{} `{key}` is not defined", section.noun()));
    };
    if o.external {
        return Resolved::External(external_name(o.name.unwrap_or(key)));
    }
    let dkey = data_key(key);
    if let Some(text) = o.inline {
        let mut content = Content::default();
        match section {
            Section::Configs => {
                content.text.insert(dkey, text.to_string());
            }
            Section::Secrets => {
                content.bytes.insert(dkey, text.as_bytes().to_vec());
            }
        }
        return checked(
            HostContent {
                content,
                ..HostContent::default()
            },
            key,
            section,
        );
    }
    if let Some(path) = o.file {
        let hp = project.host_paths.get(path);
        if let Some(HostPath::TooLarge(n)) = hp {
            return Resolved::TooLarge(format!(
                "`{path}` is {n} bytes; a {} holds at most 1 MiB",
                section.kind().as_str()
            ));
        }
        return match hp.and_then(|hp| host_content(hp, &dkey)) {
            Some(mut hc) => {
                if section == Section::Secrets {
                    // Secrets carry bytes only.
                    let text = std::mem::take(&mut hc.content.text);
                    hc.content
                        .bytes
                        .extend(text.into_iter().map(|(k, v)| (k, v.into_bytes())));
                }
                checked(hc, key, section)
            }
            None => Resolved::Missing(unread_reason(hp, path)),
        };
    }
    if let Some(var) = o.environment {
        return Resolved::Missing(format!("variable `{var}` is not set"));
    }
    Resolved::Missing("it has no `file`, `content` or `environment` source".into())
}

fn checked(hc: HostContent, key: &str, section: Section) -> Resolved {
    let size = hc.content.size();
    if size > MAX_OBJECT_BYTES {
        return Resolved::TooLarge(format!(
            "{} `{key}` is {size} bytes; a {} holds at most 1 MiB",
            section.noun(),
            section.kind().as_str()
        ));
    }
    Resolved::Content(hc)
}

/// The Kubernetes name before any hash suffix: the name assigned by `names`, else the
/// compose `name:` or key, sanitised.
fn base_name(ctx: &Ctx, section: Section, key: &str) -> String {
    let assigned = match section {
        Section::Configs => ctx.names.configs.get(key),
        Section::Secrets => ctx.names.secrets.get(key),
    };
    if let Some(n) = assigned {
        return n.clone();
    }
    let given = obj(ctx.project, section, key)
        .and_then(|o| o.name)
        .unwrap_or(key);
    dns_label(given, 253)
}

/// Compute the names of all configs and secrets (hashed with `--hash-suffix`), report
/// external / missing / oversized ones and keys that are not mapped. Also lets
/// `storage` name the PVCs of bind-mounted data directories.
pub fn prepare(ctx: &mut Ctx) {
    let used = users(ctx.project);
    for section in [Section::Configs, Section::Secrets] {
        for key in keys(ctx.project, section) {
            let Some(o) = obj(ctx.project, section, &key) else {
                continue;
            };
            let span = o.span;
            let kind = section.kind().as_str();
            let noun = section.noun();
            let is_used = used.contains_key(&(section, key.clone()));
            let name = match resolve(ctx.project, section, &key) {
                Resolved::External(name) => {
                    if is_used {
                        ctx.external.insert(format!("{kind}/{name}"));
                        // A sanitised compose key is reported by `names`; an explicit
                        // `name:` that had to change is reported here.
                        let renamed = match o.name {
                            Some(given) if given != name => {
                                format!(" (`{given}` is not a valid Kubernetes name)")
                            }
                            _ => String::new(),
                        };
                        ctx.warn(
                            span,
                            format!("{noun} `{key}` is external: {kind} `{name}`{renamed} must exist before deploying"),
                        );
                    }
                    name
                }
                Resolved::Missing(reason) => {
                    let name = base_name(ctx, section, &key);
                    if is_used {
                        ctx.external.insert(format!("{kind}/{name}"));
                    }
                    let d = ctx.warn(
                        span,
                        format!("{noun} `{key}`: {reason}; treated as external: {kind} `{name}` must exist before deploying"),
                    );
                    let file = o.file.unwrap_or("FILE");
                    let what = match section {
                        Section::Configs => "configmap",
                        Section::Secrets => "secret generic",
                    };
                    d.help = Some(format!(
                        "create it with: kubectl create {what} {name} --from-file={}={file}",
                        data_key(&key)
                    ));
                    name
                }
                Resolved::TooLarge(msg) => {
                    ctx.error(span, format!("{noun} `{key}`: {msg}"));
                    base_name(ctx, section, &key)
                }
                Resolved::Content(hc) => {
                    let base = base_name(ctx, section, &key);
                    suffixed_name(ctx, section.kind(), &base, &hc.content)
                }
            };
            match section {
                Section::Configs => ctx.names.configs.insert(key.clone(), name),
                Section::Secrets => ctx.names.secrets.insert(key.clone(), name),
            };
            warn_unmapped(ctx, section, &key);
        }
    }
    super::storage::prepare(ctx);
}

/// Keys of a config/secret definition that have no Kubernetes counterpart.
fn warn_unmapped(ctx: &mut Ctx, section: Section, key: &str) {
    let fields: Vec<(&str, Span)> = match section {
        Section::Configs => ctx
            .project
            .configs
            .get(key)
            .map(|c| {
                let mut v = Vec::new();
                if c.template_driver.is_some() {
                    v.push(("template_driver", c.span));
                }
                v
            })
            .unwrap_or_default(),
        Section::Secrets => ctx
            .project
            .secrets
            .get(key)
            .map(|s| {
                let mut v = Vec::new();
                if s.driver.is_some() {
                    v.push(("driver", s.span));
                }
                if s.driver_opts.is_some() {
                    v.push(("driver_opts", s.span));
                }
                if s.template_driver.is_some() {
                    v.push(("template_driver", s.span));
                }
                v
            })
            .unwrap_or_default(),
    };
    for (field, span) in fields {
        let span = match ctx.project.tree.pointer(&[section.key(), key, field]) {
            Some(_) => ctx.project.tree.span_at(&[section.key(), key, field]),
            None => span,
        };
        ctx.warn(
            span,
            format!(
                "`{}.{key}.{field}` is not mapped to Kubernetes and is ignored",
                section.key()
            ),
        );
    }
}

/// (section, key) -> compose services that reference it, in name order.
fn users(project: &Project) -> BTreeMap<(Section, String), Vec<String>> {
    let mut m: BTreeMap<(Section, String), Vec<String>> = BTreeMap::new();
    for svc in project.services.values() {
        for (section, refs) in [
            (Section::Configs, &svc.configs),
            (Section::Secrets, &svc.secrets),
        ] {
            for r in refs {
                let list = m.entry((section, r.source.clone())).or_default();
                if list.last() != Some(&svc.name) {
                    list.push(svc.name.clone());
                }
            }
        }
    }
    m
}

/// Parse a compose file mode: an integer (YAML `0440` is already octal) or an octal
/// string (`"0440"`, `"440"`). Kubernetes accepts 0..=0o777.
pub fn parse_mode(v: &Json) -> Option<i32> {
    let m = match v {
        Json::Number(n) => n.as_i64()?,
        Json::String(s) => {
            let s = s.trim();
            let digits = s
                .strip_prefix("0o")
                .or_else(|| s.strip_prefix("0O"))
                .unwrap_or(s);
            i64::from_str_radix(digits, 8).ok()?
        }
        _ => return None,
    };
    i32::try_from(m).ok().filter(|m| (0..=0o777).contains(m))
}

/// Where Compose mounts a config/secret reference.
pub fn target_path(section: Section, source: &str, target: Option<&str>) -> String {
    let base = match section {
        Section::Configs => "/",
        Section::Secrets => "/run/secrets/",
    };
    match target {
        Some(t) if t.starts_with('/') => t.to_string(),
        Some(t) if !t.is_empty() => format!("{base}{t}"),
        _ => format!("{base}{source}"),
    }
}

/// Add volumes and mounts for the service's `configs:` and `secrets:` references, and
/// the rollout checksum entries of the objects they use.
pub fn mount(ctx: &mut Ctx, plan: &mut Plan) {
    let svc = plan.svc;
    for (section, refs) in [
        (Section::Configs, &svc.configs),
        (Section::Secrets, &svc.secrets),
    ] {
        for (i, r) in refs.iter().enumerate() {
            let idx = i.to_string();
            let span = svc.span_of(&[section.key(), &idx]);
            let key = r.source.as_str();
            let kind = section.kind().as_str();
            let Some(name) = (match section {
                Section::Configs => ctx.names.configs.get(key),
                Section::Secrets => ctx.names.secrets.get(key),
            })
            .cloned() else {
                ctx.error(
                    span,
                    format!(
                        "service `{}` refers to undefined {} `{key}`",
                        svc.name,
                        section.noun()
                    ),
                );
                continue;
            };
            let resolved = resolve(ctx.project, section, key);
            let hc = match &resolved {
                Resolved::Content(hc) => Some(hc),
                Resolved::TooLarge(_) => continue,
                _ => None,
            };
            let dir = hc.is_some_and(|h| h.dir);
            let mode = match &r.mode {
                None => None,
                Some(m) => {
                    let parsed = parse_mode(m);
                    if parsed.is_none() {
                        let d = ctx.warn(
                            svc.span_of(&[section.key(), &idx, "mode"]),
                            format!("`mode: {m}` is not a file mode (0 to 0777): ignored, the file gets Kubernetes' default 0644"),
                        );
                        let digits = m.to_string();
                        if digits.chars().all(|c| ('0'..='7').contains(&c)) {
                            d.help = Some(format!(
                                "Compose reads a quoted mode as a decimal number; for octal {digits} write it unquoted with a leading zero: `mode: 0{digits}`"
                            ));
                        }
                    }
                    parsed
                }
            };
            for (field, value) in [("uid", &r.uid), ("gid", &r.gid)] {
                if let Some(v) = value.as_deref().filter(|v| v.trim() != "0") {
                    let d = ctx.warn(
                        svc.span_of(&[section.key(), &idx, field]),
                        format!(
                            "`{field}: {v}` of {} `{key}` is not mapped: Kubernetes mounts ConfigMap and Secret files owned by root",
                            section.noun()
                        ),
                    );
                    d.help = Some(
                        "make the file readable with `mode`, or set the pod's securityContext.fsGroup (group ownership of mounted volumes)".into(),
                    );
                }
            }
            let target = target_path(section, key, r.target.as_deref());
            let dkey = data_key(key);
            let (items, default_mode, sub_path) = if dir {
                (hc.and_then(|h| h.items(None)), mode, None)
            } else {
                (
                    Some(vec![KeyToPath {
                        key: dkey.clone(),
                        path: dkey.clone(),
                        mode,
                    }]),
                    None,
                    Some(dkey),
                )
            };
            let volume = match section {
                Section::Configs => Volume {
                    config_map: Some(ConfigMapVolumeSource {
                        name: name.clone(),
                        items,
                        default_mode,
                        optional: None,
                    }),
                    ..Volume::default()
                },
                Section::Secrets => Volume {
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(name.clone()),
                        items,
                        default_mode,
                        optional: None,
                    }),
                    ..Volume::default()
                },
            };
            let vname = add_volume(
                &mut plan.pod,
                &format!("{}-{}", section.noun(), dns_label(key, 63)),
                volume,
            );
            plan.pod.mounts.push(VolumeMount {
                name: vname,
                mount_path: target,
                sub_path,
                read_only: Some(true),
                ..VolumeMount::default()
            });
            if let (Some(hc), false) = (hc, ctx.opts.hash_suffix) {
                let identity = format!("{kind}/{name}");
                if !plan.pod.checksum.iter().any(|(id, _)| *id == identity) {
                    let digest = hc.content.digest(kind, &name);
                    plan.pod.checksum.push((identity, digest));
                }
            }
        }
    }
}

/// Compose `labels:` (map or `KEY=VALUE` list) as annotations.
pub fn label_annotations(labels: Option<&Json>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match labels {
        Some(Json::Object(m)) => {
            for (k, v) in m {
                let v = match v {
                    Json::String(s) => s.clone(),
                    Json::Null => String::new(),
                    other => other.to_string(),
                };
                out.insert(k.clone(), v);
            }
        }
        Some(Json::Array(items)) => {
            for item in items.iter().filter_map(Json::as_str) {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                out.insert(k.to_string(), v.to_string());
            }
        }
        _ => {}
    }
    out
}

/// Emit every defined config and secret that is not external (or missing / too large).
pub fn lower_objects(ctx: &mut Ctx, out: &mut Vec<Manifest>) {
    let used = users(ctx.project);
    for section in [Section::Configs, Section::Secrets] {
        for key in keys(ctx.project, section) {
            let Resolved::Content(hc) = resolve(ctx.project, section, &key) else {
                continue;
            };
            let Some(o) = obj(ctx.project, section, &key) else {
                continue;
            };
            let name = match section {
                Section::Configs => ctx.names.configs.get(&key),
                Section::Secrets => ctx.names.secrets.get(&key),
            }
            .cloned()
            .unwrap_or_else(|| base_name(ctx, section, &key));
            let labels = match used.get(&(section, key.clone())).map(Vec::as_slice) {
                Some([only]) => ctx.labels(Some(only)),
                _ => ctx.labels(None),
            };
            let annotations = label_annotations(o.labels);
            out.push(content_object(
                ctx,
                section.kind(),
                &name,
                &labels,
                Some(annotations),
                &hc.content,
                Some(o.span),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{ConfigObj, FileRef, SecretObj, Service};
    use crate::lower::{ext::ServiceExt, Options, PodParts, WorkloadKind};
    use serde_json::json;

    #[test]
    fn mode_table() {
        let cases: &[(Json, Option<i32>)] = &[
            (json!(288), Some(0o440)),
            (json!("0440"), Some(0o440)),
            (json!("440"), Some(0o440)),
            (json!("0o644"), Some(0o644)),
            (json!(0), Some(0)),
            (json!(511), Some(0o777)),
            (json!(512), None),
            (json!("0999"), None),
            (json!(-1), None),
            (json!(true), None),
        ];
        for (v, want) in cases {
            assert_eq!(parse_mode(v), *want, "{v}");
        }
    }

    #[test]
    fn target_table() {
        let cases: &[(Section, &str, Option<&str>, &str)] = &[
            (Section::Configs, "app", None, "/app"),
            (
                Section::Configs,
                "app",
                Some("/etc/app.conf"),
                "/etc/app.conf",
            ),
            (
                Section::Configs,
                "app",
                Some("etc/app.conf"),
                "/etc/app.conf",
            ),
            (Section::Secrets, "db_pw", None, "/run/secrets/db_pw"),
            (Section::Secrets, "db_pw", Some("pw"), "/run/secrets/pw"),
            (Section::Secrets, "db_pw", Some("/etc/pw"), "/etc/pw"),
        ];
        for (s, src, t, want) in cases {
            assert_eq!(target_path(*s, src, *t), *want);
        }
    }

    #[test]
    fn data_key_table() {
        for (input, want) in [
            ("nginx.conf", "nginx.conf"),
            ("my file", "my_file"),
            ("..x", "_..x"),
            (".", "_."),
            ("", "_"),
        ] {
            assert_eq!(data_key(input), want);
        }
    }

    fn project() -> Project {
        let mut p = Project {
            name: "demo".into(),
            ..Project::default()
        };
        p.configs.insert(
            "app_conf".into(),
            ConfigObj {
                file: Some("./app.conf".into()),
                ..ConfigObj::default()
            },
        );
        p.configs.insert(
            "inline".into(),
            ConfigObj {
                content: Some("hello".into()),
                ..ConfigObj::default()
            },
        );
        p.configs.insert(
            "gone".into(),
            ConfigObj {
                file: Some("./gone.conf".into()),
                ..ConfigObj::default()
            },
        );
        p.secrets.insert(
            "db_pw".into(),
            SecretObj {
                file: Some("./pw.txt".into()),
                ..SecretObj::default()
            },
        );
        p.secrets.insert(
            "ext".into(),
            SecretObj {
                external: Some(json!(true)),
                name: Some("prod-db".into()),
                ..SecretObj::default()
            },
        );
        p.host_paths
            .insert("./app.conf".into(), HostPath::File(b"a=1\n".to_vec()));
        p.host_paths
            .insert("./pw.txt".into(), HostPath::File(b"hunter2".to_vec()));
        p.host_paths.insert("./gone.conf".into(), HostPath::Missing);
        let svc = Service {
            name: "web".into(),
            configs: vec![
                FileRef {
                    source: "app_conf".into(),
                    target: Some("/etc/app.conf".into()),
                    mode: Some(json!("0440")),
                    uid: Some("1000".into()),
                    ..FileRef::default()
                },
                FileRef {
                    source: "gone".into(),
                    ..FileRef::default()
                },
            ],
            secrets: vec![
                FileRef {
                    source: "db_pw".into(),
                    ..FileRef::default()
                },
                FileRef {
                    source: "ext".into(),
                    ..FileRef::default()
                },
            ],
            ..Service::default()
        };
        p.services.insert("web".into(), Box::new(svc));
        p
    }

    #[test]
    fn prepare_mount_and_emit() {
        let p = project();
        let opts = Options::default();
        let mut ctx = Ctx {
            project: &p,
            opts: &opts,
            diags: Vec::new(),
            external: Default::default(),
            names: Default::default(),
            volume_users: Default::default(),
        };
        prepare(&mut ctx);
        assert_eq!(ctx.names.secrets["ext"], "prod-db");
        assert_eq!(ctx.names.configs["app_conf"], "app-conf");
        assert!(ctx.external.contains("Secret/prod-db"));
        assert!(ctx.external.contains("ConfigMap/gone"));
        let svc = &p.services["web"];
        let mut plan = Plan {
            svc,
            ext: ServiceExt::default(),
            name: "web".into(),
            labels: ctx.labels(Some("web")),
            selector: BTreeMap::new(),
            kind: WorkloadKind::Deployment,
            replicas: 1,
            ports: Vec::new(),
            pod: PodParts::default(),
        };
        mount(&mut ctx, &mut plan);
        let paths: Vec<&str> = plan
            .pod
            .mounts
            .iter()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "/etc/app.conf",
                "/gone",
                "/run/secrets/db_pw",
                "/run/secrets/ext"
            ]
        );
        let v0 = plan.pod.volumes[0].config_map.as_ref().unwrap();
        assert_eq!(v0.items.as_ref().unwrap()[0].mode, Some(0o440));
        assert_eq!(plan.pod.mounts[0].sub_path.as_deref(), Some("app_conf"));
        // checksum: app-conf and db-pw only (external/missing content unknown)
        let ids: Vec<&str> = plan.pod.checksum.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids, ["ConfigMap/app-conf", "Secret/db-pw"]);
        assert!(ctx.diags.iter().any(|d| d.message.contains("uid")));
        let mut out = Vec::new();
        lower_objects(&mut ctx, &mut out);
        let names: Vec<(&str, &str)> = out
            .iter()
            .map(|m| (m.kind.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("ConfigMap", "app-conf"),
                ("ConfigMap", "inline"),
                ("Secret", "db-pw")
            ]
        );
        assert_eq!(out[2].json()["data"]["db_pw"], "aHVudGVyMg==");
        assert_eq!(out[0].json()["data"]["app_conf"], "a=1\n");
        assert_eq!(
            out[0].json()["metadata"]["labels"]["app.kubernetes.io/name"],
            "web"
        );
        assert!(out[1].json()["metadata"]["labels"]
            .get("app.kubernetes.io/name")
            .is_none());
        for d in &ctx.diags {
            assert!(!d.message.contains("hunter2"));
        }
    }
}
