//! STUB (owner: workloads helper): Deployment / StatefulSet / DaemonSet / Job / CronJob.
use super::ext::ServiceExt;
use super::{Ctx, Plan, WorkloadKind};
use crate::compose::model::Service;
use crate::k8s::Manifest;

pub fn kind(_ctx: &mut Ctx, _svc: &Service, _ext: &ServiceExt) -> WorkloadKind {
    WorkloadKind::Deployment
}

pub fn replicas(_ctx: &mut Ctx, _svc: &Service, _ext: &ServiceExt) -> i32 {
    1
}

pub fn build(_ctx: &mut Ctx, _plan: &Plan, _out: &mut Vec<Manifest>) {}
