//! The compose front-end: the only part of compose2k8s that reads files or the
//! process environment (through what the caller passes in). YAML text -> spanned
//! [`node::Node`] trees -> merge of several files, `extends`, `include` ->
//! interpolation -> schema check -> canonical long syntax -> typed [`model::Project`].

pub mod canon;
pub mod de;
pub mod dotenv;
pub mod environment;
pub mod interpolate;
pub mod load;
pub mod merge;
pub mod model;
pub mod node;
pub mod ports;
pub mod schema;
pub mod units;
pub mod volumes;
pub mod yaml;
