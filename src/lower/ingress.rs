//! A networking.k8s.io/v1 Ingress for a service, only when asked: `x-kubernetes.ingress`
//! (or the `kompose.service.expose*` labels) on the service, or `--ingress-host` for
//! every service that publishes a TCP port (publishing is what asks for exposure in
//! Compose; services that only talk inside the stack get none) unless the service says
//! `x-kubernetes.ingress: false`. The host is a
//! minijinja template (strict: an unknown variable is an error) over `service` (the
//! Kubernetes name), `project` (sanitised to a DNS label) and `namespace` (only
//! defined with `-n`); `x-kubernetes.ingress.host` wins over `--ingress-host`, and no
//! host at all gives a rule for every host. One rule: `path` (default `/`, pathType
//! Prefix) to the Service port *name* of the first published TCP port (else the first
//! TCP port). `tls` names a Secret that must exist (recorded in `external`);
//! `class` -> `ingressClassName`; compose `labels` plus `annotations` -> annotations.
//! This module does not decide Service types or ports.

use super::ports::NamedPort;
use super::{Ctx, Options, Plan};
use crate::diag::Diagnostic;
use crate::k8s::names::{dns1123_label, is_valid_dns1123_subdomain, is_valid_qualified_name};
use crate::k8s::Manifest;
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use minijinja::{Environment, UndefinedBehavior, Value};

/// The port an Ingress routes to: the first published TCP port, else (only when
/// `any_tcp`) the first TCP port.
pub fn backend_port<'p>(plan: &'p Plan, any_tcp: bool) -> Option<&'p NamedPort> {
    let tcp = || plan.ports.iter().filter(|p| p.protocol == "TCP");
    tcp()
        .find(|p| p.published.is_some())
        .or_else(|| if any_tcp { tcp().next() } else { None })
}

/// Whether `plan` gets an Ingress (before any error in its settings).
pub fn applies(opts: &Options, plan: &Plan) -> bool {
    plan.ext.ingress.is_some()
        || (!plan.ext.no_ingress
            && opts.ingress_host.is_some()
            && backend_port(plan, false).is_some())
}

/// Render a host template. `Err` carries a message for the user.
pub fn render_host(
    template: &str,
    service: &str,
    project: &str,
    namespace: Option<&str>,
) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // minijinja's builtin `namespace()` would otherwise stand in for an unset namespace.
    env.remove_global("namespace");
    let mut vars: Vec<(&str, Value)> = Vec::new();
    vars.push(("service", Value::from(service)));
    vars.push(("project", Value::from(dns1123_label(project))));
    if let Some(ns) = namespace {
        vars.push(("namespace", Value::from(ns)));
    }
    let host = env
        .render_str(template, Value::from_pairs(vars))
        .map_err(|e| {
            // The kind and detail, without minijinja's "(in <string>:1)" location.
            let mut msg = match e.detail() {
                Some(d) => format!("{}: {d}", e.kind()),
                None => e.kind().to_string(),
            };
            if namespace.is_none() && template.contains("namespace") {
                msg.push_str(" (`namespace` is only defined with `-n NAMESPACE`)");
            }
            msg
        })?;
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Ok(host);
    }
    let plain = host.strip_prefix("*.").unwrap_or(&host);
    if !is_valid_dns1123_subdomain(plain) {
        return Err(format!("`{host}` is not a valid host name"));
    }
    Ok(host)
}

/// The `--ingress-host` error, which [`lower`] reports once per run rather than per
/// service (see the parallel merge in `lower::lower`).
pub(super) fn reported_once(d: &Diagnostic) -> bool {
    d.is_error() && d.span.is_none() && d.message.starts_with("--ingress-host `")
}

pub fn lower(ctx: &mut Ctx, plan: &Plan, out: &mut Vec<Manifest>) {
    if !applies(ctx.opts, plan) {
        return;
    }
    let svc = plan.svc;
    let ext = plan.ext.ingress.clone().unwrap_or_default();
    let from_ext = plan.ext.ingress.is_some();
    let span = if from_ext {
        plan.ext.span
    } else {
        super::names::service_key_span(ctx.project, &svc.name)
    };

    let Some(port) = backend_port(plan, from_ext) else {
        ctx.warn(
            span,
            format!(
                "service `{}` has no TCP port, so it gets no Ingress",
                svc.name
            ),
        )
        .help = Some("an Ingress routes HTTP: add a TCP port to `ports` or `expose`".into());
        return;
    };

    let host_from_ext = ext.host.is_some();
    let template = ext.host.clone().or_else(|| ctx.opts.ingress_host.clone());
    let host = match template {
        None => None,
        Some(t) => match render_host(
            &t,
            &plan.name,
            &ctx.project.name,
            ctx.opts.namespace.as_deref(),
        ) {
            Ok(h) if h.is_empty() => None,
            Ok(h) => Some(h),
            Err(msg) => {
                let help = "the template can use `service`, `project` and `namespace`, e.g. \
                            '{{ service }}.example.com'";
                if host_from_ext {
                    ctx.error(
                        span,
                        format!("ingress host `{t}` of service `{}`: {msg}", svc.name),
                    )
                    .help = Some(help.into());
                } else {
                    // A command-line template fails the same way for every service:
                    // report it once, without a compose location.
                    let msg = format!("--ingress-host `{t}`: {msg}");
                    if !ctx.diags.iter().any(|d| d.is_error() && d.message == msg) {
                        ctx.diags.push(Diagnostic::error(msg).help(help));
                    }
                }
                return;
            }
        },
    };

    let mut path = if ext.path.is_empty() {
        "/".to_string()
    } else {
        ext.path.clone()
    };
    if !path.starts_with('/') {
        path.insert(0, '/');
        ctx.warn(
            span,
            format!("ingress path `{}` is used as `{path}`", ext.path),
        );
    }

    // Annotations: compose labels (as on the Service), then the
    // Ingress's own annotations, which win.
    let mut annotations = super::service::compose_annotations(svc);
    for (k, v) in &ext.annotations {
        if is_valid_qualified_name(k) {
            annotations.insert(k.clone(), v.clone());
        } else {
            ctx.warn(
                span,
                format!("ingress annotation `{k}` is left out: it is not a valid annotation key"),
            );
        }
    }

    let tls = ext.tls.as_ref().map(|secret| {
        ctx.external.insert(format!("Secret/{secret}"));
        vec![IngressTLS {
            hosts: host.as_ref().map(|h| vec![h.clone()]),
            secret_name: Some(secret.clone()),
        }]
    });

    let mut meta = ctx.meta(&plan.name, &plan.labels);
    if !annotations.is_empty() {
        meta.annotations = Some(annotations);
    }
    let obj = Ingress {
        metadata: meta,
        spec: Some(IngressSpec {
            ingress_class_name: ext.class.clone(),
            rules: Some(vec![IngressRule {
                host,
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(path),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: plan.name.clone(),
                                port: Some(ServiceBackendPort {
                                    name: Some(port.name.clone()),
                                    number: None,
                                }),
                            }),
                            resource: None,
                        },
                    }],
                }),
            }]),
            tls,
            default_backend: None,
        }),
        status: None,
    };
    out.push(Manifest::from_resource(obj, Some(span)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{Project, Service as ComposeService};
    use crate::diag::Diagnostic;
    use crate::lower::ext::{IngressExt, ServiceExt};
    use crate::lower::{names, PodParts, WorkloadKind};
    use crate::source::Span;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn render_table() {
        let cases: &[(&str, Option<&str>, Result<&str, &str>)] = &[
            ("{{ service }}.example.com", None, Ok("web.example.com")),
            (
                "{{ service }}.{{ project }}.example.com",
                None,
                Ok("web.my-proj.example.com"),
            ),
            (
                "{{ service }}.{{ namespace }}.example.com",
                Some("prod"),
                Ok("web.prod.example.com"),
            ),
            (
                "{{ service }}.{{ namespace }}.example.com",
                None,
                Err("only defined with `-n"),
            ),
            ("{{ nope }}.example.com", None, Err("undefined")),
            ("{{ service ", None, Err("syntax")),
            ("Example.COM", None, Ok("example.com")),
            ("*.example.com", None, Ok("*.example.com")),
            ("a_b.example.com", None, Err("not a valid host name")),
            ("", None, Ok("")),
        ];
        for (t, ns, want) in cases {
            let got = render_host(t, "web", "my_proj", *ns);
            match (want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(g, w, "{t}"),
                (Err(w), Err(g)) => assert!(g.contains(w), "{t}: {g}"),
                _ => panic!("{t}: {got:?}"),
            }
        }
    }

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

    fn run(
        ports: Vec<NamedPort>,
        ingress: Option<IngressExt>,
        opts: Options,
    ) -> (Vec<serde_json::Value>, Vec<Diagnostic>, Vec<String>) {
        let mut project = Project {
            name: "demo".into(),
            ..Project::default()
        };
        let mut svc = ComposeService {
            name: "web".into(),
            ..ComposeService::default()
        };
        svc.labels.insert("com.example.team".into(), "a".into());
        project.services.insert("web".into(), Box::new(svc));
        let (names, _) = names::compute(&project);
        let mut ctx = Ctx {
            project: &project,
            opts: &opts,
            diags: Vec::new(),
            external: Default::default(),
            names,
            volume_users: Default::default(),
        };
        let labels = ctx.labels(Some("web"));
        let plan = Plan {
            svc: &project.services["web"],
            ext: ServiceExt {
                ingress,
                ..ServiceExt::default()
            },
            name: "web".into(),
            selector: labels.clone(),
            labels,
            kind: WorkloadKind::Deployment,
            replicas: 1,
            ports,
            pod: PodParts::default(),
        };
        let mut out = Vec::new();
        lower(&mut ctx, &plan, &mut out);
        let ext: Vec<String> = ctx.external.iter().cloned().collect();
        (out.into_iter().map(|m| m.json()).collect(), ctx.diags, ext)
    }

    fn host_opts(t: &str) -> Options {
        Options {
            ingress_host: Some(t.into()),
            ..Options::default()
        }
    }

    #[test]
    fn ingress_host_applies_to_published_tcp_ports_only() {
        let published = vec![
            port("udp-53", 53, "UDP", Some(53)),
            port("tcp-3000", 3000, "TCP", Some(3000)),
        ];
        let (out, d, _) = run(published, None, host_opts("{{ service }}.example.com"));
        assert!(d.is_empty());
        assert_eq!(
            out[0]["spec"],
            json!({"rules": [{"host": "web.example.com", "http": {"paths": [{
                "backend": {"service": {"name": "web", "port": {"name": "tcp-3000"}}},
                "path": "/", "pathType": "Prefix"}]}}]})
        );
        assert_eq!(
            out[0]["metadata"]["annotations"],
            json!({"com.example.team": "a"})
        );
        let (out, _, _) = run(
            vec![port("http", 80, "TCP", None)],
            None,
            host_opts("x.example.com"),
        );
        assert!(out.is_empty());
        let (out, _, _) = run(
            vec![port("udp-53", 53, "UDP", Some(53))],
            None,
            host_opts("x.example.com"),
        );
        assert!(out.is_empty());
    }

    #[test]
    fn ingress_false_opts_out_of_ingress_host() {
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
        let opts = host_opts("x.example.com");
        let mut plan_ext = ServiceExt {
            no_ingress: true,
            ..ServiceExt::default()
        };
        let labels = BTreeMap::new();
        let mut plan = Plan {
            svc: &project.services["web"],
            ext: plan_ext.clone(),
            name: "web".into(),
            selector: labels.clone(),
            labels,
            kind: WorkloadKind::Deployment,
            replicas: 1,
            ports: vec![port("http", 80, "TCP", Some(80))],
            pod: PodParts::default(),
        };
        assert!(!applies(&opts, &plan));
        plan_ext.no_ingress = false;
        plan.ext = plan_ext;
        assert!(applies(&opts, &plan));
    }

    #[test]
    fn extension_settings() {
        let mut annotations = std::collections::BTreeMap::new();
        annotations.insert(
            "cert-manager.io/cluster-issuer".to_string(),
            "le".to_string(),
        );
        annotations.insert("com.example.team".to_string(), "b".to_string());
        let ing = IngressExt {
            host: Some("{{ service }}.{{ project }}.test".into()),
            path: "api".into(),
            tls: Some("web-tls".into()),
            class: Some("nginx".into()),
            annotations,
        };
        let (out, d, ext) = run(
            vec![
                port("udp-53", 53, "UDP", None),
                port("http", 80, "TCP", None),
                port("tcp-81", 81, "TCP", Some(81)),
            ],
            Some(ing),
            host_opts("ignored.example.com"),
        );
        assert_eq!(d.len(), 1, "{d:?}"); // path `api` -> `/api`
        assert_eq!(ext, vec!["Secret/web-tls"]);
        assert_eq!(
            out[0]["spec"],
            json!({
                "ingressClassName": "nginx",
                "rules": [{"host": "web.demo.test", "http": {"paths": [{
                    "backend": {"service": {"name": "web", "port": {"name": "tcp-81"}}},
                    "path": "/api", "pathType": "Prefix"}]}}],
                "tls": [{"hosts": ["web.demo.test"], "secretName": "web-tls"}]
            })
        );
        assert_eq!(
            out[0]["metadata"]["annotations"],
            json!({"cert-manager.io/cluster-issuer": "le", "com.example.team": "b"})
        );
    }

    #[test]
    fn extension_without_host_or_tcp_port() {
        let (out, d, _) = run(
            vec![port("http", 80, "TCP", None)],
            Some(IngressExt::default()),
            Options::default(),
        );
        assert!(d.is_empty());
        assert_eq!(out[0]["spec"]["rules"][0].get("host"), None);
        assert_eq!(
            out[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["name"],
            "http"
        );
        let (out, d, _) = run(
            vec![port("udp-53", 53, "UDP", None)],
            Some(IngressExt::default()),
            Options::default(),
        );
        assert!(out.is_empty());
        assert_eq!(
            d[0].message,
            "service `web` has no TCP port, so it gets no Ingress"
        );
    }

    #[test]
    fn template_errors_are_errors() {
        let (out, d, _) = run(
            vec![port("http", 80, "TCP", Some(80))],
            None,
            host_opts("{{ service }}.{{ namespace }}.example.com"),
        );
        assert!(out.is_empty());
        assert_eq!(d.len(), 1);
        assert!(d[0].is_error());
        assert!(
            d[0].message.starts_with(
                "--ingress-host `{{ service }}.{{ namespace }}.example.com`: undefined value"
            ),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].span, None);
    }
}
