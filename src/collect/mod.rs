//! What toolmark pulls out of a Windows volume, and which parser reads each artifact.

#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod carve;
pub mod contain;
#[deny(clippy::unwrap_used, clippy::expect_used)]
mod error;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod evtx;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod json_pull;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod loose;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod lost;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod mft;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod registry;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod rows;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod source;
#[deny(clippy::unwrap_used, clippy::expect_used)]
pub mod volume;

pub use error::CollectError;
