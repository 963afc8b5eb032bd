//! Kubernetes object names for the compose project's services (DNS-1035 labels, since
//! they name Services), their extra DNS names (network `aliases`, `container_name`),
//! top-level configs and secrets (DNS-1123 subdomains) and named volumes (DNS-1123
//! labels, so a PVC name is also a valid pod volume name). Every name that had to
//! change is reported as a warning at the compose key; two inputs that end up as the
//! same object of one kind are an error, never a silent merge. That check also covers
//! the names other modules derive: the `<service>-env` ConfigMap and Secret of a service
//! with an environment clash with a top-level config or secret of that name.
//! Collision detection is one ordered map per run (O(n log n)). This module only names:
//! it emits no objects and does not decide which objects exist.

use super::Ctx;
use crate::compose::model::{is_external, Project};
use crate::diag::Diagnostic;
use crate::k8s::names::{dns1035_label, dns1123_label, dns1123_subdomain};
use crate::source::Span;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// compose name -> Kubernetes object name, per namespace of compose names.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub services: BTreeMap<String, String>,
    pub configs: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub volumes: BTreeMap<String, String>,
    /// compose service -> extra Service names that keep its other Compose DNS names
    /// working (network `aliases`, `container_name`), sanitised, sorted, without the
    /// service's own name.
    pub aliases: BTreeMap<String, Vec<String>>,
}

impl Names {
    /// Kubernetes name of a compose service (unknown names are sanitised on the fly).
    pub fn service(&self, compose: &str) -> String {
        self.services
            .get(compose)
            .cloned()
            .unwrap_or_else(|| dns1035_label(compose))
    }

    /// Kubernetes name of a top-level config (ConfigMap).
    pub fn config(&self, compose: &str) -> String {
        self.configs
            .get(compose)
            .cloned()
            .unwrap_or_else(|| dns1123_subdomain(compose))
    }

    /// Kubernetes name of a top-level secret (Secret).
    pub fn secret(&self, compose: &str) -> String {
        self.secrets
            .get(compose)
            .cloned()
            .unwrap_or_else(|| dns1123_subdomain(compose))
    }

    /// Kubernetes name of a named volume (PersistentVolumeClaim, pod volume).
    pub fn volume(&self, compose: &str) -> String {
        self.volumes
            .get(compose)
            .cloned()
            .unwrap_or_else(|| dns1123_label(compose))
    }

    /// Extra Service names of a compose service (see [`Names::aliases`]).
    pub fn aliases(&self, compose: &str) -> &[String] {
        self.aliases.get(compose).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Name of the ConfigMap / Secret holding a service's environment (the config helper's
/// naming, checked here for clashes).
pub fn env_object_name(service_k8s_name: &str) -> String {
    format!("{service_k8s_name}-env")
}

/// Span of a service's key in `services:` (the service's own span is its value).
pub fn service_key_span(project: &Project, key: &str) -> Span {
    project
        .services
        .get(key)
        .map(|s| s.span())
        .unwrap_or_else(|| project.tree.span_at(&["services", key]))
}

/// Fill `ctx.names`, reporting renamed objects and collisions.
pub fn assign(ctx: &mut Ctx) {
    let (names, diags) = compute(ctx.project);
    ctx.names = names;
    ctx.diags.extend(diags);
}

/// One claimed object name: who claimed it first.
struct Claim {
    what: String,
    span: Span,
    /// The name had to be sanitised.
    changed: bool,
}

/// Object names per Kubernetes kind; the first claim wins, later ones are errors.
#[derive(Default)]
struct Registry {
    seen: BTreeMap<(&'static str, String), Claim>,
}

impl Registry {
    fn claim(
        &mut self,
        diags: &mut Vec<Diagnostic>,
        kind: &'static str,
        name: &str,
        what: String,
        span: Span,
        changed: bool,
    ) {
        match self.seen.entry((kind, name.to_string())) {
            Entry::Occupied(first) => {
                let first = first.get();
                diags.push(
                    Diagnostic::error(format!(
                        "{what} and {} would both become {kind} `{name}` in Kubernetes",
                        first.what
                    ))
                    .at(span)
                    .note(first.span, format!("{} is defined here", first.what))
                    .help(if changed || first.changed {
                        "rename one of them: Kubernetes names allow only lower-case letters, \
                     digits and `-`, so `_`, `.` and upper case are replaced"
                    } else {
                        "rename one of them"
                    }),
                )
            }
            Entry::Vacant(slot) => {
                slot.insert(Claim {
                    what,
                    span,
                    changed,
                });
            }
        }
    }
}

fn renamed(diags: &mut Vec<Diagnostic>, what: &str, k8s: &str, span: Span, help: Option<String>) {
    let mut d = Diagnostic::warning(format!("{what} is named `{k8s}` in Kubernetes")).at(span);
    if let Some(h) = help {
        d = d.help(h);
    }
    diags.push(d);
}

/// Object name of a top-level config/secret/volume: an external object keeps the name
/// it has outside the project (`name:`), anything else is named after its key.
fn object_source<'a>(key: &'a str, name: &'a Option<String>, external: bool) -> &'a str {
    match (external, name) {
        (true, Some(n)) if !n.is_empty() => n,
        _ => key,
    }
}

/// Pure core of [`assign`].
pub fn compute(project: &Project) -> (Names, Vec<Diagnostic>) {
    let mut names = Names::default();
    let mut diags = Vec::new();
    let mut reg = Registry::default();

    // Services first: their names are the DNS names other containers use.
    for key in project.services.keys() {
        let span = service_key_span(project, key);
        let k8s = dns1035_label(key);
        if &k8s != key {
            renamed(
                &mut diags,
                &format!("service `{key}`"),
                &k8s,
                span,
                Some(format!(
                    "containers that connect to `{key}` must use the host name `{k8s}` instead"
                )),
            );
        }
        reg.claim(
            &mut diags,
            "Service",
            &k8s,
            format!("service `{key}`"),
            span,
            &k8s != key,
        );
        names.services.insert(key.clone(), k8s);
    }

    // Extra DNS names of services: network aliases and container_name.
    for (key, svc) in &project.services {
        let own = names.service(key);
        let mut extra: BTreeMap<String, (String, Span)> = BTreeMap::new();
        if let Some(cn) = &svc.container_name {
            extra.entry(cn.clone()).or_insert((
                format!("container_name `{cn}` of service `{key}`"),
                svc.span_of(&["container_name"]),
            ));
        }
        for (net, opts) in &svc.networks {
            let aliases = opts
                .as_ref()
                .and_then(|o| o.get("aliases"))
                .and_then(|a| a.as_array());
            for (i, a) in aliases.into_iter().flatten().enumerate() {
                if let Some(a) = a.as_str() {
                    let idx = i.to_string();
                    extra.entry(a.to_string()).or_insert((
                        format!("network alias `{a}` of service `{key}`"),
                        svc.span_of(&["networks", net, "aliases", &idx]),
                    ));
                }
            }
        }
        let mut list = BTreeSet::new();
        for (alias, (what, span)) in extra {
            let k8s = dns1035_label(&alias);
            if k8s == own {
                continue;
            }
            if k8s != alias {
                renamed(
                    &mut diags,
                    &what,
                    &k8s,
                    span,
                    Some(format!(
                        "containers that connect to `{alias}` must use the host name `{k8s}` instead"
                    )),
                );
            }
            if list.insert(k8s.clone()) {
                reg.claim(&mut diags, "Service", &k8s, what, span, k8s != alias);
            }
        }
        if !list.is_empty() {
            names
                .aliases
                .insert(key.clone(), list.into_iter().collect());
        }
    }

    for (key, c) in &project.configs {
        let src = object_source(key, &c.name, is_external(&c.external));
        let k8s = dns1123_subdomain(src);
        let what = format!("config `{key}`");
        if k8s != src {
            renamed(&mut diags, &what, &k8s, c.span, None);
        }
        reg.claim(&mut diags, "ConfigMap", &k8s, what, c.span, k8s != src);
        names.configs.insert(key.clone(), k8s);
    }
    for (key, s) in &project.secrets {
        let src = object_source(key, &s.name, is_external(&s.external));
        let k8s = dns1123_subdomain(src);
        let what = format!("secret `{key}`");
        if k8s != src {
            renamed(&mut diags, &what, &k8s, s.span, None);
        }
        reg.claim(&mut diags, "Secret", &k8s, what, s.span, k8s != src);
        names.secrets.insert(key.clone(), k8s);
    }
    for (key, v) in &project.volumes {
        let src = object_source(key, &v.name, is_external(&v.external));
        let k8s = dns1123_label(src);
        let what = format!("volume `{key}`");
        if k8s != src {
            renamed(&mut diags, &what, &k8s, v.span, None);
        }
        reg.claim(
            &mut diags,
            "PersistentVolumeClaim",
            &k8s,
            what,
            v.span,
            k8s != src,
        );
        names.volumes.insert(key.clone(), k8s);
    }

    // Derived: the environment ConfigMap / Secret of each service with an environment.
    for (key, svc) in &project.services {
        if svc.environment.is_empty() {
            continue;
        }
        let env_name = env_object_name(&names.service(key));
        let span = svc.span_of(&["environment"]);
        for kind in ["ConfigMap", "Secret"] {
            reg.claim(
                &mut diags,
                kind,
                &env_name,
                format!("the environment of service `{key}`"),
                span,
                false,
            );
        }
    }

    (names, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{ConfigObj, SecretObj, Service, Volume};
    use crate::diag::Severity;

    fn project(services: &[&str]) -> Project {
        let mut p = Project {
            name: "demo".into(),
            ..Project::default()
        };
        for s in services {
            p.services.insert(
                s.to_string(),
                Box::new(Service {
                    name: s.to_string(),
                    ..Service::default()
                }),
            );
        }
        p
    }

    fn messages(d: &[Diagnostic], sev: Severity) -> Vec<String> {
        d.iter()
            .filter(|d| d.severity == sev)
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn service_names() {
        let cases: &[(&[&str], &[(&str, &str)], usize, usize)] = &[
            // (services, expected names, warnings, errors)
            (&["web", "db"], &[("web", "web"), ("db", "db")], 0, 0),
            (&["my_app"], &[("my_app", "my-app")], 1, 0),
            (&["My.App"], &[("My.App", "my-app")], 1, 0),
            (&["2048"], &[("2048", "s-2048")], 1, 0),
            (
                &["my_app", "my-app"],
                &[("my_app", "my-app"), ("my-app", "my-app")],
                1,
                1,
            ),
            (&["a.b", "a_b", "a-b"], &[("a.b", "a-b")], 2, 2),
        ];
        for (svcs, want, warns, errs) in cases {
            let (names, diags) = compute(&project(svcs));
            for (k, v) in *want {
                assert_eq!(names.service(k), *v, "{svcs:?}");
            }
            assert_eq!(
                messages(&diags, Severity::Warning).len(),
                *warns,
                "{svcs:?}: {diags:?}"
            );
            assert_eq!(
                messages(&diags, Severity::Error).len(),
                *errs,
                "{svcs:?}: {diags:?}"
            );
        }
    }

    #[test]
    fn rename_warning_wording() {
        let (_, diags) = compute(&project(&["my_app"]));
        assert_eq!(
            messages(&diags, Severity::Warning),
            vec!["service `my_app` is named `my-app` in Kubernetes"]
        );
        let (_, diags) = compute(&project(&["my-app", "my_app"]));
        assert_eq!(
            messages(&diags, Severity::Error),
            vec!["service `my_app` and service `my-app` would both become Service `my-app` in Kubernetes"]
        );
    }

    #[test]
    fn env_objects_clash_with_configs_and_secrets() {
        let mut p = project(&["web", "web-env"]);
        if let Some(s) = p.services.get_mut("web") {
            s.environment.insert("A".into(), Some("1".into()));
        }
        // A Service `web-env` does not clash with the ConfigMap `web-env` (other kind).
        let (_, diags) = compute(&p);
        assert!(diags.is_empty(), "{diags:?}");
        p.configs.insert("web_env".into(), ConfigObj::default());
        p.secrets.insert("web-env".into(), SecretObj::default());
        let (names, diags) = compute(&p);
        assert_eq!(names.config("web_env"), "web-env");
        assert_eq!(
            messages(&diags, Severity::Error),
            vec![
                "the environment of service `web` and config `web_env` would both become ConfigMap `web-env` in Kubernetes",
                "the environment of service `web` and secret `web-env` would both become Secret `web-env` in Kubernetes",
            ]
        );
    }

    #[test]
    fn objects_per_kind() {
        let mut p = project(&[]);
        p.configs.insert("nginx.conf".into(), ConfigObj::default());
        p.configs.insert(
            "ext".into(),
            ConfigObj {
                external: Some(serde_json::json!(true)),
                name: Some("Real_Name".into()),
                ..ConfigObj::default()
            },
        );
        p.secrets.insert("nginx.conf".into(), SecretObj::default());
        p.volumes.insert("db_data".into(), Volume::default());
        p.volumes.insert("db.data".into(), Volume::default());
        let (names, diags) = compute(&p);
        assert_eq!(names.config("nginx.conf"), "nginx.conf");
        assert_eq!(names.secret("nginx.conf"), "nginx.conf"); // other kind: fine
        assert_eq!(names.config("ext"), "real-name");
        assert_eq!(names.volume("db_data"), "db-data");
        assert_eq!(
            messages(&diags, Severity::Error),
            vec!["volume `db_data` and volume `db.data` would both become PersistentVolumeClaim `db-data` in Kubernetes"]
        );
    }

    #[test]
    fn aliases() {
        let mut p = project(&["db", "web"]);
        if let Some(s) = p.services.get_mut("db") {
            s.container_name = Some("my_db".into());
            s.networks.insert(
                "back".into(),
                Some(Box::new(
                    serde_json::json!({"aliases": ["database", "db", "database"]}),
                )),
            );
            s.networks.insert("front".into(), None);
        }
        let (names, diags) = compute(&p);
        assert_eq!(names.aliases("db"), ["database", "my-db"]);
        assert!(names.aliases("web").is_empty());
        assert_eq!(
            messages(&diags, Severity::Warning),
            vec!["container_name `my_db` of service `db` is named `my-db` in Kubernetes"]
        );
        // An alias that is another service's name is a clash.
        if let Some(s) = p.services.get_mut("web") {
            s.networks.insert(
                "back".into(),
                Some(Box::new(serde_json::json!({"aliases": ["Database"]}))),
            );
        }
        let (_, diags) = compute(&p);
        assert_eq!(
            messages(&diags, Severity::Error),
            vec!["network alias `Database` of service `web` and network alias `database` of service `db` would both become Service `database` in Kubernetes"]
        );
    }

    #[test]
    fn many_services_is_fast() {
        let names: Vec<String> = (0..20000).map(|i| format!("svc_{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (n, diags) = compute(&project(&refs));
        assert_eq!(n.services.len(), 20000);
        assert_eq!(diags.len(), 20000); // one rename warning each
    }
}
