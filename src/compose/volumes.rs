//! Placeholder: replaced by the ports branch.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindOpts {
    pub create_host_path: bool,
    pub propagation: Option<String>,
    pub selinux: Option<String>,
}
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOpts {
    pub nocopy: bool,
}
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOpts {
    pub size: Option<u64>,
    pub mode: Option<u32>,
}
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub r#type: String,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub bind: Option<BindOpts>,
    pub volume: Option<VolumeOpts>,
    pub tmpfs: Option<TmpfsOpts>,
    pub consistency: Option<String>,
}

pub fn parse_volume(_spec: &str) -> Result<VolumeSpec, String> {
    Err("not yet".into())
}
