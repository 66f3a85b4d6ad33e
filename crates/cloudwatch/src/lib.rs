//! placeholder until this crate's issue lands
