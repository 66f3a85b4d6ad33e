//! Deciding, invocation by invocation, whether the configured fault applies.

use outage_config::{FaultConfig, FaultMode};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Holds the fault configuration parsed at init and the state that sampling needs.
#[derive(Debug)]
pub struct FaultInjector {
    config: FaultConfig,
    rng: SmallRng,
    expiry_reported: bool,
}

impl FaultInjector {
    /// With `FAULT_SEED` the sequence of affected invocations is the same on every run; without
    /// it each execution environment samples independently.
    pub fn new(config: FaultConfig) -> Self {
        let rng = match config.seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::from_os_rng(),
        };
        FaultInjector {
            config,
            rng,
            expiry_reported: false,
        }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// The fault to inject into the invocation starting `now`, if any.
    pub fn decide(&mut self, now: OffsetDateTime) -> Option<FaultMode> {
        if self.config.mode == FaultMode::None {
            return None;
        }
        if self.config.is_expired(now) {
            if !self.expiry_reported {
                self.expiry_reported = true;
                let expires_at = self
                    .config
                    .expires_at
                    .and_then(|at| at.format(&Rfc3339).ok())
                    .unwrap_or_default();
                tracing::warn!(
                    fault_mode = %self.config.mode,
                    fault_expires_at = %expires_at,
                    "FAULT_EXPIRES_AT has passed: the configured fault is no longer injected"
                );
            }
            return None;
        }
        // `random` is in [0, 1): a rate of 1.0 always applies and 0.0 never does.
        let affected = self.config.rate >= 1.0 || self.rng.random::<f64>() < self.config.rate;
        affected.then_some(self.config.mode)
    }
}
