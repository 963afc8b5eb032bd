//! Nothing is dropped silently: a warning at `file:line` for every compose key a
//! service sets that no lowering step maps, saying what was ignored and why.
//!
//! [`SERVICE_KEYS`] lists every field of the service model with `None` (mapped by some
//! step, which warns itself about values it cannot map) or `Some(reason)`;
//! [`DEPLOY_KEYS`] does the same for `deploy:`. A unit test keeps the table in step
//! with the model. Service-level `x-*` keys other than `x-kubernetes` are warned about
//! too. This module only warns; it must not decide any mapping.
use super::Ctx;
use crate::compose::model::Service;
use serde_json::Value as Json;

/// `(key, None)` = mapped; `(key, Some(reason))` = ignored, with why and what to do.
pub const SERVICE_KEYS: &[(&str, Option<&str>)] = &[
    ("annotations", None),
    ("attach", Some("log attachment is a `docker compose up` setting; use `kubectl logs`")),
    ("blkio_config", Some("Kubernetes has no block-IO weights or limits")),
    ("build", None),
    ("cap_add", None),
    ("cap_drop", None),
    ("cgroup", Some("Kubernetes manages cgroup namespaces itself")),
    ("cgroup_parent", Some("Kubernetes places pods in its own cgroup hierarchy")),
    ("command", None),
    ("configs", None),
    ("container_name", None), // an extra Service of that name keeps the DNS name working (service.rs)
    ("cpu_count", Some("Windows-only CPU setting; use `cpus` or deploy.resources")),
    ("cpu_percent", Some("Windows-only CPU setting; use `cpus` or deploy.resources")),
    ("cpu_period", Some("CFS tuning has no pod setting; use `cpus` or deploy.resources")),
    ("cpu_quota", Some("CFS tuning has no pod setting; use `cpus` or deploy.resources")),
    ("cpu_rt_period", Some("real-time scheduling has no pod setting")),
    ("cpu_rt_runtime", Some("real-time scheduling has no pod setting")),
    ("cpu_shares", Some("relative CPU weights have no pod setting; use deploy.resources.reservations.cpus (the CPU request sets the weight)")),
    ("cpus", None),
    ("cpuset", Some("CPU pinning is done by the kubelet's static CPU manager policy, not per pod")),
    ("credential_spec", Some("Windows gMSA credentials: set securityContext.windowsOptions by hand")),
    ("depends_on", Some("Kubernetes has no start order; containers must wait for their dependencies themselves (readiness probes keep traffic away until they are ready, init containers can wait)")),
    ("deploy", None),
    ("develop", Some("`docker compose watch` settings are for local development")),
    ("device_cgroup_rules", Some("device access rules need a device plugin in Kubernetes")),
    ("devices", Some("host devices need a device plugin (or a privileged pod with a hostPath volume)")),
    ("dns", None),
    ("dns_opt", None),
    ("dns_search", None),
    ("domainname", Some("a pod's domain comes from the cluster (`<service>.<namespace>.svc`)")),
    ("entrypoint", None),
    ("env_file", None),
    ("environment", None),
    ("expose", None),
    ("extends", None),
    ("external_links", Some("containers outside the project are not reachable by name; give them a Service (for example of type ExternalName)")),
    ("extra_hosts", None),
    ("gpus", None),
    ("group_add", None),
    ("healthcheck", None),
    ("hostname", None),
    ("image", None),
    ("init", Some("Kubernetes does not inject an init process; build tini (or dumb-init) into the image, or set shareProcessNamespace")),
    ("ipc", None),
    ("isolation", Some("Windows isolation modes have no pod setting")),
    ("label_file", None),
    ("labels", None),
    ("links", Some("every service is reachable by its name through its Service; link aliases are not created")),
    ("logging", Some("the cluster collects container stdout/stderr; log drivers are a node setting")),
    ("mac_address", Some("pods get addresses from the cluster network")),
    ("mem_limit", None),
    ("mem_reservation", None),
    ("mem_swappiness", Some("swap is a node setting in Kubernetes")),
    ("memswap_limit", Some("swap is a node setting in Kubernetes")),
    ("models", Some("Docker Model Runner models are not supported")),
    ("network_mode", None),
    ("networks", None),
    ("oom_kill_disable", Some("the kernel OOM killer cannot be disabled per pod; set a memory limit instead")),
    ("oom_score_adj", Some("the kubelet sets OOM scores from the pod's QoS class (requests and limits)")),
    ("pid", None),
    ("pids_limit", Some("pod PID limits are a node setting (the kubelet's --pod-max-pids)")),
    ("platform", None),
    ("ports", None),
    ("post_start", None),
    ("pre_start", Some("Kubernetes has no pre-start hook; use an init container")),
    ("pre_stop", None),
    ("privileged", None),
    ("profiles", None),
    ("provider", Some("provider services are managed by a Compose plugin, not by a container")),
    ("pull_policy", None),
    ("pull_refresh_after", Some("Kubernetes cannot refresh images on a schedule")),
    ("read_only", None),
    ("restart", None),
    ("runtime", Some("use a RuntimeClass and set the pod's runtimeClassName")),
    ("scale", None),
    ("secrets", None),
    ("security_opt", None),
    ("shm_size", None),
    ("stdin_open", None),
    ("stop_grace_period", None),
    ("stop_signal", Some("Kubernetes stops containers with SIGTERM; handle it, or send the signal from a pre_stop hook")),
    ("storage_opt", Some("per-container storage driver options have no pod setting; use ephemeral-storage limits")),
    ("sysctls", None),
    ("tmpfs", None),
    ("tty", None),
    ("ulimits", Some("ulimits are a container runtime / node setting in Kubernetes")),
    ("use_api_socket", Some("pods have no Docker API socket")),
    ("user", None),
    ("userns_mode", Some("user namespaces are set with the pod's hostUsers: false")),
    ("uts", Some("the UTS namespace is shared with the node only together with hostNetwork")),
    ("volumes", None),
    ("volumes_from", Some("only containers of one pod share volumes; mount the same named volumes instead")),
    ("working_dir", None),
];

/// `deploy:` sub-keys; partly mapped keys warn in their own module.
pub const DEPLOY_KEYS: &[(&str, Option<&str>)] = &[
    ("endpoint_mode", None),
    ("labels", None),
    ("mode", None),
    ("placement", None),
    ("replicas", None),
    ("resources", None),
    ("restart_policy", Some("Deployments, StatefulSets and DaemonSets always restart their containers; use `restart: \"no\"` or `on-failure[:N]` to get a Job")),
    ("rollback_config", Some("roll back with `kubectl rollout undo`")),
    ("update_config", None),
];

/// The reason a service key is not mapped (`None` when it is, or is unknown).
pub fn reason(key: &str) -> Option<&'static str> {
    SERVICE_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, r)| *r)
}

pub fn warn(ctx: &mut Ctx, svc: &Service) {
    for key in svc.keys() {
        if let Some(why) = reason(key) {
            ctx.warn(svc.span_of(&[key]), format!("{key} is not mapped: {why}"));
        } else if key.starts_with("x-") && key != "x-kubernetes" {
            ctx.warn(
                svc.span_of(&[key]),
                format!("{key} is not mapped: compose2k8s reads only x-kubernetes here"),
            );
        }
    }
    let Some(deploy) = svc.node.get("deploy").and_then(|d| d.as_map()) else {
        return;
    };
    for (k, v) in deploy {
        let key = k.name.as_str();
        let span = svc.span_of(&["deploy", key]);
        if let Some(Some(why)) = DEPLOY_KEYS.iter().find(|(d, _)| *d == key).map(|(_, r)| *r) {
            // `restart_policy: {condition: any}` is what Kubernetes does anyway.
            let json = v.to_json();
            let only_any = json.as_object().is_some_and(|o| {
                o.len() == 1 && o.get("condition").and_then(Json::as_str) == Some("any")
            });
            let harmless = v.is_null() || (key == "restart_policy" && only_any);
            if !harmless {
                ctx.warn(span, format!("deploy.{key} is not mapped: {why}"));
            }
        } else if key == "endpoint_mode" {
            if let Some(mode) = v.as_str().filter(|m| *m != "vip") {
                ctx.warn(span, format!("deploy.endpoint_mode {mode} is not mapped"))
                    .help =
                    Some("for DNS round-robin set x-kubernetes.service.type: Headless".into());
            }
        } else if key.starts_with("x-") {
            ctx.warn(span, format!("deploy.{key} is not mapped"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::Deploy;

    fn keys_of<T: serde::Serialize>(v: &T) -> Vec<String> {
        match serde_json::to_value(v).unwrap() {
            Json::Object(o) => o.keys().cloned().collect(),
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn every_service_field_is_in_the_table() {
        let mut fields = keys_of(&Service::default());
        fields.sort();
        let mut table: Vec<String> = SERVICE_KEYS.iter().map(|(k, _)| k.to_string()).collect();
        table.sort();
        assert_eq!(table, fields);
    }

    #[test]
    fn every_deploy_field_is_in_the_table() {
        let mut fields = keys_of(&Deploy::default());
        fields.sort();
        let mut table: Vec<String> = DEPLOY_KEYS.iter().map(|(k, _)| k.to_string()).collect();
        table.sort();
        assert_eq!(table, fields);
    }

    #[test]
    fn reasons() {
        assert!(reason("depends_on").unwrap().contains("start order"));
        assert_eq!(reason("ports"), None);
        assert_eq!(reason("profiles"), None);
        assert_eq!(reason("no-such-key"), None);
    }
}
