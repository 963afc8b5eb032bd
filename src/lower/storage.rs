//! STUB (owner: config helper): volumes -> PVCs, bind mounts -> ConfigMaps, tmpfs.
use super::{Ctx, Plan};
use crate::k8s::Manifest;

pub fn lower(_ctx: &mut Ctx, _plan: &mut Plan, _out: &mut Vec<Manifest>) {}
pub fn lower_shared(_ctx: &mut Ctx, _out: &mut Vec<Manifest>) {}
