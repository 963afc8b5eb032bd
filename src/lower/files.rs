//! STUB (owner: config helper): top-level configs and secrets.
use super::{Ctx, Plan};
use crate::k8s::Manifest;

pub fn prepare(_ctx: &mut Ctx) {}
pub fn mount(_ctx: &mut Ctx, _plan: &mut Plan) {}
pub fn lower_objects(_ctx: &mut Ctx, _out: &mut Vec<Manifest>) {}
