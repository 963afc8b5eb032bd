//! STUB (owner: network helper): NetworkPolicies from compose networks.
use super::Ctx;
use crate::k8s::Manifest;

pub fn lower(_ctx: &mut Ctx, _out: &mut Vec<Manifest>) {}
