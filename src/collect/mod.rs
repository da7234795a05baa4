//! What toolmark pulls out of a Windows volume, and which parser reads each artifact.

pub mod carve;
pub mod evtx;
pub mod mft;
pub mod registry;
pub mod rows;
pub mod source;
pub mod volume;
