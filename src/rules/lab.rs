//! What the Week 2 lab asks for, in one place: the route whose request
//! makes the lab's manual span, the span, and the attributes its queries
//! read.

/// The lab's route: its trace carries the lab's manual span.
pub const ROUTE: &str = "/api/activities/home";

/// The file that makes the lab's span.
pub const FILE: &str = "home_activities.py";

/// The lab's manual span.
pub const SPAN: &str = "home-activities-mock-data";

/// The attributes the lab's queries read on it.
pub const ATTRIBUTES: &[&str] = &["app.now", "app.result_length"];
