//! Service `volumes:` and `tmpfs:` -> pod volumes, PersistentVolumeClaims and
//! ConfigMaps. Owns: named volumes (a PVC each, emitted once by the first service that
//! mounts it, `ReadWriteMany` with a warning when several services share it, a
//! `volumeClaimTemplate` when the only user is a StatefulSet, an existing claim when
//! `external`), bind mounts (a project file or read-only directory of regular files ->
//! ConfigMap `<service>-<path>`; a missing, empty or read-write directory -> a PVC
//! handled exactly like a named volume; paths outside the project -> left out with a
//! warning, or `hostPath` with `--allow-host-paths`), `tmpfs` -> `emptyDir` in memory,
//! anonymous volumes -> `emptyDir`, and the pod volume names (DNS-1123 labels, unique
//! in the pod, derived from the source so they are deterministic). It must not read
//! the disk (`Project::host_paths` holds what the front-end read) or decide the
//! workload kind (it reads `plan.kind`).
//!
//! Bind-mounted data directories are registered by [`prepare`] under the key
//! `bind:<path>` in `ctx.volume_users` and `ctx.names.volumes` (compose volume names
//! cannot contain `:`), so that several services binding one directory share one PVC.

use super::env::{content_object, suffixed_name, Kind};
use super::ext::ServiceExt;
use super::files::{data_key, external_name, host_content, label_annotations, MAX_OBJECT_BYTES};
use super::{Ctx, Plan, PodParts, WorkloadKind};
use crate::compose::model::{is_external, HostPath, Project, Volume as ComposeVolume};
use crate::compose::volumes::VolumeSpec;
use crate::k8s::{quantity, Manifest};
use crate::source::Span;
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, HostPathVolumeSource, KeyToPath,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource,
    SecretVolumeSource, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A DNS-1123 label (or, with `max` 253, a name made only of label characters) from
/// free text: lower case, runs of other characters become one `-`, no leading or
/// trailing `-`. Too long -> cut and suffixed with 8 hex digits of the input's hash, so
/// distinct inputs stay distinct. Empty -> `x`.
///
/// TEMPORARY private rule until `crate::k8s::names` (network helper) is on main.
pub fn dns_label(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push('x');
    }
    if out.len() > max {
        let digest = Sha256::digest(s.as_bytes());
        let suffix: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        out.truncate(max.saturating_sub(9));
        while out.ends_with('-') {
            out.pop();
        }
        out.push('-');
        out.push_str(&suffix);
    }
    out
}

/// Add `vol` to the pod under a name derived from `base` that no other pod volume or
/// claim template uses (`base`, `base-2`, ...); returns the name.
pub fn add_volume(pod: &mut PodParts, base: &str, mut vol: Volume) -> String {
    let name = unique_volume_name(pod, base);
    vol.name = name.clone();
    pod.volumes.push(vol);
    name
}

fn unique_volume_name(pod: &PodParts, base: &str) -> String {
    let base = dns_label(base, 63);
    let taken = |n: &str| {
        pod.volumes.iter().any(|v| v.name == n)
            || pod
                .claim_templates
                .iter()
                .any(|c| c.metadata.name.as_deref() == Some(n))
    };
    if !taken(&base) {
        return base;
    }
    for i in 2.. {
        let suffix = format!("-{i}");
        let mut stem = base.clone();
        stem.truncate(63 - suffix.len());
        let candidate = format!("{}{suffix}", stem.trim_end_matches('-'));
        if !taken(&candidate) {
            return candidate;
        }
    }
    base
}

/// A readable stem of a host path for names: `./config/nginx.conf` ->
/// `config/nginx.conf`, `.` -> `project`.
fn path_stem(path: &str) -> &str {
    let mut p = path;
    loop {
        let next = p
            .strip_prefix("./")
            .or_else(|| p.strip_prefix('/'))
            .or_else(|| p.strip_prefix("~/"));
        match next {
            Some(n) => p = n,
            None => break,
        }
    }
    let p = p.trim_end_matches('/');
    if p.is_empty() || p == "." || p == "~" {
        "project"
    } else {
        p
    }
}

fn bind_key(path: &str) -> String {
    format!("bind:{path}")
}

/// What the front-end recorded for a bind source; a path it did not record is outside
/// when absolute / home-relative / escaping, else missing.
fn host_path<'p>(project: &'p Project, path: &str) -> Option<&'p HostPath> {
    project.host_paths.get(path)
}

fn is_outside(project: &Project, path: &str) -> bool {
    match host_path(project, path) {
        Some(HostPath::Outside) => true,
        Some(_) => false,
        None => {
            path.starts_with('/')
                || path.starts_with('~')
                || path.starts_with("..")
                || path.starts_with('\\')
                || path.as_bytes().get(1) == Some(&b':')
        }
    }
}

/// Whether a bind-mounted file name looks like it holds a secret: the environment
/// variable patterns applied to the name with `.`, `-` and spaces read as `_` and no
/// `_FILE` exemption (`server.key`, `private.pem`, `.htpasswd`, `db-password.txt`), SSH
/// private keys
/// (`id_rsa`, `id_ed25519`, not `.pub`) and key stores (`.p12`, `.pfx`, `.jks`,
/// `.keystore`).
pub fn file_looks_sensitive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".pub") {
        return false;
    }
    let normalised: String = name
        .to_ascii_uppercase()
        .chars()
        .map(|c| if matches!(c, '.' | '-' | ' ') { '_' } else { c })
        .collect();
    // `_FILE` marks a path in an environment variable; a file so named holds the value.
    let normalised = normalised.strip_suffix("_FILE").unwrap_or(&normalised);
    super::env::is_sensitive(normalised, &[])
        || ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
            .iter()
            .any(|p| lower.starts_with(p))
        || [".p12", ".pfx", ".jks", ".keystore"]
            .iter()
            .any(|e| lower.ends_with(e))
}

/// How a bind mount is lowered.
#[derive(Debug, PartialEq)]
enum Bind {
    /// A file or read-only directory of files: ConfigMap.
    Config,
    /// Holds data: PVC (`why` for the warning).
    Data(&'static str),
    Outside,
    /// Larger than a ConfigMap can hold (bytes).
    TooLarge(u64),
}

fn classify_bind(project: &Project, path: &str, read_only: bool) -> Bind {
    if is_outside(project, path) {
        return Bind::Outside;
    }
    match host_path(project, path) {
        Some(HostPath::File(_)) => Bind::Config,
        Some(HostPath::Dir { files, .. }) if files.is_empty() => {
            Bind::Data("is an empty directory")
        }
        Some(HostPath::Dir { .. }) if !read_only => Bind::Data("is a directory mounted read-write"),
        Some(HostPath::Dir { .. }) => Bind::Config,
        Some(HostPath::TooLarge(_)) if !read_only => {
            Bind::Data("is larger than a ConfigMap can hold and mounted read-write")
        }
        Some(HostPath::TooLarge(n)) => Bind::TooLarge(*n),
        Some(HostPath::Missing) | Some(HostPath::Outside) | None => Bind::Data("does not exist"),
    }
}

/// Register bind-mounted data directories (missing, empty, or mounted read-write by any
/// service) so that all their users share one PVC named after the first user and the
/// path. Runs once before services are lowered.
pub fn prepare(ctx: &mut Ctx) {
    if let Err(e) = quantity::storage(&ctx.opts.pvc_size) {
        ctx.diags.push(crate::diag::Diagnostic::error(format!(
            "invalid --pvc-size: {e}"
        )));
    }
    let project = ctx.project;
    // path -> (is data, users)
    let mut binds: BTreeMap<&str, (bool, Vec<&str>)> = BTreeMap::new();
    for svc in project.services.values() {
        for v in &svc.volumes {
            let (true, Some(src)) = (v.r#type == "bind", v.source.as_deref()) else {
                continue;
            };
            let data = matches!(classify_bind(project, src, v.read_only), Bind::Data(_));
            let e = binds.entry(src).or_default();
            e.0 |= data;
            if e.1.last() != Some(&svc.name.as_str()) {
                e.1.push(&svc.name);
            }
        }
    }
    for (path, (data, users)) in binds {
        if !data {
            continue;
        }
        let Some(first) = users.first() else { continue };
        let name = dns_label(
            &format!("{}-{}", ctx.names.service(first), path_stem(path)),
            253,
        );
        let key = bind_key(path);
        ctx.names.volumes.insert(key.clone(), name);
        ctx.volume_users
            .insert(key, users.iter().map(|s| s.to_string()).collect());
    }
}

/// `x-kubernetes` (or `kompose.volume.*` labels) of a top-level volume.
#[derive(Default)]
struct VolumeExt {
    size: Option<(String, Span)>,
    storage_class: Option<String>,
}

fn volume_ext(ctx: &mut Ctx, key: &str, vol: &ComposeVolume) -> VolumeExt {
    let mut ext = VolumeExt::default();
    let project = ctx.project;
    let span_of = |field: &str| project.span_at(&["volumes", key, field]);
    let labels = label_annotations(vol.labels.as_ref());
    if let Some(size) = labels.get("kompose.volume.size") {
        ext.size = Some((size.clone(), span_of("labels")));
    }
    if let Some(class) = labels.get("kompose.volume.storage-class-name") {
        ext.storage_class = Some(class.clone());
    }
    match vol.extensions.get("x-kubernetes") {
        None => {}
        Some(Json::Object(m)) => {
            for (k, v) in m {
                let text = match v {
                    Json::String(s) => Some(s.clone()),
                    Json::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                match (k.as_str(), text) {
                    ("size", Some(s)) => {
                        let span = project.span_at(&["volumes", key, "x-kubernetes", "size"]);
                        ext.size = Some((s, span));
                    }
                    ("storage-class", Some(s)) => ext.storage_class = Some(s),
                    _ => {
                        ctx.warn(
                            project.span_at(&["volumes", key, "x-kubernetes", k]),
                            format!("`x-kubernetes.{k}` of volume `{key}` is not a volume setting (size, storage-class): ignored"),
                        );
                    }
                }
            }
        }
        Some(_) => {
            ctx.warn(
                span_of("x-kubernetes"),
                format!("`x-kubernetes` of volume `{key}` must be a mapping: ignored"),
            );
        }
    }
    ext
}

/// The claim spec for a volume: size and class from the volume's `x-kubernetes`, then
/// the service's `kompose.volume.*` labels, then the command line.
fn claim_spec(
    ctx: &mut Ctx,
    vol: Option<(&str, &ComposeVolume)>,
    svc_ext: Option<&ServiceExt>,
    access: &str,
) -> PersistentVolumeClaimSpec {
    let vext = match vol {
        Some((key, v)) => volume_ext(ctx, key, v),
        None => VolumeExt::default(),
    };
    let size = vext
        .size
        .or_else(|| svc_ext.and_then(|e| e.volume_size.clone().map(|s| (s, e.span))));
    let default = || {
        quantity::storage(&ctx.opts.pvc_size)
            .unwrap_or_else(|_| Quantity(ctx.opts.pvc_size.clone()))
    };
    let storage = match size {
        Some((s, span)) => match quantity::storage(&s) {
            Ok(q) => q,
            Err(e) => {
                let q = default();
                ctx.error(span, format!("invalid volume size: {e}"));
                q
            }
        },
        None => default(),
    };
    let class = vext
        .storage_class
        .or_else(|| svc_ext.and_then(|e| e.volume_storage_class.clone()))
        .or_else(|| ctx.opts.storage_class.clone());
    PersistentVolumeClaimSpec {
        access_modes: Some(vec![access.to_string()]),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([("storage".to_string(), storage)])),
            limits: None,
        }),
        storage_class_name: class,
        ..PersistentVolumeClaimSpec::default()
    }
}

/// Per-service state while lowering its volumes.
struct Local {
    /// claim key (volume name / `bind:<path>`) -> pod volume name.
    claims: BTreeMap<String, String>,
    /// bind path -> pod volume name of its ConfigMap / hostPath.
    binds: BTreeMap<String, String>,
}

/// Lower the service's volumes, bind mounts and tmpfs mounts; emits the PVCs this
/// service is the first user of and the ConfigMaps of its bind-mounted files.
pub fn lower(ctx: &mut Ctx, plan: &mut Plan, out: &mut Vec<Manifest>) {
    let svc = plan.svc;
    let mut local = Local {
        claims: BTreeMap::new(),
        binds: BTreeMap::new(),
    };
    for (i, v) in svc.volumes.iter().enumerate() {
        let span = svc.span_of(&["volumes", &i.to_string()]);
        match v.r#type.as_str() {
            "volume" => match v.source.as_deref().filter(|s| !s.is_empty()) {
                None => {
                    let name = add_volume(
                        &mut plan.pod,
                        &format!("anon-{}", path_stem(&v.target)),
                        Volume {
                            empty_dir: Some(EmptyDirVolumeSource::default()),
                            ..Volume::default()
                        },
                    );
                    push_mount(plan, name, v, None);
                    ctx.warn(
                        span,
                        format!("anonymous volume at `{}` becomes an emptyDir: its data lives only as long as the pod", v.target),
                    )
                    .help = Some("declare a named volume to keep the data in a PersistentVolumeClaim".into());
                }
                Some(src) => match ctx.project.volumes.get(src) {
                    None => {
                        ctx.error(
                            span,
                            format!("service `{}` refers to undefined volume `{src}`", svc.name),
                        );
                    }
                    Some(vol) if is_external(&vol.external) => {
                        let claim = external_name(vol.name.as_deref().unwrap_or(src));
                        let name = match local.claims.get(src) {
                            Some(n) => n.clone(),
                            None => add_volume(&mut plan.pod, src, pvc_volume(&claim)),
                        };
                        local.claims.insert(src.to_string(), name.clone());
                        push_mount(plan, name, v, None);
                    }
                    Some(vol) => {
                        let base =
                            ctx.names.volumes.get(src).cloned().unwrap_or_else(|| {
                                dns_label(vol.name.as_deref().unwrap_or(src), 253)
                            });
                        claim(
                            ctx,
                            plan,
                            out,
                            &mut local,
                            src,
                            &base,
                            Some((src, vol)),
                            src,
                            vol.span,
                            v,
                        );
                    }
                },
            },
            "bind" => {
                let Some(src) = v.source.as_deref() else {
                    ctx.warn(span, "bind mount without a source: left out");
                    continue;
                };
                bind(ctx, plan, out, &mut local, src, v, i);
            }
            "tmpfs" => {
                let (size, mode) = v
                    .tmpfs
                    .as_ref()
                    .map(|t| (t.size, t.mode))
                    .unwrap_or((None, None));
                let mode_span = svc.span_of(&["volumes", &i.to_string(), "tmpfs", "mode"]);
                tmpfs(ctx, plan, &v.target, size, mode, &[], mode_span);
            }
            other => {
                ctx.warn(
                    span,
                    format!(
                        "volume of type `{other}` at `{}` has no Kubernetes equivalent: left out",
                        v.target
                    ),
                );
            }
        }
    }
    for (i, t) in svc.tmpfs.iter().enumerate() {
        let span = svc.span_of(&["tmpfs", &i.to_string()]);
        let (target, opts) = t.split_once(':').unwrap_or((t.as_str(), ""));
        let mut size = None;
        let mut mode = None;
        let mut ignored: Vec<&str> = Vec::new();
        for opt in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            if let Some(s) = opt.strip_prefix("size=") {
                match crate::compose::units::parse_bytes(s) {
                    Ok(b) => size = Some(b),
                    Err(e) => {
                        ctx.warn(span, format!("tmpfs `{target}`: {e}: no size limit"));
                    }
                }
            } else if let Some(m) = opt.strip_prefix("mode=") {
                match u32::from_str_radix(m, 8) {
                    Ok(m) => mode = Some(m),
                    Err(_) => ignored.push(opt),
                }
            } else if opt != "rw" {
                ignored.push(opt);
            }
        }
        tmpfs(ctx, plan, target, size, mode, &ignored, span);
    }
}

/// `a, b, c` or, for long lists, `a, b, c, d, e and 17 more`.
fn user_list(users: &[String]) -> String {
    const SHOWN: usize = 5;
    let head = users[..users.len().min(SHOWN)].join(", ");
    if users.len() > SHOWN {
        format!("{head} and {} more", users.len() - SHOWN)
    } else {
        head
    }
}

fn pvc_volume(claim: &str) -> Volume {
    Volume {
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.to_string(),
            read_only: None,
        }),
        ..Volume::default()
    }
}

fn push_mount(plan: &mut Plan, name: String, v: &VolumeSpec, sub_path: Option<String>) {
    plan.pod.mounts.push(VolumeMount {
        name,
        mount_path: v.target.clone(),
        read_only: v.read_only.then_some(true),
        sub_path,
        ..VolumeMount::default()
    });
}

/// Mount a claim (named volume or bind data directory) identified by `key`.
#[allow(clippy::too_many_arguments)]
fn claim(
    ctx: &mut Ctx,
    plan: &mut Plan,
    out: &mut Vec<Manifest>,
    local: &mut Local,
    key: &str,
    pvc_name: &str,
    vol: Option<(&str, &ComposeVolume)>,
    pod_base: &str,
    origin: Span,
    v: &VolumeSpec,
) {
    if let Some(name) = local.claims.get(key) {
        let name = name.clone();
        push_mount(plan, name, v, None);
        return;
    }
    let svc_name = plan.svc.name.clone();
    // Borrow-free summary of the users (a volume may be shared by thousands).
    let (user_count, is_first) = match ctx.volume_users.get(key) {
        Some(u) => (u.len(), u.first() == Some(&svc_name)),
        None => (1, true),
    };
    let annotations = vol
        .map(|(_, cv)| {
            let mut a = label_annotations(cv.labels.as_ref());
            a.retain(|k, _| !k.starts_with("kompose."));
            a
        })
        .filter(|a| !a.is_empty());
    let name = if user_count == 1 && plan.kind == WorkloadKind::StatefulSet {
        let tname = unique_volume_name(&plan.pod, pod_base);
        let spec = claim_spec(ctx, vol, Some(&plan.ext), "ReadWriteOnce");
        plan.pod.claim_templates.push(PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some(tname.clone()),
                labels: Some(plan.labels.clone()),
                annotations,
                ..ObjectMeta::default()
            },
            spec: Some(spec),
            ..PersistentVolumeClaim::default()
        });
        tname
    } else {
        if is_first {
            let access = if user_count > 1 {
                let what = match vol {
                    Some((k, _)) => format!("volume `{k}`"),
                    None => format!(
                        "bind-mounted directory `{}`",
                        key.trim_start_matches("bind:")
                    ),
                };
                ctx.warn(
                    origin,
                    format!(
                        "{what} is shared by services {}: its PersistentVolumeClaim `{pvc_name}` asks for ReadWriteMany",
                        user_list(ctx.volume_users.get(key).map(Vec::as_slice).unwrap_or(&[]))
                    ),
                )
                .help = Some("ReadWriteMany needs a storage class that supports it (NFS, CephFS, EFS, Azure Files, ...); set --storage-class or x-kubernetes.storage-class".into());
                "ReadWriteMany"
            } else {
                "ReadWriteOnce"
            };
            let spec = claim_spec(ctx, vol, Some(&plan.ext), access);
            let labels = if user_count == 1 {
                plan.labels.clone()
            } else {
                ctx.labels(None)
            };
            let mut meta = ctx.meta(pvc_name, &labels);
            meta.annotations = annotations;
            out.push(Manifest::from_resource(
                PersistentVolumeClaim {
                    metadata: meta,
                    spec: Some(spec),
                    ..PersistentVolumeClaim::default()
                },
                Some(origin),
            ));
        }
        add_volume(&mut plan.pod, pod_base, pvc_volume(pvc_name))
    };
    local.claims.insert(key.to_string(), name.clone());
    push_mount(plan, name, v, None);
}

fn bind(
    ctx: &mut Ctx,
    plan: &mut Plan,
    out: &mut Vec<Manifest>,
    local: &mut Local,
    src: &str,
    v: &VolumeSpec,
    index: usize,
) {
    let svc = plan.svc;
    let idx = index.to_string();
    let span = svc.span_of(&["volumes", &idx]);
    let host_path_mount = ctx.opts.allow_host_paths
        && src.starts_with('/')
        && classify_bind(ctx.project, src, v.read_only) == Bind::Outside;
    if let Some(b) = &v.bind {
        if let (Some(p), false) = (&b.propagation, host_path_mount) {
            ctx.warn(
                svc.span_of(&["volumes", &idx, "bind", "propagation"]),
                format!("bind propagation `{p}` only applies to host paths: ignored"),
            );
        }
        if let Some(s) = &b.selinux {
            ctx.warn(
                svc.span_of(&["volumes", &idx, "bind", "selinux"]),
                format!("SELinux relabelling `{s}` is not mapped (Kubernetes relabels volumes itself): ignored"),
            );
        }
    }
    let key = bind_key(src);
    if let Some(pvc) = ctx.names.volumes.get(&key).cloned() {
        let why = match classify_bind(ctx.project, src, v.read_only) {
            Bind::Data(why) => why,
            _ => "is mounted read-write by another service",
        };
        let template = plan.kind == WorkloadKind::StatefulSet
            && ctx.volume_users.get(&key).is_some_and(|u| u.len() == 1);
        let becomes = if template {
            format!(
                "a volumeClaimTemplate of StatefulSet `{}` (one claim per replica)",
                plan.name
            )
        } else {
            format!("PersistentVolumeClaim `{pvc}`")
        };
        ctx.warn(
            span,
            format!("bind mount `{src}` {why}, so it holds data, not configuration: it becomes {becomes}, and its contents are not copied"),
        )
        .help = Some("copy existing data in after deploying (kubectl cp), bake it into the image, or mount a directory of configuration files read-only (`:ro`) to ship them as a ConfigMap".into());
        claim(
            ctx,
            plan,
            out,
            local,
            &key,
            &pvc,
            None,
            path_stem(src),
            span,
            v,
        );
        return;
    }
    match classify_bind(ctx.project, src, v.read_only) {
        Bind::Outside => outside(ctx, plan, local, src, v, index),
        Bind::TooLarge(n) => {
            ctx.error(
                span,
                format!("bind-mounted file `{src}` is {n} bytes; a ConfigMap holds at most 1 MiB"),
            )
            .help =
                Some("bake the file into the image, or keep it in a PersistentVolumeClaim".into());
        }
        // Data directories were registered by `prepare`; not reached.
        Bind::Data(_) => {}
        Bind::Config => config_bind(ctx, plan, out, local, src, v, span),
    }
}

fn outside(
    ctx: &mut Ctx,
    plan: &mut Plan,
    local: &mut Local,
    src: &str,
    v: &VolumeSpec,
    index: usize,
) {
    let span = plan.svc.span_of(&["volumes", &index.to_string()]);
    if ctx.opts.allow_host_paths && src.starts_with('/') {
        let propagation = v.bind.as_ref().and_then(|b| b.propagation.as_deref());
        let mount_propagation = match propagation {
            Some("rslave" | "slave") => Some("HostToContainer"),
            Some("rshared" | "shared") => {
                ctx.warn(
                    plan.svc
                        .span_of(&["volumes", &index.to_string(), "bind", "propagation"]),
                    "`Bidirectional` mount propagation needs a privileged container",
                );
                Some("Bidirectional")
            }
            _ => None,
        };
        let name = match local.binds.get(src) {
            Some(n) => n.clone(),
            None => {
                let n = add_volume(
                    &mut plan.pod,
                    &format!("host-{}", path_stem(src)),
                    Volume {
                        host_path: Some(HostPathVolumeSource {
                            path: src.to_string(),
                            type_: src.ends_with(".sock").then(|| "Socket".to_string()),
                        }),
                        ..Volume::default()
                    },
                );
                local.binds.insert(src.to_string(), n.clone());
                n
            }
        };
        push_mount(plan, name, v, None);
        if let (Some(m), Some(p)) = (plan.pod.mounts.last_mut(), mount_propagation) {
            m.mount_propagation = Some(p.to_string());
        }
        return;
    }
    let allowed = ctx.opts.allow_host_paths;
    let d = ctx.warn(
        span,
        format!("bind mount of `{src}` (outside the project directory) is left out: pods do not see the node's files"),
    );
    d.help = Some(if allowed {
        "only absolute paths can become hostPath volumes".into()
    } else {
        "pass --allow-host-paths to mount it from the node as a hostPath volume".into()
    });
}

fn config_bind(
    ctx: &mut Ctx,
    plan: &mut Plan,
    out: &mut Vec<Manifest>,
    local: &mut Local,
    src: &str,
    v: &VolumeSpec,
    span: Span,
) {
    let Some(hp) = host_path(ctx.project, src) else {
        return;
    };
    let stem = path_stem(src);
    let file_key = data_key(stem.rsplit('/').next().unwrap_or(stem));
    let Some(hc) = host_content(hp, &file_key) else {
        return;
    };
    if let HostPath::Dir { other, .. } = hp {
        if *other > 0 {
            ctx.warn(
                span,
                format!(
                    "directory `{src}`: {other} {} (subdirectories, links, ...) cannot go into a ConfigMap, which holds only the regular files at its top level: left out",
                    if *other == 1 {
                        "entry that is not a regular file"
                    } else {
                        "entries that are not regular files"
                    },
                ),
            );
        }
    }
    let size = hc.content.size();
    if size > MAX_OBJECT_BYTES {
        ctx.error(
            span,
            format!("bind-mounted `{src}` is {size} bytes; a ConfigMap holds at most 1 MiB"),
        )
        .help =
            Some("bake the files into the image, or keep them in a PersistentVolumeClaim".into());
        return;
    }
    // A private key or password file goes to a Secret, never a ConfigMap.
    let sensitive = hc
        .content
        .text
        .keys()
        .chain(hc.content.bytes.keys())
        .map(|k| hc.renamed.get(k).unwrap_or(k))
        .any(|name| file_looks_sensitive(name));
    let vname = match local.binds.get(src) {
        Some(n) => n.clone(),
        None => {
            let mut base = dns_label(&format!("{}-{}", plan.name, stem), 253);
            if base == format!("{}-env", plan.name) {
                base.push_str("-files");
            }
            let (kind, content) = if sensitive {
                let mut c = hc.content.clone();
                let text = std::mem::take(&mut c.text);
                c.bytes
                    .extend(text.into_iter().map(|(k, v)| (k, v.into_bytes())));
                (Kind::Secret, c)
            } else {
                (Kind::ConfigMap, hc.content.clone())
            };
            let obj_name = suffixed_name(ctx, kind, &base, &content);
            out.push(content_object(
                ctx,
                kind,
                &obj_name,
                &plan.labels,
                None,
                &content,
                Some(span),
            ));
            if !ctx.opts.hash_suffix {
                let identity = format!("{}/{obj_name}", kind.as_str());
                if !plan.pod.checksum.iter().any(|(id, _)| *id == identity) {
                    let digest = content.digest(kind.as_str(), &obj_name);
                    plan.pod.checksum.push((identity, digest));
                }
            }
            let items: Option<Vec<KeyToPath>> = hc.items(None);
            let volume = match kind {
                Kind::ConfigMap => Volume {
                    config_map: Some(ConfigMapVolumeSource {
                        name: obj_name,
                        items,
                        default_mode: None,
                        optional: None,
                    }),
                    ..Volume::default()
                },
                Kind::Secret => Volume {
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(obj_name),
                        items,
                        default_mode: None,
                        optional: None,
                    }),
                    ..Volume::default()
                },
            };
            let n = add_volume(&mut plan.pod, stem, volume);
            local.binds.insert(src.to_string(), n.clone());
            n
        }
    };
    let sub_path = (!hc.dir).then_some(file_key);
    plan.pod.mounts.push(VolumeMount {
        name: vname,
        mount_path: v.target.clone(),
        read_only: Some(true),
        sub_path,
        ..VolumeMount::default()
    });
}

fn tmpfs(
    ctx: &mut Ctx,
    plan: &mut Plan,
    target: &str,
    size: Option<u64>,
    mode: Option<u32>,
    ignored: &[&str],
    span: Span,
) {
    let name = add_volume(
        &mut plan.pod,
        &format!("tmpfs-{}", path_stem(target)),
        Volume {
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: size.filter(|s| *s > 0).map(quantity::memory),
            }),
            ..Volume::default()
        },
    );
    plan.pod.mounts.push(VolumeMount {
        name,
        mount_path: target.to_string(),
        ..VolumeMount::default()
    });
    if let Some(m) = mode.filter(|m| m & 0o777 != 0o777) {
        ctx.warn(
            span,
            format!("tmpfs `{target}`: mode 0{m:o} is not applied: emptyDir directories are world-writable (0777)"),
        );
    }
    if !ignored.is_empty() {
        ctx.warn(
            span,
            format!(
                "tmpfs `{target}`: options {} are not mapped: ignored",
                ignored.join(",")
            ),
        );
    }
}

/// Emit the PVCs of named volumes no service mounts (Compose creates them too) and
/// report external volumes and volume keys that are not mapped.
pub fn lower_shared(ctx: &mut Ctx, out: &mut Vec<Manifest>) {
    let project = ctx.project;
    for (key, vol) in &project.volumes {
        let used = ctx.volume_users.get(key).is_some_and(|u| !u.is_empty());
        let field_span = |f: &str| project.span_at(&["volumes", key.as_str(), f]);
        if is_external(&vol.external) {
            if used {
                let name = external_name(vol.name.as_deref().unwrap_or(key));
                ctx.external.insert(format!("PersistentVolumeClaim/{name}"));
                ctx.warn(
                    vol.span,
                    format!("volume `{key}` is external: PersistentVolumeClaim `{name}` must exist before deploying"),
                );
            }
            continue;
        }
        if vol.driver.as_deref().is_some_and(|d| d != "local") {
            let d = vol.driver.clone().unwrap_or_default();
            ctx.warn(
                field_span("driver"),
                format!("volume driver `{d}` of `{key}` is not mapped: the claim uses the cluster's storage class"),
            );
        }
        if vol.driver_opts.is_some() {
            ctx.warn(
                field_span("driver_opts"),
                format!("`driver_opts` of volume `{key}` are not mapped: ignored"),
            )
            .help = Some("an NFS or other network share needs a PersistentVolume of that type, bound to this claim".into());
        }
        if used {
            continue;
        }
        let name = ctx
            .names
            .volumes
            .get(key)
            .cloned()
            .unwrap_or_else(|| dns_label(vol.name.as_deref().unwrap_or(key), 253));
        let spec = claim_spec(ctx, Some((key, vol)), None, "ReadWriteOnce");
        let mut meta = ctx.meta(&name, &ctx.labels(None));
        let mut a = label_annotations(vol.labels.as_ref());
        a.retain(|k, _| !k.starts_with("kompose."));
        meta.annotations = (!a.is_empty()).then_some(a);
        out.push(Manifest::from_resource(
            PersistentVolumeClaim {
                metadata: meta,
                spec: Some(spec),
                ..PersistentVolumeClaim::default()
            },
            Some(vol.span),
        ));
    }
}

/// Content of a ConfigMap built from bind-mounted files, exposed for tests.
#[cfg(test)]
fn content_of(project: &Project, path: &str) -> Option<super::env::Content> {
    host_content(host_path(project, path)?, "f").map(|h| h.content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::Service;
    use crate::compose::volumes::TmpfsOpts;
    use crate::lower::{Options, PodParts};

    #[test]
    fn dns_label_table() {
        let cases: &[(&str, usize, &str)] = &[
            ("db_data", 63, "db-data"),
            ("My.Volume", 63, "my-volume"),
            ("./config/nginx.conf", 63, "config-nginx-conf"),
            ("--x--", 63, "x"),
            ("", 63, "x"),
            ("a__b", 63, "a-b"),
        ];
        for (input, max, want) in cases {
            assert_eq!(dns_label(input, *max), *want, "{input}");
        }
        let long = "a".repeat(100);
        let l = dns_label(&long, 63);
        assert_eq!(l.len(), 63);
        assert_ne!(l, dns_label(&"a".repeat(101), 63));
    }

    #[test]
    fn path_stem_table() {
        for (input, want) in [
            ("./config/nginx.conf", "config/nginx.conf"),
            ("/var/run/docker.sock", "var/run/docker.sock"),
            (".", "project"),
            ("./", "project"),
            ("~/x", "x"),
            ("data/", "data"),
        ] {
            assert_eq!(path_stem(input), want);
        }
    }

    #[test]
    fn classify_bind_table() {
        let mut p = Project::default();
        let dir = |n: usize| HostPath::Dir {
            files: (0..n).map(|i| (format!("f{i}"), Vec::new())).collect(),
            other: 0,
        };
        p.host_paths
            .insert("./f".into(), HostPath::File(Vec::new()));
        p.host_paths.insert("./d".into(), dir(2));
        p.host_paths.insert("./e".into(), dir(0));
        p.host_paths.insert("./m".into(), HostPath::Missing);
        p.host_paths
            .insert("./big".into(), HostPath::TooLarge(2 << 20));
        p.host_paths.insert("/abs".into(), HostPath::Outside);
        let cases: &[(&str, bool, Bind)] = &[
            ("./f", false, Bind::Config),
            ("./f", true, Bind::Config),
            ("./d", true, Bind::Config),
            (
                "./d",
                false,
                Bind::Data("is a directory mounted read-write"),
            ),
            ("./e", true, Bind::Data("is an empty directory")),
            ("./m", true, Bind::Data("does not exist")),
            ("./big", true, Bind::TooLarge(2 << 20)),
            (
                "./big",
                false,
                Bind::Data("is larger than a ConfigMap can hold and mounted read-write"),
            ),
            ("/abs", false, Bind::Outside),
            ("/not-recorded", false, Bind::Outside),
            ("~/x", false, Bind::Outside),
            ("../x", false, Bind::Outside),
            ("./not-recorded", false, Bind::Data("does not exist")),
        ];
        for (path, ro, want) in cases {
            assert_eq!(classify_bind(&p, path, *ro), *want, "{path} ro={ro}");
        }
    }

    #[test]
    fn sensitive_file_names() {
        for (name, want) in [
            ("server.key", true),
            ("tls.key", true),
            ("private.pem", true),
            (".htpasswd", true),
            ("db-password.txt", true),
            ("id_rsa", true),
            ("id_ed25519", true),
            ("id_ed25519.pub", false),
            ("keystore.p12", true),
            ("app.jks", true),
            ("tls.crt", false),
            ("nginx.conf", false),
            ("keys.json", false),
            ("monkey.txt", false),
            ("secret-santa.yml", true),
            ("password_file", true),
        ] {
            assert_eq!(file_looks_sensitive(name), want, "{name}");
        }
    }

    #[test]
    fn unique_volume_names() {
        let mut pod = PodParts::default();
        let a = add_volume(&mut pod, "data", Volume::default());
        let b = add_volume(&mut pod, "data", Volume::default());
        let c = add_volume(&mut pod, "Data", Volume::default());
        assert_eq!(
            (a.as_str(), b.as_str(), c.as_str()),
            ("data", "data-2", "data-3")
        );
        let long = "x".repeat(80);
        let d = add_volume(&mut pod, &long, Volume::default());
        let e = add_volume(&mut pod, &long, Volume::default());
        assert!(d.len() <= 63 && e.len() <= 63 && d != e);
    }

    fn plan_for<'a>(svc: &'a Service, kind: WorkloadKind) -> Plan<'a> {
        Plan {
            svc,
            ext: ServiceExt::default(),
            name: svc.name.clone(),
            labels: BTreeMap::from([("app.kubernetes.io/name".to_string(), svc.name.clone())]),
            selector: BTreeMap::new(),
            kind,
            replicas: 1,
            ports: Vec::new(),
            pod: PodParts::default(),
        }
    }

    fn vs(t: &str, src: Option<&str>, target: &str, ro: bool) -> VolumeSpec {
        VolumeSpec {
            r#type: t.into(),
            source: src.map(str::to_string),
            target: target.into(),
            read_only: ro,
            ..VolumeSpec::default()
        }
    }

    fn fixture() -> Project {
        let mut p = Project {
            name: "demo".into(),
            ..Project::default()
        };
        p.volumes.insert("dbdata".into(), ComposeVolume::default());
        p.volumes.insert("shared".into(), ComposeVolume::default());
        p.volumes.insert("unused".into(), ComposeVolume::default());
        p.host_paths
            .insert("./nginx.conf".into(), HostPath::File(b"events {}".to_vec()));
        p.host_paths.insert(
            "./html".into(),
            HostPath::Dir {
                files: vec![("index.html".into(), b"<h1>".to_vec())],
                other: 0,
            },
        );
        p.host_paths.insert("./uploads".into(), HostPath::Missing);
        p.host_paths
            .insert("/var/run/docker.sock".into(), HostPath::Outside);
        let db = Service {
            name: "db".into(),
            volumes: vec![
                vs("volume", Some("dbdata"), "/var/lib/postgresql/data", false),
                vs("volume", Some("shared"), "/shared", false),
            ],
            ..Service::default()
        };
        let web = Service {
            name: "web".into(),
            volumes: vec![
                vs("bind", Some("./nginx.conf"), "/etc/nginx/nginx.conf", false),
                vs("bind", Some("./html"), "/usr/share/nginx/html", true),
                vs("bind", Some("./uploads"), "/uploads", false),
                vs(
                    "bind",
                    Some("/var/run/docker.sock"),
                    "/var/run/docker.sock",
                    false,
                ),
                vs("volume", Some("shared"), "/shared", true),
                vs("volume", None, "/cache", false),
                VolumeSpec {
                    tmpfs: Some(TmpfsOpts {
                        size: Some(64 << 20),
                        mode: None,
                    }),
                    ..vs("tmpfs", None, "/run", false)
                },
            ],
            tmpfs: vec!["/tmp:size=1g,mode=1777".into()],
            ..Service::default()
        };
        p.services.insert("db".into(), Box::new(db));
        p.services.insert("web".into(), Box::new(web));
        p
    }

    fn ctx<'a>(p: &'a Project, opts: &'a Options) -> Ctx<'a> {
        let mut volume_users: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for s in p.services.values() {
            for v in &s.volumes {
                if let (true, Some(src)) = (v.r#type == "volume", &v.source) {
                    let e = volume_users.entry(src.clone()).or_default();
                    if e.last() != Some(&s.name) {
                        e.push(s.name.clone());
                    }
                }
            }
        }
        Ctx {
            project: p,
            opts,
            diags: Vec::new(),
            external: Default::default(),
            names: Default::default(),
            volume_users,
        }
    }

    #[test]
    fn lowers_a_stack() {
        let p = fixture();
        let opts = Options::default();
        let mut ctx = ctx(&p, &opts);
        prepare(&mut ctx);
        assert_eq!(ctx.names.volumes["bind:./uploads"], "web-uploads");
        let mut out = Vec::new();
        let mut db = plan_for(&p.services["db"], WorkloadKind::StatefulSet);
        lower(&mut ctx, &mut db, &mut out);
        assert_eq!(db.pod.claim_templates.len(), 1);
        assert_eq!(
            db.pod.claim_templates[0].metadata.name.as_deref(),
            Some("dbdata")
        );
        assert_eq!(db.pod.volumes.len(), 1);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, "shared");
        assert_eq!(out[0].json()["spec"]["accessModes"][0], "ReadWriteMany");
        let mut web = plan_for(&p.services["web"], WorkloadKind::Deployment);
        lower(&mut ctx, &mut web, &mut out);
        let names: Vec<(&str, &str)> = out
            .iter()
            .map(|m| (m.kind.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("PersistentVolumeClaim", "shared"),
                ("ConfigMap", "web-nginx-conf"),
                ("ConfigMap", "web-html"),
                ("PersistentVolumeClaim", "web-uploads"),
            ]
        );
        let vols: Vec<&str> = web.pod.volumes.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            vols,
            [
                "nginx-conf",
                "html",
                "uploads",
                "shared",
                "anon-cache",
                "tmpfs-run",
                "tmpfs-tmp"
            ]
        );
        let m0 = &web.pod.mounts[0];
        assert_eq!(m0.sub_path.as_deref(), Some("nginx.conf"));
        assert_eq!(m0.read_only, Some(true));
        assert!(web.pod.mounts[1].sub_path.is_none());
        let tmp = web.pod.volumes[6].empty_dir.as_ref().unwrap();
        assert_eq!(tmp.size_limit, Some(Quantity("1Gi".into())));
        assert_eq!(tmp.medium.as_deref(), Some("Memory"));
        assert_eq!(web.pod.checksum.len(), 2);
        let msgs: Vec<&str> = ctx.diags.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("docker.sock")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("anonymous")));
        assert!(msgs.iter().any(|m| m.contains("not copied")));
        assert!(msgs.iter().any(|m| m.contains("ReadWriteMany")));
        assert!(!ctx.diags.iter().any(|d| d.is_error()));
        let mut shared = Vec::new();
        lower_shared(&mut ctx, &mut shared);
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].name, "unused");
        assert_eq!(
            content_of(&p, "./nginx.conf").unwrap().text["f"],
            "events {}"
        );
    }

    #[test]
    fn host_paths_when_allowed() {
        let p = fixture();
        let opts = Options {
            allow_host_paths: true,
            pvc_size: "5Gi".into(),
            storage_class: Some("fast".into()),
            ..Options::default()
        };
        let mut ctx = ctx(&p, &opts);
        prepare(&mut ctx);
        let mut out = Vec::new();
        let mut web = plan_for(&p.services["web"], WorkloadKind::Deployment);
        lower(&mut ctx, &mut web, &mut out);
        let hp = web
            .pod
            .volumes
            .iter()
            .find_map(|v| v.host_path.as_ref())
            .unwrap();
        assert_eq!(hp.path, "/var/run/docker.sock");
        assert_eq!(hp.type_.as_deref(), Some("Socket"));
        let pvc = out.iter().find(|m| m.name == "web-uploads").unwrap();
        assert_eq!(
            pvc.json()["spec"]["resources"]["requests"]["storage"],
            "5Gi"
        );
        assert_eq!(pvc.json()["spec"]["storageClassName"], "fast");
    }

    #[test]
    fn volume_x_kubernetes_size() {
        let mut p = fixture();
        let mut vol = ComposeVolume::default();
        vol.extensions.insert(
            "x-kubernetes".into(),
            serde_json::json!({"size": "20Gi", "storage-class": "ssd", "bogus": 1}),
        );
        p.volumes.insert("unused".into(), vol);
        let opts = Options::default();
        let mut ctx = ctx(&p, &opts);
        let mut out = Vec::new();
        lower_shared(&mut ctx, &mut out);
        assert_eq!(
            out[0].json()["spec"]["resources"]["requests"]["storage"],
            "20Gi"
        );
        assert_eq!(out[0].json()["spec"]["storageClassName"], "ssd");
        assert!(ctx.diags.iter().any(|d| d.message.contains("bogus")));
    }
}
