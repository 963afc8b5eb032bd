//! Environment -> ConfigMap + Secret + `envFrom`. Owns the split of a service's
//! effective environment (`env_file` then `environment`, already resolved by the
//! front-end) into a Secret `<service>-env` (sensitive names, `data` in base64) and a
//! ConfigMap `<service>-env` (everything else), the `env` entries for names that
//! `envFrom` would skip, and the content digests behind the pod rollout checksum.
//! Also hosts the helpers that `files` and `storage` share for ConfigMap/Secret
//! content: [`content_digest`] and [`suffixed_name`] (`--hash-suffix`).
//! It must not mount files (that is `files`/`storage`), build containers, or ever put
//! a secret value anywhere except the Secret's `data`: never in a ConfigMap, a literal
//! `env` value, a diagnostic or a name.
//!
//! # Which names go where
//! A variable declared without a value (`None`) is omitted, as Compose removes it from
//! the container environment. Sensitive names (see [`is_sensitive`]) go to the Secret,
//! the others to the ConfigMap; `x-kubernetes.secret-env` / `config-env` force either
//! way (secret wins when a name is in both). Names then fall in four groups, following
//! the Kubernetes validation rules:
//! - valid `C_IDENTIFIER`-like names (`[-._a-zA-Z][-._a-zA-Z0-9]*`, the rule the
//!   kubelet applies to `envFrom` keys unless relaxed names are enabled): `envFrom`;
//! - other valid ConfigMap keys (`1ST_RUN`): kept in the object and referenced by an
//!   explicit `env` entry (`configMapKeyRef` / `secretKeyRef`), so a cluster that
//!   rejects the name fails loudly instead of `envFrom` skipping it silently; a warning
//!   says it needs relaxed environment variable names (Kubernetes >= 1.32 by default);
//! - printable-ASCII names that cannot be ConfigMap keys (`a:b`): non-sensitive ones
//!   become a literal `env` value (with `$(` and `$$` escaped so Kubernetes does not
//!   expand `$(VAR)`), sensitive ones are an error (a Secret key cannot carry them and a
//!   literal would expose the value);
//! - anything else (non-ASCII, control characters): an error.
//!
//! # Rollout checksum and low-entropy secrets
//! Every ConfigMap/Secret a pod consumes contributes `(Kind/name, digest)` to
//! `plan.pod.checksum`; the workload sums these into one pod-template annotation, so a
//! change of content rolls the pods. [`content_digest`] is one SHA-256 over a fixed
//! domain-separation prefix, the object's kind and name, and *every* key and value of
//! the object in key order, each length-prefixed. So the annotation is never a hash of
//! one secret value alone, and it cannot be matched against precomputed tables of
//! common passwords. It is still a deterministic function of the inputs: someone who
//! can read the pod template *and* knows every other key and value of that Secret can
//! test guesses for the remaining one offline, so a short or guessable password in a
//! Secret whose other values are known or also guessable can in principle be recovered
//! by brute force. Including the ConfigMap's contents adds no protection against that
//! (ConfigMaps are rarely more secret than Deployments); a high-entropy value in the
//! same Secret does. Keep secrets long and random, or use `--hash-suffix`, where the
//! object name itself changes (kustomize's 10-character hash, same caveat, fewer bits)
//! and no checksum entry is added.

use super::{Ctx, Plan};
use crate::k8s::{hash, Manifest};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource,
    Secret, SecretEnvSource, SecretKeySelector,
};
use k8s_openapi::ByteString;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Domain-separation prefix of [`content_digest`].
const DIGEST_DOMAIN: &str = "compose2k8s rollout checksum v1";

/// Whether a variable name is sensitive by default or by a `--secret-pattern`. User
/// patterns are checked first (they can claim a `_FILE` name); names ending in `_FILE`
/// hold a path (the Docker secrets convention) and are not sensitive by default.
pub fn is_sensitive(name: &str, extra: &[regex::Regex]) -> bool {
    if extra.iter().any(|re| re.is_match(name)) {
        return true;
    }
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("_FILE") {
        return false;
    }
    crate::diag::looks_sensitive(name)
}

/// How Kubernetes can carry one variable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameClass {
    /// Valid for `envFrom` on every cluster.
    EnvFrom,
    /// A valid ConfigMap/Secret key, but `envFrom` may skip it: explicit `env` ref.
    KeyRef,
    /// Printable ASCII but not a ConfigMap key: only a literal `env` value works.
    LiteralOnly,
    /// Not accepted by Kubernetes at all.
    Invalid,
}

/// Classify a variable name by the Kubernetes validation rules.
pub fn classify_name(name: &str) -> NameClass {
    let chdir = name == "." || name == ".." || name.starts_with("..");
    let key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    let is_key = !name.is_empty() && name.len() <= 253 && !chdir && name.chars().all(key_char);
    let strict = !chdir
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'))
        && name.chars().all(key_char);
    let relaxed = !name.is_empty() && name.chars().all(|c| (' '..='~').contains(&c) && c != '=');
    match (is_key, strict, relaxed) {
        (true, true, _) => NameClass::EnvFrom,
        (true, false, _) => NameClass::KeyRef,
        (false, _, true) => NameClass::LiteralOnly,
        (false, _, false) => NameClass::Invalid,
    }
}

/// SHA-256 (hex) over the domain prefix, kind, name and every entry (key order,
/// length-prefixed; binary entries tagged apart). See the module doc for what this does
/// and does not protect.
pub fn content_digest<'a>(
    kind: &str,
    name: &str,
    text: impl IntoIterator<Item = (&'a str, &'a str)>,
    binary: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> String {
    fn field(h: &mut Sha256, tag: u8, bytes: &[u8]) {
        h.update([tag]);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    }
    let mut h = Sha256::new();
    field(&mut h, b'D', DIGEST_DOMAIN.as_bytes());
    field(&mut h, b'K', kind.as_bytes());
    field(&mut h, b'N', name.as_bytes());
    let mut text: Vec<(&str, &str)> = text.into_iter().collect();
    text.sort_unstable();
    for (k, v) in text {
        field(&mut h, b'k', k.as_bytes());
        field(&mut h, b'v', v.as_bytes());
    }
    let mut binary: Vec<(&str, &[u8])> = binary.into_iter().collect();
    binary.sort_unstable();
    for (k, v) in binary {
        field(&mut h, b'b', k.as_bytes());
        field(&mut h, b'v', v);
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Content of a ConfigMap or Secret, before naming.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Content {
    /// ConfigMap `data` (UTF-8 text). Unused for Secrets.
    pub text: BTreeMap<String, String>,
    /// ConfigMap `binaryData` / Secret `data` (raw bytes; serialised as base64).
    pub bytes: BTreeMap<String, Vec<u8>>,
}

impl Content {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.bytes.is_empty()
    }

    /// Total size as the API server counts it against the 1 MiB limit.
    pub fn size(&self) -> usize {
        self.text
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            + self
                .bytes
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }

    pub fn digest(&self, kind: &str, name: &str) -> String {
        content_digest(
            kind,
            name,
            self.text.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            self.bytes.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
        )
    }
}

/// The object name for `base`: `base` itself, or with `--hash-suffix`
/// `<base>-<kustomize hash>` as kustomize's `configMapGenerator` / `secretGenerator`
/// would suffix an object with this content.
pub fn suffixed_name(ctx: &Ctx, kind: Kind, base: &str, content: &Content) -> String {
    if !ctx.opts.hash_suffix {
        return base.to_string();
    }
    let hash = match kind {
        Kind::ConfigMap => hash::configmap_hash(&content.text, &b64_map(&content.bytes)),
        Kind::Secret => hash::secret_hash("Opaque", &b64_map(&content.bytes)),
    };
    format!("{base}-{hash}")
}

fn b64_map(m: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    use base64::Engine as _;
    m.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                base64::engine::general_purpose::STANDARD.encode(v),
            )
        })
        .collect()
}

/// The two object kinds this module family emits for content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }
}

/// Build the ConfigMap or Secret manifest for `content` (immutable with
/// `--hash-suffix`; Secrets are `Opaque` with `data` only).
pub fn content_object(
    ctx: &Ctx,
    kind: Kind,
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: Option<BTreeMap<String, String>>,
    content: &Content,
    origin: Option<crate::source::Span>,
) -> Manifest {
    let mut meta = ctx.meta(name, labels);
    meta.annotations = annotations.filter(|a| !a.is_empty());
    let immutable = ctx.opts.hash_suffix.then_some(true);
    let bytes = || -> Option<BTreeMap<String, ByteString>> {
        (!content.bytes.is_empty()).then(|| {
            content
                .bytes
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone())))
                .collect()
        })
    };
    match kind {
        Kind::ConfigMap => Manifest::from_resource(
            ConfigMap {
                metadata: meta,
                data: (!content.text.is_empty()).then(|| content.text.clone()),
                binary_data: bytes(),
                immutable,
            },
            origin,
        ),
        Kind::Secret => Manifest::from_resource(
            Secret {
                metadata: meta,
                type_: Some("Opaque".into()),
                data: bytes(),
                immutable,
                string_data: None,
            },
            origin,
        ),
    }
}

/// Split the service environment into `<name>-env` ConfigMap and Secret, consumed by
/// `envFrom` (plus explicit `env` entries where needed).
pub fn lower(ctx: &mut Ctx, plan: &mut Plan, out: &mut Vec<Manifest>) {
    let svc = plan.svc;
    let forced_secret: BTreeSet<&str> = plan.ext.secret_env.iter().map(String::as_str).collect();
    let forced_config: BTreeSet<&str> = plan.ext.config_env.iter().map(String::as_str).collect();
    for name in forced_secret.iter().chain(forced_config.iter()) {
        if !svc.environment.contains_key(*name) {
            ctx.warn(
                plan.ext.span,
                format!(
                    "x-kubernetes lists `{name}`, which service `{}` does not set",
                    svc.name
                ),
            );
        }
    }
    for name in forced_secret.intersection(&forced_config) {
        ctx.warn(
            plan.ext.span,
            format!("`{name}` is listed in both secret-env and config-env: kept in the Secret"),
        );
    }

    let base = format!("{}-env", plan.name);
    let mut config = Content::default();
    let mut secret = Content::default();
    // (name, in secret?) that need an explicit key reference.
    let mut key_refs: Vec<(String, bool)> = Vec::new();
    let mut literals: Vec<EnvVar> = Vec::new();

    for (name, value) in &svc.environment {
        let Some(value) = value else { continue };
        let sensitive = forced_secret.contains(name.as_str())
            || (!forced_config.contains(name.as_str())
                && is_sensitive(name, &ctx.opts.secret_patterns));
        let span = svc.span_of(&["environment", name]);
        match classify_name(name) {
            NameClass::EnvFrom => {}
            NameClass::KeyRef => {
                ctx.warn(
                    span,
                    format!(
                        "environment variable name `{name}` is not a C identifier: passed by an explicit `env` entry, which needs relaxed environment variable names (Kubernetes 1.32 or later by default)"
                    ),
                );
                key_refs.push((name.clone(), sensitive));
            }
            NameClass::LiteralOnly if !sensitive => {
                ctx.warn(
                    span,
                    format!(
                        "environment variable name `{name}` cannot be a ConfigMap key: passed as a literal `env` value, which needs relaxed environment variable names (Kubernetes 1.32 or later by default)"
                    ),
                );
                literals.push(EnvVar {
                    name: name.clone(),
                    value: Some(super::container::escape_dollars(value)),
                    value_from: None,
                });
                continue;
            }
            NameClass::LiteralOnly => {
                ctx.error(
                    span,
                    format!(
                        "sensitive environment variable `{name}` cannot be stored in a Secret: its name is not a valid Secret key ([-._a-zA-Z0-9])"
                    ),
                )
                .help = Some("rename the variable, or list it under x-kubernetes.config-env to pass it as a literal value (it is then visible in the manifest)".into());
                continue;
            }
            NameClass::Invalid => {
                ctx.error(
                    span,
                    format!(
                        "environment variable name `{}` is not accepted by Kubernetes (only printable ASCII other than `=`)",
                        name.escape_default()
                    ),
                );
                continue;
            }
        }
        if sensitive {
            secret.bytes.insert(name.clone(), value.as_bytes().to_vec());
        } else {
            config.text.insert(name.clone(), value.clone());
        }
    }

    let origin = Some(svc.span_of(&["environment"]));
    let mut cm_name = None;
    let mut secret_name = None;
    for (kind, content) in [(Kind::Secret, &secret), (Kind::ConfigMap, &config)] {
        if content.is_empty() {
            continue;
        }
        let name = suffixed_name(ctx, kind, &base, content);
        out.push(content_object(
            ctx,
            kind,
            &name,
            &plan.labels,
            None,
            content,
            origin,
        ));
        if !ctx.opts.hash_suffix {
            plan.pod.checksum.push((
                format!("{}/{name}", kind.as_str()),
                content.digest(kind.as_str(), &name),
            ));
        }
        match kind {
            Kind::ConfigMap => cm_name = Some(name),
            Kind::Secret => secret_name = Some(name),
        }
    }

    if let Some(name) = &cm_name {
        plan.pod.env_from.push(EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: name.clone(),
                optional: None,
            }),
            ..EnvFromSource::default()
        });
    }
    if let Some(name) = &secret_name {
        plan.pod.env_from.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: name.clone(),
                optional: None,
            }),
            ..EnvFromSource::default()
        });
    }
    for (var, sensitive) in key_refs {
        let value_from = match (sensitive, &secret_name, &cm_name) {
            (true, Some(s), _) => EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: s.clone(),
                    key: var.clone(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            },
            (false, _, Some(c)) => EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: c.clone(),
                    key: var.clone(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            },
            _ => continue,
        };
        plan.pod.env.push(EnvVar {
            name: var,
            value: None,
            value_from: Some(value_from),
        });
    }
    plan.pod.env.extend(literals);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{Project, Service};
    use crate::lower::{ext::ServiceExt, Options, PodParts, WorkloadKind};

    #[test]
    fn sensitive_table() {
        let cases: &[(&str, bool)] = &[
            ("POSTGRES_PASSWORD", true),
            ("postgres_password", true),
            ("MYSQL_ROOT_PASSWD", true),
            ("APP_SECRET", true),
            ("SECRET_KEY_BASE", true),
            ("GITHUB_TOKEN", true),
            ("STRIPE_API_KEY", true),
            ("AWS_CREDENTIALS", true),
            ("PRIVATE_KEY_PATH", true),
            ("DB_PASS", true),
            ("ENCRYPTION_KEY", true),
            ("encryption_key", true),
            ("POSTGRES_PASSWORD_FILE", false),
            ("db_password_file", false),
            ("PASS", false),
            ("KEY", false),
            ("KEYCLOAK_URL", false),
            ("PASSENGER_COUNT", false),
            ("DB_HOST", false),
            ("TOKENIZER", true),
            ("MONKEY", false),
            ("API_KEYS", true),
            ("PUBLIC_KEY", true),
        ];
        for (name, want) in cases {
            assert_eq!(is_sensitive(name, &[]), *want, "{name}");
        }
        let extra = [regex::Regex::new("(?i)^dsn$").unwrap()];
        assert!(is_sensitive("DSN", &extra));
        assert!(!is_sensitive("DSN_HOST", &extra));
        let extra = [regex::Regex::new("(?i)_FILE$").unwrap()];
        assert!(is_sensitive("CERT_FILE", &extra));
    }

    #[test]
    fn name_class_table() {
        let cases: &[(&str, NameClass)] = &[
            ("PATH", NameClass::EnvFrom),
            ("my.env-name", NameClass::EnvFrom),
            ("_X", NameClass::EnvFrom),
            ("-X", NameClass::EnvFrom),
            (".X", NameClass::EnvFrom),
            ("1ST", NameClass::KeyRef),
            ("0", NameClass::KeyRef),
            ("..X", NameClass::LiteralOnly),
            ("..", NameClass::LiteralOnly),
            ("a:b", NameClass::LiteralOnly),
            ("a b", NameClass::LiteralOnly),
            ("", NameClass::Invalid),
            ("a=b", NameClass::Invalid),
            ("é", NameClass::Invalid),
            ("a\tb", NameClass::Invalid),
        ];
        for (name, want) in cases {
            assert_eq!(classify_name(name), *want, "{name:?}");
        }
        assert_eq!(classify_name(&"A".repeat(254)), NameClass::LiteralOnly);
    }

    #[test]
    fn digest_is_framed_and_ordered() {
        let a = content_digest("Secret", "x", [("A", "bc")], []);
        let b = content_digest("Secret", "x", [("Ab", "c")], []);
        assert_ne!(a, b);
        let c = content_digest("Secret", "x", [("B", "2"), ("A", "1")], []);
        let d = content_digest("Secret", "x", [("A", "1"), ("B", "2")], []);
        assert_eq!(c, d);
        assert_ne!(
            c,
            content_digest("ConfigMap", "x", [("A", "1"), ("B", "2")], [])
        );
        assert_ne!(
            content_digest("Secret", "x", [("A", "1")], []),
            content_digest("Secret", "x", [], [("A", b"1".as_slice())])
        );
        assert_eq!(a.len(), 64);
    }

    fn project() -> Project {
        Project {
            name: "demo".into(),
            ..Project::default()
        }
    }

    fn run(
        svc: &Service,
        opts: &Options,
        ext: ServiceExt,
    ) -> (Vec<Manifest>, PodParts, Vec<crate::diag::Diagnostic>) {
        let p = project();
        let mut ctx = Ctx {
            project: &p,
            opts,
            diags: Vec::new(),
            external: Default::default(),
            names: Default::default(),
            volume_users: Default::default(),
        };
        let mut plan = Plan {
            svc,
            ext,
            name: svc.name.clone(),
            labels: ctx.labels(Some(&svc.name)),
            selector: BTreeMap::new(),
            kind: WorkloadKind::Deployment,
            replicas: 1,
            ports: Vec::new(),
            pod: PodParts::default(),
        };
        let mut out = Vec::new();
        lower(&mut ctx, &mut plan, &mut out);
        (out, plan.pod, ctx.diags)
    }

    fn svc(env: &[(&str, Option<&str>)]) -> Service {
        Service {
            name: "web".into(),
            environment: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
            ..Service::default()
        }
    }

    #[test]
    fn splits_environment() {
        let s = svc(&[
            ("DB_HOST", Some("db")),
            ("DB_PASSWORD", Some("hunter2")),
            ("UNSET", None),
            ("EMPTY", Some("")),
        ]);
        let (out, pod, diags) = run(&s, &Options::default(), ServiceExt::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(out.len(), 2);
        let secret = out.iter().find(|m| m.kind == "Secret").unwrap();
        assert_eq!(secret.name, "web-env");
        assert_eq!(secret.json()["type"], "Opaque");
        assert_eq!(secret.json()["data"]["DB_PASSWORD"], "aHVudGVyMg==");
        assert!(secret.json().get("stringData").is_none());
        let cm = out.iter().find(|m| m.kind == "ConfigMap").unwrap();
        assert_eq!(cm.json()["data"]["DB_HOST"], "db");
        assert_eq!(cm.json()["data"]["EMPTY"], "");
        assert!(cm.json()["data"].get("UNSET").is_none());
        assert!(!cm.json().to_string().contains("hunter2"));
        assert_eq!(pod.env_from.len(), 2);
        assert!(pod.env.is_empty());
        assert_eq!(pod.checksum.len(), 2);
        assert!(pod.checksum.iter().all(|(_, d)| !d.contains("hunter2")));
        assert!(cm.json().get("immutable").is_none());
    }

    #[test]
    fn empty_halves_are_not_emitted() {
        let (out, pod, _) = run(
            &svc(&[("A", Some("1"))]),
            &Options::default(),
            ServiceExt::default(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "ConfigMap");
        assert_eq!(pod.env_from.len(), 1);
        let (out, pod, _) = run(
            &svc(&[("A", None)]),
            &Options::default(),
            ServiceExt::default(),
        );
        assert!(out.is_empty());
        assert!(pod.env_from.is_empty() && pod.checksum.is_empty());
    }

    #[test]
    fn forced_and_odd_names() {
        let ext = ServiceExt {
            secret_env: vec!["DSN".into(), "MISSING".into()],
            config_env: vec!["PUBLIC_KEY".into()],
            ..ServiceExt::default()
        };
        let s = svc(&[
            ("DSN", Some("pg://u:p@db")),
            ("PUBLIC_KEY", Some("ssh-rsa AAA")),
            ("1ST", Some("x")),
            ("2_TOKEN", Some("t")),
            ("a:b", Some("$(HOME) $x")),
            ("c:token", Some("sekrit-value")),
        ]);
        let (out, pod, diags) = run(&s, &Options::default(), ext);
        let secret = out.iter().find(|m| m.kind == "Secret").unwrap();
        let cm = out.iter().find(|m| m.kind == "ConfigMap").unwrap();
        assert!(secret.json()["data"].get("DSN").is_some());
        assert!(secret.json()["data"].get("2_TOKEN").is_some());
        assert_eq!(cm.json()["data"]["PUBLIC_KEY"], "ssh-rsa AAA");
        assert_eq!(cm.json()["data"]["1ST"], "x");
        assert!(cm.json()["data"].get("a:b").is_none());
        let names: Vec<&str> = pod.env.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["1ST", "2_TOKEN", "a:b"]);
        assert_eq!(pod.env[2].value.as_deref(), Some("$$(HOME) $x"));
        assert!(pod.env[1]
            .value_from
            .as_ref()
            .and_then(|v| v.secret_key_ref.as_ref())
            .is_some());
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("c:token"));
        assert!(diags.iter().all(|d| !d.message.contains("sekrit")));
        assert!(diags.iter().any(|d| d.message.contains("MISSING")));
    }

    #[test]
    fn hash_suffix_names_and_immutable() {
        let opts = Options {
            hash_suffix: true,
            ..Options::default()
        };
        let (out, pod, _) = run(
            &svc(&[("A", Some("1")), ("API_TOKEN", Some("x"))]),
            &opts,
            ServiceExt::default(),
        );
        for m in &out {
            assert!(m.name.starts_with("web-env-"), "{}", m.name);
            assert_eq!(m.name.len(), "web-env-".len() + 10);
            assert_eq!(m.json()["immutable"], true);
        }
        assert!(pod.checksum.is_empty());
        let refs: Vec<String> = pod
            .env_from
            .iter()
            .map(|e| {
                e.config_map_ref
                    .as_ref()
                    .map(|c| c.name.clone())
                    .or_else(|| e.secret_ref.as_ref().and_then(|s| s.name.clone().into()))
                    .unwrap()
            })
            .collect();
        for r in refs {
            assert!(out.iter().any(|m| m.name == r));
        }
    }
}
