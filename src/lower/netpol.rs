//! NetworkPolicies from compose networks, only with `--network-policies`: pods may
//! receive traffic from pods that share a compose network with them, and nothing else.
//! Emitted objects (all `policyTypes: [Ingress]`; egress stays open, as in Compose):
//! - `<project>-default-deny`: selects every pod of the project, allows nothing;
//! - `<project>-net-<network>` per compose network: selects the network's member pods
//!   (`app.kubernetes.io/name In [...]`, so no extra pod label is needed) and admits
//!   traffic from the same members;
//! - `<service>-external` per exposed Service: a NodePort/LoadBalancer Service (all its
//!   ports) or an Ingress backend (that port) stays reachable from any source, since the
//!   traffic arrives from nodes or the ingress controller.
//!
//! Membership follows Compose: a service without `networks` is on `default`;
//! `network_mode: service:X` shares X's networks; `host`, `none`, `bridge` and
//! `container:` join no project network (host-network pods are not subject to
//! NetworkPolicies: warned). Exposure is read from the Services and Ingresses already in
//! `out`. Without the flag nothing is emitted, but a project whose networks isolate
//! services gets one warning that the isolation is lost.

use super::Ctx;
use crate::compose::model::Project;
use crate::k8s::names::{dns1123_label, dns1123_subdomain};
use crate::k8s::{Manifest, Object};
use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, BTreeSet};

const NAME_LABEL: &str = "app.kubernetes.io/name";
const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// The compose networks a service's containers are attached to (see the module doc).
pub fn service_networks(project: &Project, service: &str) -> BTreeSet<String> {
    let mut cur = service;
    // Follow `service:X` chains; compose rejects cycles, the bound guards anyway.
    for _ in 0..=project.services.len() {
        let Some(svc) = project.services.get(cur) else {
            return BTreeSet::new();
        };
        match svc.network_mode.as_deref() {
            None => {
                return if svc.networks.is_empty() {
                    BTreeSet::from(["default".to_string()])
                } else {
                    svc.networks.keys().cloned().collect()
                };
            }
            Some(m) => match m.strip_prefix("service:") {
                Some(target) => cur = target,
                None => return BTreeSet::new(),
            },
        }
    }
    BTreeSet::new()
}

/// compose network -> Kubernetes names of its member services.
pub fn memberships(ctx: &Ctx) -> BTreeMap<String, BTreeSet<String>> {
    let mut nets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in ctx.project.services.keys() {
        for net in service_networks(ctx.project, name) {
            nets.entry(net).or_default().insert(ctx.names.service(name));
        }
    }
    nets
}

fn members_selector(project_label: &str, members: &BTreeSet<String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(
            INSTANCE_LABEL.to_string(),
            project_label.to_string(),
        )])),
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: NAME_LABEL.into(),
            operator: "In".into(),
            values: Some(members.iter().cloned().collect()),
        }]),
    }
}

fn policy(
    ctx: &Ctx,
    name: &str,
    labels: &BTreeMap<String, String>,
    selector: LabelSelector,
    ingress: Vec<NetworkPolicyIngressRule>,
) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ctx.meta(name, labels),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(ingress),
            egress: None,
        }),
    }
}

/// Exposed pods from the Services and Ingresses already emitted: Service name ->
/// (Service labels, selector, allowed (port, protocol) pairs).
type Exposed = BTreeMap<
    String,
    (
        BTreeMap<String, String>,
        BTreeMap<String, String>,
        BTreeSet<(String, String)>,
    ),
>;

/// `(targetPort, protocol)` of a Service port; the target defaults to the port.
fn target_port(p: &ServicePort) -> (String, String) {
    let target = match &p.target_port {
        Some(IntOrString::String(s)) => s.clone(),
        Some(IntOrString::Int(n)) => n.to_string(),
        None => p.port.to_string(),
    };
    let proto = p.protocol.clone().unwrap_or_else(|| "TCP".to_string());
    (target, proto)
}

fn exposed(out: &[Manifest]) -> Exposed {
    let services: BTreeMap<&str, &Service> = out
        .iter()
        .filter_map(|m| match &m.body {
            Object::Service(s) => Some((m.name.as_str(), &**s)),
            _ => None,
        })
        .collect();
    let mut exp: Exposed = BTreeMap::new();
    let mut add = |name: &str, svc: &Service, port_filter: Option<&str>| {
        let spec = svc.spec.as_ref();
        let ports: BTreeSet<(String, String)> = spec
            .and_then(|s| s.ports.as_ref())
            .into_iter()
            .flatten()
            .filter(|p| port_filter.is_none_or(|f| p.name.as_deref() == Some(f)))
            .map(target_port)
            .collect();
        if ports.is_empty() {
            return;
        }
        let entry = exp.entry(name.to_string()).or_insert_with(|| {
            (
                svc.metadata.labels.clone().unwrap_or_default(),
                spec.and_then(|s| s.selector.clone()).unwrap_or_default(),
                BTreeSet::new(),
            )
        });
        entry.2.extend(ports);
    };
    for (name, svc) in &services {
        let type_ = svc.spec.as_ref().and_then(|s| s.type_.as_deref());
        if matches!(type_, Some("NodePort" | "LoadBalancer")) {
            add(name, svc, None);
        }
    }
    for m in out {
        let Object::Ingress(ing) = &m.body else {
            continue;
        };
        let rules = ing.spec.as_ref().and_then(|s| s.rules.as_ref());
        for rule in rules.into_iter().flatten() {
            let paths = rule.http.as_ref().map(|h| h.paths.as_slice());
            for path in paths.into_iter().flatten() {
                let Some(backend) = &path.backend.service else {
                    continue;
                };
                let Some(port) = backend.port.as_ref().and_then(|p| p.name.as_deref()) else {
                    continue;
                };
                if let Some(svc) = services.get(backend.name.as_str()) {
                    add(&backend.name, svc, Some(port));
                }
            }
        }
    }
    exp
}

pub fn lower(ctx: &mut Ctx, out: &mut Vec<Manifest>) {
    network_option_warnings(ctx);
    let nets = memberships(ctx);
    if !ctx.opts.network_policies {
        isolation_warning(ctx, &nets);
        return;
    }
    let project = ctx.project.name.clone();
    let project_labels = ctx.labels(None);
    let mut policies: Vec<Manifest> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();

    for svc in ctx.project.services.values() {
        if svc.network_mode.as_deref() == Some("host") {
            ctx.warn(
                svc.span_of(&["network_mode"]),
                format!(
                    "service `{}` uses the host network: NetworkPolicies do not restrict it",
                    svc.name
                ),
            );
        }
    }

    let deny = format!("{project}-default-deny");
    let deny = dns1123_subdomain(&deny);
    let selector = LabelSelector {
        match_labels: Some(BTreeMap::from([(
            INSTANCE_LABEL.to_string(),
            project.clone(),
        )])),
        match_expressions: None,
    };
    let obj = policy(ctx, &deny, &project_labels, selector, Vec::new());
    seen.insert(deny, "the default-deny policy".into());
    policies.push(Manifest::from_resource(obj, None));

    for (net, members) in &nets {
        let span = ctx.project.networks.get(net).map(|n| n.span);
        let name = dns1123_subdomain(&format!("{project}-net-{}", dns1123_label(net)));
        let what = format!("network `{net}`");
        if let Some(first) = seen.get(&name) {
            let msg = format!(
                "{what} and {first} would both become NetworkPolicy `{name}` in Kubernetes"
            );
            let d = match span {
                Some(s) => ctx.error(s, msg),
                None => {
                    ctx.diags.push(crate::diag::Diagnostic::error(msg));
                    let last = ctx.diags.len() - 1;
                    &mut ctx.diags[last]
                }
            };
            d.help = Some("rename one of the networks".into());
            continue;
        }
        seen.insert(name.clone(), what);
        let sel = members_selector(&project, members);
        let rule = NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                pod_selector: Some(sel.clone()),
                ..NetworkPolicyPeer::default()
            }]),
            ports: None,
        };
        let obj = policy(ctx, &name, &project_labels, sel, vec![rule]);
        policies.push(Manifest::from_resource(obj, span));
    }

    for (svc, (labels, selector, ports)) in exposed(out) {
        let name = dns1123_subdomain(&format!("{svc}-external"));
        if let Some(first) = seen.get(&name) {
            ctx.diags.push(crate::diag::Diagnostic::error(format!(
                "the external access of Service `{svc}` and {first} would both become \
                 NetworkPolicy `{name}` in Kubernetes"
            )));
            continue;
        }
        seen.insert(
            name.clone(),
            format!("the external access of Service `{svc}`"),
        );
        let rule = NetworkPolicyIngressRule {
            from: None,
            ports: Some(
                ports
                    .into_iter()
                    .map(|(port, protocol)| NetworkPolicyPort {
                        port: Some(match port.parse::<i32>() {
                            Ok(n) => IntOrString::Int(n),
                            Err(_) => IntOrString::String(port),
                        }),
                        protocol: Some(protocol),
                        end_port: None,
                    })
                    .collect(),
            ),
        };
        let sel = LabelSelector {
            match_labels: Some(selector),
            match_expressions: None,
        };
        let obj = policy(ctx, &name, &labels, sel, vec![rule]);
        policies.push(Manifest::from_resource(obj, None));
    }
    out.extend(policies);
}

/// Top-level network settings with a meaning Kubernetes pod networking cannot keep.
fn network_option_warnings(ctx: &mut Ctx) {
    for (name, net) in &ctx.project.networks {
        let mut keys: Vec<(&str, &str)> = Vec::new();
        if net.internal == Some(true) {
            keys.push((
                "internal",
                "pods on an internal network can still reach the outside world",
            ));
        }
        if crate::compose::model::is_external(&net.external) {
            keys.push((
                "external",
                "containers outside the project cannot join a Kubernetes namespace's network",
            ));
        }
        if net.ipam.is_some() {
            keys.push(("ipam", "the cluster network assigns pod addresses"));
        }
        if net.driver_opts.is_some() {
            keys.push((
                "driver_opts",
                "the cluster's network plugin has its own settings",
            ));
        }
        if let Some(d) = net.driver.as_deref() {
            if !matches!(d, "bridge" | "overlay" | "default") {
                keys.push(("driver", "the cluster's network plugin connects all pods"));
            }
        }
        for (key, help) in keys {
            let span = ctx.project.tree.span_at(&["networks", name, key]);
            ctx.warn(span, format!("`{key}` of network `{name}` is not mapped"))
                .help = Some(help.into());
        }
    }
}

/// Without `--network-policies`: warn once when the compose networks keep some services
/// apart (no single network holds every networked service).
fn isolation_warning(ctx: &mut Ctx, nets: &BTreeMap<String, BTreeSet<String>>) {
    if nets.len() < 2 {
        return;
    }
    let all: BTreeSet<&String> = nets.values().flatten().collect();
    if nets.values().any(|m| m.len() == all.len()) {
        return;
    }
    let names: Vec<String> = nets.keys().map(|n| format!("`{n}`")).collect();
    let span = ctx.project.tree.span_at(&["networks"]);
    ctx.warn(
        span,
        format!(
            "compose networks {} keep some services apart; in Kubernetes every pod can reach \
             every other",
            names.join(", ")
        ),
    )
    .help = Some("pass --network-policies to emit NetworkPolicies that keep the isolation".into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::Service;
    use crate::lower::{names, Options};
    use serde_json::json;

    fn svc(name: &str, nets: &[&str], mode: Option<&str>) -> Service {
        Service {
            name: name.into(),
            networks: nets.iter().map(|n| (n.to_string(), None)).collect(),
            network_mode: mode.map(str::to_string),
            ..Service::default()
        }
    }

    fn project(svcs: Vec<Service>) -> Project {
        let mut p = Project {
            name: "shop".into(),
            ..Project::default()
        };
        for s in svcs {
            p.services.insert(s.name.clone(), Box::new(s));
        }
        p
    }

    fn run(p: &Project, opts: &Options, out: &mut Vec<Manifest>) -> Vec<crate::diag::Diagnostic> {
        let (names, _) = names::compute(p);
        let mut ctx = Ctx {
            project: p,
            opts,
            diags: Vec::new(),
            external: Default::default(),
            names,
            volume_users: Default::default(),
        };
        lower(&mut ctx, out);
        ctx.diags
    }

    #[test]
    fn membership_table() {
        let p = project(vec![
            svc("plain", &[], None),
            svc("front_end", &["front"], None),
            svc("api", &["front", "back"], None),
            svc("sidecar", &[], Some("service:api")),
            svc("chained", &[], Some("service:sidecar")),
            svc("hosty", &[], Some("host")),
            svc("isolated", &[], Some("none")),
            svc("bridged", &[], Some("bridge")),
            svc("loop1", &[], Some("service:loop2")),
            svc("loop2", &[], Some("service:loop1")),
        ]);
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        for (s, want) in [
            ("plain", set(&["default"])),
            ("front_end", set(&["front"])),
            ("sidecar", set(&["back", "front"])),
            ("chained", set(&["back", "front"])),
            ("hosty", set(&[])),
            ("isolated", set(&[])),
            ("bridged", set(&[])),
            ("loop1", set(&[])),
            ("missing", set(&[])),
        ] {
            assert_eq!(service_networks(&p, s), want, "{s}");
        }
    }

    #[test]
    fn policies() {
        let p = project(vec![
            svc("web", &["front"], None),
            svc("api", &["front", "back"], None),
            svc("db", &["back"], None),
            svc("cache", &[], Some("host")),
        ]);
        let opts = Options {
            network_policies: true,
            ..Options::default()
        };
        let mut out = vec![Manifest::from_json(
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "web"},
                "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]}}),
            None,
        )
        .unwrap()];
        let d = run(&p, &opts, &mut out);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].message,
            "service `cache` uses the host network: NetworkPolicies do not restrict it"
        );
        let names: Vec<&str> = out.iter().skip(1).map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "shop-default-deny",
                "shop-net-back",
                "shop-net-front",
                "web-external"
            ]
        );
        assert_eq!(
            out[1].json()["spec"],
            json!({"ingress": [], "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "shop"}},
                   "policyTypes": ["Ingress"]})
        );
        let sel = json!({"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["api", "db"]}],
                          "matchLabels": {"app.kubernetes.io/instance": "shop"}});
        assert_eq!(
            out[2].json()["spec"],
            json!({"ingress": [{"from": [{"podSelector": sel}]}], "podSelector": sel, "policyTypes": ["Ingress"]})
        );
        assert_eq!(
            out[4].json()["spec"],
            json!({"ingress": [{"ports": [{"port": "http", "protocol": "TCP"}]}],
                   "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                   "policyTypes": ["Ingress"]})
        );
    }

    #[test]
    fn ingress_backends_are_exposed() {
        let out: Vec<Manifest> = [
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"a": "b"}, "ports": [
                    {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                    {"name": "admin", "port": 81, "targetPort": "admin", "protocol": "TCP"}]}}),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
                "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}}),
        ]
        .into_iter()
        .map(|j| Manifest::from_json(j, None).unwrap())
        .collect();
        let e = exposed(&out);
        assert_eq!(e.len(), 1);
        assert_eq!(
            e["web"].2,
            BTreeSet::from([("http".to_string(), "TCP".to_string())])
        );
    }

    #[test]
    fn isolation_warning_without_flag() {
        let opts = Options::default();
        let isolated = project(vec![
            svc("web", &["front"], None),
            svc("db", &["back"], None),
            svc("api", &["front", "back"], None),
        ]);
        let mut out = Vec::new();
        let d = run(&isolated, &opts, &mut out);
        assert!(out.is_empty());
        assert_eq!(d.len(), 1);
        assert!(d[0]
            .message
            .starts_with("compose networks `back`, `front` keep some services apart"));
        let flat = project(vec![svc("web", &["a", "b"], None), svc("db", &["a"], None)]);
        assert!(run(&flat, &opts, &mut out).is_empty());
        let default_only = project(vec![svc("web", &[], None), svc("db", &[], None)]);
        assert!(run(&default_only, &opts, &mut out).is_empty());
    }

    #[test]
    fn top_level_network_options_warn() {
        use crate::compose::model::Network;
        let mut p = project(vec![svc("web", &["a"], None)]);
        p.networks.insert(
            "a".into(),
            Network {
                internal: Some(true),
                driver: Some("macvlan".into()),
                ..Network::default()
            },
        );
        p.networks.insert(
            "b".into(),
            Network {
                driver: Some("bridge".into()),
                external: Some(json!(true)),
                ..Network::default()
            },
        );
        let mut out = Vec::new();
        let d = run(&p, &Options::default(), &mut out);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "`internal` of network `a` is not mapped",
                "`driver` of network `a` is not mapped",
                "`external` of network `b` is not mapped",
            ]
        );
    }

    #[test]
    fn network_name_clash_is_an_error() {
        let p = project(vec![svc("web", &["my_net", "my-net"], None)]);
        let opts = Options {
            network_policies: true,
            ..Options::default()
        };
        let mut out = Vec::new();
        let d = run(&p, &opts, &mut out);
        assert_eq!(d.len(), 1);
        assert!(d[0].is_error());
        assert_eq!(
            d[0].message,
            "network `my_net` and network `my-net` would both become NetworkPolicy `shop-net-my-net` in Kubernetes"
        );
    }
}
