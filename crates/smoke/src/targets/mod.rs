//! The adapters behind the ports: the lab's admin API and AWS.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod aws_reads;
pub mod lab;
pub mod tf_output;
