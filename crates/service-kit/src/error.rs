//! The errors a wrapped function returns to the Lambda runtime (unhandled errors: Lambda `Errors` + 1).

use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// `FAULT_MODE=exception`: the simulated failure, with `FAULT_MESSAGE` or the default text.
    #[error("{0}")]
    Injected(String),
    /// `FAULT_MODE=timeout` outlived its deadline because the host did not stop the process.
    #[error("invocation ran past its deadline (injected timeout)")]
    TimedOut,
    /// The handler itself failed.
    #[error("{0}")]
    Handler(String),
}

impl FunctionError {
    /// The `errorType` Lambda shows for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            FunctionError::Injected(_) => "InjectedFault",
            FunctionError::TimedOut => "InjectedTimeout",
            FunctionError::Handler(_) => "HandlerError",
        }
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Why a function cannot start: reported as the runtime's init error.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Fault(#[from] outage_config::FaultConfigError),
    #[error(
        "AWS_LAMBDA_FUNCTION_NAME is not set: the function name is the `Service` dimension of its metrics"
    )]
    MissingFunctionName,
}
