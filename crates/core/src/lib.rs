//! Marque's core: tenancy and quota, shared by every service.

pub mod net;
