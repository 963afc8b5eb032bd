//! STUB (owner: network helper): Kubernetes names for services, configs, secrets and
//! volumes; sanitising reported, collisions are errors.
use super::Ctx;
use std::collections::BTreeMap;

/// compose name -> Kubernetes object name, per namespace of compose names.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub services: BTreeMap<String, String>,
    pub configs: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub volumes: BTreeMap<String, String>,
}

impl Names {
    /// Kubernetes name of a compose service (falls back to the compose name).
    pub fn service(&self, compose: &str) -> String {
        self.services
            .get(compose)
            .cloned()
            .unwrap_or_else(|| compose.to_string())
    }
}

pub fn assign(_ctx: &mut Ctx) {}
