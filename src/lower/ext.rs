//! STUB (owner: workloads helper): the `x-kubernetes` service extension and the
//! `kompose.*` labels that alias it.
use super::{Ctx, WorkloadKind};
use crate::compose::model::Service;
use crate::source::Span;
use std::collections::BTreeMap;

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

pub fn parse(_ctx: &mut Ctx, svc: &Service) -> ServiceExt {
    ServiceExt {
        span: svc.span(),
        ..ServiceExt::default()
    }
}
