//! What Lambda accepts as a function's environment variable name: one rule for the lab's
//! control plane (`UpdateFunctionConfiguration`) and for scenario files that set variables.

/// Variables Lambda sets itself and refuses in UpdateFunctionConfiguration.
pub const RESERVED: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Why `name` cannot be a function's variable, in words; `Ok` when it can.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if RESERVED.contains(&name) {
        return Err("reserved by Lambda and cannot be set");
    }
    let well_formed = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err("names are letters, digits and '_' and start with a letter");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_are_letters_digits_and_underscores_and_not_lambdas_own() {
        assert!(check_name("FAULT_MODE").is_ok());
        assert!(check_name("a1_b").is_ok());
        for bad in ["", "9LIVES", "_HANDLER", "AWS_REGION", "A-B", "É"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
