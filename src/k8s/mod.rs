//! Kubernetes-side vocabulary shared by `lower` and `emit`: the [`Manifest`] every
//! emitted object travels in, the fixed kind order, and small pure helpers (name rules,
//! kustomize's content hash). Nothing here reads compose input or does I/O.

pub mod hash;
pub mod names;
pub mod quantity;

use crate::source::Span;
use serde_json::Value as Json;

/// One Kubernetes object ready to emit, plus where it came from in the compose input
/// (kept in memory for diagnostics and future `apply`/tracing; never written out).
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The whole object, including `apiVersion`, `kind` and `metadata`.
    pub body: Json,
    /// The compose source that produced the object (service, volume, config ...).
    pub origin: Option<Span>,
}

impl Manifest {
    /// Serialise a typed `k8s-openapi` object into a manifest.
    pub fn from_resource<T>(obj: &T, origin: Option<Span>) -> Manifest
    where
        T: k8s_openapi::Resource
            + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
            + serde::Serialize,
    {
        let meta = obj.metadata();
        let body = serde_json::to_value(obj).unwrap_or(Json::Null);
        Manifest {
            api_version: T::API_VERSION.to_string(),
            kind: T::KIND.to_string(),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone(),
            body,
            origin,
        }
    }

    /// Position of this kind in the output order (see mapping.md "Output").
    pub fn kind_rank(&self) -> usize {
        kind_rank(&self.kind)
    }
}

/// Output order of kinds; unknown kinds sort last.
pub const KIND_ORDER: &[&str] = &[
    "Namespace",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
];

pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// Sort manifests into the fixed output order: by kind, then name.
pub fn sort_manifests(ms: &mut [Manifest]) {
    ms.sort_by(|a, b| {
        (a.kind_rank(), &a.name, &a.namespace).cmp(&(b.kind_rank(), &b.name, &b.namespace))
    });
}
