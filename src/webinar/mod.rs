//! webinar adapter.
