//! Shootouts and their signal chains: validation, in-memory edits, persistence.

pub mod edit;
pub mod store;
pub mod validate;
