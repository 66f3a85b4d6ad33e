//! AWS's state-reason wording.
