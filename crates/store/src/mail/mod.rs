//! The mail model.
