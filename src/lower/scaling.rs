//! STUB (owner: workloads helper): HorizontalPodAutoscaler and PodDisruptionBudget.
use super::{Ctx, Plan};
use crate::k8s::Manifest;

pub fn lower(_ctx: &mut Ctx, _plan: &Plan, _out: &mut Vec<Manifest>) {}
