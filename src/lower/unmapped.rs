//! STUB (owner: workloads helper): a warning for every compose key that is not mapped.
use super::Ctx;
use crate::compose::model::Service;

pub fn warn(_ctx: &mut Ctx, _svc: &Service) {}
