//! The one mechanism around every handler: fault injection, the injected-fault log line and the
//! invocation's EMF record, as a tower `Layer`.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_runtime::LambdaEvent;
use outage_config::{FaultConfig, FaultMode};
use serde_json::Value;
use tokio::time::Instant;
use tower::{Layer, Service};

use crate::clock::{epoch_ms, Clock, SystemClock};
use crate::emf::{InvocationMetrics, MetricSink, StdoutSink};
use crate::error::FunctionError;
use crate::fault::FaultInjector;
use crate::response;
use crate::ServiceInfo;

/// How far past the deadline an injected timeout sleeps, so the host sees the deadline pass.
pub const TIMEOUT_OVERSHOOT: Duration = Duration::from_secs(1);
/// What an injected timeout sleeps when the invocation has no deadline (outside Lambda): longer
/// than Lambda's largest timeout (900 s), so it is past any deadline a host could have set.
pub const TIMEOUT_WITHOUT_DEADLINE: Duration = Duration::from_secs(901);

type Handled = Result<ApiGatewayV2httpResponse, FunctionError>;

/// Wraps a handler of API Gateway HTTP API events; build it once at init.
#[derive(Clone)]
pub struct KitLayer {
    shared: Arc<Shared>,
    injector: Arc<Mutex<FaultInjector>>,
}

#[derive(Clone)]
struct Shared {
    function_name: String,
    fault_message: String,
    sink: Arc<dyn MetricSink>,
    clock: Arc<dyn Clock>,
}

impl KitLayer {
    /// `function_name` is the deployed name (`AWS_LAMBDA_FUNCTION_NAME`), the metrics' `Service`.
    pub fn new(function_name: impl Into<String>, service: &ServiceInfo, fault: FaultConfig) -> Self {
        let fault_message = fault
            .message
            .clone()
            .unwrap_or_else(|| service.default_fault_message());
        KitLayer {
            shared: Arc::new(Shared {
                function_name: function_name.into(),
                fault_message,
                sink: Arc::new(StdoutSink),
                clock: Arc::new(SystemClock),
            }),
            injector: Arc::new(Mutex::new(FaultInjector::new(fault))),
        }
    }

    /// Sends EMF records to `sink` instead of stdout.
    pub fn with_sink(mut self, sink: Arc<dyn MetricSink>) -> Self {
        Arc::make_mut(&mut self.shared).sink = sink;
        self
    }

    /// Reads wall-clock time (fault expiry, deadlines) from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        Arc::make_mut(&mut self.shared).clock = clock;
        self
    }
}

impl<S> Layer<S> for KitLayer {
    type Service = KitService<S>;

    fn layer(&self, inner: S) -> KitService<S> {
        KitService {
            inner,
            shared: self.shared.clone(),
            injector: self.injector.clone(),
        }
    }
}

/// The wrapped handler.
pub struct KitService<S> {
    inner: S,
    shared: Arc<Shared>,
    injector: Arc<Mutex<FaultInjector>>,
}

impl<S> Service<LambdaEvent<Value>> for KitService<S>
where
    S: Service<LambdaEvent<Value>, Response = ApiGatewayV2httpResponse>,
    S::Future: Send + 'static,
    S::Error: Display + Send + 'static,
{
    type Response = ApiGatewayV2httpResponse;
    type Error = FunctionError;
    type Future = Pin<Box<dyn Future<Output = Handled> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), FunctionError>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| FunctionError::Handler(e.to_string()))
    }

    fn call(&mut self, event: LambdaEvent<Value>) -> Self::Future {
        let started = Instant::now();
        let now = self.shared.clock.now();
        // The lock is only held to draw the decision; a poisoned lock still holds valid state.
        let fault = self
            .injector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .decide(now);
        let invocation = Invocation {
            shared: self.shared.clone(),
            request_id: event.context.request_id.clone(),
            deadline_ms: event.context.deadline,
            now_ms: epoch_ms(now),
            started,
        };
        let plan = match fault {
            None | Some(FaultMode::None) => Plan::Handler {
                handler: self.inner.call(event),
                delay_ms: None,
            },
            Some(FaultMode::Latency { ms }) => Plan::Handler {
                handler: self.inner.call(event),
                delay_ms: Some(ms),
            },
            // Faults that replace the handler never call it.
            Some(FaultMode::Exception) => Plan::Replace(Replacement::Exception),
            Some(FaultMode::Status { code }) => Plan::Replace(Replacement::Status(code)),
            Some(FaultMode::Panic) => Plan::Replace(Replacement::Abort),
            Some(FaultMode::Timeout) => Plan::Replace(Replacement::SleepPastDeadline),
        };
        Box::pin(invocation.run(plan))
    }
}

/// What an invocation does, decided before it starts.
enum Plan<F> {
    /// Run the handler, after an injected delay when the latency fault applies.
    Handler { handler: F, delay_ms: Option<u64> },
    /// An injected fault instead of the handler.
    Replace(Replacement),
}

enum Replacement {
    Exception,
    Status(u16),
    Abort,
    SleepPastDeadline,
}

/// One invocation's bookkeeping.
struct Invocation {
    shared: Arc<Shared>,
    request_id: String,
    deadline_ms: u64,
    now_ms: u64,
    started: Instant,
}

impl Invocation {
    async fn run<F, E>(self, plan: Plan<F>) -> Handled
    where
        F: Future<Output = Result<ApiGatewayV2httpResponse, E>>,
        E: Display,
    {
        let message = self.shared.fault_message.clone();
        match plan {
            Plan::Handler { handler, delay_ms } => {
                if let Some(ms) = delay_ms {
                    self.log_injected(FaultMode::Latency { ms }, &format!("adding {ms} ms"));
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let injected = u32::from(delay_ms.is_some());
                match handler.await {
                    Ok(answer) => {
                        self.record(0, injected);
                        Ok(answer)
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "handler failed");
                        self.record(1, injected);
                        Err(FunctionError::Handler(error.to_string()))
                    }
                }
            }
            Plan::Replace(Replacement::Exception) => {
                self.log_injected(FaultMode::Exception, &message);
                self.record(1, 1);
                Err(FunctionError::Injected(message))
            }
            Plan::Replace(Replacement::Status(code)) => {
                self.log_injected(
                    FaultMode::Status { code },
                    &format!("answering {code}: {message}"),
                );
                let answer = response::message(code, &message);
                self.record(0, 1);
                Ok(answer)
            }
            Plan::Replace(Replacement::Abort) => {
                self.log_injected(FaultMode::Panic, "aborting the process");
                // Nothing runs after the abort, so the record is written now. A crash is not a
                // fault the function reports: Lambda's own Errors metric counts it.
                self.record(0, 1);
                eprintln!("fault injected: FAULT_MODE=panic, aborting the process ({message})");
                // `abort` rather than `panic!`: in a build with `panic = "unwind"` the runtime
                // would catch a panic and report an ordinary error instead of a crash.
                std::process::abort()
            }
            Plan::Replace(Replacement::SleepPastDeadline) => {
                let wait = self.until_past_deadline();
                self.log_injected(
                    FaultMode::Timeout,
                    &format!("sleeping {} ms, past the deadline", wait.as_millis()),
                );
                // On Lambda the sandbox is stopped at the deadline and nothing after the sleep
                // runs, so the record is written before it.
                self.record(0, 1);
                tokio::time::sleep(wait).await;
                Err(FunctionError::TimedOut)
            }
        }
    }

    fn until_past_deadline(&self) -> Duration {
        if self.deadline_ms == 0 {
            return TIMEOUT_WITHOUT_DEADLINE;
        }
        Duration::from_millis(self.deadline_ms.saturating_sub(self.now_ms)) + TIMEOUT_OVERSHOOT
    }

    fn log_injected(&self, mode: FaultMode, what: &str) {
        tracing::warn!(fault_injected = true, fault_mode = %mode, "fault injected: {what}");
    }

    fn record(&self, faults: u32, faults_injected: u32) {
        let metrics = InvocationMetrics {
            service: self.shared.function_name.clone(),
            request_id: self.request_id.clone(),
            faults,
            faults_injected,
            latency_ms: self.started.elapsed().as_secs_f64() * 1000.0,
        };
        let timestamp = self.now_ms + u64::try_from(self.started.elapsed().as_millis()).unwrap_or(0);
        self.shared.sink.write_record(&metrics.to_emf(timestamp));
    }
}
