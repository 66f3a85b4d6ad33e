//! The adapters behind the ports for AWS (the lab's live in `outage_drill::lab`).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod aws_reads;
pub use outage_drill::lab;
pub mod tf_output;
