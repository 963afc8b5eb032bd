//! STUB (owner: network helper): a Service per compose service.
use super::{Ctx, Plan};
use crate::k8s::Manifest;

pub fn lower(_ctx: &mut Ctx, _plan: &Plan, _out: &mut Vec<Manifest>) {}
