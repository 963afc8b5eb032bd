//! The Service of every compose service, so that Compose DNS (`db:5432`) keeps working:
//! named `plan.name`, selecting the service's pods, one port per [`NamedPort`]
//! (`port` = container port, `targetPort` = the port's name). A service without ports
//! gets a headless Service (`clusterIP: None`), which still resolves to its pods on any
//! port. A StatefulSet's Service is headless as well (with its ports): it is the
//! StatefulSet's governing Service (`serviceName` = `plan.name`), unless the user asked
//! for NodePort/LoadBalancer/ClusterIP, which then wins (the pods lose their per-pod DNS
//! records, which Compose never had anyway). `x-kubernetes.service.type`
//! NodePort/LoadBalancer use the published port as the Service port and
//! `x-kubernetes.service.node-port` (or `kompose.service.nodeport.port`) as the first
//! port's `nodePort`. Network `aliases` and `container_name` become extra Services with
//! the same selector and ports. Compose `labels` become annotations. Also warns about
//! published ports nobody exposes and per-network options that have no equivalent.
//! This module does not name ports (`ports`) or decide the Ingress (`ingress`).

use super::ports::NamedPort;
use super::{ingress, Ctx, Plan, WorkloadKind};
use crate::compose::model::Service as ComposeService;
use crate::diag::Diagnostic;
use crate::k8s::names::is_valid_qualified_name;
use crate::k8s::Manifest;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The kind of Service a compose service gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceType {
    ClusterIp,
    Headless,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    /// Kubernetes `spec.type` (`None` for the default ClusterIP and headless).
    fn spec_type(self) -> Option<String> {
        match self {
            ServiceType::NodePort => Some("NodePort".into()),
            ServiceType::LoadBalancer => Some("LoadBalancer".into()),
            ServiceType::ClusterIp | ServiceType::Headless => None,
        }
    }

    fn exposes(self) -> bool {
        matches!(self, ServiceType::NodePort | ServiceType::LoadBalancer)
    }
}

/// Parse `x-kubernetes.service.type` / `kompose.service.type` (case-insensitive).
pub fn parse_type(s: &str) -> Option<ServiceType> {
    match s.to_ascii_lowercase().as_str() {
        "clusterip" => Some(ServiceType::ClusterIp),
        "headless" => Some(ServiceType::Headless),
        "nodeport" => Some(ServiceType::NodePort),
        "loadbalancer" => Some(ServiceType::LoadBalancer),
        _ => None,
    }
}

/// The Service type of a plan, with the warnings that deciding it produced.
pub fn resolve_type(plan: &Plan) -> (ServiceType, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let requested = match plan.ext.service_type.as_deref() {
        None => None,
        Some(s) => match parse_type(s) {
            Some(t) => Some(t),
            None => {
                diags.push(
                    Diagnostic::warning(format!("unknown service type `{s}`; using ClusterIP"))
                        .at(plan.ext.span)
                        .help("use one of ClusterIP, NodePort, LoadBalancer, Headless"),
                );
                None
            }
        },
    };
    let t = match requested {
        Some(t @ (ServiceType::NodePort | ServiceType::LoadBalancer)) if plan.ports.is_empty() => {
            diags.push(
                Diagnostic::warning(format!(
                    "service `{}` asks for a {} Service but has no ports; its Service is headless",
                    plan.svc.name,
                    t.spec_type().unwrap_or_default()
                ))
                .at(plan.ext.span)
                .help("add `ports` (or `expose`) to the service"),
            );
            ServiceType::Headless
        }
        Some(t) => t,
        None if plan.ports.is_empty() || plan.kind == WorkloadKind::StatefulSet => {
            ServiceType::Headless
        }
        None => ServiceType::ClusterIp,
    };
    (t, diags)
}

/// Compose `labels` as annotations of the service's objects. `kompose.*` labels are
/// settings (read by `ext`) and keys Kubernetes would reject are left out; the workload
/// reports those, so they are not reported twice.
pub fn compose_annotations(svc: &ComposeService) -> BTreeMap<String, String> {
    svc.labels
        .iter()
        .filter(|(k, _)| !k.starts_with("kompose.") && is_valid_qualified_name(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Service ports for `t`: (port, NamedPort) pairs; with NodePort/LoadBalancer the
/// published port is the Service port. Two ports with the same (port, protocol) are
/// errors.
fn service_ports(plan: &Plan, t: ServiceType) -> (Vec<ServicePort>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut seen: BTreeMap<(i32, &str), &NamedPort> = BTreeMap::new();
    let mut ports = Vec::new();
    for p in &plan.ports {
        let port = if t.exposes() {
            p.published.unwrap_or(p.container_port)
        } else {
            p.container_port
        };
        if let Some(first) = seen.get(&(port, p.protocol.as_str())) {
            diags.push(
                Diagnostic::error(format!(
                    "service `{}` would have Service port {port}/{} twice (container ports {} and {})",
                    plan.svc.name,
                    p.protocol.to_ascii_lowercase(),
                    first.container_port,
                    p.container_port
                ))
                .at(p.span)
                .note(first.span, "first used here")
                .help("publish each container port on its own host port"),
            );
            continue;
        }
        seen.insert((port, p.protocol.as_str()), p);
        ports.push(ServicePort {
            name: Some(p.name.clone()),
            port,
            target_port: Some(IntOrString::String(p.name.clone())),
            protocol: Some(p.protocol.clone()),
            app_protocol: p.app_protocol.clone(),
            ..ServicePort::default()
        });
    }
    (ports, diags)
}

/// The Service object named `name` for a plan.
fn build(
    ctx: &Ctx,
    plan: &Plan,
    name: &str,
    t: ServiceType,
    ports: Vec<ServicePort>,
    annotations: &BTreeMap<String, String>,
) -> Service {
    let mut meta = ctx.meta(name, &plan.labels);
    if !annotations.is_empty() {
        meta.annotations = Some(annotations.clone());
    }
    let headless = t == ServiceType::Headless;
    Service {
        metadata: meta,
        spec: Some(ServiceSpec {
            type_: t.spec_type(),
            cluster_ip: headless.then(|| "None".to_string()),
            selector: Some(plan.selector.clone()),
            ports: (!ports.is_empty()).then_some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

pub fn lower(ctx: &mut Ctx, plan: &Plan, out: &mut Vec<Manifest>) {
    let svc = plan.svc;
    let annotations = compose_annotations(svc);
    let (t, diags) = resolve_type(plan);
    ctx.diags.extend(diags);
    // A valid explicit type (even ClusterIP) means the user chose the exposure;
    // `x-kubernetes.ingress: false` is such a choice too.
    let explicit = plan
        .ext
        .service_type
        .as_deref()
        .and_then(parse_type)
        .is_some()
        || plan.ext.no_ingress;
    let (mut ports, diags) = service_ports(plan, t);
    ctx.diags.extend(diags);

    if let Some(np) = plan.ext.node_port {
        if t.exposes() {
            if let Some(first) = ports.first_mut() {
                first.node_port = Some(np);
            }
            if ports.len() > 1 {
                ctx.warn(
                    plan.ext.span,
                    format!(
                        "node port {np} is used for the first port of service `{}` only; \
                         Kubernetes picks node ports for the others",
                        svc.name
                    ),
                );
            }
        } else {
            ctx.warn(
                plan.ext.span,
                format!(
                    "node port {np} is ignored: service `{}` has no NodePort or LoadBalancer Service",
                    svc.name
                ),
            )
            .help = Some("set `x-kubernetes.service.type: NodePort`".into());
        }
    }

    if t.exposes() {
        for (i, p) in svc.ports.iter().enumerate() {
            if let Some(ip) = p.host_ip.as_deref() {
                if !matches!(ip, "" | "0.0.0.0" | "::") {
                    let idx = i.to_string();
                    ctx.warn(
                        svc.span_of(&["ports", &idx]),
                        format!(
                            "host_ip {ip} is ignored: a {} Service accepts connections on every node",
                            t.spec_type().unwrap_or_default()
                        ),
                    );
                }
            }
        }
    } else if !explicit && !ingress::applies(ctx.opts, plan) {
        let published: Vec<String> = plan
            .ports
            .iter()
            .filter_map(|p| {
                p.published.map(|h| match p.protocol.as_str() {
                    "TCP" => format!("{h}:{}", p.container_port),
                    other => format!("{h}:{}/{}", p.container_port, other.to_ascii_lowercase()),
                })
            })
            .collect();
        if let Some(first) = plan.ports.iter().find(|p| p.published.is_some()) {
            let span = first.span;
            let any_tcp = plan
                .ports
                .iter()
                .any(|p| p.published.is_some() && p.protocol == "TCP");
            let via = if any_tcp {
                " (LoadBalancer or NodePort), add `x-kubernetes.ingress` or pass `--ingress-host`"
            } else {
                " (LoadBalancer or NodePort)"
            };
            ctx.warn(
                span,
                format!(
                    "service `{}` publishes {} on the host; in Kubernetes its Service `{}` is \
                     reachable only inside the cluster",
                    svc.name,
                    published.join(", "),
                    plan.name
                ),
            )
            .help = Some(format!(
                "to expose it set `x-kubernetes.service.type`{via}; \
                 `x-kubernetes.service.type: ClusterIP` keeps it internal without this warning"
            ));
        }
    }

    network_option_warnings(ctx, svc);

    let main = build(ctx, plan, &plan.name, t, ports, &annotations);
    out.push(Manifest::from_resource(main, Some(svc.span())));

    // Extra DNS names: same pods and ports, never exposed a second time.
    let aliases: Vec<String> = ctx.names.aliases(&svc.name).to_vec();
    if !aliases.is_empty() {
        let alias_t = if t == ServiceType::Headless {
            ServiceType::Headless
        } else {
            ServiceType::ClusterIp
        };
        let (alias_ports, _) = service_ports(plan, alias_t);
        for a in aliases {
            let obj = build(ctx, plan, &a, alias_t, alias_ports.clone(), &annotations);
            out.push(Manifest::from_resource(obj, Some(svc.span())));
        }
    }
}

/// Per-network options of a service other than `aliases` have no Kubernetes equivalent.
fn network_option_warnings(ctx: &mut Ctx, svc: &ComposeService) {
    for (net, opts) in &svc.networks {
        let Some(obj) = opts.as_ref().and_then(|o| o.as_object()) else {
            continue;
        };
        for key in obj.keys() {
            if key == "aliases" {
                continue;
            }
            let help = match key.as_str() {
                "ipv4_address" | "ipv6_address" | "link_local_ips" | "mac_address" => {
                    "pods get their addresses from the cluster network; reach the service by its name"
                }
                _ => "Kubernetes pods have a single network interface",
            };
            ctx.warn(
                svc.span_of(&["networks", net, key]),
                format!(
                    "`{key}` of network `{net}` in service `{}` is not mapped",
                    svc.name
                ),
            )
            .help = Some(help.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{Project, Service as ComposeService};
    use crate::lower::{ext::ServiceExt, names, Options, PodParts};
    use crate::source::Span;
    use serde_json::json;

    fn port(name: &str, cp: i32, proto: &str, published: Option<i32>) -> NamedPort {
        NamedPort {
            name: name.into(),
            container_port: cp,
            protocol: proto.into(),
            published,
            app_protocol: None,
            span: Span::default(),
        }
    }

    struct Fixture {
        project: Project,
        opts: Options,
    }

    impl Fixture {
        fn new() -> Self {
            let mut project = Project {
                name: "demo".into(),
                ..Project::default()
            };
            project.services.insert(
                "web".into(),
                Box::new(ComposeService {
                    name: "web".into(),
                    ..ComposeService::default()
                }),
            );
            Fixture {
                project,
                opts: Options::default(),
            }
        }

        fn run(
            &self,
            ports: Vec<NamedPort>,
            ext: ServiceExt,
            kind: WorkloadKind,
        ) -> (Vec<serde_json::Value>, Vec<Diagnostic>) {
            let (names, _) = names::compute(&self.project);
            let mut ctx = Ctx {
                project: &self.project,
                opts: &self.opts,
                diags: Vec::new(),
                external: Default::default(),
                names,
                volume_users: Default::default(),
            };
            let svc = &self.project.services["web"];
            let labels = ctx.labels(Some("web"));
            let plan = Plan {
                svc,
                ext,
                name: "web".into(),
                selector: labels.clone(),
                labels,
                kind,
                replicas: 1,
                ports,
                pod: PodParts::default(),
            };
            let mut out = Vec::new();
            lower(&mut ctx, &plan, &mut out);
            (out.into_iter().map(|m| m.json()).collect(), ctx.diags)
        }
    }

    fn ext(t: Option<&str>, np: Option<i32>) -> ServiceExt {
        ServiceExt {
            service_type: t.map(str::to_string),
            node_port: np,
            ..ServiceExt::default()
        }
    }

    #[test]
    fn cluster_ip_ports() {
        let f = Fixture::new();
        let (out, d) = f.run(
            vec![
                port("http", 80, "TCP", None),
                port("udp-53", 53, "UDP", None),
            ],
            ext(None, None),
            WorkloadKind::Deployment,
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            out[0]["spec"],
            json!({
                "ports": [
                    {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
                    {"name": "udp-53", "port": 53, "protocol": "UDP", "targetPort": "udp-53"}
                ],
                "selector": {
                    "app.kubernetes.io/instance": "demo",
                    "app.kubernetes.io/managed-by": "compose2k8s",
                    "app.kubernetes.io/name": "web"
                }
            })
        );
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn type_table() {
        // (ports, type, kind) -> (spec.type, clusterIP, warnings)
        let p80 = || vec![port("http", 80, "TCP", Some(8080))];
        let cases: Vec<(
            Vec<NamedPort>,
            Option<&str>,
            WorkloadKind,
            Option<&str>,
            Option<&str>,
            usize,
        )> = vec![
            (
                vec![],
                None,
                WorkloadKind::Deployment,
                None,
                Some("None"),
                0,
            ),
            (
                p80(),
                None,
                WorkloadKind::StatefulSet,
                None,
                Some("None"),
                1,
            ),
            (
                p80(),
                Some("ClusterIP"),
                WorkloadKind::StatefulSet,
                None,
                None,
                0,
            ),
            (
                p80(),
                Some("headless"),
                WorkloadKind::Deployment,
                None,
                Some("None"),
                0,
            ),
            (
                p80(),
                Some("NodePort"),
                WorkloadKind::Deployment,
                Some("NodePort"),
                None,
                0,
            ),
            (
                p80(),
                Some("loadbalancer"),
                WorkloadKind::StatefulSet,
                Some("LoadBalancer"),
                None,
                0,
            ),
            (
                vec![],
                Some("NodePort"),
                WorkloadKind::Deployment,
                None,
                Some("None"),
                1,
            ),
            (
                p80(),
                Some("Bogus"),
                WorkloadKind::Deployment,
                None,
                None,
                2,
            ),
        ];
        let f = Fixture::new();
        for (ports, t, kind, want_t, want_ip, warns) in cases {
            let (out, d) = f.run(ports, ext(t, None), kind);
            let spec = &out[0]["spec"];
            assert_eq!(spec["type"].as_str(), want_t, "{t:?} {kind:?}");
            assert_eq!(spec["clusterIP"].as_str(), want_ip, "{t:?} {kind:?}");
            assert_eq!(d.len(), warns, "{t:?} {kind:?}: {d:?}");
        }
    }

    #[test]
    fn node_port_uses_published_port() {
        let f = Fixture::new();
        let (out, d) = f.run(
            vec![
                port("http", 80, "TCP", Some(8080)),
                port("tcp-9000", 9000, "TCP", None),
            ],
            ext(Some("NodePort"), Some(30080)),
            WorkloadKind::Deployment,
        );
        assert_eq!(d.len(), 1, "{d:?}"); // node port only on the first port
        assert_eq!(
            out[0]["spec"]["ports"],
            json!([
                {"name": "http", "nodePort": 30080, "port": 8080, "protocol": "TCP", "targetPort": "http"},
                {"name": "tcp-9000", "port": 9000, "protocol": "TCP", "targetPort": "tcp-9000"}
            ])
        );
    }

    #[test]
    fn duplicate_service_ports_are_errors() {
        let f = Fixture::new();
        let (out, d) = f.run(
            vec![
                port("http", 80, "TCP", Some(8000)),
                port("tcp-81", 81, "TCP", Some(8000)),
            ],
            ext(Some("LoadBalancer"), None),
            WorkloadKind::Deployment,
        );
        assert_eq!(d.len(), 1);
        assert!(d[0].is_error());
        assert_eq!(
            d[0].message,
            "service `web` would have Service port 8000/tcp twice (container ports 80 and 81)"
        );
        assert_eq!(out[0]["spec"]["ports"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn ignored_node_port_and_unexposed_published_ports_warn() {
        let f = Fixture::new();
        let (_, d) = f.run(
            vec![port("http", 80, "TCP", Some(8080))],
            ext(None, Some(30080)),
            WorkloadKind::Deployment,
        );
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "node port 30080 is ignored: service `web` has no NodePort or LoadBalancer Service",
                "service `web` publishes 8080:80 on the host; in Kubernetes its Service `web` is reachable only inside the cluster",
            ]
        );
    }

    #[test]
    fn labels_become_annotations_and_aliases_become_services() {
        let mut f = Fixture::new();
        if let Some(s) = f.project.services.get_mut("web") {
            s.labels.insert("com.example.team".into(), "web".into());
            s.labels.insert("bad key".into(), "x".into());
            s.networks.insert(
                "back".into(),
                Some(Box::new(
                    json!({"aliases": ["www"], "ipv4_address": "10.0.0.2"}),
                )),
            );
        }
        let (out, d) = f.run(
            vec![port("http", 80, "TCP", None)],
            ext(None, None),
            WorkloadKind::Deployment,
        );
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec!["`ipv4_address` of network `back` in service `web` is not mapped"]
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1]["metadata"]["name"], "www");
        assert_eq!(
            out[1]["metadata"]["annotations"],
            json!({"com.example.team": "web"})
        );
        assert_eq!(out[1]["spec"]["ports"], out[0]["spec"]["ports"]);
    }
}
