//! The `x-kubernetes` service extension and the `kompose.*` labels that alias it.
//!
//! Reads: `services.<name>.x-kubernetes` (a mapping, validated key by key with exact
//! spans) and the service's `labels:` whose key starts with `kompose.`.
//! Produces: one [`ServiceExt`] per service that the other lowering steps read.
//! `x-kubernetes` wins over a `kompose.*` label that sets the same thing.
//! It must not build Kubernetes objects or decide anything the settings do not say;
//! `schemas/x-kubernetes.schema.json` describes exactly the keys accepted here (a unit
//! test keeps the two in step).
use super::{Ctx, WorkloadKind};
use crate::compose::model::Service;
use crate::source::Span;
use regex::Regex;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpProbe {
    pub path: String,
    /// Container port number or port name.
    pub port: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IngressExt {
    pub host: Option<String>,
    pub path: String,
    /// TLS secret name (`tls: true` -> `<name>-tls`).
    pub tls: Option<String>,
    pub class: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Autoscale {
    pub min: i32,
    pub max: i32,
    /// Target average CPU utilisation in percent.
    pub cpu: Option<i32>,
}

/// Settings from `x-kubernetes` merged with `kompose.*` labels (`x-kubernetes` wins).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceExt {
    /// Span of the `x-kubernetes` key (or the service) for messages.
    pub span: Span,
    pub kind: Option<WorkloadKind>,
    pub schedule: Option<String>,
    pub liveness: bool,
    pub http_probe: Option<HttpProbe>,
    /// `ClusterIP`, `NodePort`, `LoadBalancer` or `Headless`.
    pub service_type: Option<String>,
    pub node_port: Option<i32>,
    pub ingress: Option<IngressExt>,
    /// `ingress: false` (or `kompose.service.expose: "false"`): never give this service
    /// an Ingress, even when `--ingress-host` is set.
    pub no_ingress: bool,
    pub secret_env: Vec<String>,
    pub config_env: Vec<String>,
    pub autoscale: Option<Autoscale>,
    /// `Some(false)` disables the PodDisruptionBudget.
    pub pdb: Option<bool>,
    pub image_pull_secrets: Vec<String>,
    pub image_pull_policy: Option<String>,
    pub volume_size: Option<String>,
    pub volume_storage_class: Option<String>,
    pub service_account: Option<String>,
    /// Extra pod annotations.
    pub pod_annotations: BTreeMap<String, String>,
}

/// Every key `x-kubernetes` accepts, in documentation order.
pub const KEYS: &[&str] = &[
    "kind",
    "schedule",
    "liveness",
    "http-probe",
    "service",
    "ingress",
    "secret-env",
    "config-env",
    "autoscale",
    "pdb",
    "image-pull-secrets",
    "image-pull-policy",
    "size",
    "storage-class",
    "service-account",
    "annotations",
];

/// Kubernetes CronJob schedules: five fields or one of the `@` macros.
pub const CRON_PATTERN: &str = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9A-Za-z*/,?-]+( +[0-9A-Za-z*/,?-]+){4})$";
/// Ingress host: a lower-case DNS name, optionally with a leading `*.` wildcard.
pub const HOST_PATTERN: &str =
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A DNS-1123 subdomain (names of secrets, service accounts, classes ...).
pub const NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A Kubernetes quantity for storage sizes (`10Gi`, `500M`, `1.5Ti`).
pub const QUANTITY_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$";
/// A container port name (IANA_SVC_NAME shape; a digits-only string is a number).
pub const PORT_NAME_PATTERN: &str = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$";
/// An annotation key: optional DNS-subdomain prefix and `/`, then a name of <= 63.
pub const ANNOTATION_KEY_PATTERN: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
/// An environment variable name as `secret-env` / `config-env` take it.
pub const ENV_NAME_PATTERN: &str = r"^[^=\s]+$";

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

fn matches(which: &str, s: &str) -> bool {
    static CRON: OnceLock<Option<Regex>> = OnceLock::new();
    static HOST: OnceLock<Option<Regex>> = OnceLock::new();
    static NAME: OnceLock<Option<Regex>> = OnceLock::new();
    static QTY: OnceLock<Option<Regex>> = OnceLock::new();
    static PORT: OnceLock<Option<Regex>> = OnceLock::new();
    static ANN: OnceLock<Option<Regex>> = OnceLock::new();
    static ENV: OnceLock<Option<Regex>> = OnceLock::new();
    let r = match which {
        "cron" => re(&CRON, CRON_PATTERN),
        "host" => re(&HOST, HOST_PATTERN),
        "name" => re(&NAME, NAME_PATTERN),
        "quantity" => re(&QTY, QUANTITY_PATTERN),
        "port" => re(&PORT, PORT_NAME_PATTERN),
        "annotation" => re(&ANN, ANNOTATION_KEY_PATTERN),
        _ => re(&ENV, ENV_NAME_PATTERN),
    };
    r.is_some_and(|r| r.is_match(s))
}

/// Is `s` a valid DNS-1123 subdomain (<= 253 characters)?
pub fn is_name(s: &str) -> bool {
    s.len() <= 253 && matches("name", s)
}

/// Is `s` a valid annotation key?
pub fn is_annotation_key(s: &str) -> bool {
    s.len() <= 316 && matches("annotation", s)
}

/// The Kubernetes spelling of a workload kind.
pub fn kind_name(k: WorkloadKind) -> &'static str {
    match k {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
        WorkloadKind::DaemonSet => "DaemonSet",
        WorkloadKind::Job => "Job",
        WorkloadKind::CronJob => "CronJob",
    }
}

const KINDS: &[WorkloadKind] = &[
    WorkloadKind::Deployment,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
    WorkloadKind::Job,
    WorkloadKind::CronJob,
];

/// A problem found in `x-kubernetes`: the path below `x-kubernetes` and the message.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtError {
    pub path: Vec<String>,
    pub message: String,
    pub help: Option<String>,
}

struct Errs(Vec<ExtError>);

impl Errs {
    fn push(&mut self, path: &[&str], message: impl Into<String>, help: Option<String>) {
        self.0.push(ExtError {
            path: path.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
            help,
        });
    }
    fn ty(&mut self, path: &[&str], want: &str, got: &Json) {
        self.push(
            path,
            format!(
                "x-kubernetes.{} must be {want}, not {}",
                path.join("."),
                json_type(got)
            ),
            None,
        );
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a sequence",
        Json::Object(_) => "a mapping",
    }
}

/// An integer as JSON Schema sees one (`2` and `2.0`).
fn as_int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

fn int_in(errs: &mut Errs, path: &[&str], v: &Json, lo: i64, hi: i64) -> Option<i32> {
    match as_int(v) {
        Some(i) if i >= lo && i <= hi => i32::try_from(i).ok(),
        Some(i) => {
            errs.push(
                path,
                format!(
                    "x-kubernetes.{} is {i}; it must be between {lo} and {hi}",
                    path.join(".")
                ),
                None,
            );
            None
        }
        None => {
            errs.ty(path, "an integer", v);
            None
        }
    }
}

fn boolean(errs: &mut Errs, path: &[&str], v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        _ => {
            errs.ty(path, "true or false", v);
            None
        }
    }
}

/// A string that must match pattern `which` (`""` = any string).
fn string(errs: &mut Errs, path: &[&str], v: &Json, which: &str, what: &str) -> Option<String> {
    let Json::String(s) = v else {
        errs.ty(path, "a string", v);
        return None;
    };
    let ok = match which {
        "" => true,
        "name" => is_name(s),
        "path" => s.starts_with('/'),
        w => matches(w, s),
    };
    if !ok {
        errs.push(
            path,
            format!("x-kubernetes.{} {s:?} is not {what}", path.join("."), s = s),
            None,
        );
        return None;
    }
    Some(s.clone())
}

fn string_list(errs: &mut Errs, path: &[&str], v: &Json, which: &str, what: &str) -> Vec<String> {
    let Json::Array(items) = v else {
        errs.ty(path, "a list of strings", v);
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let mut p: Vec<&str> = path.to_vec();
        p.push(&idx);
        if let Some(s) = string(errs, &p, item, which, what) {
            out.push(s);
        }
    }
    out
}

fn string_map(errs: &mut Errs, path: &[&str], v: &Json) -> BTreeMap<String, String> {
    let Json::Object(o) = v else {
        errs.ty(path, "a mapping of annotation keys to strings", v);
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (k, val) in o {
        let mut p: Vec<&str> = path.to_vec();
        p.push(k);
        if !is_annotation_key(k) {
            errs.push(
                &p,
                format!("{k:?} in x-kubernetes.{} is not a valid annotation key", path.join(".")),
                Some("keys are `name` or `prefix/name`: a DNS prefix and a name of at most 63 letters, digits, `-`, `_` or `.`".into()),
            );
            continue;
        }
        match val {
            Json::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            other => errs.ty(&p, "a string (quote numbers and booleans)", other),
        }
    }
    out
}

/// Keys of a nested mapping, rejecting unknown ones.
fn object<'j>(
    errs: &mut Errs,
    path: &[&str],
    v: &'j Json,
    allowed: &[&str],
) -> Option<&'j serde_json::Map<String, Json>> {
    let Json::Object(o) = v else {
        errs.ty(path, "a mapping", v);
        return None;
    };
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) {
            let mut p: Vec<&str> = path.to_vec();
            p.push(k);
            errs.push(
                &p,
                format!("unknown key `{k}` in x-kubernetes.{}", path.join(".")),
                Some(format!("expected one of: {}", allowed.join(", "))),
            );
        }
    }
    Some(o)
}

/// Parse the value of `x-kubernetes` (no labels). `name` is the Kubernetes name of the
/// service (for the `tls: true` default). Pure; errors carry paths below the key.
pub fn parse_value(v: &Json, name: &str) -> (ServiceExt, Vec<ExtError>) {
    let mut ext = ServiceExt::default();
    let mut errs = Errs(Vec::new());
    let o = match v {
        Json::Null => return (ext, errs.0),
        Json::Object(o) => o,
        other => {
            errs.push(
                &[],
                format!("x-kubernetes must be a mapping, not {}", json_type(other)),
                None,
            );
            return (ext, errs.0);
        }
    };
    for (key, val) in o {
        let k = key.as_str();
        let p = [k];
        match k {
            "kind" => match val {
                Json::String(s) => match KINDS.iter().find(|w| kind_name(**w) == s) {
                    Some(w) => ext.kind = Some(*w),
                    None => {
                        let near = KINDS
                            .iter()
                            .find(|w| kind_name(**w).eq_ignore_ascii_case(s))
                            .map(|w| format!("did you mean {}?", kind_name(*w)));
                        errs.push(
                            &p,
                            format!("x-kubernetes.kind {s:?} is not a workload kind"),
                            Some(near.unwrap_or_else(|| {
                                "expected Deployment, StatefulSet, DaemonSet, Job or CronJob".into()
                            })),
                        );
                    }
                },
                other => errs.ty(&p, "a string", other),
            },
            "schedule" => {
                ext.schedule = string(&mut errs, &p, val, "cron", "a cron schedule");
                if ext.schedule.is_none() && val.is_string() {
                    if let Some(e) = errs.0.last_mut() {
                        e.help = Some(
                            "five fields (`minute hour day-of-month month day-of-week`, e.g. \"*/5 * * * *\") or @hourly, @daily, @weekly, @monthly, @yearly".into(),
                        );
                    }
                }
            }
            "liveness" => ext.liveness = boolean(&mut errs, &p, val).unwrap_or(false),
            "http-probe" => {
                if let Some(m) = object(&mut errs, &p, val, &["path", "port"]) {
                    let path = match m.get("path") {
                        Some(v) => string(
                            &mut errs,
                            &[k, "path"],
                            v,
                            "path",
                            "a path starting with `/`",
                        ),
                        None => Some("/".to_string()),
                    };
                    let port = match m.get("port") {
                        Some(v) => probe_port(&mut errs, &[k, "port"], v),
                        None => {
                            errs.push(&p, "x-kubernetes.http-probe needs a `port` (number or container port name)", None);
                            None
                        }
                    };
                    if let (Some(path), Some(port)) = (path, port) {
                        ext.http_probe = Some(HttpProbe { path, port });
                    }
                }
            }
            "service" => {
                if let Some(m) = object(&mut errs, &p, val, &["type", "node-port"]) {
                    if let Some(t) = m.get("type") {
                        match t {
                            Json::String(s)
                                if ["ClusterIP", "NodePort", "LoadBalancer", "Headless"]
                                    .contains(&s.as_str()) =>
                            {
                                ext.service_type = Some(s.clone())
                            }
                            Json::String(s) => errs.push(
                                &[k, "type"],
                                format!("x-kubernetes.service.type {s:?} is not a Service type"),
                                Some(
                                    "expected ClusterIP, NodePort, LoadBalancer or Headless".into(),
                                ),
                            ),
                            other => errs.ty(&[k, "type"], "a string", other),
                        }
                    }
                    if let Some(n) = m.get("node-port") {
                        ext.node_port = int_in(&mut errs, &[k, "node-port"], n, 1, 65535);
                        match ext.service_type.as_deref() {
                            None => ext.service_type = Some("NodePort".into()),
                            Some("ClusterIP") | Some("Headless") => errs.push(
                                &[k, "node-port"],
                                "x-kubernetes.service.node-port needs type NodePort or LoadBalancer",
                                None,
                            ),
                            _ => {}
                        }
                    }
                }
            }
            "ingress" => match val {
                Json::Bool(true) => {
                    ext.ingress = Some(IngressExt {
                        path: "/".into(),
                        ..IngressExt::default()
                    })
                }
                Json::Bool(false) => ext.no_ingress = true,
                Json::Object(_) => {
                    if let Some(m) = object(
                        &mut errs,
                        &p,
                        val,
                        &["host", "path", "tls", "class", "annotations"],
                    ) {
                        let mut ing = IngressExt {
                            path: "/".into(),
                            ..IngressExt::default()
                        };
                        if let Some(h) = m.get("host") {
                            ing.host = string(
                                &mut errs,
                                &[k, "host"],
                                h,
                                "host",
                                "a lower-case DNS host name",
                            );
                        }
                        if let Some(pa) = m.get("path") {
                            if let Some(s) = string(
                                &mut errs,
                                &[k, "path"],
                                pa,
                                "path",
                                "a path starting with `/`",
                            ) {
                                ing.path = s;
                            }
                        }
                        match m.get("tls") {
                            None | Some(Json::Bool(false)) => {}
                            Some(Json::Bool(true)) => ing.tls = Some(format!("{name}-tls")),
                            Some(t @ Json::String(_)) => {
                                ing.tls = string(&mut errs, &[k, "tls"], t, "name", "a Secret name")
                            }
                            Some(other) => {
                                errs.ty(&[k, "tls"], "true, false or a Secret name", other)
                            }
                        }
                        if let Some(c) = m.get("class") {
                            ing.class =
                                string(&mut errs, &[k, "class"], c, "name", "an IngressClass name");
                        }
                        if let Some(a) = m.get("annotations") {
                            ing.annotations = string_map(&mut errs, &[k, "annotations"], a);
                        }
                        ext.ingress = Some(ing);
                    }
                }
                other => errs.ty(&p, "true, false or a mapping", other),
            },
            "secret-env" => {
                ext.secret_env = string_list(&mut errs, &p, val, "env", "a variable name")
            }
            "config-env" => {
                ext.config_env = string_list(&mut errs, &p, val, "env", "a variable name")
            }
            "autoscale" => {
                if let Some(m) = object(&mut errs, &p, val, &["min", "max", "cpu"]) {
                    let min = match m.get("min") {
                        Some(v) => int_in(&mut errs, &[k, "min"], v, 1, i32::MAX as i64),
                        None => Some(1),
                    };
                    let max = match m.get("max") {
                        Some(v) => int_in(&mut errs, &[k, "max"], v, 1, i32::MAX as i64),
                        None => {
                            errs.push(&p, "x-kubernetes.autoscale needs `max` (the largest number of replicas)", None);
                            None
                        }
                    };
                    let cpu = match m.get("cpu") {
                        Some(v) => int_in(&mut errs, &[k, "cpu"], v, 1, 1000).map(Some),
                        None => Some(None),
                    };
                    if let (Some(min), Some(max), Some(cpu)) = (min, max, cpu) {
                        if min > max {
                            errs.push(
                                &[k, "min"],
                                format!(
                                    "x-kubernetes.autoscale.min ({min}) is larger than max ({max})"
                                ),
                                None,
                            );
                        } else {
                            ext.autoscale = Some(Autoscale { min, max, cpu });
                        }
                    }
                }
            }
            "pdb" => ext.pdb = boolean(&mut errs, &p, val),
            "image-pull-secrets" => {
                ext.image_pull_secrets = string_list(&mut errs, &p, val, "name", "a Secret name")
            }
            "image-pull-policy" => match val {
                Json::String(s) if ["Always", "IfNotPresent", "Never"].contains(&s.as_str()) => {
                    ext.image_pull_policy = Some(s.clone())
                }
                Json::String(s) => errs.push(
                    &p,
                    format!("x-kubernetes.image-pull-policy {s:?} is not a pull policy"),
                    Some("expected Always, IfNotPresent or Never".into()),
                ),
                other => errs.ty(&p, "a string", other),
            },
            "size" => {
                ext.volume_size = string(
                    &mut errs,
                    &p,
                    val,
                    "quantity",
                    "a storage size such as 10Gi",
                )
            }
            "storage-class" => {
                ext.volume_storage_class = string(&mut errs, &p, val, "name", "a StorageClass name")
            }
            "service-account" => {
                ext.service_account = string(&mut errs, &p, val, "name", "a ServiceAccount name")
            }
            "annotations" => ext.pod_annotations = string_map(&mut errs, &p, val),
            other => {
                let dashed = other.replace('_', "-");
                let help = if KEYS.contains(&dashed.as_str()) {
                    format!("did you mean `{dashed}`?")
                } else {
                    format!("expected one of: {}", KEYS.join(", "))
                };
                errs.push(
                    &p,
                    format!("unknown key `{other}` in x-kubernetes"),
                    Some(help),
                );
            }
        }
    }
    if ext.kind == Some(WorkloadKind::CronJob)
        && ext.schedule.is_none()
        && !o.contains_key("schedule")
    {
        errs.push(
            &["kind"],
            "x-kubernetes.kind CronJob needs x-kubernetes.schedule",
            None,
        );
    }
    (ext, errs.0)
}

fn probe_port(errs: &mut Errs, path: &[&str], v: &Json) -> Option<String> {
    let Json::String(s) = v else {
        return int_in(errs, path, v, 1, 65535).map(|n| n.to_string());
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        match s.parse::<u16>() {
            Ok(n) if n >= 1 && !s.starts_with('0') => return Some(n.to_string()),
            _ => {
                errs.push(
                    path,
                    format!("x-kubernetes.http-probe.port {s} is not a port number (1-65535)"),
                    None,
                );
                return None;
            }
        }
    }
    if s.len() <= 15 && matches("port", s) && s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Some(s.clone());
    }
    errs.push(
        path,
        format!("x-kubernetes.http-probe.port {s:?} is neither a port number nor a container port name"),
        Some("port names are at most 15 lower-case letters, digits and `-`, with at least one letter".into()),
    );
    None
}

/// Read `x-kubernetes` and the `kompose.*` labels of `svc`. Problems are errors at the
/// offending key (unsupported `kompose.*` labels are warnings).
pub fn parse(ctx: &mut Ctx, svc: &Service) -> ServiceExt {
    let name = ctx.names.service(&svc.name);
    let mut ext = from_labels(ctx, svc);
    let Some(v) = svc.extensions.get("x-kubernetes") else {
        ext.span = svc.span();
        check_label_cronjob(ctx, svc, &ext);
        return ext;
    };
    let (x, errs) = parse_value(v, &name);
    for e in errs {
        let mut path: Vec<&str> = vec!["x-kubernetes"];
        path.extend(e.path.iter().map(String::as_str));
        let d = ctx.error(svc.span_of(&path), e.message);
        if let Some(h) = e.help {
            d.help = Some(h);
        }
    }
    let set: Vec<&str> = match v {
        Json::Object(o) => o.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let has = |k: &str| set.contains(&k);
    // x-kubernetes wins, key by key, over the kompose labels.
    if has("kind") {
        ext.kind = x.kind;
    }
    if has("schedule") {
        ext.schedule = x.schedule;
    }
    if has("liveness") {
        ext.liveness = x.liveness;
    }
    if has("http-probe") {
        ext.http_probe = x.http_probe;
    }
    if has("service") {
        if x.service_type.is_some() {
            ext.service_type = x.service_type;
        }
        if x.node_port.is_some() {
            ext.node_port = x.node_port;
        }
    }
    if has("ingress") {
        ext.ingress = x.ingress;
        ext.no_ingress = x.no_ingress;
    }
    if has("secret-env") {
        ext.secret_env = x.secret_env;
    }
    if has("config-env") {
        ext.config_env = x.config_env;
    }
    if has("autoscale") {
        ext.autoscale = x.autoscale;
    }
    if has("pdb") {
        ext.pdb = x.pdb;
    }
    if has("image-pull-secrets") {
        ext.image_pull_secrets = x.image_pull_secrets;
    }
    if has("image-pull-policy") {
        ext.image_pull_policy = x.image_pull_policy;
    }
    if has("size") {
        ext.volume_size = x.volume_size;
    }
    if has("storage-class") {
        ext.volume_storage_class = x.volume_storage_class;
    }
    if has("service-account") {
        ext.service_account = x.service_account;
    }
    if has("annotations") {
        ext.pod_annotations = x.pod_annotations;
    }
    ext.span = svc.span_of(&["x-kubernetes"]);
    if x.kind.is_none() {
        // x-kubernetes reports its own `kind: CronJob` without a schedule.
        check_label_cronjob(ctx, svc, &ext);
    }
    ext
}

/// `kompose.controller.type: cronjob` needs a schedule from somewhere.
fn check_label_cronjob(ctx: &mut Ctx, svc: &Service, ext: &ServiceExt) {
    if ext.kind == Some(WorkloadKind::CronJob) && ext.schedule.is_none() {
        let span = svc.span_of(&["labels", "kompose.controller.type"]);
        ctx.error(span, "a CronJob needs a schedule").help =
            Some("set x-kubernetes.schedule (or the kompose.cronjob.schedule label)".into());
    }
}

/// The `kompose.*` labels this compiler honours, with the `x-kubernetes` key each
/// stands for.
pub const KOMPOSE_LABELS: &[(&str, &str)] = &[
    ("kompose.service.type", "service.type"),
    ("kompose.service.expose", "ingress"),
    ("kompose.service.expose.tls-secret", "ingress.tls"),
    ("kompose.service.expose.ingress-class-name", "ingress.class"),
    ("kompose.service.nodeport.port", "service.node-port"),
    ("kompose.volume.size", "size"),
    ("kompose.volume.storage-class-name", "storage-class"),
    ("kompose.controller.type", "kind"),
    ("kompose.image-pull-secret", "image-pull-secrets"),
    ("kompose.image-pull-policy", "image-pull-policy"),
    ("kompose.cronjob.schedule", "schedule"),
    ("kompose.hpa.replicas.min", "autoscale.min"),
    ("kompose.hpa.replicas.max", "autoscale.max"),
    ("kompose.hpa.cpu", "autoscale.cpu"),
];

/// Settings from `kompose.*` labels.
fn from_labels(ctx: &mut Ctx, svc: &Service) -> ServiceExt {
    let mut ext = ServiceExt::default();
    let mut expose: Option<(String, Span)> = None;
    let mut tls: Option<(String, Span)> = None;
    let mut class: Option<(String, Span)> = None;
    let mut hpa: [Option<i32>; 3] = [None, None, None];
    let mut hpa_span: Option<Span> = None;
    for (key, value) in &svc.labels {
        let Some(_) = key.strip_prefix("kompose.") else {
            continue;
        };
        let span = svc.span_of(&["labels", key]);
        let v = value.trim();
        let bad = |ctx: &mut Ctx, what: &str| {
            ctx.error(span, format!("label {key}: {v:?} is not {what}"));
        };
        match key.as_str() {
            "kompose.service.type" => match v.to_ascii_lowercase().as_str() {
                "clusterip" => ext.service_type = Some("ClusterIP".into()),
                "nodeport" => ext.service_type = Some("NodePort".into()),
                "loadbalancer" => ext.service_type = Some("LoadBalancer".into()),
                "headless" => ext.service_type = Some("Headless".into()),
                _ => bad(ctx, "clusterip, nodeport, loadbalancer or headless"),
            },
            "kompose.service.nodeport.port" => match v.parse::<i32>() {
                Ok(n) if (1..=65535).contains(&n) => ext.node_port = Some(n),
                _ => bad(ctx, "a port number"),
            },
            "kompose.service.expose" => expose = Some((v.to_string(), span)),
            "kompose.service.expose.tls-secret" => {
                if is_name(v) {
                    tls = Some((v.to_string(), span));
                } else {
                    bad(ctx, "a Secret name");
                }
            }
            "kompose.service.expose.ingress-class-name" => {
                if is_name(v) {
                    class = Some((v.to_string(), span));
                } else {
                    bad(ctx, "an IngressClass name");
                }
            }
            "kompose.volume.size" => {
                if matches("quantity", v) {
                    ext.volume_size = Some(v.to_string());
                } else {
                    bad(ctx, "a storage size such as 10Gi");
                }
            }
            "kompose.volume.storage-class-name" => {
                if is_name(v) {
                    ext.volume_storage_class = Some(v.to_string());
                } else {
                    bad(ctx, "a StorageClass name");
                }
            }
            "kompose.controller.type" => match v.to_ascii_lowercase().as_str() {
                "deployment" => ext.kind = Some(WorkloadKind::Deployment),
                "statefulset" => ext.kind = Some(WorkloadKind::StatefulSet),
                "daemonset" => ext.kind = Some(WorkloadKind::DaemonSet),
                "job" => ext.kind = Some(WorkloadKind::Job),
                "cronjob" => ext.kind = Some(WorkloadKind::CronJob),
                _ => bad(ctx, "deployment, statefulset, daemonset, job or cronjob"),
            },
            "kompose.image-pull-secret" => {
                if is_name(v) {
                    ext.image_pull_secrets = vec![v.to_string()];
                } else {
                    bad(ctx, "a Secret name");
                }
            }
            "kompose.image-pull-policy" => match v.to_ascii_lowercase().as_str() {
                "always" => ext.image_pull_policy = Some("Always".into()),
                "ifnotpresent" => ext.image_pull_policy = Some("IfNotPresent".into()),
                "never" => ext.image_pull_policy = Some("Never".into()),
                _ => bad(ctx, "Always, IfNotPresent or Never"),
            },
            "kompose.cronjob.schedule" => {
                if matches("cron", v) {
                    ext.schedule = Some(v.to_string());
                } else {
                    bad(ctx, "a cron schedule");
                }
            }
            "kompose.hpa.replicas.min" | "kompose.hpa.replicas.max" | "kompose.hpa.cpu" => {
                let i = match key.as_str() {
                    "kompose.hpa.replicas.min" => 0,
                    "kompose.hpa.replicas.max" => 1,
                    _ => 2,
                };
                let max = if i == 2 { 1000 } else { i32::MAX };
                match v.trim_end_matches('%').parse::<i32>() {
                    Ok(n) if n >= 1 && n <= max => {
                        hpa[i] = Some(n);
                        hpa_span.get_or_insert(span);
                    }
                    _ => bad(ctx, "a positive whole number"),
                }
            }
            _ => {
                ctx.warn(
                    span,
                    format!("label {key} is not supported by compose2k8s; ignored"),
                )
                .help = Some(format!(
                    "supported kompose labels: {}",
                    KOMPOSE_LABELS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    if ext.node_port.is_some() && ext.service_type.is_none() {
        ext.service_type = Some("NodePort".into());
    }
    if let Some((v, span)) = expose {
        if v.eq_ignore_ascii_case("false") {
            ext.no_ingress = true;
        } else {
            let mut ing = IngressExt {
                path: "/".into(),
                ..IngressExt::default()
            };
            if !v.eq_ignore_ascii_case("true") {
                let mut hosts = v.split(',').map(str::trim).filter(|s| !s.is_empty());
                if let Some(first) = hosts.next() {
                    let (host, path) = match first.find('/') {
                        Some(i) => (&first[..i], &first[i..]),
                        None => (first, "/"),
                    };
                    if matches("host", host) {
                        ing.host = Some(host.to_string());
                        ing.path = path.to_string();
                    } else {
                        ctx.error(
                            span,
                            format!("label kompose.service.expose: {host:?} is not a lower-case DNS host name"),
                        );
                    }
                }
                if hosts.next().is_some() {
                    ctx.warn(
                        span,
                        format!("label kompose.service.expose lists several hosts; only the first ({}) is used", ing.host.as_deref().unwrap_or("")),
                    )
                    .help = Some("set x-kubernetes.ingress and add more rules to the Ingress by hand".into());
                }
            }
            if let Some((t, _)) = tls.take() {
                ing.tls = Some(t);
            }
            if let Some((c, _)) = class.take() {
                ing.class = Some(c);
            }
            ext.ingress = Some(ing);
        }
    }
    let unused = [
        (tls, "kompose.service.expose.tls-secret"),
        (class, "kompose.service.expose.ingress-class-name"),
    ];
    for (left, label) in unused {
        if let Some((_, span)) = left {
            ctx.warn(
                span,
                format!("label {label} has no effect without kompose.service.expose"),
            );
        }
    }
    if let Some(span) = hpa_span {
        match hpa {
            [min, Some(max), cpu] => {
                let min = min.unwrap_or(1);
                if min > max {
                    ctx.error(span, format!("label kompose.hpa.replicas.min ({min}) is larger than kompose.hpa.replicas.max ({max})"));
                } else {
                    ext.autoscale = Some(Autoscale { min, max, cpu });
                }
            }
            _ => {
                ctx.error(span, "kompose.hpa.* labels need kompose.hpa.replicas.max");
            }
        }
    }
    ext
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = include_str!("../../schemas/x-kubernetes.schema.json");

    fn schema() -> Json {
        serde_json::from_str(SCHEMA).unwrap()
    }

    #[test]
    fn schema_keys_and_patterns_match_the_parser() {
        let s = schema();
        let props: Vec<&str> = s["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(props, KEYS);
        let d = &s["definitions"];
        assert_eq!(d["cron"]["pattern"], CRON_PATTERN);
        assert_eq!(d["host"]["pattern"], HOST_PATTERN);
        assert_eq!(d["name"]["pattern"], NAME_PATTERN);
        assert_eq!(d["quantity"]["pattern"], QUANTITY_PATTERN);
        assert_eq!(d["portName"]["pattern"], PORT_NAME_PATTERN);
        assert_eq!(
            d["annotations"]["propertyNames"]["pattern"],
            ANNOTATION_KEY_PATTERN
        );
        assert_eq!(d["envName"]["pattern"], ENV_NAME_PATTERN);
    }

    fn samples() -> Vec<(Json, bool)> {
        vec![
            (json!(null), true),
            (json!({}), true),
            (json!({"kind": "StatefulSet"}), true),
            (json!({"kind": "statefulset"}), false),
            (json!({"kind": 3}), false),
            (json!({"schedule": "*/5 * * * *"}), true),
            (json!({"schedule": "@daily"}), true),
            (json!({"schedule": "0 0 * *"}), false),
            (json!({"schedule": "TZ=UTC 0 0 * * *"}), false),
            (
                json!({"kind": "CronJob", "schedule": "0 3 * * MON-FRI"}),
                true,
            ),
            (json!({"kind": "CronJob"}), false),
            (json!({"liveness": true}), true),
            (json!({"liveness": "yes"}), false),
            (
                json!({"http-probe": {"path": "/healthz", "port": 8080}}),
                true,
            ),
            (json!({"http-probe": {"port": "http"}}), true),
            (json!({"http-probe": {"port": "8080"}}), true),
            (
                json!({"http-probe": {"path": "healthz", "port": 80}}),
                false,
            ),
            (json!({"http-probe": {"path": "/"}}), false),
            (json!({"http-probe": {"port": 70000}}), false),
            (json!({"http-probe": {"port": "Web_Port"}}), false),
            (
                json!({"http-probe": {"port": 80, "scheme": "HTTPS"}}),
                false,
            ),
            (
                json!({"service": {"type": "NodePort", "node-port": 30080}}),
                true,
            ),
            (json!({"service": {"type": "LoadBalancer"}}), true),
            (json!({"service": {"node-port": 30080}}), true),
            (
                json!({"service": {"type": "ClusterIP", "node-port": 30080}}),
                false,
            ),
            (json!({"service": {"type": "nodeport"}}), false),
            (json!({"service": {"type": "Headless", "extra": 1}}), false),
            (json!({"ingress": true}), true),
            (json!({"ingress": false}), true),
            (json!({"ingress": "yes"}), false),
            (
                json!({"ingress": {"host": "app.example.com", "path": "/api", "tls": true, "class": "nginx",
                      "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}}}),
                true,
            ),
            (
                json!({"ingress": {"host": "*.example.com", "tls": "my-cert"}}),
                true,
            ),
            (json!({"ingress": {"host": "App.Example.com"}}), false),
            (json!({"ingress": {"tls": "My Cert"}}), false),
            (json!({"ingress": {"annotations": {"a": 1}}}), false),
            (json!({"ingress": {"annotations": {"bad key": "x"}}}), false),
            (json!({"ingress": {"hosts": ["a"]}}), false),
            (
                json!({"secret-env": ["API_URL"], "config-env": ["DB_PASSWORD_FILE"]}),
                true,
            ),
            (json!({"secret-env": "API_URL"}), false),
            (json!({"secret-env": ["A=B"]}), false),
            (json!({"autoscale": {"min": 2, "max": 10, "cpu": 70}}), true),
            (json!({"autoscale": {"max": 3}}), true),
            (json!({"autoscale": {"min": 2}}), false),
            (json!({"autoscale": {"min": 0, "max": 3}}), false),
            (json!({"autoscale": {"max": 3, "memory": 50}}), false),
            (json!({"autoscale": {"max": 3.0}}), true),
            (json!({"autoscale": {"max": 3.5}}), false),
            (json!({"pdb": false}), true),
            (json!({"pdb": 0}), false),
            (json!({"image-pull-secrets": ["regcred"]}), true),
            (json!({"image-pull-secrets": ["Reg_Cred"]}), false),
            (json!({"image-pull-policy": "Always"}), true),
            (json!({"image-pull-policy": "always"}), false),
            (json!({"size": "10Gi"}), true),
            (json!({"size": "10GB"}), false),
            (json!({"size": 10}), false),
            (json!({"storage-class": "fast-ssd"}), true),
            (json!({"service-account": "app"}), true),
            (json!({"service-account": "-app"}), false),
            (
                json!({"annotations": {"prometheus.io/scrape": "true"}}),
                true,
            ),
            (
                json!({"annotations": {"prometheus.io/scrape": true}}),
                false,
            ),
            (json!({"http_probe": {"port": 80}}), false),
            (json!({"replicas": 3}), false),
            (json!([1, 2]), false),
            (json!("Deployment"), false),
        ]
    }

    #[test]
    fn parser_accepts_exactly_what_the_schema_accepts() {
        let validator = jsonschema::draft7::new(&schema()).unwrap();
        for (sample, want) in samples() {
            let by_schema = validator.is_valid(&sample);
            let (_, errs) = parse_value(&sample, "web");
            assert_eq!(by_schema, want, "schema on {sample}");
            assert_eq!(errs.is_empty(), want, "parser on {sample}: {errs:?}");
        }
    }

    #[test]
    fn parse_values() {
        let (e, errs) = parse_value(
            &json!({"kind": "CronJob", "schedule": "@daily", "ingress": {"tls": true},
                    "autoscale": {"max": 4}, "http-probe": {"port": "8080"}}),
            "web",
        );
        assert!(errs.is_empty());
        assert_eq!(e.kind, Some(WorkloadKind::CronJob));
        assert_eq!(e.schedule.as_deref(), Some("@daily"));
        let ing = e.ingress.unwrap();
        assert_eq!(ing.tls.as_deref(), Some("web-tls"));
        assert_eq!(ing.path, "/");
        assert_eq!(
            e.autoscale,
            Some(Autoscale {
                min: 1,
                max: 4,
                cpu: None
            })
        );
        assert_eq!(e.http_probe.unwrap().port, "8080");
    }

    #[test]
    fn error_paths_and_hints() {
        let (_, errs) = parse_value(
            &json!({"kind": "deployment", "http_probe": {}, "service": {"type": "X"}}),
            "web",
        );
        let got: Vec<(String, Option<String>)> = errs
            .iter()
            .map(|e| (e.path.join("."), e.help.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "kind".to_string(),
                    Some("did you mean Deployment?".to_string())
                ),
                (
                    "http_probe".to_string(),
                    Some("did you mean `http-probe`?".to_string())
                ),
                (
                    "service.type".to_string(),
                    Some("expected ClusterIP, NodePort, LoadBalancer or Headless".to_string())
                ),
            ]
        );
    }
}
