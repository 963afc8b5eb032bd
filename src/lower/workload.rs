//! The workload of a service: Deployment, StatefulSet, DaemonSet, Job or CronJob, and
//! the pod spec inside it.
//!
//! Reads: the finished [`Plan`] (kind, replicas, labels, pod parts from env / files /
//! storage), and the pod-level compose keys: `hostname`, `extra_hosts`, `dns*`,
//! `sysctls`, `stop_grace_period`, `platform`, `deploy.placement`, `deploy.labels`,
//! `deploy.update_config`, `network_mode`, `pid`, `ipc`, `group_add`, `shm_size`,
//! `labels`, `annotations`.
//! Produces: one workload object per service (the container comes from
//! [`super::container`]). The governing headless Service of a StatefulSet is named
//! `plan.name` and built by `service.rs`.
//! Not supported (warned): `host-gateway` in `extra_hosts`, sharing another
//! container's network/PID/IPC namespace, swarm placement on node roles or ids.
use super::ext::{self, ServiceExt};
use super::{container, Ctx, Plan, WorkloadKind};
use crate::compose::model::{is_external, Service};
use crate::k8s::Manifest;
use crate::source::Span;
use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, DeploymentStrategy,
    RollingUpdateDeployment, StatefulSet, StatefulSetSpec,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, EmptyDirVolumeSource, HostAlias, LocalObjectReference, NodeAffinity, NodeSelector,
    NodeSelectorRequirement, NodeSelectorTerm, PodDNSConfig, PodDNSConfigOption,
    PodSecurityContext, PodSpec, PodTemplateSpec, Sysctl, TopologySpreadConstraint, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Pod template annotation that changes whenever a ConfigMap/Secret the pod uses does.
pub const CHECKSUM_ANNOTATION: &str = "compose2k8s.io/config-checksum";

/// Choose the workload kind (mapping.md "Workloads"), first match wins:
/// `x-kubernetes.kind`, `x-kubernetes.schedule` (CronJob), `deploy.mode: global`
/// (DaemonSet), `deploy.mode: replicated-job`/`global-job` or an explicit
/// `restart: "no"` / `on-failure[:N]` (Job), a named volume no other service mounts
/// (StatefulSet), else Deployment.
pub fn kind(ctx: &mut Ctx, svc: &Service, ext: &ServiceExt) -> WorkloadKind {
    let mode = svc.deploy.as_ref().and_then(|d| d.mode.as_deref());
    if let Some(k) = ext.kind {
        if ext.schedule.is_some() && k != WorkloadKind::CronJob {
            ctx.warn(
                svc.span_of(&["x-kubernetes", "schedule"]),
                format!(
                    "schedule ignored: x-kubernetes.kind makes this service a {}",
                    ext::kind_name(k)
                ),
            );
        }
        return k;
    }
    if ext.schedule.is_some() {
        return WorkloadKind::CronJob;
    }
    match mode {
        Some("global") => {
            if svc.deploy.as_ref().is_some_and(|d| d.replicas.is_some()) {
                ctx.warn(
                    svc.span_of(&["deploy", "replicas"]),
                    "deploy.replicas ignored: a global service runs one pod per node (DaemonSet)",
                );
            }
            return WorkloadKind::DaemonSet;
        }
        Some("replicated-job") => return WorkloadKind::Job,
        Some("global-job") => {
            ctx.warn(
                svc.span_of(&["deploy", "mode"]),
                "deploy.mode global-job becomes a Job: Kubernetes has no run-once-per-node job",
            )
            .help = Some(
                "set `parallelism`/`completions` to the node count by hand, or use a DaemonSet"
                    .into(),
            );
            return WorkloadKind::Job;
        }
        None | Some("replicated") => {}
        Some(other) => {
            ctx.warn(
                svc.span_of(&["deploy", "mode"]),
                format!("unknown deploy.mode {other:?}; treated as replicated"),
            );
        }
    }
    if let Some(r) = svc.restart.as_deref() {
        match parse_restart(r) {
            Some(Restart::No) | Some(Restart::OnFailure(_)) => return WorkloadKind::Job,
            Some(Restart::Always) => {}
            None => {
                ctx.warn(
                    svc.span_of(&["restart"]),
                    format!("unknown restart policy {r:?}; treated as always"),
                )
                .help = Some("expected \"no\", always, on-failure[:N] or unless-stopped".into());
            }
        }
    }
    if owns_named_volume(ctx, svc) {
        return WorkloadKind::StatefulSet;
    }
    WorkloadKind::Deployment
}

/// Compose restart policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    No,
    /// `on-failure[:N]`.
    OnFailure(Option<i32>),
    /// `always` and `unless-stopped`.
    Always,
}

pub fn parse_restart(s: &str) -> Option<Restart> {
    match s {
        "no" => Some(Restart::No),
        "always" | "unless-stopped" => Some(Restart::Always),
        "on-failure" => Some(Restart::OnFailure(None)),
        _ => {
            let n = s.strip_prefix("on-failure:")?;
            n.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .map(|n| Restart::OnFailure(Some(n)))
        }
    }
}

/// Does `svc` mount a (non-external) named volume that no other service mounts?
fn owns_named_volume(ctx: &Ctx, svc: &Service) -> bool {
    svc.volumes.iter().any(|v| {
        v.r#type == "volume"
            && v.source.as_ref().is_some_and(|src| {
                ctx.project
                    .volumes
                    .get(src)
                    .is_some_and(|vol| !is_external(&vol.external))
                    && ctx
                        .volume_users
                        .get(src)
                        .is_some_and(|users| users.len() == 1 && users[0] == svc.name)
            })
    })
}

/// Integer from a JSON number or a numeric string.
pub fn json_int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Replica count: `--scale` > `deploy.replicas` > `scale` > 1.
pub fn replicas(ctx: &mut Ctx, svc: &Service, _ext: &ServiceExt) -> i32 {
    let read = |ctx: &mut Ctx, v: &Json, path: &[&str]| -> Option<i32> {
        match json_int(v).and_then(|n| i32::try_from(n).ok()) {
            Some(n) if n >= 0 => Some(n),
            _ => {
                ctx.error(
                    svc.span_of(path),
                    format!(
                        "{} must be a whole number of replicas (0 or more), not {v}",
                        path.join(".")
                    ),
                );
                None
            }
        }
    };
    let deploy = svc
        .deploy
        .as_ref()
        .and_then(|d| d.replicas.as_ref())
        .and_then(|v| read(ctx, v, &["deploy", "replicas"]));
    let scale = svc.scale.as_ref().and_then(|v| read(ctx, v, &["scale"]));
    if let (Some(d), Some(s)) = (deploy, scale) {
        if d != s {
            ctx.error(
                svc.span_of(&["scale"]),
                format!("scale ({s}) and deploy.replicas ({d}) disagree"),
            )
            .help = Some("Compose rejects distinct values too; keep one of them".into());
        }
    }
    if let Some(n) = ctx.opts.scale.get(&svc.name) {
        return *n;
    }
    deploy.or(scale).unwrap_or(1)
}

/// sha256 over the sorted checksum inputs, as lower-case hex (`None` when empty).
pub fn config_checksum(entries: &[(String, String)]) -> Option<String> {
    if entries.is_empty() {
        return None;
    }
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for (id, digest) in sorted {
        h.update(id.as_bytes());
        h.update(b"\t");
        h.update(digest.as_bytes());
        h.update(b"\n");
    }
    Some(format!("{:x}", h.finalize()))
}

/// Build the workload object of `plan` into `out`.
pub fn build(ctx: &mut Ctx, plan: &Plan, out: &mut Vec<Manifest>) {
    let svc = plan.svc;
    let template = pod_template(ctx, plan);
    let mut meta = ctx.meta(&plan.name, &plan.labels);
    let ann = annotations_from(
        ctx,
        svc,
        svc.deploy.iter().flat_map(|d| d.labels.iter()),
        &["deploy", "labels"],
    );
    if !ann.is_empty() {
        meta.annotations = Some(ann);
    }
    let selector = LabelSelector {
        match_labels: Some(plan.selector.clone()),
        ..LabelSelector::default()
    };
    // With an autoscaler the replica count belongs to it: leaving it out keeps
    // `kubectl apply` from resetting what the autoscaler chose.
    let replicas = if let Some(a) = &plan.ext.autoscale {
        let set = [&["deploy", "replicas"][..], &["scale"][..]]
            .into_iter()
            .find(|p| svc.node.pointer(p).is_some());
        if ctx.opts.scale.contains_key(&svc.name) || set.is_some() {
            ctx.warn(
                set.map(|p| svc.span_of(p)).unwrap_or(plan.ext.span),
                format!(
                    "replica count {} ignored: x-kubernetes.autoscale sets it (between {} and {})",
                    plan.replicas, a.min, a.max
                ),
            );
        }
        None
    } else {
        Some(plan.replicas)
    };
    let origin = Some(svc.span());
    let m = match plan.kind {
        WorkloadKind::Deployment => Manifest::from_resource(
            Deployment {
                metadata: meta,
                spec: Some(DeploymentSpec {
                    replicas,
                    selector,
                    strategy: strategy(ctx, plan),
                    template,
                    ..DeploymentSpec::default()
                }),
                ..Deployment::default()
            },
            origin,
        ),
        WorkloadKind::StatefulSet => {
            update_config_unmapped(ctx, svc, "StatefulSet");
            Manifest::from_resource(
                StatefulSet {
                    metadata: meta,
                    spec: Some(StatefulSetSpec {
                        replicas,
                        selector,
                        service_name: Some(plan.name.clone()),
                        template,
                        volume_claim_templates: non_empty(plan.pod.claim_templates.clone()),
                        ..StatefulSetSpec::default()
                    }),
                    ..StatefulSet::default()
                },
                origin,
            )
        }
        WorkloadKind::DaemonSet => {
            update_config_unmapped(ctx, svc, "DaemonSet");
            Manifest::from_resource(
                DaemonSet {
                    metadata: meta,
                    spec: Some(DaemonSetSpec {
                        selector,
                        template,
                        ..DaemonSetSpec::default()
                    }),
                    ..DaemonSet::default()
                },
                origin,
            )
        }
        WorkloadKind::Job => {
            update_config_unmapped(ctx, svc, "Job");
            Manifest::from_resource(
                Job {
                    metadata: meta,
                    spec: Some(job_spec(plan, template)),
                    ..Job::default()
                },
                origin,
            )
        }
        WorkloadKind::CronJob => {
            update_config_unmapped(ctx, svc, "CronJob");
            let job_meta = ObjectMeta {
                labels: Some(plan.labels.clone()),
                ..ObjectMeta::default()
            };
            Manifest::from_resource(
                CronJob {
                    metadata: meta,
                    spec: Some(CronJobSpec {
                        schedule: plan.ext.schedule.clone().unwrap_or_default(),
                        job_template: JobTemplateSpec {
                            metadata: Some(job_meta),
                            spec: Some(job_spec(plan, template)),
                        },
                        ..CronJobSpec::default()
                    }),
                    ..CronJob::default()
                },
                origin,
            )
        }
    };
    out.push(m);
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

/// Job (or CronJob job) spec: restart policy from compose `restart`, `backoffLimit`
/// from `on-failure:N` (0 for `"no"`), parallel completions for replicas > 1.
fn job_spec(plan: &Plan, mut template: PodTemplateSpec) -> JobSpec {
    let (policy, backoff) = match plan.svc.restart.as_deref().and_then(parse_restart) {
        Some(Restart::No) => ("Never", Some(0)),
        Some(Restart::OnFailure(n)) => ("OnFailure", n),
        _ => ("OnFailure", None),
    };
    if let Some(spec) = template.spec.as_mut() {
        spec.restart_policy = Some(policy.to_string());
    }
    let parallel = (plan.replicas > 1).then_some(plan.replicas);
    JobSpec {
        backoff_limit: backoff,
        completions: parallel,
        parallelism: parallel,
        template,
        ..JobSpec::default()
    }
}

/// `deploy.update_config` -> Deployment rolling update: `parallelism` pods at a time,
/// `order: stop-first` (default) as maxUnavailable, `start-first` as maxSurge.
fn strategy(ctx: &mut Ctx, plan: &Plan) -> Option<DeploymentStrategy> {
    let svc = plan.svc;
    let uc = svc.deploy.as_ref()?.update_config.as_ref()?;
    let Json::Object(o) = uc else {
        return None;
    };
    let mut parallelism = IntOrString::Int(1);
    if let Some(p) = o.get("parallelism") {
        match json_int(p) {
            Some(0) => parallelism = IntOrString::String("100%".into()),
            Some(n) if n > 0 && n <= i32::MAX as i64 => parallelism = IntOrString::Int(n as i32),
            _ => {
                ctx.warn(
                    svc.span_of(&["deploy", "update_config", "parallelism"]),
                    format!(
                        "deploy.update_config.parallelism {p} is not a whole number; 1 is used"
                    ),
                );
            }
        }
    }
    let start_first = o.get("order").and_then(Json::as_str) == Some("start-first");
    for key in o.keys() {
        if !matches!(key.as_str(), "parallelism" | "order") {
            ctx.warn(
                svc.span_of(&["deploy", "update_config", key]),
                format!("deploy.update_config.{key} is not mapped: Kubernetes rolling updates have no equivalent"),
            )
            .help = Some("Deployments roll pods as their readiness allows; see minReadySeconds and progressDeadlineSeconds".into());
        }
    }
    let zero = IntOrString::Int(0);
    let (surge, unavailable) = if start_first {
        (parallelism, zero)
    } else {
        (zero, parallelism)
    };
    Some(DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(surge),
            max_unavailable: Some(unavailable),
        }),
    })
}

fn update_config_unmapped(ctx: &mut Ctx, svc: &Service, kind: &str) {
    if svc
        .deploy
        .as_ref()
        .is_some_and(|d| d.update_config.is_some())
    {
        ctx.warn(
            svc.span_of(&["deploy", "update_config"]),
            format!(
                "deploy.update_config is only mapped for Deployments; this service is a {kind}"
            ),
        );
    }
}

/// Annotations from a compose string map (labels), skipping `kompose.*` labels (they
/// are settings, read by `ext`) and keys Kubernetes would reject.
fn annotations_from<'s>(
    ctx: &mut Ctx,
    svc: &Service,
    items: impl Iterator<Item = (&'s String, &'s String)>,
    at: &[&str],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in items {
        if at == ["labels"] && k.starts_with("kompose.") {
            continue;
        }
        if ext::is_annotation_key(k) {
            out.insert(k.clone(), v.clone());
        } else {
            let mut path = at.to_vec();
            path.push(k);
            ctx.warn(
                svc.span_of(&path),
                format!("{} key {k:?} is not a valid Kubernetes annotation key; left out", at.join(".")),
            )
            .help = Some("annotation keys are `name` or `dns.prefix/name`, the name at most 63 letters, digits, `-`, `_` or `.`".into());
        }
    }
    out
}

fn pod_template(ctx: &mut Ctx, plan: &Plan) -> PodTemplateSpec {
    let svc = plan.svc;
    let mut ann = annotations_from(ctx, svc, svc.annotations.iter(), &["annotations"]);
    ann.extend(annotations_from(ctx, svc, svc.labels.iter(), &["labels"]));
    ann.extend(plan.ext.pod_annotations.clone());
    if let Some(sum) = config_checksum(&plan.pod.checksum) {
        ann.insert(CHECKSUM_ANNOTATION.into(), sum);
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(plan.labels.clone()),
            annotations: (!ann.is_empty()).then_some(ann),
            ..ObjectMeta::default()
        }),
        spec: Some(pod_spec(ctx, plan)),
    }
}

/// The pod spec: one container plus the pod-level compose keys.
pub fn pod_spec(ctx: &mut Ctx, plan: &Plan) -> PodSpec {
    let svc = plan.svc;
    let ext = &plan.ext;
    let mut c = container::build(ctx, plan);
    let mut volumes = plan.pod.volumes.clone();
    if let Some((vol, mount)) = shm(
        ctx,
        svc,
        &volumes,
        c.volume_mounts.as_deref().unwrap_or(&[]),
    ) {
        volumes.push(vol);
        c.volume_mounts.get_or_insert_with(Vec::new).push(mount);
    }
    let mut spec = PodSpec {
        containers: vec![c],
        automount_service_account_token: ext.service_account.is_none().then_some(false),
        service_account_name: ext.service_account.clone(),
        image_pull_secrets: non_empty(
            ext.image_pull_secrets
                .iter()
                .map(|n| LocalObjectReference { name: n.clone() })
                .collect(),
        ),
        hostname: hostname(ctx, svc),
        host_aliases: host_aliases(ctx, svc),
        dns_config: dns_config(ctx, svc),
        termination_grace_period_seconds: grace_period(ctx, svc),
        volumes: non_empty(volumes),
        ..PodSpec::default()
    };
    let sysctls = sysctls(ctx, svc);
    let groups = supplemental_groups(ctx, svc);
    if sysctls.is_some() || groups.is_some() {
        spec.security_context = Some(PodSecurityContext {
            sysctls,
            supplemental_groups: groups,
            ..PodSecurityContext::default()
        });
    }
    let sched = scheduling(ctx, plan);
    spec.node_selector = sched.node_selector;
    spec.affinity = sched.affinity;
    spec.topology_spread_constraints = sched.spread;
    namespaces(ctx, svc, &mut spec);
    spec
}

/// `shm_size` -> a memory-backed emptyDir at /dev/shm of that size.
fn shm(
    ctx: &mut Ctx,
    svc: &Service,
    volumes: &[Volume],
    mounts: &[VolumeMount],
) -> Option<(Volume, VolumeMount)> {
    let v = svc.shm_size.as_ref()?;
    let span = svc.span_of(&["shm_size"]);
    let bytes = match container::bytes_of(v) {
        Ok(b) => b,
        Err(e) => {
            ctx.error(span, format!("shm_size: {e}"));
            return None;
        }
    };
    if mounts.iter().any(|m| m.mount_path == "/dev/shm") {
        ctx.warn(
            span,
            "shm_size ignored: /dev/shm is already mounted by a volume or tmpfs",
        );
        return None;
    }
    let mut name = "dshm".to_string();
    let mut n = 2;
    while volumes.iter().any(|v| v.name == name) {
        name = format!("dshm-{n}");
        n += 1;
    }
    let vol = Volume {
        name: name.clone(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: Some("Memory".into()),
            size_limit: (bytes > 0).then(|| crate::k8s::quantity::memory(bytes)),
        }),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name,
        mount_path: "/dev/shm".into(),
        ..VolumeMount::default()
    };
    Some((vol, mount))
}

/// Is `s` a DNS-1123 label?
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn hostname(ctx: &mut Ctx, svc: &Service) -> Option<String> {
    let h = svc.hostname.as_deref()?;
    let span = svc.span_of(&["hostname"]);
    let first = h.split('.').next().unwrap_or("").to_ascii_lowercase();
    if !is_label(&first) {
        ctx.warn(
            span,
            format!("hostname {h:?} is not a valid pod hostname; left out"),
        )
        .help = Some(
            "a pod hostname is a DNS label: at most 63 lower-case letters, digits and `-`".into(),
        );
        return None;
    }
    if first != h {
        ctx.warn(
            span,
            format!("hostname {h:?} becomes {first:?}: a pod hostname is a single DNS label"),
        )
        .help = Some("the pod's domain comes from the cluster (`<service>.<namespace>.svc`); `domainname` has no equivalent".into());
    }
    Some(first)
}

/// `extra_hosts` -> `hostAliases`, grouped by IP (sorted as text).
fn host_aliases(ctx: &mut Ctx, svc: &Service) -> Option<Vec<HostAlias>> {
    let mut by_ip: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (host, ips) in &svc.extra_hosts {
        let span = svc.span_of(&["extra_hosts", host]);
        for ip in ips {
            let ip_s = ip.trim_start_matches('[').trim_end_matches(']');
            if ip_s == "host-gateway" {
                ctx.warn(span, format!("extra_hosts {host}=host-gateway left out: Kubernetes has no name for the node's address"))
                    .help = Some("pods can read the node IP from the downward API (status.hostIP)".into());
                continue;
            }
            if ip_s.parse::<std::net::IpAddr>().is_err() {
                ctx.warn(
                    span,
                    format!("extra_hosts {host}: {ip:?} is not an IP address; left out"),
                );
                continue;
            }
            if !ext::is_name(host) {
                ctx.warn(
                    span,
                    format!("extra_hosts: {host:?} is not a valid lower-case host name; left out"),
                );
                continue;
            }
            let list = by_ip.entry(ip_s.to_string()).or_default();
            if !list.contains(host) {
                list.push(host.clone());
            }
        }
    }
    non_empty(
        by_ip
            .into_iter()
            .map(|(ip, hostnames)| HostAlias {
                ip,
                hostnames: Some(hostnames),
            })
            .collect(),
    )
}

fn dns_config(ctx: &mut Ctx, svc: &Service) -> Option<PodDNSConfig> {
    if svc.dns.is_empty() && svc.dns_search.is_empty() && svc.dns_opt.is_empty() {
        return None;
    }
    let mut nameservers = Vec::new();
    for (i, ns) in svc.dns.iter().enumerate() {
        let span = svc.span_of(&["dns", &i.to_string()]);
        if ns.parse::<std::net::IpAddr>().is_err() {
            ctx.warn(span, format!("dns: {ns:?} is not an IP address; left out"));
        } else if nameservers.len() == 3 {
            ctx.warn(
                span,
                format!("dns: {ns} left out: a pod has at most 3 name servers"),
            );
        } else {
            nameservers.push(ns.clone());
        }
    }
    if !nameservers.is_empty() {
        ctx.warn(
            svc.span_of(&["dns"]),
            "dns: these name servers are listed after the cluster DNS, which answers first",
        )
        .help = Some("the cluster DNS resolves service names and forwards other names to the node's resolvers; set dnsPolicy: None to use only these servers (service names then stop resolving)".into());
    }
    let options: Vec<PodDNSConfigOption> = svc
        .dns_opt
        .iter()
        .map(|o| match o.split_once(':') {
            Some((n, v)) => PodDNSConfigOption {
                name: Some(n.trim().to_string()),
                value: Some(v.trim().to_string()),
            },
            None => PodDNSConfigOption {
                name: Some(o.trim().to_string()),
                value: None,
            },
        })
        .collect();
    Some(PodDNSConfig {
        nameservers: non_empty(nameservers),
        searches: non_empty(svc.dns_search.clone()),
        options: non_empty(options),
    })
}

/// Sysctls the kubelet allows without `--allowed-unsafe-sysctls` (Kubernetes 1.33).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ping_group_range",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_wmem",
];

fn sysctls(ctx: &mut Ctx, svc: &Service) -> Option<Vec<Sysctl>> {
    let mut out = Vec::new();
    for (name, value) in &svc.sysctls {
        if !SAFE_SYSCTLS.contains(&name.as_str()) {
            ctx.warn(
                svc.span_of(&["sysctls", name]),
                format!("sysctl {name} is unsafe in Kubernetes: pods setting it are rejected unless the node allows it"),
            )
            .help = Some(format!("start the kubelet with --allowed-unsafe-sysctls={name}"));
        }
        out.push(Sysctl {
            name: name.clone(),
            value: value.clone(),
        });
    }
    non_empty(out)
}

fn supplemental_groups(ctx: &mut Ctx, svc: &Service) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for (i, g) in svc.group_add.iter().enumerate() {
        match json_int(g).filter(|n| *n >= 0) {
            Some(n) => out.push(n),
            None => {
                ctx.warn(
                    svc.span_of(&["group_add", &i.to_string()]),
                    format!("group_add {g}: Kubernetes needs numeric group ids; left out"),
                )
                .help = Some(
                    "look the id up in the image (`getent group NAME`) and use the number".into(),
                );
            }
        }
    }
    non_empty(out)
}

fn grace_period(ctx: &mut Ctx, svc: &Service) -> Option<i64> {
    let s = svc.stop_grace_period.as_deref()?;
    match container::units::parse_duration(s) {
        Ok(d) => Some(container::ceil_secs(d, 0)),
        Err(e) => {
            ctx.error(
                svc.span_of(&["stop_grace_period"]),
                format!("stop_grace_period: {e}"),
            );
            None
        }
    }
}

#[derive(Default)]
struct Scheduling {
    node_selector: Option<BTreeMap<String, String>>,
    affinity: Option<Affinity>,
    spread: Option<Vec<TopologySpreadConstraint>>,
}

/// Docker architecture names -> `kubernetes.io/arch` values.
fn k8s_arch(a: &str) -> String {
    match a {
        "x86_64" | "x86-64" => "amd64".into(),
        "aarch64" | "armv8" => "arm64".into(),
        "armv7l" | "armhf" | "armv7" | "armv6l" => "arm".into(),
        "i386" | "i686" => "386".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Is `s` a valid label value (<= 63, alphanumeric at both ends, `-_.` inside)?
fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && s.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

/// `platform` and `deploy.placement` -> nodeSelector, node affinity (for `!=`) and
/// topology spread (for `preferences: spread`).
fn scheduling(ctx: &mut Ctx, plan: &Plan) -> Scheduling {
    let svc = plan.svc;
    let mut sel: BTreeMap<String, (String, Span)> = BTreeMap::new();
    let mut not_in: Vec<NodeSelectorRequirement> = Vec::new();
    if let Some(p) = svc.platform.as_deref() {
        let span = svc.span_of(&["platform"]);
        let parts: Vec<&str> = p.split('/').collect();
        match parts.as_slice() {
            [os, arch, rest @ ..] if !os.is_empty() && !arch.is_empty() && rest.len() <= 1 => {
                sel.insert("kubernetes.io/os".into(), (os.to_ascii_lowercase(), span));
                let arch = k8s_arch(arch);
                if let [variant] = rest {
                    if !(arch == "arm64" && *variant == "v8") {
                        ctx.warn(span, format!("platform variant {variant} ignored: nodes are selected by OS and architecture only"));
                    }
                }
                sel.insert("kubernetes.io/arch".into(), (arch, span));
            }
            [os] if !os.is_empty() => {
                sel.insert("kubernetes.io/os".into(), (os.to_ascii_lowercase(), span));
            }
            _ => {
                ctx.warn(
                    span,
                    format!("platform {p:?} is not os/arch[/variant]; left out"),
                );
            }
        }
    }
    let placement = svc.deploy.as_ref().and_then(|d| d.placement.as_ref());
    let mut spread = Vec::new();
    if let Some(pl) = placement {
        for (i, c) in pl.constraints.iter().enumerate() {
            let span = svc.span_of(&["deploy", "placement", "constraints", &i.to_string()]);
            let (lhs, rhs, eq) = match (c.split_once("!="), c.split_once("==")) {
                (Some((l, r)), _) => (l.trim(), r.trim(), false),
                (None, Some((l, r))) => (l.trim(), r.trim(), true),
                _ => {
                    ctx.warn(span, format!("placement constraint {c:?} is not `attribute==value` or `attribute!=value`; left out"));
                    continue;
                }
            };
            let key = if let Some(label) = lhs.strip_prefix("node.labels.") {
                label.to_string()
            } else {
                match lhs {
                    "node.platform.os" => "kubernetes.io/os".to_string(),
                    "node.platform.arch" => "kubernetes.io/arch".to_string(),
                    "node.hostname" => "kubernetes.io/hostname".to_string(),
                    _ => {
                        ctx.warn(span, format!("placement constraint on {lhs} is not mapped: Kubernetes nodes have no such attribute"))
                            .help = Some("label the nodes and use a node.labels.* constraint".into());
                        continue;
                    }
                }
            };
            let value = match key.as_str() {
                "kubernetes.io/arch" => k8s_arch(rhs),
                "kubernetes.io/os" => rhs.to_ascii_lowercase(),
                _ => rhs.to_string(),
            };
            if !ext::is_annotation_key(&key) || key.len() > 316 || !is_label_value(&value) {
                ctx.warn(span, format!("placement constraint {c:?} is not a valid Kubernetes node label and value; left out"));
                continue;
            }
            if eq {
                if let Some((old, old_span)) = sel.get(&key) {
                    if *old != value {
                        ctx.warn(span, format!("placement constraint {c:?} conflicts with {key}={old}; this one is used"))
                            .notes
                            .push(crate::diag::Label {
                                span: *old_span,
                                message: "set here".into(),
                            });
                    }
                }
                sel.insert(key, (value, span));
            } else {
                not_in.push(NodeSelectorRequirement {
                    key,
                    operator: "NotIn".into(),
                    values: Some(vec![value]),
                });
            }
        }
        for (i, p) in pl.preferences.iter().enumerate() {
            let span = svc.span_of(&["deploy", "placement", "preferences", &i.to_string()]);
            let label = p
                .get("spread")
                .and_then(Json::as_str)
                .and_then(|s| s.strip_prefix("node.labels."));
            match label {
                Some(l) if ext::is_annotation_key(l) => spread.push(TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: l.to_string(),
                    when_unsatisfiable: "ScheduleAnyway".into(),
                    label_selector: Some(LabelSelector {
                        match_labels: Some(plan.selector.clone()),
                        ..LabelSelector::default()
                    }),
                    ..TopologySpreadConstraint::default()
                }),
                _ => {
                    ctx.warn(span, format!("placement preference {p} is not mapped; only `spread: node.labels.<label>` is"));
                }
            }
        }
        if pl.max_replicas_per_node.is_some() {
            ctx.warn(
                svc.span_of(&["deploy", "placement", "max_replicas_per_node"]),
                "deploy.placement.max_replicas_per_node is not mapped",
            )
            .help = Some(
                "for one pod per node add a pod anti-affinity on kubernetes.io/hostname by hand"
                    .into(),
            );
        }
    }
    let affinity = (!not_in.is_empty()).then(|| Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(not_in),
                    ..NodeSelectorTerm::default()
                }],
            }),
            ..NodeAffinity::default()
        }),
        ..Affinity::default()
    });
    Scheduling {
        node_selector: (!sel.is_empty())
            .then(|| sel.into_iter().map(|(k, (v, _))| (k, v)).collect()),
        affinity,
        spread: non_empty(spread),
    }
}

/// `network_mode`, `pid`, `ipc`: host namespaces map to `hostNetwork` / `hostPID` /
/// `hostIPC` (with a warning); sharing another container's namespace does not map.
fn namespaces(ctx: &mut Ctx, svc: &Service, spec: &mut PodSpec) {
    if let Some(m) = svc.network_mode.as_deref() {
        let span = svc.span_of(&["network_mode"]);
        match m {
            "host" => {
                spec.host_network = Some(true);
                spec.dns_policy = Some("ClusterFirstWithHostNet".into());
                ctx.warn(span, "network_mode: host -> hostNetwork: the pod uses the node's network and its ports bind on the node")
                    .help = Some("two replicas on one node clash on their ports; most clusters' security policies forbid host networking".into());
            }
            "bridge" | "default" => {}
            "none" => {
                ctx.warn(
                    span,
                    "network_mode: none is not mapped: every pod has a network",
                )
                .help = Some("use --network-policies to restrict traffic".into());
            }
            other if other.starts_with("service:") || other.starts_with("container:") => {
                ctx.warn(span, format!("network_mode: {other} is not mapped: only containers of one pod share a network namespace"))
                    .help = Some("this service runs in its own pod; reach the other one by its service name, not localhost".into());
            }
            other => {
                ctx.warn(span, format!("network_mode: {other} is not mapped"));
            }
        }
    }
    for (key, host_field) in [("pid", 0), ("ipc", 1)] {
        let val = if key == "pid" {
            svc.pid.as_deref()
        } else {
            svc.ipc.as_deref()
        };
        let Some(v) = val else { continue };
        let span = svc.span_of(&[key]);
        match v {
            "host" => {
                if host_field == 0 {
                    spec.host_pid = Some(true);
                } else {
                    spec.host_ipc = Some(true);
                }
                ctx.warn(
                    span,
                    format!(
                        "{key}: host -> host{}: the pod shares the node's {} namespace",
                        key.to_uppercase(),
                        key.to_uppercase()
                    ),
                );
            }
            "private" | "shareable" if key == "ipc" => {}
            other => {
                ctx.warn(span, format!("{key}: {other} is not mapped: pods do not share {} namespaces with other pods", key.to_uppercase()));
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Build a `Project` from compose YAML written in canonical long syntax.
    use crate::compose::model::{Project, Service, Volume};
    use crate::compose::node::{Node, Value};
    use crate::compose::yaml;
    use crate::source::FileId;
    use serde_json::Value as Json;

    pub fn project(text: &str) -> Project {
        let docs = yaml::parse(text, FileId(0)).unwrap();
        let root: Node = docs.into_iter().next().unwrap();
        let mut p = Project {
            name: "proj".into(),
            tree: root.clone(),
            ..Project::default()
        };
        if let Some(Value::Map(m)) = root.get("services").map(|n| &n.value) {
            for (k, node) in m {
                let mut j = node.to_json();
                let mut exts = std::collections::BTreeMap::new();
                if let Json::Object(o) = &mut j {
                    let xs: Vec<String> =
                        o.keys().filter(|k| k.starts_with("x-")).cloned().collect();
                    for x in xs {
                        if let Some(v) = o.remove(&x) {
                            exts.insert(x, v);
                        }
                    }
                }
                let mut svc: Service = serde_json::from_value(j).unwrap();
                svc.name = k.name.clone();
                svc.node = node.clone();
                svc.extensions = exts;
                p.services.insert(k.name.clone(), Box::new(svc));
            }
        }
        if let Some(Value::Map(m)) = root.get("volumes").map(|n| &n.value) {
            for (k, node) in m {
                let j = if node.is_null() {
                    Json::Object(Default::default())
                } else {
                    node.to_json()
                };
                let v: Volume = serde_json::from_value(j).unwrap();
                p.volumes.insert(k.name.clone(), v);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::project;
    use super::*;
    use crate::lower::{lower, Options};

    fn kinds(text: &str) -> Vec<(String, String)> {
        let p = project(text);
        let l = lower(&p, &Options::default());
        l.manifests
            .iter()
            .filter(|m| {
                !matches!(
                    m.kind.as_str(),
                    "Service"
                        | "PersistentVolumeClaim"
                        | "ConfigMap"
                        | "Secret"
                        | "PodDisruptionBudget"
                        | "HorizontalPodAutoscaler"
                )
            })
            .map(|m| (m.name.clone(), m.kind.clone()))
            .collect()
    }

    #[test]
    fn kind_rules() {
        let got = kinds(
            r#"
services:
  web: {image: nginx}
  db:
    image: postgres
    volumes: [{type: volume, source: data, target: /var/lib/postgresql/data, read_only: false}]
  a:
    image: x
    volumes: [{type: volume, source: shared, target: /s, read_only: false}]
  b:
    image: x
    volumes: [{type: volume, source: shared, target: /s, read_only: false}]
  ext:
    image: x
    volumes: [{type: volume, source: outside, target: /s, read_only: false}]
  agent: {image: x, deploy: {mode: global}}
  migrate: {image: x, restart: "no"}
  retry: {image: x, restart: "on-failure:3"}
  always: {image: x, restart: always}
  nightly: {image: x, x-kubernetes: {schedule: "0 3 * * *"}}
  forced: {image: x, restart: "no", x-kubernetes: {kind: Deployment}}
  kompose: {image: x, labels: {kompose.controller.type: daemonset}}
volumes:
  data: {}
  shared: {}
  outside: {external: true}
"#,
        );
        let want = [
            ("a", "Deployment"),
            ("always", "Deployment"),
            ("b", "Deployment"),
            ("ext", "Deployment"),
            ("forced", "Deployment"),
            ("web", "Deployment"),
            ("db", "StatefulSet"),
            ("agent", "DaemonSet"),
            ("kompose", "DaemonSet"),
            ("migrate", "Job"),
            ("retry", "Job"),
            ("nightly", "CronJob"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn restart_policies() {
        for (s, want) in [
            ("no", Some(Restart::No)),
            ("always", Some(Restart::Always)),
            ("unless-stopped", Some(Restart::Always)),
            ("on-failure", Some(Restart::OnFailure(None))),
            ("on-failure:5", Some(Restart::OnFailure(Some(5)))),
            ("on-failure:x", None),
            ("sometimes", None),
        ] {
            assert_eq!(parse_restart(s), want, "{s}");
        }
    }

    #[test]
    fn checksum_is_order_independent() {
        let a = vec![
            ("ConfigMap/a".to_string(), "1".to_string()),
            ("Secret/b".to_string(), "2".to_string()),
        ];
        let b = vec![a[1].clone(), a[0].clone()];
        assert_eq!(config_checksum(&a), config_checksum(&b));
        assert_eq!(config_checksum(&[]), None);
        assert_eq!(config_checksum(&a).unwrap().len(), 64);
    }

    #[test]
    fn json_ints() {
        for (v, want) in [
            (serde_json::json!(3), Some(3)),
            (serde_json::json!("4"), Some(4)),
            (serde_json::json!(" 5 "), Some(5)),
            (serde_json::json!(2.0), Some(2)),
            (serde_json::json!(2.5), None),
            (serde_json::json!("x"), None),
        ] {
            assert_eq!(json_int(&v), want, "{v}");
        }
    }
}

#[cfg(test)]
mod render_tests {
    use super::test_support::project;
    use crate::diag::Diagnostic;
    use crate::lower::{lower, Options};
    use serde_json::{json, Value as Json};

    fn lowered(text: &str) -> (Vec<Json>, Vec<Diagnostic>) {
        let p = project(text);
        let l = lower(&p, &Options::default());
        // Services (emitted before workloads) are not what these tests look at.
        (
            l.manifests
                .into_iter()
                .filter(|m| m.kind != "Service")
                .map(|m| m.json())
                .collect(),
            l.diagnostics,
        )
    }

    fn pod(body: &Json) -> &Json {
        match body["kind"].as_str() {
            Some("CronJob") => &body["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => &body["spec"]["template"]["spec"],
        }
    }

    #[test]
    fn pod_level_keys() {
        let (ms, diags) = lowered(
            r#"
services:
  web:
    image: nginx
    hostname: web
    extra_hosts: {a.local: ["10.0.0.1"], b.local: ["10.0.0.1", "::1"]}
    dns: ["1.1.1.1"]
    dns_search: [corp]
    stop_grace_period: 1500ms
    platform: linux/amd64
    group_add: ["1001", staff]
    network_mode: host
    shm_size: 64m
"#,
        );
        let p = pod(&ms[0]);
        assert_eq!(p["hostname"], "web");
        assert_eq!(
            p["hostAliases"],
            json!([
                {"hostnames": ["a.local", "b.local"], "ip": "10.0.0.1"},
                {"hostnames": ["b.local"], "ip": "::1"}
            ])
        );
        assert_eq!(
            p["dnsConfig"],
            json!({"nameservers": ["1.1.1.1"], "searches": ["corp"]})
        );
        assert_eq!(p["terminationGracePeriodSeconds"], 2);
        assert_eq!(
            p["nodeSelector"],
            json!({"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"})
        );
        assert_eq!(p["securityContext"]["supplementalGroups"], json!([1001]));
        assert_eq!(p["hostNetwork"], true);
        assert_eq!(p["dnsPolicy"], "ClusterFirstWithHostNet");
        assert_eq!(p["automountServiceAccountToken"], false);
        assert_eq!(
            p["volumes"],
            json!([{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}])
        );
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.starts_with("group_add \"staff\"")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.starts_with("network_mode: host")),
            "{msgs:?}"
        );
    }

    #[test]
    fn jobs_and_cronjobs() {
        let (ms, _) = lowered(
            r#"
services:
  once: {image: x, restart: "no"}
  retry: {image: x, restart: "on-failure:4", scale: 2}
  tick: {image: x, x-kubernetes: {schedule: "*/5 * * * *"}}
"#,
        );
        let by_name = |n: &str| ms.iter().find(|m| m["metadata"]["name"] == n).unwrap();
        let once = by_name("once");
        assert_eq!(once["kind"], "Job");
        assert_eq!(once["spec"]["backoffLimit"], 0);
        assert_eq!(pod(once)["restartPolicy"], "Never");
        let retry = by_name("retry");
        assert_eq!(retry["spec"]["backoffLimit"], 4);
        assert_eq!(retry["spec"]["parallelism"], 2);
        assert_eq!(retry["spec"]["completions"], 2);
        assert_eq!(pod(retry)["restartPolicy"], "OnFailure");
        let tick = by_name("tick");
        assert_eq!(tick["kind"], "CronJob");
        assert_eq!(tick["spec"]["schedule"], "*/5 * * * *");
        assert_eq!(pod(tick)["restartPolicy"], "OnFailure");
        // No PodDisruptionBudget for a Job even with 2 replicas.
        assert!(!ms.iter().any(|m| m["kind"] == "PodDisruptionBudget"));
    }

    #[test]
    fn probes_from_healthcheck() {
        let (ms, _) = lowered(
            r#"
services:
  db:
    image: postgres
    healthcheck:
      test: [CMD, pg_isready]
      interval: 5s
      start_period: 30s
      start_interval: 2s
"#,
        );
        let c = &pod(&ms[0])["containers"][0];
        assert_eq!(
            c["readinessProbe"],
            json!({"exec": {"command": ["pg_isready"]}, "periodSeconds": 5, "timeoutSeconds": 30, "failureThreshold": 3})
        );
        assert_eq!(c["startupProbe"]["periodSeconds"], 2);
        assert_eq!(c["startupProbe"]["failureThreshold"], 18);
        assert!(c.get("livenessProbe").is_none());
    }

    #[test]
    fn unmapped_keys_warn_at_their_line() {
        let (_, diags) = lowered("services:\n  web:\n    image: x\n    links: [db]\n    profiles: [a]\n  db: {image: y}\n");
        let w: Vec<(u32, &str)> = diags
            .iter()
            .map(|d| (d.span.map(|s| s.line).unwrap_or(0), d.message.as_str()))
            .collect();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].0, 4);
        assert!(w[0].1.starts_with("links is not mapped"));
    }

    #[test]
    fn x_kubernetes_errors_point_at_the_key() {
        let (_, diags) =
            lowered("services:\n  web:\n    image: x\n    x-kubernetes:\n      replicas: 3\n");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].is_error());
        assert_eq!(diags[0].span.map(|s| (s.line, s.col)), Some((5, 7)));
    }
}
