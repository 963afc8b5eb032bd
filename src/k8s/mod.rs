//! Kubernetes-side vocabulary shared by `lower` and `emit`: the [`Manifest`] every
//! emitted object travels in, the fixed kind order, and small pure helpers (name rules,
//! kustomize's content hash). Nothing here reads compose input or does I/O.

pub mod hash;
pub mod names;
pub mod quantity;

use crate::source::Span;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value as Json;

/// One Kubernetes object ready to emit, plus where it came from in the compose input
/// (kept in memory for diagnostics and future `apply`/tracing; never written out).
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The whole object, typed; it serialises with `apiVersion`, `kind` and `metadata`.
    pub body: Object,
    /// The compose source that produced the object (service, volume, config ...).
    pub origin: Option<Span>,
}

impl Manifest {
    /// Wrap a typed `k8s-openapi` object into a manifest.
    pub fn from_resource<T>(obj: T, origin: Option<Span>) -> Manifest
    where
        T: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Into<Object>,
    {
        let meta = obj.metadata();
        Manifest {
            api_version: T::API_VERSION.to_string(),
            kind: T::KIND.to_string(),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone(),
            body: obj.into(),
            origin,
        }
    }

    /// A manifest from an object's JSON form (its `kind` picks the type); for tests and
    /// for objects read back from elsewhere (a cluster, a file).
    pub fn from_json(body: Json, origin: Option<Span>) -> Result<Manifest, String> {
        Object::from_json(body).map(|obj| obj.into_manifest(origin))
    }

    /// The object's JSON form (exactly what is emitted, as a value).
    pub fn json(&self) -> Json {
        self.body.to_json()
    }

    /// Position of this kind in the output order (see mapping.md "Output").
    pub fn kind_rank(&self) -> usize {
        kind_rank(&self.kind)
    }
}

/// Declares [`Object`] over the kinds we emit, with one `From` per kind and the
/// per-kind dispatch that `Serialize`, [`Object::from_json`] and
/// [`Object::into_manifest`] need.
macro_rules! objects {
    ($($kind:ident),* $(,)?) => {
        /// Every kind of object compose2k8s emits, as its typed `k8s-openapi` struct.
        /// Output is serialised straight from these (no intermediate JSON tree). Boxed:
        /// the structs are large (a Deployment is kilobytes), and manifests are sorted
        /// and moved around.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Object {
            $($kind(Box<$kind>),)*
        }

        $(impl From<$kind> for Object {
            fn from(o: $kind) -> Object {
                Object::$kind(Box::new(o))
            }
        })*

        impl serde::Serialize for Object {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Object::$kind(o) => o.serialize(s),)*
                }
            }
        }

        impl Object {
            /// Parse an object's JSON form; its `kind` must be one of ours.
            pub fn from_json(body: Json) -> Result<Object, String> {
                let kind = body.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
                match kind.as_str() {
                    $(stringify!($kind) => serde_json::from_value::<$kind>(body)
                        .map(Object::from)
                        .map_err(|e| format!("{kind}: {e}")),)*
                    _ => Err(format!("unsupported kind `{kind}`")),
                }
            }

            /// Wrap into a [`Manifest`] with the given origin.
            pub fn into_manifest(self, origin: Option<Span>) -> Manifest {
                match self {
                    $(Object::$kind(o) => Manifest::from_resource(*o, origin),)*
                }
            }
        }
    };
}

objects!(
    Namespace,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    Service,
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Ingress,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    NetworkPolicy,
);

impl Object {
    /// The JSON form (what the emitter writes, as a value).
    pub fn to_json(&self) -> Json {
        // Serialising a k8s-openapi object to a JSON value cannot fail (string keys,
        // finite numbers).
        serde_json::to_value(self).unwrap_or(Json::Null)
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
