//! STUB (owner: config helper): environment -> ConfigMap + Secret + envFrom.
use super::{Ctx, Plan};
use crate::k8s::Manifest;

pub fn lower(_ctx: &mut Ctx, _plan: &mut Plan, _out: &mut Vec<Manifest>) {}
