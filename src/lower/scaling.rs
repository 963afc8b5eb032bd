//! Scaling and availability: HorizontalPodAutoscaler (autoscaling/v2) from
//! `x-kubernetes.autoscale`, PodDisruptionBudget (policy/v1, `maxUnavailable: 1`) for
//! Deployments and StatefulSets with more than one replica (or an autoscaler allowing
//! more than one) unless `x-kubernetes.pdb: false`; `pdb: true` forces one.
//! Reads the finished [`Plan`]; must not touch the workload itself (which leaves out
//! `replicas` when an autoscaler owns them).
use super::{ext, Ctx, Plan, WorkloadKind};
use crate::k8s::Manifest;
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// CPU utilisation target when `autoscale.cpu` is not given (Kubernetes' own default).
pub const DEFAULT_CPU_TARGET: i32 = 80;

fn scalable(kind: WorkloadKind) -> bool {
    matches!(kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet)
}

/// Does the service set a CPU request (a reservation, or a limit, which Kubernetes
/// copies into the request)?
fn has_cpu_request(plan: &Plan) -> bool {
    let svc = plan.svc;
    let res = svc.deploy.as_ref().and_then(|d| d.resources.as_ref());
    let cpus =
        |s: Option<&crate::compose::model::ResourceSpec>| s.and_then(|s| s.cpus.as_ref()).is_some();
    cpus(res.and_then(|r| r.reservations.as_ref()))
        || cpus(res.and_then(|r| r.limits.as_ref()))
        || svc.cpus.is_some()
}

pub fn lower(ctx: &mut Ctx, plan: &Plan, out: &mut Vec<Manifest>) {
    let svc = plan.svc;
    let origin = Some(svc.span());
    if let Some(a) = &plan.ext.autoscale {
        // The setting comes from x-kubernetes or from the kompose.hpa.* labels.
        let span = if svc.node.pointer(&["x-kubernetes", "autoscale"]).is_some() {
            svc.span_of(&["x-kubernetes", "autoscale"])
        } else {
            svc.span_of(&["labels", "kompose.hpa.replicas.max"])
        };
        if !scalable(plan.kind) {
            ctx.warn(
                span,
                format!(
                    "x-kubernetes.autoscale ignored: a {} cannot be autoscaled",
                    ext::kind_name(plan.kind)
                ),
            );
        } else {
            if !has_cpu_request(plan) {
                ctx.warn(span, "the autoscaler needs a CPU request to measure utilisation, and this service sets none")
                    .help = Some("set deploy.resources.reservations.cpus".into());
            }
            let hpa = HorizontalPodAutoscaler {
                metadata: ctx.meta(&plan.name, &plan.labels),
                spec: Some(HorizontalPodAutoscalerSpec {
                    scale_target_ref: CrossVersionObjectReference {
                        api_version: Some("apps/v1".into()),
                        kind: ext::kind_name(plan.kind).into(),
                        name: plan.name.clone(),
                    },
                    min_replicas: Some(a.min),
                    max_replicas: a.max,
                    metrics: Some(vec![MetricSpec {
                        type_: "Resource".into(),
                        resource: Some(ResourceMetricSource {
                            name: "cpu".into(),
                            target: MetricTarget {
                                type_: "Utilization".into(),
                                average_utilization: Some(a.cpu.unwrap_or(DEFAULT_CPU_TARGET)),
                                ..MetricTarget::default()
                            },
                        }),
                        ..MetricSpec::default()
                    }]),
                    ..HorizontalPodAutoscalerSpec::default()
                }),
                ..HorizontalPodAutoscaler::default()
            };
            out.push(Manifest::from_resource(hpa, origin));
        }
    }
    let most = match &plan.ext.autoscale {
        Some(a) => a.max,
        None => plan.replicas,
    };
    let want = match plan.ext.pdb {
        Some(b) => b,
        None => most > 1,
    };
    if !want {
        return;
    }
    if !scalable(plan.kind) {
        if plan.ext.pdb == Some(true) {
            ctx.warn(
                svc.span_of(&["x-kubernetes", "pdb"]),
                format!(
                    "x-kubernetes.pdb ignored: no PodDisruptionBudget for a {}",
                    ext::kind_name(plan.kind)
                ),
            );
        }
        return;
    }
    let pdb = PodDisruptionBudget {
        metadata: ctx.meta(&plan.name, &plan.labels),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(plan.selector.clone()),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    };
    out.push(Manifest::from_resource(pdb, origin));
}
