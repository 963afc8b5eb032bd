//! The container of a service's pod.
//!
//! Reads: `image`, `build`, `entrypoint`, `command`, `working_dir`, `user`,
//! `privileged`, `cap_add`, `cap_drop`, `read_only`, `security_opt`, `tty`,
//! `stdin_open`, `pull_policy` (or `x-kubernetes.image-pull-policy`), `cpus`,
//! `mem_limit`, `mem_reservation`, `gpus`, `deploy.resources`, `post_start`,
//! `pre_stop`, and the pod parts other steps put in the [`Plan`] (env, mounts, ports).
//! Produces: one `Container` (probes come from [`super::probes`]).
//! Not supported (warned): user/group names (Kubernetes needs numbers), PID limits,
//! generic resources, pull refresh schedules, most `security_opt` entries.
//! It must not emit objects; `workload` places the container in the pod.
use super::{probes, Ctx, Plan};
use crate::compose::model::{ResourceSpec, Service};
use crate::source::Span;
use k8s_openapi::api::core::v1::{
    AppArmorProfile, Capabilities, Container, ContainerPort, ExecAction, Lifecycle,
    LifecycleHandler, ResourceRequirements, SeccompProfile, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::time::Duration;

pub use crate::compose::units;

use crate::k8s::quantity;

/// Compose `cpus` as millicores, rounding a fraction of a millicore up.
pub fn cpu_millis(v: &Json) -> Result<u64, String> {
    let f = match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match f {
        Some(f) if f.is_finite() && (0.0..1.0e12).contains(&f) => {
            let m = f * 1000.0;
            let r = m.round();
            Ok(if (m - r).abs() < 1e-6 {
                r as u64
            } else {
                m.ceil() as u64
            })
        }
        _ => Err(format!("{v} is not a number of CPUs (like 0.5 or 2)")),
    }
}

pub fn format_millis(m: u64) -> String {
    if m % 1000 == 0 {
        (m / 1000).to_string()
    } else {
        format!("{m}m")
    }
}

/// A compose byte size from JSON: a number of bytes or a size string.
pub fn bytes_of(v: &Json) -> Result<u64, String> {
    match v {
        Json::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .ok_or_else(|| format!("{v} is not a size")),
        Json::String(s) => units::parse_bytes(s),
        _ => Err(format!("{v} is not a size")),
    }
}

/// Whole seconds, rounded up, at least `min`.
pub fn ceil_secs(d: Duration, min: i64) -> i64 {
    let s = d.as_secs() as i64 + i64::from(d.subsec_nanos() > 0);
    s.max(min)
}

/// Kubernetes expands `$(VAR)` in `command`, `args` and `env` values and turns `$$`
/// into `$`. Escape both so the container sees exactly what Compose would pass.
pub fn escape_dollars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        out.push(c);
        if c == '$' && matches!(it.peek(), Some('$') | Some('(')) {
            out.push('$');
        }
    }
    out
}

fn escaped(v: &[String]) -> Vec<String> {
    v.iter().map(|s| escape_dollars(s)).collect()
}

/// The container of `plan`'s pod.
pub fn build(ctx: &mut Ctx, plan: &Plan) -> Container {
    let svc = plan.svc;
    let p = probes::lower(ctx, plan);
    let (command, args) = command_args(ctx, svc);
    let pod = &plan.pod;
    Container {
        name: plan.name.clone(),
        image: image(ctx, svc),
        command,
        args,
        working_dir: svc.working_dir.clone(),
        env: (!pod.env.is_empty()).then(|| pod.env.clone()),
        env_from: (!pod.env_from.is_empty()).then(|| pod.env_from.clone()),
        volume_mounts: (!pod.mounts.is_empty()).then(|| pod.mounts.clone()),
        ports: (!plan.ports.is_empty()).then(|| {
            plan.ports
                .iter()
                .map(|np| ContainerPort {
                    name: (!np.name.is_empty()).then(|| np.name.clone()),
                    container_port: np.container_port,
                    protocol: Some(np.protocol.clone()),
                    ..ContainerPort::default()
                })
                .collect()
        }),
        security_context: security_context(ctx, svc),
        tty: svc.tty.filter(|t| *t),
        stdin: svc.stdin_open.filter(|t| *t),
        image_pull_policy: pull_policy(ctx, plan),
        resources: resources(ctx, svc),
        readiness_probe: p.readiness,
        liveness_probe: p.liveness,
        startup_probe: p.startup,
        lifecycle: lifecycle(ctx, svc),
        ..Container::default()
    }
}

fn image(ctx: &mut Ctx, svc: &Service) -> Option<String> {
    match (&svc.image, &svc.build) {
        (Some(img), Some(_)) => {
            ctx.warn(
                svc.span_of(&["build"]),
                format!("build: is not run; the cluster pulls {img}"),
            )
            .help = Some(
                "build and push the image first (`docker compose build && docker compose push`)"
                    .into(),
            );
            Some(img.clone())
        }
        (Some(img), None) => Some(img.clone()),
        (None, Some(_)) => {
            let img = format!("{}-{}", ctx.project.name, svc.name).to_ascii_lowercase();
            ctx.warn(
                svc.span_of(&["build"]),
                format!("service has build: but no image: using {img}, the name Compose gives the image it builds"),
            )
            .help = Some("push the image to a registry the cluster can pull from and set `image:` to its full name".into());
            Some(img)
        }
        (None, None) => {
            ctx.error(
                svc.span(),
                format!("service {} has neither image nor build", svc.name),
            );
            None
        }
    }
}

/// `entrypoint` -> `command`, `command` -> `args`.
fn command_args(ctx: &mut Ctx, svc: &Service) -> (Option<Vec<String>>, Option<Vec<String>>) {
    match (&svc.entrypoint, &svc.command) {
        // `entrypoint: []` clears the image's ENTRYPOINT: the command runs on its own.
        (Some(e), Some(c)) if e.is_empty() => (Some(escaped(c)), None),
        (Some(e), None) if e.is_empty() => {
            ctx.warn(
                svc.span_of(&["entrypoint"]),
                "an empty entrypoint without a command is not mapped: Kubernetes cannot clear the image's ENTRYPOINT and keep its CMD",
            )
            .help = Some("write the image's CMD as `command:`".into());
            (None, None)
        }
        (e, c) => (e.as_deref().map(escaped), c.as_deref().map(escaped)),
    }
}

fn pull_policy(ctx: &mut Ctx, plan: &Plan) -> Option<String> {
    if let Some(p) = &plan.ext.image_pull_policy {
        return Some(p.clone());
    }
    let svc = plan.svc;
    let p = svc.pull_policy.as_deref()?;
    let span = svc.span_of(&["pull_policy"]);
    match p {
        "always" => Some("Always".into()),
        "never" => Some("Never".into()),
        "missing" | "if_not_present" => Some("IfNotPresent".into()),
        "build" => {
            ctx.warn(
                span,
                "pull_policy: build is not mapped: the cluster cannot build images",
            )
            .help = Some("build and push the image, then set image:".into());
            None
        }
        other => {
            ctx.warn(span, format!("pull_policy: {other} is not mapped: Kubernetes cannot refresh images on a schedule"))
                .help = Some("set x-kubernetes.image-pull-policy (Always, IfNotPresent or Never)".into());
            None
        }
    }
}

/// `cap_add: [CAP_NET_ADMIN, sys_time]` -> `[NET_ADMIN, SYS_TIME]`.
pub fn capability(s: &str) -> String {
    let up = s.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map(str::to_string).unwrap_or(up)
}

fn security_context(ctx: &mut Ctx, svc: &Service) -> Option<SecurityContext> {
    let mut sc = SecurityContext::default();
    if let Some(u) = svc.user.as_deref() {
        let (user, group) = match u.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (u, None),
        };
        let num = |x: &str| x.parse::<i64>().ok().filter(|n| *n >= 0);
        let span = svc.span_of(&["user"]);
        match num(user) {
            Some(uid) => {
                sc.run_as_user = Some(uid);
                match group {
                    None => {}
                    Some(g) => match num(g) {
                        Some(gid) => sc.run_as_group = Some(gid),
                        None => {
                            ctx.warn(span, format!("group {g:?} of user {u:?} is not mapped: Kubernetes needs a numeric group id"))
                                .help = Some(format!("find it with `docker run --rm --entrypoint getent IMAGE group {g}` and write user: {uid}:GID"));
                        }
                    },
                }
            }
            None => {
                ctx.warn(span, format!("user {u:?} is not mapped: Kubernetes needs a numeric user id"))
                    .help = Some(format!("find the ids with `docker run --rm --entrypoint id IMAGE {user}` and write user: UID:GID"));
            }
        }
    }
    if svc.privileged == Some(true) {
        sc.privileged = Some(true);
    }
    if !svc.cap_add.is_empty() || !svc.cap_drop.is_empty() {
        let list = |v: &[String]| -> Option<Vec<String>> {
            (!v.is_empty()).then(|| v.iter().map(|c| capability(c)).collect())
        };
        sc.capabilities = Some(Capabilities {
            add: list(&svc.cap_add),
            drop: list(&svc.cap_drop),
        });
    }
    if svc.read_only == Some(true) {
        sc.read_only_root_filesystem = Some(true);
    }
    for (i, opt) in svc.security_opt.iter().enumerate() {
        let span = svc.span_of(&["security_opt", &i.to_string()]);
        let (k, v) = match opt.split_once([':', '=']) {
            Some((k, v)) => (k, Some(v)),
            None => (opt.as_str(), None),
        };
        match (k, v) {
            ("no-new-privileges", None | Some("true")) => {
                sc.allow_privilege_escalation = Some(false)
            }
            ("no-new-privileges", Some("false")) => {}
            ("seccomp", Some("unconfined")) => {
                sc.seccomp_profile = Some(SeccompProfile {
                    type_: "Unconfined".into(),
                    ..SeccompProfile::default()
                })
            }
            ("apparmor", Some("unconfined")) => {
                sc.app_armor_profile = Some(AppArmorProfile {
                    type_: "Unconfined".into(),
                    ..AppArmorProfile::default()
                })
            }
            ("apparmor", Some(profile)) if !profile.is_empty() => {
                sc.app_armor_profile = Some(AppArmorProfile {
                    type_: "Localhost".into(),
                    localhost_profile: Some(profile.to_string()),
                })
            }
            _ => {
                ctx.warn(span, format!("security_opt {opt:?} is not mapped"))
                    .help = Some("mapped: no-new-privileges, seccomp:unconfined, apparmor:<profile|unconfined>; set other options in the pod's securityContext by hand".into());
            }
        }
    }
    (sc != SecurityContext::default()).then_some(sc)
}

/// One resource value with where it came from.
struct Val<'a> {
    json: &'a Json,
    span: Span,
    what: String,
}

fn pick<'a>(
    ctx: &mut Ctx,
    svc: &'a Service,
    deploy: Option<&'a Json>,
    deploy_path: &[&str],
    legacy: Option<&'a Json>,
    legacy_key: &str,
    norm: fn(&Json) -> Option<String>,
) -> Option<Val<'a>> {
    let d = deploy.map(|j| Val {
        json: j,
        span: svc.span_of(deploy_path),
        what: deploy_path.join("."),
    });
    let l = legacy.map(|j| Val {
        json: j,
        span: svc.span_of(&[legacy_key]),
        what: legacy_key.to_string(),
    });
    match (d, l) {
        (Some(d), Some(l)) => {
            let (dn, ln) = (norm(d.json), norm(l.json));
            if dn != ln {
                let show = |n: Option<String>, j: &Json| n.unwrap_or_else(|| j.to_string());
                ctx.warn(
                    l.span,
                    format!(
                        "{} ({}) differs from {} ({}); {} is used",
                        l.what,
                        show(ln, l.json),
                        d.what,
                        show(dn, d.json),
                        d.what
                    ),
                );
            }
            Some(d)
        }
        (d, l) => d.or(l),
    }
}

fn cpu_of(ctx: &mut Ctx, v: &Val) -> Option<u64> {
    match cpu_millis(v.json) {
        Ok(0) => None,
        Ok(m) => Some(m),
        Err(e) => {
            ctx.error(v.span, format!("{}: {e}", v.what));
            None
        }
    }
}

fn mem_of(ctx: &mut Ctx, v: &Val) -> Option<u64> {
    match bytes_of(v.json) {
        Ok(0) => None,
        Ok(b) => Some(b),
        Err(e) => {
            ctx.error(v.span, format!("{}: {e}", v.what));
            None
        }
    }
}

fn resources(ctx: &mut Ctx, svc: &Service) -> Option<ResourceRequirements> {
    let res = svc.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let lim = res.and_then(|r| r.limits.as_ref());
    let rsv = res.and_then(|r| r.reservations.as_ref());
    let lc = pick(
        ctx,
        svc,
        lim.and_then(|l| l.cpus.as_ref()),
        &["deploy", "resources", "limits", "cpus"],
        svc.cpus.as_deref(),
        "cpus",
        |j| cpu_millis(j).ok().map(format_millis),
    );
    let lm = pick(
        ctx,
        svc,
        lim.and_then(|l| l.memory.as_ref()),
        &["deploy", "resources", "limits", "memory"],
        svc.mem_limit.as_deref(),
        "mem_limit",
        |j| bytes_of(j).ok().map(|b| quantity::memory(b).0),
    );
    let rc = pick(
        ctx,
        svc,
        rsv.and_then(|r| r.cpus.as_ref()),
        &["deploy", "resources", "reservations", "cpus"],
        None,
        "",
        |_| None,
    );
    let rm = pick(
        ctx,
        svc,
        rsv.and_then(|r| r.memory.as_ref()),
        &["deploy", "resources", "reservations", "memory"],
        svc.mem_reservation.as_deref(),
        "mem_reservation",
        |j| bytes_of(j).ok().map(|b| quantity::memory(b).0),
    );

    let mut limits: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut requests: BTreeMap<String, Quantity> = BTreeMap::new();
    let lcm = lc.as_ref().and_then(|v| cpu_of(ctx, v));
    let rcm = rc.as_ref().and_then(|v| cpu_of(ctx, v));
    let lmb = lm.as_ref().and_then(|v| mem_of(ctx, v));
    let rmb = rm.as_ref().and_then(|v| mem_of(ctx, v));
    if let (Some(l), Some(r), Some(v)) = (lcm, rcm, rc.as_ref()) {
        if r > l {
            ctx.error(
                v.span,
                format!(
                    "CPU reservation ({}) is larger than the limit ({})",
                    format_millis(r),
                    format_millis(l)
                ),
            );
        }
    }
    if let (Some(l), Some(r), Some(v)) = (lmb, rmb, rm.as_ref()) {
        if r > l {
            ctx.error(
                v.span,
                format!(
                    "memory reservation ({}) is larger than the limit ({})",
                    quantity::memory(r).0,
                    quantity::memory(l).0
                ),
            );
        }
    }
    if let Some(m) = lcm {
        limits.insert("cpu".into(), Quantity(format_millis(m)));
    }
    if let Some(b) = lmb {
        limits.insert("memory".into(), quantity::memory(b));
    }
    if let Some(m) = rcm {
        requests.insert("cpu".into(), Quantity(format_millis(m)));
    }
    if let Some(b) = rmb {
        requests.insert("memory".into(), quantity::memory(b));
    }
    for (side, spec) in [("limits", lim), ("reservations", rsv)] {
        let Some(spec) = spec else { continue };
        unmapped_resource_parts(ctx, svc, side, spec);
    }
    let mut gpus = 0i64;
    if let Some(r) = rsv {
        for (i, d) in r.devices.iter().enumerate() {
            let at = [
                "deploy",
                "resources",
                "reservations",
                "devices",
                &i.to_string(),
            ];
            gpus += gpu_count(ctx, svc, d, &at);
        }
    }
    match svc.gpus.as_deref() {
        Some(Json::String(s)) if s == "all" => {
            gpus += gpu_count(
                ctx,
                svc,
                &serde_json::json!({"count": "all", "capabilities": ["gpu"]}),
                &["gpus"],
            );
        }
        Some(Json::Array(a)) => {
            for (i, d) in a.iter().enumerate() {
                let mut d = d.clone();
                if let Json::Object(o) = &mut d {
                    o.entry("capabilities")
                        .or_insert(serde_json::json!(["gpu"]));
                }
                gpus += gpu_count(ctx, svc, &d, &["gpus", &i.to_string()]);
            }
        }
        Some(other) => {
            ctx.warn(
                svc.span_of(&["gpus"]),
                format!("gpus: {other} is not mapped"),
            );
        }
        None => {}
    }
    if gpus > 0 {
        limits.insert("nvidia.com/gpu".into(), Quantity(gpus.to_string()));
    }
    if limits.is_empty() && requests.is_empty() {
        return None;
    }
    Some(ResourceRequirements {
        limits: (!limits.is_empty()).then_some(limits),
        requests: (!requests.is_empty()).then_some(requests),
        ..ResourceRequirements::default()
    })
}

fn unmapped_resource_parts(ctx: &mut Ctx, svc: &Service, side: &str, spec: &ResourceSpec) {
    if spec.pids.is_some() {
        ctx.warn(
            svc.span_of(&["deploy", "resources", side, "pids"]),
            format!(
                "deploy.resources.{side}.pids is not mapped: pod PID limits are a node setting"
            ),
        )
        .help = Some("the kubelet's --pod-max-pids caps processes per pod".into());
    }
    if !spec.generic_resources.is_empty() {
        ctx.warn(
            svc.span_of(&["deploy", "resources", side, "generic_resources"]),
            format!("deploy.resources.{side}.generic_resources is not mapped"),
        )
        .help = Some(
            "request the device plugin's extended resource in `resources.limits` by hand".into(),
        );
    }
    if side == "limits" && !spec.devices.is_empty() {
        ctx.warn(
            svc.span_of(&["deploy", "resources", side, "devices"]),
            "deploy.resources.limits.devices is not mapped; devices are reserved under reservations",
        );
    }
}

/// GPUs requested by one device reservation (`nvidia.com/gpu`).
fn gpu_count(ctx: &mut Ctx, svc: &Service, d: &Json, at: &[&str]) -> i64 {
    let span = svc.span_of(at);
    let caps: Vec<&str> = d
        .get("capabilities")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if !caps.contains(&"gpu") {
        ctx.warn(
            span,
            format!("device reservation with capabilities {caps:?} is not mapped; only GPUs are"),
        )
        .help = Some("request the device plugin's resource in `resources.limits` by hand".into());
        return 0;
    }
    let driver = d.get("driver").and_then(Json::as_str).unwrap_or("nvidia");
    if driver != "nvidia" {
        ctx.warn(
            span,
            format!("GPU driver {driver:?} is not mapped; only nvidia (nvidia.com/gpu) is"),
        );
        return 0;
    }
    if d.get("options").is_some() {
        ctx.warn(span, "GPU reservation options are not mapped");
    }
    let ids = d.get("device_ids").and_then(Json::as_array).map(Vec::len);
    let count = d.get("count");
    let all = || -> i64 { 1 };
    match (count, ids) {
        (Some(c), _) if c.as_str() == Some("all") => {
            ctx.warn(
                span,
                "GPU count `all` becomes 1: Kubernetes needs a number of GPUs",
            )
            .help = Some("set count: N".into());
            all()
        }
        (Some(c), _) => match super::workload::json_int(c) {
            Some(n) if n >= 0 => n,
            _ => {
                ctx.error(span, format!("GPU count {c} is not a number or `all`"));
                0
            }
        },
        (None, Some(n)) => {
            ctx.warn(
                span,
                format!("device_ids become a count of {n}: Kubernetes cannot pick GPUs by id"),
            );
            n as i64
        }
        (None, None) => {
            ctx.warn(span, "GPU reservation without count (all GPUs) becomes 1: Kubernetes needs a number of GPUs")
                .help = Some("set count: N".into());
            all()
        }
    }
}

/// Split a command string into words like a POSIX shell (quotes and backslashes), as
/// Compose does for the string form of `command`.
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match it.next() {
                    Some(n) => cur.push(n),
                    None => return Err("ends with a backslash".into()),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err("has an unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match it.next() {
                        Some('"') => break,
                        Some('\\') => match it.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => return Err("has an unterminated double quote".into()),
                        },
                        Some(n) => cur.push(n),
                        None => return Err("has an unterminated double quote".into()),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// `post_start` / `pre_stop` -> lifecycle exec hooks (the first hook of each).
fn lifecycle(ctx: &mut Ctx, svc: &Service) -> Option<Lifecycle> {
    let mut lc = Lifecycle::default();
    for (key, hooks) in [("post_start", &svc.post_start), ("pre_stop", &svc.pre_stop)] {
        let Some(first) = hooks.first() else { continue };
        let span = svc.span_of(&[key, "0"]);
        if hooks.len() > 1 {
            ctx.warn(
                svc.span_of(&[key, "1"]),
                format!("{key}: only the first hook is mapped: a Kubernetes container has one"),
            )
            .help = Some("combine the commands into one script".into());
        }
        for extra in ["user", "privileged", "working_dir", "environment"] {
            if first.get(extra).is_some() {
                ctx.warn(
                    svc.span_of(&[key, "0", extra]),
                    format!(
                        "{key}.{extra} is not mapped: hooks run like the container's own process"
                    ),
                );
            }
        }
        let cmd = match first.get("command") {
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            Some(Json::String(s)) => match split_words(s) {
                Ok(w) => w,
                Err(e) => {
                    ctx.error(span, format!("{key} command {e}"));
                    continue;
                }
            },
            _ => {
                ctx.warn(span, format!("{key} hook without a command; left out"));
                continue;
            }
        };
        if cmd.is_empty() {
            continue;
        }
        let handler = LifecycleHandler {
            exec: Some(ExecAction { command: Some(cmd) }),
            ..LifecycleHandler::default()
        };
        if key == "post_start" {
            lc.post_start = Some(handler);
        } else {
            lc.pre_stop = Some(handler);
        }
    }
    (lc != Lifecycle::default()).then_some(lc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cpu_quantities() {
        for (v, want) in [
            (json!("0.5"), "500m"),
            (json!(0.5), "500m"),
            (json!("2"), "2"),
            (json!(2), "2"),
            (json!("1.5"), "1500m"),
            (json!("0.25"), "250m"),
            (json!("0.1"), "100m"),
            (json!("0.0001"), "1m"),
            (json!(".75"), "750m"),
        ] {
            assert_eq!(quantity::cpu(&v).unwrap().0, want, "{v}");
        }
        assert!(quantity::cpu(&json!("-1")).is_err());
        assert!(quantity::cpu(&json!("lots")).is_err());
    }

    #[test]
    fn memory_quantities() {
        for (s, want) in [
            ("256M", "256Mi"),
            ("256m", "256Mi"),
            ("1g", "1Gi"),
            ("1.5g", "1536Mi"),
            ("512k", "512Ki"),
            ("1000", "1000"),
            ("1024", "1Ki"),
            ("2GB", "2Gi"),
            ("1t", "1Ti"),
        ] {
            assert_eq!(
                quantity::memory(units::parse_bytes(s).unwrap()).0,
                want,
                "{s}"
            );
        }
        assert_eq!(bytes_of(&json!(1048576)).unwrap(), 1 << 20);
    }

    #[test]
    fn durations() {
        for (s, secs) in [
            ("30s", 30),
            ("1m30s", 90),
            ("500ms", 1),
            ("1.5s", 2),
            ("0", 0),
            ("2h", 7200),
        ] {
            assert_eq!(ceil_secs(units::parse_duration(s).unwrap(), 0), secs, "{s}");
        }
        assert!(units::parse_duration("10").is_err());
        assert!(units::parse_duration("abc").is_err());
    }

    #[test]
    fn capabilities() {
        for (s, want) in [
            ("CAP_NET_ADMIN", "NET_ADMIN"),
            ("sys_time", "SYS_TIME"),
            ("ALL", "ALL"),
            ("cap_chown", "CHOWN"),
        ] {
            assert_eq!(capability(s), want);
        }
    }

    #[test]
    fn dollars() {
        for (s, want) in [
            ("echo $HOME", "echo $HOME"),
            ("echo $(date)", "echo $$(date)"),
            ("a$$b", "a$$$b"),
            ("cost: 5$", "cost: 5$"),
            ("${VAR}", "${VAR}"),
        ] {
            assert_eq!(escape_dollars(s), want, "{s}");
        }
    }

    #[test]
    fn words() {
        for (s, want) in [
            ("nginx -s quit", vec!["nginx", "-s", "quit"]),
            ("sh -c 'echo a b'", vec!["sh", "-c", "echo a b"]),
            (r#"echo "x \"y\"" z\ w"#, vec!["echo", "x \"y\"", "z w"]),
            ("  ", vec![]),
            ("''", vec![""]),
        ] {
            assert_eq!(split_words(s).unwrap(), want, "{s}");
        }
        assert!(split_words("echo 'open").is_err());
    }
}
