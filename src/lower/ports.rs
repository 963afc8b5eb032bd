//! STUB (owner: network helper): container/Service port naming.
use super::Ctx;
use crate::compose::model::Service;
use crate::source::Span;

/// One distinct container port of a service with its IANA_SVC_NAME.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub container_port: i32,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// Published host port, if the compose file published one.
    pub published: Option<i32>,
    pub app_protocol: Option<String>,
    pub span: Span,
}

pub fn name_ports(_ctx: &mut Ctx, _svc: &Service) -> Vec<NamedPort> {
    Vec::new()
}
