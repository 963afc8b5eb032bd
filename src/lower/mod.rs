//! `lower`: the resolved compose [`Project`] -> Kubernetes objects ([`Manifest`]s),
//! following `mapping.md`. Pure: no I/O, no environment; everything comes in through
//! [`Project`] and [`Options`], and problems come back as [`Diagnostic`]s.
//!
//! Per service, the steps below fill one [`Plan`] (names, workload kind, named ports,
//! pod parts contributed by env / files / storage), then the emitters for each kind
//! read the finished plan. One file per emitted kind or concern:
//! `names` (object names), `ext` (`x-kubernetes` + `kompose.*` labels), `ports` (port
//! naming), `env` (environment -> ConfigMap/Secret), `files` (top-level configs and
//! secrets), `storage` (volumes, PVCs, bind mounts, tmpfs), `container`, `probes`,
//! `workload` (Deployment/StatefulSet/DaemonSet/Job/CronJob), `service`, `ingress`,
//! `scaling` (HPA, PDB), `netpol`, `unmapped` (warnings for keys not mapped).

pub mod container;
pub mod env;
pub mod ext;
pub mod files;
pub mod ingress;
pub mod names;
pub mod netpol;
pub mod ports;
pub mod probes;
pub mod scaling;
pub mod service;
pub mod storage;
pub mod unmapped;
pub mod workload;

use crate::compose::model::{Project, Service};
use crate::diag::Diagnostic;
use crate::k8s::Manifest;
use crate::source::Span;
use k8s_openapi::api::core::v1::{
    EnvFromSource, EnvVar, Namespace, PersistentVolumeClaim, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeMap, BTreeSet};

/// Everything the command line can change about lowering.
#[derive(Clone, Debug)]
pub struct Options {
    pub namespace: Option<String>,
    pub create_namespace: bool,
    /// `--scale SVC=N` (compose service name -> replicas).
    pub scale: BTreeMap<String, i32>,
    /// Default PVC size (`--pvc-size`), a Kubernetes quantity.
    pub pvc_size: String,
    pub storage_class: Option<String>,
    /// `--ingress-host` minijinja template over `service`, `project`, `namespace`.
    pub ingress_host: Option<String>,
    /// Extra sensitive-name patterns (`--secret-pattern`), matched case-insensitively.
    pub secret_patterns: Vec<regex::Regex>,
    pub hash_suffix: bool,
    pub network_policies: bool,
    pub allow_host_paths: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespace: None,
            create_namespace: false,
            scale: BTreeMap::new(),
            pvc_size: "1Gi".into(),
            storage_class: None,
            ingress_host: None,
            secret_patterns: Vec::new(),
            hash_suffix: false,
            network_policies: false,
            allow_host_paths: false,
        }
    }
}

/// What lowering produced.
#[derive(Debug, Default)]
pub struct Lowered {
    /// In output order.
    pub manifests: Vec<Manifest>,
    /// Warnings (and, when `errors` is non-empty, the errors too).
    pub diagnostics: Vec<Diagnostic>,
    /// Objects referenced but not emitted (`Secret/db-password`, ...): they must exist
    /// in the cluster before deploying.
    pub external: BTreeSet<String>,
}

/// The workload kind a service becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

/// Pod-level pieces that several modules contribute to before the workload is built.
#[derive(Clone, Debug, Default)]
pub struct PodParts {
    pub volumes: Vec<Volume>,
    pub mounts: Vec<VolumeMount>,
    pub env_from: Vec<EnvFromSource>,
    pub env: Vec<EnvVar>,
    /// StatefulSet only: claims created per replica.
    pub claim_templates: Vec<PersistentVolumeClaim>,
    /// Inputs of the rollout checksum: (object identity, digest of its content). The
    /// digests are already one-way hashes, never raw values.
    pub checksum: Vec<(String, String)>,
}

/// Everything decided about one service.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    pub svc: &'a Service,
    /// `x-kubernetes` settings merged with `kompose.*` label aliases.
    pub ext: ext::ServiceExt,
    /// Kubernetes name of the service's objects (a DNS-1035 label).
    pub name: String,
    /// Labels on every object of this service.
    pub labels: BTreeMap<String, String>,
    /// Pod selector (only `name` and `instance`: selectors are immutable).
    pub selector: BTreeMap<String, String>,
    pub kind: WorkloadKind,
    pub replicas: i32,
    pub ports: Vec<ports::NamedPort>,
    pub pod: PodParts,
}

/// Shared state of one lowering run.
pub struct Ctx<'a> {
    pub project: &'a Project,
    pub opts: &'a Options,
    pub diags: Vec<Diagnostic>,
    pub external: BTreeSet<String>,
    /// Kubernetes names of services, configs, secrets and volumes.
    pub names: names::Names,
    /// Named (top-level) volume -> compose services that mount it, in name order.
    pub volume_users: BTreeMap<String, Vec<String>>,
}

impl<'a> Ctx<'a> {
    pub fn warn(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::warning(message).at(span));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(message).at(span));
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// Common labels of every object belonging to compose service `svc` (or to the
    /// project when `svc` is `None`).
    pub fn labels(&self, svc: Option<&str>) -> BTreeMap<String, String> {
        let mut l = BTreeMap::new();
        if let Some(s) = svc {
            l.insert("app.kubernetes.io/name".into(), self.names.service(s));
        }
        l.insert(
            "app.kubernetes.io/instance".into(),
            self.project.name.clone(),
        );
        l.insert("app.kubernetes.io/managed-by".into(), "compose2k8s".into());
        l
    }

    /// `ObjectMeta` with name, labels and the run's namespace.
    pub fn meta(&self, name: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: self.opts.namespace.clone(),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        }
    }
}

/// Lower a whole project. Errors (name collisions, impossible mappings, `--strict`
/// handled by the caller) are in `diagnostics` with severity error.
pub fn lower(project: &Project, opts: &Options) -> Lowered {
    lower_with(project, opts, project.services.len() >= PARALLEL_FROM)
}

/// [`lower`], on two threads or one.
fn lower_with(project: &Project, opts: &Options, two_threads: bool) -> Lowered {
    let mut ctx = Ctx {
        project,
        opts,
        diags: Vec::new(),
        external: BTreeSet::new(),
        names: names::Names::default(),
        volume_users: volume_users(project),
    };
    let mut out: Vec<Manifest> = Vec::new();

    names::assign(&mut ctx);
    files::prepare(&mut ctx);

    let services: Vec<&Service> = project.services.values().map(|s| &**s).collect();
    if two_threads {
        // Services are independent once names are assigned: the second half is lowered
        // on another thread with its own diagnostics, then everything is appended in
        // service order, so the result is the same as lowering them one by one.
        let (first, second) = services.split_at(services.len() / 2);
        let other = Ctx {
            project,
            opts,
            diags: Vec::new(),
            external: BTreeSet::new(),
            names: ctx.names.clone(),
            volume_users: ctx.volume_users.clone(),
        };
        let done = std::thread::scope(|s| {
            let rest = s.spawn(move || {
                let (mut c, mut o) = (other, Vec::new());
                for svc in second {
                    lower_service(&mut c, svc, &mut o);
                }
                (c.diags, c.external, o)
            });
            for svc in first {
                lower_service(&mut ctx, svc, &mut out);
            }
            rest.join()
        });
        match done {
            Ok((diags, external, o)) => {
                for d in diags {
                    // Seen by the first half already, in one-by-one order it would not
                    // have been reported again.
                    let repeat = ingress::reported_once(&d)
                        && ctx
                            .diags
                            .iter()
                            .any(|e| e.is_error() && e.message == d.message);
                    if !repeat {
                        ctx.diags.push(d);
                    }
                }
                ctx.external.extend(external);
                out.extend(o);
            }
            Err(e) => std::panic::resume_unwind(e),
        }
    } else {
        for svc in services {
            lower_service(&mut ctx, svc, &mut out);
        }
    }

    files::lower_objects(&mut ctx, &mut out);
    storage::lower_shared(&mut ctx, &mut out);
    netpol::lower(&mut ctx, &mut out);

    if let (true, Some(ns)) = (opts.create_namespace, &opts.namespace) {
        let ns_obj = Namespace {
            metadata: ObjectMeta {
                name: Some(ns.clone()),
                labels: Some(ctx.labels(None)),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        out.push(Manifest::from_resource(ns_obj, None));
    }

    crate::k8s::sort_manifests(&mut out);
    Lowered {
        manifests: out,
        diagnostics: ctx.diags,
        external: ctx.external,
    }
}

/// From this many services on, [`lower`] uses two threads.
const PARALLEL_FROM: usize = 64;

/// Plan one service and emit its objects.
fn lower_service<'a>(ctx: &mut Ctx<'a>, svc: &'a Service, out: &mut Vec<Manifest>) {
    let ext = ext::parse(ctx, svc);
    let kind = workload::kind(ctx, svc, &ext);
    let replicas = workload::replicas(ctx, svc, &ext);
    let ports = ports::name_ports(ctx, svc);
    let name = ctx.names.service(&svc.name);
    let labels = ctx.labels(Some(&svc.name));
    let selector: BTreeMap<String, String> = labels
        .iter()
        .filter(|(k, _)| {
            k.as_str() == "app.kubernetes.io/name" || k.as_str() == "app.kubernetes.io/instance"
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut plan = Plan {
        svc,
        ext,
        name,
        labels,
        selector,
        kind,
        replicas,
        ports,
        pod: PodParts::default(),
    };
    env::lower(ctx, &mut plan, out);
    files::mount(ctx, &mut plan);
    storage::lower(ctx, &mut plan, out);
    service::lower(ctx, &plan, out);
    workload::build(ctx, &plan, out);
    ingress::lower(ctx, &plan, out);
    scaling::lower(ctx, &plan, out);
    unmapped::warn(ctx, svc);
}

/// Which services mount each top-level named volume.
fn volume_users(project: &Project) -> BTreeMap<String, Vec<String>> {
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for svc in project.services.values() {
        for v in &svc.volumes {
            if v.r#type != "volume" {
                continue;
            }
            if let Some(src) = &v.source {
                if project.volumes.contains_key(src) {
                    let list = users.entry(src.clone()).or_default();
                    if list.last() != Some(&svc.name) {
                        list.push(svc.name.clone());
                    }
                }
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load, LoadOptions};

    /// Lowering on two threads gives exactly the one-thread result: objects, their
    /// order, diagnostics (including the once-per-run `--ingress-host` error) and
    /// external references.
    #[test]
    fn two_threads_same_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("services:\n");
        for i in 0..150 {
            text.push_str(&format!(
                "  s{i:03}:\n    image: app:{i}\n    ports: [\"80{}:80\"]\n    environment:\n      A: \"{i}\"\n      DB_PASSWORD: pw{i}\n    volumes: [\"shared:/data\"]\n",
                i % 10
            ));
            if i % 5 == 0 {
                text.push_str("    cpuset: \"0\"\n");
            }
            if i % 7 == 0 {
                text.push_str("    secrets: [ext]\n");
            }
        }
        text.push_str("volumes:\n  shared: {}\nsecrets:\n  ext:\n    external: true\n");
        let file = dir.path().join("compose.yaml");
        std::fs::write(&file, text).unwrap();
        let loaded = load(&LoadOptions {
            files: vec![file.to_string_lossy().into_owned()],
            interpolate: true,
            cwd: dir.path().to_path_buf(),
            ..LoadOptions::default()
        });
        let project = loaded.project.expect("project loads");
        let opts = Options {
            ingress_host: Some("{{ service".into()),
            ..Options::default()
        };
        let one = lower_with(&project, &opts, false);
        let two = lower_with(&project, &opts, true);
        assert!(one.manifests.len() > 400);
        assert_eq!(one.manifests, two.manifests);
        assert_eq!(one.diagnostics, two.diagnostics);
        assert_eq!(one.external, two.external);
        let once = two
            .diagnostics
            .iter()
            .filter(|d| ingress::reported_once(d))
            .count();
        assert_eq!(once, 1);
        assert!(two.diagnostics.iter().any(|d| d.message.contains("cpuset")));
    }
}
