//! Typed calls, one file per API area. Each adds methods to [`crate::PveClient`] and defines the
//! response types of its area (tolerant of PVE's JSON habits via [`crate::de`]).
