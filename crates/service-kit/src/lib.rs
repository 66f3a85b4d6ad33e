//! What every outage-lab function shares.
//!
//! - [`request`]: API Gateway HTTP API events in, clear 4xx answers for anything else;
//! - [`response`]: JSON responses;
//! - [`KitLayer`]: the single tower layer around every handler that injects the configured
//!   fault (`FAULT_*`, see ARCHITECTURE.md), logs each injected fault with `"fault_injected":true`
//!   and writes one CloudWatch Embedded Metric Format record per invocation ([`emf`]);
//! - [`init`]: tracing set-up and the start-up that fails loudly on a bad configuration.

pub mod clock;
pub mod emf;
pub mod error;
pub mod fault;
pub mod init;
pub mod layer;
pub mod request;
pub mod response;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{FunctionError, InitError};
pub use init::{init_tracing, layer_from_env, layer_from_env_or_exit};
pub use layer::{KitLayer, KitService};

/// The identity of a code base, as its answers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The `service` field of its answers, e.g. `payment-service`.
    pub name: &'static str,
}

impl ServiceInfo {
    /// `FAULT_MESSAGE`'s default: "Simulated payment service failure" for `payment-service`.
    pub fn default_fault_message(&self) -> String {
        format!("Simulated {} failure", self.name.replace('-', " "))
    }
}
